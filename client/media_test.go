package client_test

import (
	"bytes"
	"context"
	"image"
	_ "image/png"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jmsg-im/jmsg"
	"github.com/jmsg-im/jmsg/client"
	"github.com/jmsg-im/jmsg/internal/jmsgdtest"
)

// mediaPair is two logged-in users of a real jmsgd reached through a
// mediaProxy, alice with a conversation with bob.
type mediaPair struct {
	d          *jmsgdtest.Daemon
	px         *mediaProxy
	alice, bob *client.Client
	conv       *client.Conversation
}

func newMediaPair(t *testing.T, d *jmsgdtest.Daemon, a, b string, cfg client.Config) *mediaPair {
	t.Helper()
	p := &mediaPair{d: d, px: newMediaProxy(t, d.URL)}
	p.alice = newClientVia(t, d, p.px.URL, cfg)
	registerAndLogin(t, p.alice, a)
	p.bob = newClientVia(t, d, p.px.URL, client.Config{})
	registerAndLogin(t, p.bob, b)
	var err error
	if p.conv, err = p.alice.CreateSingleConversation(testCtx(t), b); err != nil {
		t.Fatal(err)
	}
	return p
}

// received waits for bob to receive the message alice sent as m.
func (p *mediaPair) received(t *testing.T, m *client.Message) *client.Message {
	t.Helper()
	return waitEvent(t, p.bob, "bob to receive", func(e client.MessageReceived) bool {
		return e.Message.ServerMessageID == m.ServerMessageID
	}).Message
}

