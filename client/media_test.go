package client_test

import (
	"bytes"
	"image"
	_ "image/png"
	"net/http"
	"os"
	"path/filepath"
	"strings"
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
