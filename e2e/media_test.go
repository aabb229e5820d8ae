package e2e

import (
	"bytes"
	"crypto/rand"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/jmsg-im/jmsg/client"
)

// writeFile writes b to a new file in dir and returns its path.
func writeFile(t testing.TB, dir, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func picture(t testing.TB, w, h int, asJPEG bool) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.RGBA{R: uint8(x), G: uint8(y), B: 90, A: 255})
		}
	}
	var b bytes.Buffer
	if asJPEG {
		jpeg.Encode(&b, img, &jpeg.Options{Quality: 90})
	} else {
		png.Encode(&b, img)
	}
	return b.Bytes()
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

// Media sent by one SDK client arrives at another with its thumbnail (or
// voice) already local, and its original downloads to exactly the bytes
// sent, CRC-verified — through the real jmsgd binary and its media store.
func TestMediaMessagesArriveAndDownload(t *testing.T) {
	d := startDaemon(t)
	ctx := testCtx(t)
	alice, bobby := newClient(t, d, ""), newClient(t, d, "")
	registerAndLogin(t, alice, "alice")
	registerAndLogin(t, bobby, "bobby")
	events := collect(t, bobby)
	conv, err := alice.CreateSingleConversation(ctx, "bobby")
	if err != nil {
		t.Fatal(err)
	}
	src := t.TempDir()
	photo := picture(t, 1200, 900, true)
	thumb := picture(t, 160, 90, false)
	voice := append([]byte("#!AMR\n"), randomBytes(20_000)...)
	doc := randomBytes(3 << 20) // larger than the SDK's resumable threshold
	video := randomBytes(2 << 20)

	type sent struct {
		name  string
		bytes []byte
		send  func() (*client.Message, error)
	}
	for _, s := range []sent{
		{"image", photo, func() (*client.Message, error) { return conv.SendImage(ctx, writeFile(t, src, "photo.jpg", photo)) }},
		{"voice", voice, func() (*client.Message, error) { return conv.SendVoice(ctx, writeFile(t, src, "hello.amr", voice), 4) }},
		{"file", doc, func() (*client.Message, error) {
			return conv.SendFile(ctx, writeFile(t, src, "report.pdf", doc), "report.pdf")
		}},
		{"video", video, func() (*client.Message, error) {
			return conv.SendVideo(ctx, writeFile(t, src, "clip.mp4", video), writeFile(t, src, "clip.png", thumb), 12)
		}},
	} {
		m, err := s.send()
		if err != nil {
			t.Fatalf("send %s: %v", s.name, err)
		}
		got := next[client.MessageReceived](t, events, 30*time.Second).Message
		if got.ServerMessageID != m.ServerMessageID {
			t.Fatalf("%s: bobby received message %d, want %d", s.name, got.ServerMessageID, m.ServerMessageID)
		}
		switch c := got.Content.(type) {
		case *client.ImageContent:
			if c.Width != 1200 || c.Height != 900 || c.Format != "jpg" || c.CRC32 != crc32.ChecksumIEEE(photo) {
				t.Fatalf("image content %+v", c.MediaObject)
			}
			// The thumbnail is local when the message is reported.
			f, err := c.OpenThumb()
			if err != nil {
				t.Fatalf("image thumbnail not local on arrival: %v", err)
			}
			cfg, _, err := image.DecodeConfig(f)
			f.Close()
			if err != nil || max(cfg.Width, cfg.Height) > 320 || cfg.Width*900 != cfg.Height*1200 {
				t.Fatalf("thumbnail %dx%d, %v: want at most 320 px, the photo's 4:3", cfg.Width, cfg.Height, err)
			}
		case *client.VoiceContent:
			if c.Duration != 4 || c.FSize != int64(len(voice)) {
				t.Fatalf("voice content %+v duration %d", c.MediaObject, c.Duration)
			}
			if f, err := c.Open(); err != nil { // voice is fetched on arrival, like a thumbnail
				t.Fatalf("voice not local on arrival: %v", err)
			} else {
				f.Close()
			}
		case *client.FileContent:
			if c.FName != "report.pdf" || c.FSize != int64(len(doc)) {
				t.Fatalf("file content %+v", c.MediaObject)
			}
		case *client.VideoContent:
			if c.Duration != 12 || c.FSize != int64(len(video)) || c.Thumb.CRC32 != crc32.ChecksumIEEE(thumb) {
				t.Fatalf("video content %+v thumb %+v", c.MediaObject, c.Thumb)
			}
			f, err := c.OpenThumb()
			if err != nil {
				t.Fatalf("video thumbnail not local on arrival: %v", err)
			}
			b, _ := os.ReadFile(f.Name())
			f.Close()
			if !bytes.Equal(b, thumb) {
				t.Fatalf("video thumbnail: %d bytes, want the %d the sender chose", len(b), len(thumb))
			}
		default:
			t.Fatalf("%s arrived as %T", s.name, got.Content)
		}
		var progress int64
		path, err := bobby.DownloadMedia(ctx, got, client.DownloadOptions{Progress: func(n, _ int64) { progress = n }})
		if err != nil {
			t.Fatalf("download %s: %v", s.name, err)
		}
		b, err := os.ReadFile(path)
		if err != nil || !bytes.Equal(b, s.bytes) {
			t.Fatalf("downloaded %s: %d bytes (%v), want %d identical bytes", s.name, len(b), err, len(s.bytes))
		}
		if s.name != "voice" && progress != int64(len(s.bytes)) {
			t.Fatalf("download %s: last progress %d, want %d", s.name, progress, len(s.bytes))
		}
	}
}