func readFile(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestMediaMessages(t *testing.T) {
	d := jmsgdtest.Start(t)
	p := newMediaPair(t, d, "alice", "bob01", client.Config{})
	dir := t.TempDir()

	t.Run("image", func(t *testing.T) {
		ctx := testCtx(t)
		path, orig := writePNG(t, dir, 640, 400)
		var progress []int64
		content, err := client.NewImageContent(path)
		if err != nil {
			t.Fatal(err)
		}
		draft, err := p.conv.CreateMessage(content)
		if err != nil {
			t.Fatal(err)
		}
		// The SDK works on its own copy: the app may delete its file.
		os.Remove(path)
		sent, err := p.alice.SendWithOptions(ctx, draft, client.SendOptions{UploadProgress: func(n, total int64) {
			if total != int64(len(orig)) {
				t.Errorf("progress total = %d, want %d", total, len(orig))
			}
			progress = append(progress, n)
		}})
		if err != nil {
			t.Fatalf("Send(image) = %v", err)
		}
		if sent.Status != jmsg.StatusSendSucceed {
			t.Fatalf("status = %v, want SendSucceed", sent.Status)
		}
		if len(progress) == 0 || progress[len(progress)-1] != int64(len(orig)) {
			t.Errorf("progress = %v, want it to end at %d", progress, len(orig))
		}
		img := sent.Content.(*client.ImageContent)
		if _, ok := jmsg.ParseMediaID(img.MediaID); !ok || img.Width != 640 || img.Height != 400 || img.Format != "png" ||
			img.FSize != int64(len(orig)) {
			t.Fatalf("sent content = %+v, want an image media object of 640×400 png, %d bytes", img.MediaObject, len(orig))
		}
		if !bytes.Equal(readFile(t, img.Path), orig) || !strings.HasPrefix(img.Path, filepath.Dir(p.alice.DatabasePath("alice"))) {
			t.Fatalf("sent Path %q: want the SDK's copy of the image", img.Path)
		}

		got := p.received(t, sent)
		rimg := got.Content.(*client.ImageContent)
		if got.Status != jmsg.StatusReceiveSucceed || rimg.ThumbPath == "" || rimg.Path != "" {
			t.Fatalf("received status %v, ThumbPath %q, Path %q; want ReceiveSucceed with a thumbnail and no original",
				got.Status, rimg.ThumbPath, rimg.Path)
		}
		f, err := rimg.OpenThumb()
		if err != nil {
			t.Fatal(err)
		}
		cfg, _, err := image.DecodeConfig(f)
		f.Close()
		if err != nil || max(cfg.Width, cfg.Height) != 320 {
			t.Fatalf("thumbnail: %dx%d, %v; want longest side 320", cfg.Width, cfg.Height, err)
		}
		if _, err := rimg.Open(); jmsg.CodeOf(err) != jmsg.SDKMediaResourceMissing {
			t.Fatalf("Open before download = %v, want 864002", err)
		}

		var got2 []int64
		gets := p.px.count("GET /v1/media/get")
		dl, err := p.bob.DownloadMedia(ctx, got, client.DownloadOptions{Progress: func(n, total int64) { got2 = append(got2, n) }})
		if err != nil {
			t.Fatalf("DownloadMedia = %v", err)
		}
		if !bytes.Equal(readFile(t, dl), orig) || len(got2) == 0 || got2[len(got2)-1] != int64(len(orig)) {
			t.Fatalf("downloaded %s (progress %v): want the original's bytes", dl, got2)
		}
		if n := p.px.count("GET /v1/media/get"); n != gets+1 {
			t.Fatalf("%d GETs for one download, want 1", n-gets)
		}
		// A second call finds the verified file.
		again, err := p.bob.DownloadMedia(ctx, got, client.DownloadOptions{})
		if err != nil || again != dl || p.px.count("GET /v1/media/get") != gets+1 {
			t.Fatalf("second DownloadMedia = %q, %v after %d GETs; want %q without a download", again, err,
				p.px.count("GET /v1/media/get")-gets, dl)
		}
		// The store remembers the path.
		cv, _ := p.bob.Conversation(jmsg.ConversationSingle, "alice")
		latest, _ := cv.LatestMessage()
		if c := latest.Content.(*client.ImageContent); c.Path != dl || c.ThumbPath != rimg.ThumbPath {
			t.Fatalf("fetched again: Path %q ThumbPath %q, want %q and %q", c.Path, c.ThumbPath, dl, rimg.ThumbPath)
		}
		// A deleted download is fetched again.
		os.Remove(dl)
		if again, err := p.bob.DownloadMedia(ctx, got, client.DownloadOptions{}); err != nil || !bytes.Equal(readFile(t, again), orig) {
			t.Fatalf("DownloadMedia after deleting the file = %q, %v", again, err)
		}
	})

	t.Run("voice", func(t *testing.T) {
		ctx := testCtx(t)
		path, orig := writeRandom(t, dir, "hello.amr", 3000)
		sent, err := p.conv.SendVoice(ctx, path, 7)
		if err != nil {
			t.Fatalf("SendVoice = %v", err)
		}
		got := p.received(t, sent)
		v := got.Content.(*client.VoiceContent)
		// Voice arrives with its audio (sdk.md §6.3).
		if v.Duration != 7 || v.Path == "" || !bytes.Equal(readFile(t, v.Path), orig) {
			t.Fatalf("received voice %+v: want 7 s with the audio downloaded", v)
		}
	})

	t.Run("file", func(t *testing.T) {
		ctx := testCtx(t)
		path, orig := writeRandom(t, dir, "report.pdf", 5000)
		sent, err := p.conv.SendFile(ctx, path, "Q3 report.pdf")
		if err != nil {
			t.Fatalf("SendFile = %v", err)
		}
		got := p.received(t, sent)
		fc := got.Content.(*client.FileContent)
		if fc.FName != "Q3 report.pdf" || fc.Path != "" || fc.FSize != 5000 {
			t.Fatalf("received file %+v, want Q3 report.pdf, 5000 bytes, not downloaded", fc)
		}
		dl, err := p.bob.DownloadMedia(ctx, got, client.DownloadOptions{})
		if err != nil || !bytes.Equal(readFile(t, dl), orig) {
			t.Fatalf("DownloadMedia(file) = %q, %v", dl, err)
		}
		if _, err := p.bob.DownloadMedia(ctx, got, client.DownloadOptions{Thumb: true}); jmsg.CodeOf(err) != jmsg.SDKNotMediaMessage {
			t.Fatalf("DownloadMedia(file, Thumb) = %v, want 864001", err)
		}
	})

	t.Run("video", func(t *testing.T) {
		ctx := testCtx(t)
		path, orig := writeRandom(t, dir, "clip.mp4", 20000)
		thumb, thumbBytes := writePNG(t, dir, 160, 90)
		var last, total int64
		content, err := client.NewVideoContent(path, thumb, 12)
		if err != nil {
			t.Fatal(err)
		}
		draft, err := p.conv.CreateMessage(content)
		if err != nil {
			t.Fatal(err)
		}
		sent, err := p.alice.SendWithOptions(ctx, draft, client.SendOptions{UploadProgress: func(n, tot int64) { last, total = n, tot }})
		if err != nil {
			t.Fatalf("SendVideo = %v", err)
		}
		if want := int64(len(orig) + len(thumbBytes)); last != want || total != want {
			t.Fatalf("progress ended at %d of %d, want %d of %d", last, total, want, want)
		}
		got := p.received(t, sent)
		v := got.Content.(*client.VideoContent)
		if v.Duration != 12 || v.FName != "clip.mp4" || v.ThumbPath == "" || !bytes.Equal(readFile(t, v.ThumbPath), thumbBytes) {
			t.Fatalf("received video %+v: want 12 s, clip.mp4, with its thumbnail", v)
		}
		dl, err := p.bob.DownloadMedia(ctx, got, client.DownloadOptions{})
		if err != nil || !bytes.Equal(readFile(t, dl), orig) {
			t.Fatalf("DownloadMedia(video) = %q, %v", dl, err)
		}
	})

	t.Run("location", func(t *testing.T) {
		ctx := testCtx(t)
		sent, err := p.conv.SendLocation(ctx, 31.2304, 121.4737, 15, "Shanghai")
		if err != nil {
			t.Fatalf("SendLocation = %v", err)
		}
		got := p.received(t, sent)
		l := got.Content.(*client.LocationContent)
		if l.Latitude != 31.2304 || l.Longitude != 121.4737 || l.Scale != 15 || l.Label != "Shanghai" {
			t.Fatalf("received location %+v", l)
		}
		for _, bad := range [][2]float64{{91, 0}, {0, -181}} {
			if _, err := p.conv.SendLocation(ctx, bad[0], bad[1], 1, ""); jmsg.CodeOf(err) != jmsg.SDKParamContentInvalid {
				t.Fatalf("SendLocation(%v) = %v, want 865001", bad, err)
			}
		}
	})

	t.Run("forward", func(t *testing.T) {
		ctx := testCtx(t)
		path, _ := writePNG(t, dir, 100, 100)
		sent, err := p.conv.SendImage(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		got := p.received(t, sent)
		// bob sends the same media on: no upload.
		cv, err := p.bob.CreateSingleConversation(ctx, "alice")
		if err != nil {
			t.Fatal(err)
		}
		posts := p.px.count("POST")
		fwd, err := cv.CreateMessage(got.Content)
		if err != nil {
			t.Fatal(err)
		}
		if fwd, err = p.bob.Send(ctx, fwd); err != nil || fwd.Status != jmsg.StatusSendSucceed {
			t.Fatalf("forward = %v, %v", fwd, err)
		}
		if p.px.count("POST") != posts {
			t.Fatal("forwarding uploaded the media again")
		}
	})
}

// A media message waits in the outbox like any other: sent offline, it is
// uploaded and sent once connected, and the messages after it keep their
// order.
func TestMediaKeepsOrder(t *testing.T) {
	d := jmsgdtest.Start(t)
	ctx := testCtx(t)
	p := newMediaPair(t, d, "alice", "bob01", client.Config{})
	path, _ := writeRandom(t, t.TempDir(), "a.bin", 4000)
	hold := make(chan struct{})
	p.px.setFault(func(r *http.Request) fault {
		if r.Method == http.MethodPost {
			<-hold // the upload waits
		}
		return fault{}
	})
	fileMsg, err := p.conv.CreateMessage(mustFile(t, path))
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := p.alice.Send(ctx, fileMsg)
		done <- err
	}()
	jmsgdtest.WaitFor(t, "the upload to start", 10*time.Second, func() bool { return p.px.count("POST") == 1 })
	textDone := make(chan error, 1)
	go func() {
		_, err := p.conv.SendText(ctx, "after the file", nil)
		textDone <- err
	}()
	select {
	case err := <-textDone:
		t.Fatalf("the text was sent (%v) while the file before it was uploading", err)
	case <-time.After(300 * time.Millisecond):
	}
	close(hold)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if err := <-textDone; err != nil {
		t.Fatal(err)
	}
	first := waitEvent(t, p.bob, "the first message", func(client.MessageReceived) bool { return true }).Message
	if _, ok := first.Content.(*client.FileContent); !ok {
		t.Fatalf("bob first received %T, want the file sent first", first.Content)
	}
}

func mustFile(t testing.TB, path string) *client.FileContent {
	t.Helper()
	c, err := client.NewFileContent(path, "")
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// A large file goes up with the resumable protocol: every request that
// drops mid-body is followed by a HEAD and the rest, never the whole file
// again.
func TestMediaResumableUploadSurvivesDrops(t *testing.T) {
	d := jmsgdtest.Start(t)
	ctx := testCtx(t)
	p := newMediaPair(t, d, "alice", "bob01", client.Config{ResumableThreshold: 100 << 10})
	const size = 1 << 20
	path, orig := writeRandom(t, t.TempDir(), "big.bin", size)
	p.px.setFault(func(r *http.Request) fault {
		if r.Method == http.MethodPatch {
			return fault{cut: 300 << 10} // every request drops after 300 KiB
		}
		return fault{}
	})
	draft, err := p.conv.CreateMessage(mustFile(t, path))
	if err != nil {
		t.Fatal(err)
	}
	var last int64
	sent, err := p.alice.SendWithOptions(ctx, draft, client.SendOptions{UploadProgress: func(n, _ int64) { last = n }})
	if err != nil {
		t.Fatalf("Send(1 MiB over a link that drops every 300 KiB) = %v; requests %q", err, p.px.requests())
	}
	if last != size {
		t.Fatalf("progress ended at %d, want %d", last, size)
	}
	if n := p.px.count("POST /v1/media/uploads"); n != 1 {
		t.Fatalf("%d uploads created, want 1: %q", n, p.px.requests())
	}
	if p.px.count("HEAD") < 2 || p.px.count("PATCH") < 4 {
		t.Fatalf("requests %q: want resumption after each drop", p.px.requests())
	}
	p.px.setFault(nil)
	got := p.received(t, sent)
	dl, err := p.bob.DownloadMedia(ctx, got, client.DownloadOptions{})
	if err != nil || !bytes.Equal(readFile(t, dl), orig) {
		t.Fatalf("DownloadMedia = %q, %v: want the bytes sent", dl, err)
	}
}

// A process that stops in the middle of a resumable upload continues it
// after the restart from what the server holds.
func TestMediaResumableUploadContinuesAfterRestart(t *testing.T) {
	d := jmsgdtest.Start(t)
	ctx := testCtx(t)
	dataDir := t.TempDir()
	cfg := client.Config{DataDir: dataDir, ResumableThreshold: 100 << 10}
	p := newMediaPair(t, d, "alice", "bob01", cfg)
	const size = 1 << 20
	path, orig := writeRandom(t, t.TempDir(), "big.bin", size)
	hold, reached := make(chan struct{}), make(chan struct{})
	p.px.setFault(func(r *http.Request) fault {
		if r.Method == http.MethodPatch {
			return fault{cut: 400 << 10, hold: hold, reached: reached}
		}
		return fault{}
	})
	draft, err := p.conv.CreateMessage(mustFile(t, path))
	if err != nil {
		t.Fatal(err)
	}
	short, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	if _, err := p.alice.Send(short, draft); jmsg.CodeOf(err) != jmsg.SDKNetworkOtherError {
		t.Fatalf("Send with a short deadline = %v, want 860016 (still queued)", err)
	}
	select {
	case <-reached:
	case <-ctx.Done():
		t.Fatal("the upload never reached 400 KiB")
	}
	p.alice.Close() // the process ends mid-upload
	close(hold)     // and its connection with it
	p.px.setFault(nil)

	alice := newClientVia(t, d, p.px.URL, cfg)
	if err := alice.Login(ctx, "alice", "pw-alice"); err != nil {
		t.Fatal(err)
	}
	got := waitEvent(t, p.bob, "the file", func(e client.MessageReceived) bool { return e.Message.ID > 0 }).Message
	dl, err := p.bob.DownloadMedia(ctx, got, client.DownloadOptions{})
	if err != nil || !bytes.Equal(readFile(t, dl), orig) {
		t.Fatalf("DownloadMedia = %q, %v: want the bytes sent", dl, err)
	}
	var resumedAt int64
	for _, r := range p.px.requests() {
		if strings.HasPrefix(r, "PATCH") {
			f := strings.Fields(r)
			resumedAt, _ = strconv.ParseInt(f[len(f)-1], 10, 64)
		}
	}
	if n := p.px.count("POST /v1/media/uploads"); n != 1 || p.px.count("HEAD") == 0 || resumedAt == 0 {
		t.Fatalf("requests %q: want one upload, resumed after a HEAD from a non-zero offset", p.px.requests())
	}
}

// Thumbnails come with the message; for an offline batch only the newest
// 20 media messages get theirs. A failed thumbnail download leaves the
// message ReceiveDownloadFailed, reported all the same, and DownloadMedia
// fetches it again.
func TestMediaThumbnails(t *testing.T) {
	d := jmsgdtest.Start(t)
	ctx := testCtx(t)
	p := newMediaPair(t, d, "alice", "bob01", client.Config{})
	path, _ := writePNG(t, t.TempDir(), 400, 400)

	p.px.setFault(func(r *http.Request) fault { return fault{refuse: r.Method == http.MethodGet} })
	sent, err := p.conv.SendImage(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	got := p.received(t, sent)
	if got.Status != jmsg.StatusReceiveDownloadFailed || got.Content.(*client.ImageContent).ThumbPath != "" {
		t.Fatalf("with downloads failing: status %v, ThumbPath %q; want ReceiveDownloadFailed and none",
			got.Status, got.Content.(*client.ImageContent).ThumbPath)
	}
	p.px.setFault(nil)
	thumb, err := p.bob.DownloadMedia(ctx, got, client.DownloadOptions{Thumb: true})
	if err != nil {
		t.Fatalf("DownloadMedia(Thumb) = %v", err)
	}
	cv, _ := p.bob.Conversation(jmsg.ConversationSingle, "alice")
	latest, _ := cv.LatestMessage()
	if latest.Status != jmsg.StatusReceiveSucceed || latest.Content.(*client.ImageContent).ThumbPath != thumb {
		t.Fatalf("after DownloadMedia(Thumb): status %v, ThumbPath %q; want ReceiveSucceed and %q", latest.Status,
			latest.Content.(*client.ImageContent).ThumbPath, thumb)
	}

	if err := p.bob.Logout(ctx); err != nil {
		t.Fatal(err)
	}
	const n = offlineThumbs + 2
	for i := 0; i < n; i++ {
		if _, err := p.conv.SendImage(ctx, path); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.bob.Login(ctx, "bob01", "pw-bob01"); err != nil {
		t.Fatal(err)
	}
	batch := waitEvent(t, p.bob, "the offline batch", func(e client.OfflineMessages) bool { return true })
	if len(batch.Messages) != n {
		t.Fatalf("offline batch of %d, want %d", len(batch.Messages), n)
	}
	for i, m := range batch.Messages {
		has := m.Content.(*client.ImageContent).ThumbPath != ""
		if want := i >= n-offlineThumbs; has != want {
			t.Fatalf("offline message %d of %d: thumbnail %v, want %v (only the newest %d)", i, n, has, want, offlineThumbs)
		}
	}
}

const offlineThumbs = 20

// A file larger than the server accepts fails with 898061, in one request
// and resumable alike; Send cancelled during the upload withdraws the
// message.
func TestMediaUploadRefusedAndWithdrawn(t *testing.T) {
	d := jmsgdtest.StartWithConfig(t, "[media]\nmax_upload_bytes = 3000\n")
	ctx := testCtx(t)
	p := newMediaPair(t, d, "alice", "bob01", client.Config{ResumableThreshold: 4000})
	dir := t.TempDir()
	for _, size := range []int{3500, 5000} {
		path, _ := writeRandom(t, dir, "big.bin", size)
		m, err := p.conv.SendFile(ctx, path, "")
		wantCode(t, "SendFile(too large)", err, jmsg.HttpFileSizeExceedLimit)
		if m.Status != jmsg.StatusSendUploadFailed || m.ErrorCode != jmsg.HttpFileSizeExceedLimit {
			t.Fatalf("status %v code %d, want SendUploadFailed with 898061", m.Status, m.ErrorCode)
		}
		res := waitEvent(t, p.alice, "SendResult", func(e client.SendResult) bool { return e.Message.ID == m.ID })
		wantCode(t, "SendResult.Err", res.Err, jmsg.HttpFileSizeExceedLimit)
	}

	path, _ := writeRandom(t, dir, "small.bin", 1000)
	posts := p.px.count("POST")
	hold := make(chan struct{})
	p.px.setFault(func(r *http.Request) fault {
		if r.Method == http.MethodPost {
			<-hold
		}
		return fault{}
	})
	draft, err := p.conv.CreateMessage(mustFile(t, path))
	if err != nil {
		t.Fatal(err)
	}
	sctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	var out *client.Message
	go func() {
		var err error
		out, err = p.alice.Send(sctx, draft)
		done <- err
	}()
	jmsgdtest.WaitFor(t, "the upload to start", 10*time.Second, func() bool { return p.px.count("POST") > posts })
	cancel()
	err = <-done
	close(hold)
	wantCode(t, "Send cancelled while uploading", err, jmsg.SDKMessageCancelSend)
	if out.Status != jmsg.StatusCanceledSend {
		t.Fatalf("status %v, want CanceledSend", out.Status)
	}
	p.px.setFault(nil)
	if _, err := p.conv.SendText(ctx, "next", nil); err != nil {
		t.Fatal(err)
	}
	first := waitEvent(t, p.bob, "a message", func(client.MessageReceived) bool { return true }).Message
	if first.Text() != "next" {
		t.Fatalf("bob received %T first, want the text: the withdrawn file must not be sent", first.Content)
	}
}

// A download that drops midway continues with a Range request from the
// bytes already held.
func TestMediaDownloadResumes(t *testing.T) {
	d := jmsgdtest.Start(t)
	ctx := testCtx(t)
	p := newMediaPair(t, d, "alice", "bob01", client.Config{})
	path, orig := writeRandom(t, t.TempDir(), "big.bin", 600<<10)
	sent, err := p.conv.SendFile(ctx, path, "")
	if err != nil {
		t.Fatal(err)
	}
	got := p.received(t, sent)
	var cut atomic.Bool
	p.px.setFault(func(r *http.Request) fault {
		if r.Method == http.MethodGet && cut.CompareAndSwap(false, true) {
			return fault{cutResp: 200 << 10}
		}
		return fault{}
	})
	dl, err := p.bob.DownloadMedia(ctx, got, client.DownloadOptions{})
	if err != nil || !bytes.Equal(readFile(t, dl), orig) {
		t.Fatalf("DownloadMedia over a dropped connection = %q, %v", dl, err)
	}
	if p.px.count("GET /v1/media/get bytes=") != 1 {
		t.Fatalf("requests %q: want the second GET to ask for the rest", p.px.requests())
	}
}
