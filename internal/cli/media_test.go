package cli_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jmsg-im/jmsg/internal/jmsgdtest"
)

// An image and a file sent with the CLI (with a progress bar) arrive, are
// listed by history, and download to exactly the bytes sent.
func TestSendAndDownloadMedia(t *testing.T) {
	d := jmsgdtest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	a, b := t.TempDir(), t.TempDir()
	must := func(args ...string) (string, string) {
		t.Helper()
		code, out, errs := run(t, ctx, args...)
		if code != 0 {
			t.Fatalf("jmsg %s: exit %d: %s", strings.Join(args, " "), code, errs)
		}
		return out, errs
	}
	must("register", "-config", a, "-server", d.URL, "-appkey", d.AppKey, "-u", "alice", "-p", "pw-alice")
	must("register", "-config", a, "-server", d.URL, "-appkey", d.AppKey, "-u", "bob01", "-p", "pw-bob01")
	must("login", "-config", a, "-server", d.URL, "-appkey", d.AppKey, "-u", "alice", "-p", "pw-alice")
	must("login", "-config", b, "-server", d.URL, "-appkey", d.AppKey, "-u", "bob01", "-p", "pw-bob01")

	src := t.TempDir()
	img := image.NewRGBA(image.Rect(0, 0, 400, 300))
	for x := range 400 {
		img.Set(x, x%300, color.RGBA{R: 200, A: 255})
	}
	var pngBytes bytes.Buffer
	png.Encode(&pngBytes, img)
	imgPath := filepath.Join(src, "photo.png")
	os.WriteFile(imgPath, pngBytes.Bytes(), 0o600)
	fileBytes := make([]byte, 3<<20) // past the resumable threshold
	rand.Read(fileBytes)
	filePath := filepath.Join(src, "data.bin")
	os.WriteFile(filePath, fileBytes, 0o600)

	out, errs := must("send", "-config", a, "-to", "bob01", "-image", imgPath)
	if !strings.Contains(out, "seq 1") || !strings.Contains(errs, "upload [") || !strings.Contains(errs, "100%") {
		t.Fatalf("send -image printed %q, progress %q", out, errs)
	}
	must("send", "-config", a, "-to", "bob01", "-file", filePath, "-name", "report.bin")

	hist, _ := must("history", "-config", b, "-with", "alice")
	if !strings.Contains(hist, "image 400x300 png") || !strings.Contains(hist, "file report.bin (3.0 MB)") {
		t.Fatalf("history =\n%s", hist)
	}
	for _, tc := range []struct {
		seq  string
		want []byte
	}{{"1", pngBytes.Bytes()}, {"2", fileBytes}} {
		dst := filepath.Join(t.TempDir(), "got")
		out, errs := must("download", "-config", b, "-with", "alice", "-seq", tc.seq, "-o", dst)
		got, err := os.ReadFile(dst)
		if err != nil || !bytes.Equal(got, tc.want) || strings.TrimSpace(out) != dst {
			t.Fatalf("download #%s: %d bytes, %v, printed %q; want %d bytes", tc.seq, len(got), err, out, len(tc.want))
		}
		if !strings.Contains(errs, "download [") {
			t.Fatalf("download #%s drew no progress bar: %q", tc.seq, errs)
		}
	}
	if code, _, errs := run(t, ctx, "download", "-config", b, "-with", "alice", "-seq", "9"); code != 1 || !strings.Contains(errs, "no message #9") {
		t.Fatalf("download of a missing message: exit %d, %q", code, errs)
	}
	if code, _, errs := run(t, ctx, "send", "-config", a, "-to", "bob01", "-image", filepath.Join(src, "missing.png")); code != 1 || !strings.Contains(errs, "864002") {
		t.Fatalf("send of a missing file: exit %d, %q", code, errs)
	}
	empty := filepath.Join(src, "empty.bin")
	os.WriteFile(empty, nil, 0o600)
	if code, _, errs := run(t, ctx, "send", "-config", a, "-to", "bob01", "-file", empty); code != 1 || !strings.Contains(errs, "864005") {
		t.Fatalf("send of an empty file: exit %d, %q", code, errs)
	}
}
