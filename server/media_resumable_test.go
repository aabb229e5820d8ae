package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jmsg-im/jmsg"
)

// createUpload starts a resumable upload and returns its id.
func (ms *mediaServer) createUpload(t testing.TB, a upAuth, kind jmsg.MediaKind, size int, name string) string {
	t.Helper()
	r := ms.do(t, http.MethodPost, "/v1/media/uploads?type="+string(kind)+"&size="+strconv.Itoa(size)+"&name="+name, a, nil, nil)
	var resp struct {
		UploadID string `json:"upload_id"`
		Offset   *int64 `json:"offset"`
	}
	if r.status != http.StatusCreated || json.Unmarshal(r.body, &resp) != nil || resp.UploadID == "" || resp.Offset == nil || *resp.Offset != 0 {
		t.Fatalf("creating an upload = %d %s, want 201 with upload_id and offset 0", r.status, r.body)
	}
	if loc := r.header.Get("Location"); loc != "/v1/media/uploads/"+resp.UploadID {
		t.Errorf("Location = %q, want /v1/media/uploads/%s", loc, resp.UploadID)
	}
	return resp.UploadID
}

// patch sends bytes of an upload from offset.
func (ms *mediaServer) patch(t testing.TB, a upAuth, id string, offset int, data []byte) httpResult {
	t.Helper()
	return ms.do(t, http.MethodPatch, "/v1/media/uploads/"+id, a,
		http.Header{"Upload-Offset": {strconv.Itoa(offset)}, "Content-Type": {"application/offset+octet-stream"}}, data)
}

// offset asks how many bytes of an upload the server holds; -1 if it
// answers 404.
func (ms *mediaServer) offset(t testing.TB, a upAuth, id string) (have, length int) {
	t.Helper()
	r := ms.do(t, http.MethodHead, "/v1/media/uploads/"+id, a, nil, nil)
	if r.status == http.StatusNotFound {
		return -1, -1
	}
	have, err1 := strconv.Atoi(r.header.Get("Upload-Offset"))
	length, err2 := strconv.Atoi(r.header.Get("Upload-Length"))
	if r.status != http.StatusNoContent || err1 != nil || err2 != nil {
		t.Fatalf("HEAD of upload %s = %d, Upload-Offset %q, Upload-Length %q; want 204 with both", id, r.status,
			r.header.Get("Upload-Offset"), r.header.Get("Upload-Length"))
	}
	return have, length
}

// waitOffset polls HEAD until the server holds want bytes of the upload.
func (ms *mediaServer) waitOffset(t testing.TB, a upAuth, id string, want int) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for {
		have, _ := ms.offset(t, a, id)
		if have == want {
			return
		}
		if have > want || time.Now().After(deadline) {
			t.Fatalf("the server holds %d bytes of upload %s, want %d", have, id, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// startPatch sends the head of a PATCH announcing length bytes from
// offset, and the bytes part, over a raw connection it leaves open.
func (ms *mediaServer) startPatch(t testing.TB, a upAuth, id string, offset, length int, part []byte) net.Conn {
	t.Helper()
	nc, err := net.Dial("tcp", ms.http.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	h := http.Header{}
	a.header(h)
	head := fmt.Sprintf("PATCH /v1/media/uploads/%s HTTP/1.1\r\nHost: %s\r\nX-App-Key: %s\r\nAuthorization: %s\r\n"+
		"Upload-Offset: %d\r\nContent-Type: application/offset+octet-stream\r\nContent-Length: %d\r\n\r\n",
		id, ms.http.Listener.Addr(), h.Get("X-App-Key"), h.Get("Authorization"), offset, length)
	if _, err := nc.Write(append([]byte(head), part...)); err != nil {
		t.Fatalf("writing a PATCH: %v", err)
	}
	return nc
}

// stagedUploads lists the resumable uploads' staging files.
func (ms *mediaServer) stagedUploads(t testing.TB) []string {
	t.Helper()
	var out []string
	for _, f := range regularFiles(t, ms.stagingDir) {
		if strings.HasPrefix(f, "r-") {
			out = append(out, f)
		}
	}
	return out
}

// TestMediaResumableUpload sends a file in pieces, with a request cut
// short in the middle, and checks the server's offsets and the result.
func TestMediaResumableUpload(t *testing.T) {
	ms := newMediaServer(t, Config{})
	addUsers(t, ms.testServer, "alice", "bobby")
	cs := logins(t, ms.testServer, "alice", "bobby")
	a := uploadAuth(t, ms.testServer, cs[0], "alice")
	b := uploadAuth(t, ms.testServer, cs[1], "bobby")

	data := noisePNG(t, 64, 64)
	id := ms.createUpload(t, a, jmsg.MediaImage, len(data), "big.png")
	if have, length := ms.offset(t, a, id); have != 0 || length != len(data) {
		t.Fatalf("HEAD of a new upload = offset %d length %d, want 0 and %d", have, length, len(data))
	}
	half := len(data) / 2
	r := ms.patch(t, a, id, 0, data[:half])
	if r.status != http.StatusNoContent || r.header.Get("Upload-Offset") != strconv.Itoa(half) {
		t.Fatalf("PATCH of the first half = %d Upload-Offset %q %s, want 204 and %d", r.status, r.header.Get("Upload-Offset"), r.body, half)
	}
	// Another user's, an unknown and a malformed id are not found.
	if have, _ := ms.offset(t, b, id); have != -1 {
		t.Errorf("bobby's HEAD of alice's upload: offset %d, want 404", have)
	}
	wantHTTPError(t, "bobby's PATCH of alice's upload", ms.patch(t, b, id, half, data[half:]), http.StatusNotFound, jmsg.RestParameterInvalid)
	wantHTTPError(t, "PATCH of an unknown upload", ms.patch(t, a, strings.Repeat("0", 32), 0, data), http.StatusNotFound, jmsg.RestParameterInvalid)
	wantHTTPError(t, "PATCH of a malformed id", ms.patch(t, a, "..%2F..%2Fetc", 0, data), http.StatusNotFound, jmsg.RestParameterInvalid)
	// A wrong offset: 409 with the server's.
	for _, off := range []int{0, half - 1, half + 1, len(data)} {
		r := ms.patch(t, a, id, off, data[min(off, len(data)-1):])
		wantHTTPError(t, "PATCH from "+strconv.Itoa(off), r, http.StatusConflict, jmsg.RestParameterInvalid)
		if r.header.Get("Upload-Offset") != strconv.Itoa(half) {
			t.Errorf("PATCH from %d: Upload-Offset %q, want %d", off, r.header.Get("Upload-Offset"), half)
		}
	}
	r = ms.do(t, http.MethodPatch, "/v1/media/uploads/"+id, a, nil, data[half:])
	wantHTTPError(t, "PATCH without Upload-Offset", r, http.StatusConflict, jmsg.RestParameterInvalid)
	ms.waitOffset(t, a, id, half) // nothing of the refused requests was kept

	// A request cut short: its bytes stay.
	part := data[half : half+3000]
	nc := ms.startPatch(t, a, id, half, len(data)-half, part)
	ms.waitOffset(t, a, id, half+len(part))
	// While that request is still open, another PATCH may not add to the
	// file.
	r = ms.patch(t, a, id, half+len(part), data[half+len(part):])
	wantHTTPError(t, "PATCH while another is running", r, http.StatusConflict, jmsg.RestParameterInvalid)
	nc.Close()
	ms.waitOffset(t, a, id, half+len(part))
	// The rest, once the cut request has ended.
	have := half + len(part)
	deadline := time.Now().Add(waitTimeout)
	for {
		r = ms.patch(t, a, id, have, data[have:])
		if r.status != http.StatusConflict || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	obj := decodeObject(t, r)
	checkObject(t, "resumable upload", obj, jmsg.MediaImage, data)
	if obj.Width != 64 || obj.Height != 64 || obj.Format != "png" || obj.FName != "big.png" {
		t.Errorf("resumable upload = %+v, want a 64x64 png named big.png", obj)
	}
	if have, _ := ms.offset(t, a, id); have != -1 {
		t.Errorf("HEAD of a finished upload: offset %d, want 404", have)
	}
	ms.wantFiles(t, "after the upload", 2, 0)
	// The object is usable like any other.
	cs[0].sendImage("bobby", 0, "resumed", obj)
	res := cs[1].resource(obj.MediaID, false)
	if got := ms.download(t, res.URL); !bytes.Equal(got.body, data) {
		t.Errorf("GET of the resumed upload: %d bytes, want the %d uploaded", len(got.body), len(data))
	}

	// More bytes than announced void the upload.
	id = ms.createUpload(t, a, jmsg.MediaFile, 100, "")
	ms.patch(t, a, id, 0, data[:40])
	wantHTTPError(t, "PATCH beyond the size", ms.patch(t, a, id, 40, data[:61]), http.StatusRequestEntityTooLarge, jmsg.HttpFileSizeExceedLimit)
	if have, _ := ms.offset(t, a, id); have != -1 {
		t.Errorf("HEAD of a voided upload: offset %d, want 404", have)
	}
	wantHTTPError(t, "PATCH of a voided upload", ms.patch(t, a, id, 40, data[:60]), http.StatusNotFound, jmsg.RestParameterInvalid)

	// An image that is not one is refused once complete, and void.
	text := []byte(strings.Repeat("not an image ", 20))
	id = ms.createUpload(t, a, jmsg.MediaImage, len(text), "")
	wantHTTPError(t, "completing a non-image", ms.patch(t, a, id, 0, text), http.StatusBadRequest, jmsg.RestParameterInvalid)
	if have, _ := ms.offset(t, a, id); have != -1 {
		t.Errorf("HEAD of a refused upload: offset %d, want 404", have)
	}
	ms.wantFiles(t, "in the end", 2, 0)
}

// TestMediaDedup checks that identical bytes of one app are stored once
// and still get an id per upload.
func TestMediaDedup(t *testing.T) {
	ms := newMediaServer(t, Config{})
	addUsers(t, ms.testServer, "alice", "bobby")
	cs := logins(t, ms.testServer, "alice", "bobby")
	a := uploadAuth(t, ms.testServer, cs[0], "alice")
	b := uploadAuth(t, ms.testServer, cs[1], "bobby")

	data := imageBytes(t, "png", 50, 50)
	first := ms.mustUpload(t, a, jmsg.MediaImage, "one.png", data)
	ms.wantFiles(t, "after the first upload", 2, 0) // the blob and its thumbnail
	second := ms.mustUpload(t, b, jmsg.MediaImage, "two.png", data)
	if second.MediaID == first.MediaID || second.FName != "two.png" {
		t.Errorf("second upload = %+v, first %+v: want a new id and its own name", second, first)
	}
	if second.CRC32 != first.CRC32 || second.Hash != first.Hash || second.Width != first.Width {
		t.Errorf("second upload = %+v, want the first's crc32, hash and size %+v", second, first)
	}
	ms.wantFiles(t, "after the same bytes again", 2, 0)
	// Both ids serve the bytes and the thumbnail.
	t1, t2 := cs[0].resource(first.MediaID, true), cs[1].resource(second.MediaID, true)
	if t1.CRC32 != t2.CRC32 || t1.FSize != t2.FSize {
		t.Errorf("thumbnails of the two uploads: %+v and %+v, want the same", t1, t2)
	}
	if r := ms.download(t, cs[1].resource(second.MediaID, false).URL); !bytes.Equal(r.body, data) {
		t.Errorf("GET of the second upload: %d bytes, want the %d uploaded", len(r.body), len(data))
	}

	// The same bytes as another kind, or in another app, are stored apart.
	ms.mustUpload(t, a, jmsg.MediaFile, "x.png", data)
	ms.wantFiles(t, "after the bytes as a file", 3, 0)
	ms.mustUpload(t, a, jmsg.MediaImage, "", data)
	ms.wantFiles(t, "after the bytes as an image again", 3, 0)
	appB := ms.otherApp(t)
	addUsers(t, appB, "alice")
	aB := uploadAuth(t, appB, logins(t, appB, "alice")[0], "alice")
	ms.mustUpload(t, aB, jmsg.MediaImage, "", data)
	ms.wantFiles(t, "after the bytes in app B", 5, 0)
}

// TestMediaUploadSweep checks that expired resumable uploads and stray
// staging files are removed, and live ones kept.
func TestMediaUploadSweep(t *testing.T) {
	ms := newMediaServer(t, Config{})
	addUsers(t, ms.testServer, "alice")
	alice := logins(t, ms.testServer, "alice")[0]
	a := uploadAuth(t, ms.testServer, alice, "alice")
	id := ms.createUpload(t, a, jmsg.MediaFile, 100, "")
	ms.patch(t, a, id, 0, randomBytes(30))
	if got := ms.stagedUploads(t); len(got) != 2 {
		t.Fatalf("staging holds %q, want the .part and .json of one upload", got)
	}
	old := time.Now().Add(-2 * time.Hour)
	stray := []string{"upload-123.part", "r-" + strings.Repeat("a", 32) + ".part"} // left by a crash
	for _, name := range stray {
		p := filepath.Join(ms.stagingDir, name)
		if err := os.WriteFile(p, []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, old, old); err != nil {
			t.Fatal(err)
		}
	}

	ms.srv.sweepUploads(time.Now())
	if got := ms.stagedUploads(t); len(got) != 2 || !strings.HasPrefix(got[0], "r-"+id) {
		t.Errorf("after a sweep now, staging holds %q, want only upload %s", got, id)
	}
	for _, name := range stray {
		if _, err := os.Stat(filepath.Join(ms.stagingDir, name)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("stray %s survived the sweep (%v)", name, err)
		}
	}
	if have, _ := ms.offset(t, a, id); have != 30 {
		t.Errorf("HEAD after the sweep: offset %d, want 30", have)
	}
	ms.srv.sweepUploads(time.Now().Add(2 * time.Hour))
	if got := regularFiles(t, ms.stagingDir); len(got) != 0 {
		t.Errorf("after a sweep past the upload's lifetime, staging holds %q", got)
	}
	if have, _ := ms.offset(t, a, id); have != -1 {
		t.Errorf("HEAD of a swept upload: offset %d, want 404", have)
	}
}

// TestMediaDownloadContentType checks that uploads are never served with
// a type a browser would run.
func TestMediaDownloadContentType(t *testing.T) {
	ms := newMediaServer(t, Config{})
	addUsers(t, ms.testServer, "alice")
	alice := logins(t, ms.testServer, "alice")[0]
	a := uploadAuth(t, ms.testServer, alice, "alice")
	cases := []struct {
		name  string
		kind  jmsg.MediaKind
		data  []byte
		ctype string
	}{
		{"html", jmsg.MediaFile, []byte("<!DOCTYPE html><html><script>alert(document.domain)</script></html>"), "application/octet-stream"},
		{"svg", jmsg.MediaFile, []byte(`<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`), "application/octet-stream"},
		{"text", jmsg.MediaFile, []byte("just some words"), "application/octet-stream"},
		{"pdf", jmsg.MediaFile, []byte("%PDF-1.4\n%âãÏÓ\n"), "application/octet-stream"},
		{"amr", jmsg.MediaVoice, append([]byte("#!AMR\n"), randomBytes(50)...), "audio/amr"},
		{"mp4", jmsg.MediaVideo, mp4Bytes(100), "video/mp4"},
		{"png", jmsg.MediaImage, imageBytes(t, "png", 3, 3), "image/png"},
		{"jpeg", jmsg.MediaImage, imageBytes(t, "jpg", 3, 3), "image/jpeg"},
	}
	for _, c := range cases {
		obj := ms.mustUpload(t, a, c.kind, "", c.data)
		r := ms.download(t, alice.resource(obj.MediaID, false).URL)
		if r.status != http.StatusOK || !bytes.Equal(r.body, c.data) {
			t.Errorf("%s: GET = %d, %d bytes, want 200 and the bytes", c.name, r.status, len(r.body))
		}
		if got := r.header.Get("Content-Type"); got != c.ctype {
			t.Errorf("%s: Content-Type %q, want %q", c.name, got, c.ctype)
		}
		if r.header.Get("X-Content-Type-Options") != "nosniff" || !strings.Contains(r.header.Get("Content-Security-Policy"), "sandbox") {
			t.Errorf("%s: X-Content-Type-Options %q, Content-Security-Policy %q, want nosniff and a sandbox", c.name,
				r.header.Get("X-Content-Type-Options"), r.header.Get("Content-Security-Policy"))
		}
	}
}

// TestMediaSignerRetry checks that a signing key that could not be loaded
// is loaded again on the next use, not failed for ever.
func TestMediaSignerRetry(t *testing.T) {
	calls := 0
	m := &mediaSigner{load: func() ([]byte, error) {
		calls++
		if calls == 1 {
			return nil, errors.New("database is locked")
		}
		return []byte("0123456789abcdef0123456789abcdef"), nil
	}}
	exp := time.Now().Add(time.Minute)
	if _, err := m.uploadToken("app", 1, exp); err == nil {
		t.Fatal("uploadToken() with a failing key store = nil error")
	}
	tok, err := m.uploadToken("app", 1, exp)
	if err != nil {
		t.Fatalf("uploadToken() once the key store works = %v", err)
	}
	if uid, err := m.checkUploadToken(tok, "app", time.Now()); err != nil || uid != 1 {
		t.Errorf("checkUploadToken() = %d, %v, want 1", uid, err)
	}
	if calls != 2 {
		t.Errorf("the key was loaded %d times, want 2 (once failing, then kept)", calls)
	}
}
