package server

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"hash/crc32"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"
	"io/fs"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"net/url"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jmsg-im/jmsg"
	"github.com/jmsg-im/jmsg/server/media"
	"github.com/jmsg-im/jmsg/wire"
)

// mediaServer is a test server with a file-system media store.
type mediaServer struct {
	*testServer
	mediaDir   string // the media store's directory
	stagingDir string
}

// newMediaServer starts a test server whose media store is a fresh
// directory; cfg.Media's other settings are kept.
func newMediaServer(t testing.TB, cfg Config) *mediaServer {
	t.Helper()
	dir := t.TempDir()
	st, err := media.NewFS(dir)
	if err != nil {
		t.Fatalf("media.NewFS() = %v", err)
	}
	t.Cleanup(func() { st.Close() }) // after the server's cleanup, registered later
	cfg.Media.Store = st
	cfg.Media.StagingDir = t.TempDir()
	return &mediaServer{testServer: newTestServer(t, cfg), mediaDir: dir, stagingDir: cfg.Media.StagingDir}
}

// otherApp creates a second app on the same server and returns a view of
// ms whose logins use it.
func (ms *mediaServer) otherApp(t testing.TB) *testServer {
	t.Helper()
	other := *ms.testServer
	other.appKey = randomKey(t)
	if err := ms.st.CreateApp(t.Context(), storeApp(other.appKey)); err != nil {
		t.Fatalf("CreateApp() = %v", err)
	}
	return &other
}

// upAuth is what an upload request authenticates with.
type upAuth struct {
	appKey, username, token string
	uid                     int64
}

// uploadAuth asks c's session (logged in as username) for an upload token.
func uploadAuth(t testing.TB, ts *testServer, c *rawClient, username string) upAuth {
	t.Helper()
	var resp wire.UploadTokenResp
	c.mustCall(wire.OpGetUploadToken, nil, &resp)
	uid, err := ts.srv.users.uid(t.Context(), ts.appKey, username)
	if err != nil {
		t.Fatalf("uid of %s: %v", username, err)
	}
	return upAuth{appKey: ts.appKey, username: username, token: resp.UpToken, uid: uid}
}

// header sets a's headers on h; the zero upAuth sets none.
func (a upAuth) header(h http.Header) {
	if a.appKey != "" {
		h.Set("X-App-Key", a.appKey)
	}
	if a.username != "" || a.token != "" {
		h.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(a.username+":"+a.token)))
	}
}

// httpResult is a finished HTTP exchange.
type httpResult struct {
	status int
	header http.Header
	body   []byte
}

// do makes an HTTP request to ms (path relative to its root, or a full URL)
// with a's authentication and returns the whole answer.
func (ms *mediaServer) do(t testing.TB, method, path string, a upAuth, hdr http.Header, body []byte) httpResult {
	t.Helper()
	u := path
	if !strings.HasPrefix(u, "http") {
		u = ms.http.URL + path
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, u, rd)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	a.header(req.Header)
	resp, err := ms.http.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading the answer: %v", method, path, err)
	}
	return httpResult{status: resp.StatusCode, header: resp.Header, body: b}
}

// upload posts data as the raw body of a one-shot upload with query q.
func (ms *mediaServer) upload(t testing.TB, a upAuth, q string, data []byte) httpResult {
	t.Helper()
	return ms.do(t, http.MethodPost, "/v1/media?"+q, a, http.Header{"Content-Type": {"application/octet-stream"}}, data)
}

// mustUpload uploads data as kind and returns the media object.
func (ms *mediaServer) mustUpload(t testing.TB, a upAuth, kind jmsg.MediaKind, name string, data []byte) jmsg.MediaObject {
	t.Helper()
	q := url.Values{"type": {string(kind)}}
	if name != "" {
		q.Set("name", name)
	}
	return decodeObject(t, ms.upload(t, a, q.Encode(), data))
}

// decodeObject checks that r is a 200 with a media object and returns it.
func decodeObject(t testing.TB, r httpResult) jmsg.MediaObject {
	t.Helper()
	if r.status != http.StatusOK {
		t.Fatalf("upload = %d %s, want 200", r.status, r.body)
	}
	var obj jmsg.MediaObject
	if err := json.Unmarshal(r.body, &obj); err != nil {
		t.Fatalf("upload answer %s: %v", r.body, err)
	}
	return obj
}

// wantHTTPError checks that r is JMessage's error envelope with status
// and code.
func wantHTTPError(t testing.TB, what string, r httpResult, status, code int) {
	t.Helper()
	var e struct {
		Error struct {
			Code    int    `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if r.status != status {
		t.Errorf("%s = %d %s, want %d (code %d)", what, r.status, r.body, status, code)
		return
	}
	if err := json.Unmarshal(r.body, &e); err != nil || e.Error.Code != code || e.Error.Message == "" {
		t.Errorf("%s = %d %s, want error code %d with a message", what, r.status, r.body, code)
	}
}

// checkObject checks the fields of an upload answer that follow from the
// bytes.
func checkObject(t testing.TB, what string, obj jmsg.MediaObject, kind jmsg.MediaKind, data []byte) {
	t.Helper()
	sum := sha256.Sum256(data)
	if k, ok := jmsg.ParseMediaID(obj.MediaID); !ok || k != kind {
		t.Errorf("%s: media_id %q, want a %s id", what, obj.MediaID, kind)
	}
	if !regexp.MustCompile(`^jmsg/` + string(kind) + `/[A-Z2-7]{32}$`).MatchString(obj.MediaID) {
		t.Errorf("%s: media_id %q does not match jmsg/%s/<32 base32>", what, obj.MediaID, kind)
	}
	if obj.CRC32 != crc32.ChecksumIEEE(data) || obj.FSize != int64(len(data)) || obj.Hash != hex.EncodeToString(sum[:]) {
		t.Errorf("%s: crc32 %d fsize %d hash %s, want %d %d %x", what, obj.CRC32, obj.FSize, obj.Hash,
			crc32.ChecksumIEEE(data), len(data), sum)
	}
}

// picture is a w×h gradient.
func picture(w, h int) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.NRGBA{uint8(x * 255 / w), uint8(y * 255 / h), 128, 255})
		}
	}
	return img
}

// imageBytes encodes a w×h picture as format (png, jpg or gif).
func imageBytes(t testing.TB, format string, w, h int) []byte {
	t.Helper()
	var buf bytes.Buffer
	var err error
	switch format {
	case "png":
		err = png.Encode(&buf, picture(w, h))
	case "jpg":
		err = jpeg.Encode(&buf, picture(w, h), nil)
	case "gif":
		err = gif.Encode(&buf, picture(w, h), nil)
	default:
		t.Fatalf("no encoder for %q", format)
	}
	if err != nil {
		t.Fatalf("encoding %s: %v", format, err)
	}
	return buf.Bytes()
}

// noisePNG is a PNG of random pixels: it does not compress, so its size is
// about 4·w·h bytes.
func noisePNG(t testing.TB, w, h int) []byte {
	t.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	rand.Read(img.Pix)
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

// regularFiles lists the regular files under dir, relative to it.
func regularFiles(t testing.TB, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			rel, _ := filepath.Rel(dir, path)
			out = append(out, rel)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("listing %s: %v", dir, err)
	}
	slices.Sort(out)
	return out
}

// wantFiles checks how many files the media store and the staging
// directory hold.
func (ms *mediaServer) wantFiles(t testing.TB, what string, blobs, staged int) {
	t.Helper()
	if got := regularFiles(t, ms.mediaDir); len(got) != blobs {
		t.Errorf("%s: media dir holds %q, want %d files", what, got, blobs)
	}
	if got := regularFiles(t, ms.stagingDir); len(got) != staged {
		t.Errorf("%s: staging dir holds %q, want %d files", what, got, staged)
	}
}

// multipartBody is a form with a text field and then a file part named
// filename holding data.
func multipartBody(t testing.TB, filename, contentType string, data []byte) (body []byte, formType string) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	mw.WriteField("note", "not the file")
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", `form-data; name="file"; filename="`+filename+`"`)
	h.Set("Content-Type", contentType)
	pw, err := mw.CreatePart(h)
	if err != nil {
		t.Fatal(err)
	}
	pw.Write(data)
	mw.WriteField("after", "also not the file")
	mw.Close()
	return buf.Bytes(), mw.FormDataContentType()
}

// TestMediaUpload checks one-shot uploads of images, raw and as a form:
// the media object's fields come from the bytes, not from what the client
// claims.
func TestMediaUpload(t *testing.T) {
	ms := newMediaServer(t, Config{})
	addUsers(t, ms.testServer, "alice")
	alice := logins(t, ms.testServer, "alice")[0]
	a := uploadAuth(t, ms.testServer, alice, "alice")

	type tc struct {
		name      string
		format    string // of the bytes
		w, h      int
		multipart bool
		path      string // default /v1/media
		query     string // besides type=image
		filename  string // of the form's file part
		ctype     string // Content-Type of the raw body or the part
		wantName  string
	}
	cases := []tc{
		{name: "raw png", format: "png", w: 30, h: 20, query: "name=pic.png", ctype: "image/png", wantName: "pic.png"},
		{name: "raw jpeg", format: "jpg", w: 17, h: 33, ctype: "image/jpeg"},
		{name: "raw gif", format: "gif", w: 8, h: 5, query: "name=" + url.QueryEscape("dir/sub/anim.gif"), ctype: "image/gif", wantName: "anim.gif"},
		{name: "png claiming jpeg", format: "png", w: 12, h: 9, query: "name=x.jpg", ctype: "image/jpeg", wantName: "x.jpg"},
		{name: "alias /resource", format: "png", w: 3, h: 4, path: "/resource", ctype: "text/plain"},
		{name: "form png", format: "png", w: 40, h: 10, multipart: true, filename: "../../a.png", ctype: "image/png", wantName: "a.png"},
		{name: "form jpeg", format: "jpg", w: 21, h: 22, multipart: true, filename: `C:\Users\me\b.jpg`, ctype: "image/jpeg", wantName: "b.jpg"},
		{name: "form gif, name in query", format: "gif", w: 6, h: 7, multipart: true, query: "name=q.gif", filename: "form.gif", ctype: "image/gif", wantName: "q.gif"},
		{name: "form png claiming gif", format: "png", w: 5, h: 5, multipart: true, filename: "c.gif", ctype: "image/gif", wantName: "c.gif"},
		{name: "form, dot-dot name", format: "png", w: 2, h: 2, multipart: true, filename: "../..", ctype: "image/png", wantName: ""},
	}
	for _, c := range cases {
		data := imageBytes(t, c.format, c.w, c.h)
		path := c.path
		if path == "" {
			path = "/v1/media"
		}
		path += "?type=image"
		if c.query != "" {
			path += "&" + c.query
		}
		body, ctype := data, c.ctype
		if c.multipart {
			body, ctype = multipartBody(t, c.filename, c.ctype, data)
		}
		r := ms.do(t, http.MethodPost, path, a, http.Header{"Content-Type": {ctype}}, body)
		obj := decodeObject(t, r)
		checkObject(t, c.name, obj, jmsg.MediaImage, data)
		if obj.Format != c.format || obj.Width != c.w || obj.Height != c.h || obj.FName != c.wantName {
			t.Errorf("%s: format %q %dx%d fname %q, want %q %dx%d %q", c.name, obj.Format, obj.Width, obj.Height, obj.FName,
				c.format, c.w, c.h, c.wantName)
		}
		if r.header.Get("Content-Type") != "application/json; charset=utf-8" {
			t.Errorf("%s: Content-Type %q, want JSON", c.name, r.header.Get("Content-Type"))
		}
	}
	ms.wantFiles(t, "after the uploads", 2*len(cases), 0) // each a blob and a thumbnail

	// Other kinds are not checked for content, but are sniffed.
	amr := append([]byte("#!AMR\n"), randomBytes(200)...)
	voice := ms.mustUpload(t, a, jmsg.MediaVoice, "v.amr", amr)
	checkObject(t, "voice", voice, jmsg.MediaVoice, amr)
	if voice.Format != "amr" || voice.Width != 0 || voice.FName != "v.amr" {
		t.Errorf("voice upload = %+v, want format amr, no width, fname v.amr", voice)
	}
	blob := randomBytes(3000)
	file := ms.mustUpload(t, a, jmsg.MediaFile, "", blob)
	checkObject(t, "file", file, jmsg.MediaFile, blob)
	if file.Format != "" || file.FName != "" {
		t.Errorf("file upload = %+v, want no format and no fname", file)
	}
}

// TestMediaUploadAuth checks that an upload needs a genuine, unexpired
// token of the app and the user it names, and that a refused upload
// leaves nothing behind.
func TestMediaUploadAuth(t *testing.T) {
	ms := newMediaServer(t, Config{})
	addUsers(t, ms.testServer, "alice", "bobby")
	cs := logins(t, ms.testServer, "alice", "bobby")
	a := uploadAuth(t, ms.testServer, cs[0], "alice")
	b := uploadAuth(t, ms.testServer, cs[1], "bobby")
	appB := ms.otherApp(t)
	addUsers(t, appB, "alice")
	aliceB := logins(t, appB, "alice")[0]
	aB := uploadAuth(t, appB, aliceB, "alice")

	sign := func(appKey string, uid int64, exp time.Time) string {
		tok, err := ms.srv.signer.uploadToken(appKey, uid, exp)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	payload, sig, _ := strings.Cut(a.token, ".")
	flip := func(s string) string { // changes one character of a base64url string
		c := "A"
		if s[len(s)/2] == 'A' {
			c = "B"
		}
		return s[:len(s)/2] + c + s[len(s)/2+1:]
	}
	forged := base64.RawURLEncoding.EncodeToString([]byte(a.appKey+"."+itoa(int(b.uid))+"."+itoa(int(time.Now().Add(time.Hour).UnixMilli())))) + "." + sig

	with := func(f func(*upAuth)) upAuth {
		x := a
		f(&x)
		return x
	}
	cases := []struct {
		name string
		auth upAuth
	}{
		{"no headers", upAuth{}},
		{"no Authorization", upAuth{appKey: a.appKey}},
		{"no X-App-Key", with(func(x *upAuth) { x.appKey = "" })},
		{"empty token", with(func(x *upAuth) { x.token = "" })},
		{"garbage token", with(func(x *upAuth) { x.token = "abc" })},
		{"tampered signature", with(func(x *upAuth) { x.token = payload + "." + flip(sig) })},
		{"tampered payload", with(func(x *upAuth) { x.token = flip(payload) + "." + sig })},
		{"payload naming bobby, alice's signature", with(func(x *upAuth) { x.username, x.token = "bobby", forged })},
		{"bobby's token for alice", with(func(x *upAuth) { x.token = b.token })},
		{"alice's token as bobby", with(func(x *upAuth) { x.username = "bobby" })},
		{"unknown user", with(func(x *upAuth) { x.username = "nobody" })},
		{"token of app B with app A's key", with(func(x *upAuth) { x.token = aB.token })},
		{"token of app A with app B's key", with(func(x *upAuth) { x.appKey = appB.appKey })},
		{"unknown app key", with(func(x *upAuth) { x.appKey = randomKey(t) })},
		{"expired", with(func(x *upAuth) { x.token = sign(a.appKey, a.uid, time.Now().Add(-time.Millisecond)) })},
	}
	data := imageBytes(t, "png", 10, 10)
	for _, c := range cases {
		wantHTTPError(t, c.name+": upload", ms.upload(t, c.auth, "type=image", data), http.StatusUnauthorized, jmsg.SDKNetworkUploadTokenVerifyFailed)
		wantHTTPError(t, c.name+": resumable create", ms.do(t, http.MethodPost, "/v1/media/uploads?type=image&size=10", c.auth, nil, nil),
			http.StatusUnauthorized, jmsg.SDKNetworkUploadTokenVerifyFailed)
	}
	ms.wantFiles(t, "after refused uploads", 0, 0)

	// The controls: genuine tokens work, in their own app; a crafted one
	// with a future expiry too, so the refusals above are of what changed.
	ms.mustUpload(t, a, jmsg.MediaImage, "", data)
	ms.mustUpload(t, b, jmsg.MediaImage, "", data)
	ms.mustUpload(t, aB, jmsg.MediaImage, "", data)
	ms.mustUpload(t, with(func(x *upAuth) { x.token = sign(a.appKey, a.uid, time.Now().Add(time.Minute)) }), jmsg.MediaImage, "", data)
}

// TestMediaUploadTokenExpiry checks that a token stops working once its
// lifetime has passed.
func TestMediaUploadTokenExpiry(t *testing.T) {
	ms := newMediaServer(t, Config{Media: MediaConfig{UploadTokenTTL: 300 * time.Millisecond}})
	addUsers(t, ms.testServer, "alice")
	alice := logins(t, ms.testServer, "alice")[0]
	a := uploadAuth(t, ms.testServer, alice, "alice")
	data := imageBytes(t, "png", 4, 4)
	deadline := time.Now().Add(waitTimeout)
	for {
		r := ms.upload(t, a, "type=image", data)
		if r.status == http.StatusUnauthorized {
			wantHTTPError(t, "upload with an expired token", r, http.StatusUnauthorized, jmsg.SDKNetworkUploadTokenVerifyFailed)
			break
		}
		if r.status != http.StatusOK || time.Now().After(deadline) {
			t.Fatalf("upload = %d %s, want 200 until the token expires, then 401", r.status, r.body)
		}
		time.Sleep(50 * time.Millisecond)
	}
	ms.mustUpload(t, uploadAuth(t, ms.testServer, alice, "alice"), jmsg.MediaImage, "", data) // a new token works
}

// TestMediaUploadLimits checks the refusals of bad uploads and that they
// leave nothing in the store or in staging.
func TestMediaUploadLimits(t *testing.T) {
	const max = 1000
	ms := newMediaServer(t, Config{Media: MediaConfig{MaxUploadBytes: max}})
	addUsers(t, ms.testServer, "alice")
	alice := logins(t, ms.testServer, "alice")[0]
	a := uploadAuth(t, ms.testServer, alice, "alice")

	tooBig := randomBytes(max + 1)
	form, formType := multipartBody(t, "big.bin", "application/octet-stream", tooBig)
	noFile := func() ([]byte, string) {
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		mw.WriteField("file", "a field, not a file")
		mw.Close()
		return buf.Bytes(), mw.FormDataContentType()
	}
	noFileBody, noFileType := noFile()
	emptyForm, emptyFormType := multipartBody(t, "empty.png", "image/png", nil)
	octet := http.Header{"Content-Type": {"application/octet-stream"}}
	jpegCut := imageBytes(t, "jpg", 30, 30)
	jpegCut = jpegCut[:len(jpegCut)-100]
	gifGarbage := imageBytes(t, "gif", 12, 12)
	gifGarbage = append(gifGarbage[:len(gifGarbage)-30], bytes.Repeat([]byte{0xff}, 30)...)
	for _, b := range [][]byte{imageBytes(t, "png", 9, 9)[:40], jpegCut, gifGarbage} {
		if _, w, h, err := media.ImageInfo(bytes.NewReader(b)); err != nil || w <= 0 || h != w {
			t.Fatalf("ImageInfo of a broken image = %dx%d, %v; want its header read", w, h, err)
		}
	}
	cases := []struct {
		name         string
		method, path string
		hdr          http.Header
		body         []byte
		status, code int
	}{
		{"one byte too many", "POST", "/v1/media?type=file", octet, tooBig, 413, jmsg.HttpFileSizeExceedLimit},
		{"form, one byte too many", "POST", "/v1/media?type=file", http.Header{"Content-Type": {formType}}, form, 413, jmsg.HttpFileSizeExceedLimit},
		{"resumable, too big", "POST", "/v1/media/uploads?type=file&size=1001", nil, nil, 413, jmsg.HttpFileSizeExceedLimit},
		{"empty body", "POST", "/v1/media?type=file", octet, []byte{}, 400, jmsg.SDKMediaUploadEmptyFile},
		{"empty file part", "POST", "/v1/media?type=file", http.Header{"Content-Type": {emptyFormType}}, emptyForm, 400, jmsg.SDKMediaUploadEmptyFile},
		{"form without a file", "POST", "/v1/media?type=file", http.Header{"Content-Type": {noFileType}}, noFileBody, 400, jmsg.SDKMediaUploadEmptyFile},
		{"resumable, empty", "POST", "/v1/media/uploads?type=file&size=0", nil, nil, 400, jmsg.SDKMediaUploadEmptyFile},
		{"resumable, bad size", "POST", "/v1/media/uploads?type=file&size=ten", nil, nil, 400, jmsg.RestParameterInvalid},
		{"resumable, negative size", "POST", "/v1/media/uploads?type=file&size=-1", nil, nil, 400, jmsg.RestParameterInvalid},
		{"bogus type", "POST", "/v1/media?type=bogus", octet, []byte("x"), 400, jmsg.RestParameterInvalid},
		{"no type", "POST", "/v1/media", octet, []byte("x"), 400, jmsg.RestParameterInvalid},
		{"resumable, bogus type", "POST", "/v1/media/uploads?type=text&size=5", nil, nil, 400, jmsg.RestParameterInvalid},
		{"image that is text", "POST", "/v1/media?type=image", octet, []byte("a picture of a cat, in words"), 400, jmsg.RestParameterInvalid},
		{"image with a broken header", "POST", "/v1/media?type=image", octet, imageBytes(t, "png", 9, 9)[:20], 400, jmsg.RestParameterInvalid},
		// A good header with no pixels: ImageInfo accepts it, but no
		// client could show it.
		{"png cut after its header", "POST", "/v1/media?type=image", octet, imageBytes(t, "png", 9, 9)[:40], 400, jmsg.RestParameterInvalid},
		{"jpeg cut short", "POST", "/v1/media?type=image", octet, jpegCut, 400, jmsg.RestParameterInvalid},
		{"gif with garbage pixels", "POST", "/v1/media?type=image", octet, gifGarbage, 400, jmsg.RestParameterInvalid},
		{"image that is a WAV", "POST", "/v1/media?type=image", octet, append([]byte("RIFF\x24\x00\x00\x00WAVEfmt "), make([]byte, 40)...), 400, jmsg.RestParameterInvalid},
	}
	for _, c := range cases {
		wantHTTPError(t, c.name, ms.do(t, c.method, c.path, a, c.hdr, c.body), c.status, c.code)
		ms.wantFiles(t, c.name, 0, 0)
	}
	// Exactly the limit is accepted.
	exact := randomBytes(max)
	checkObject(t, "upload of the limit", ms.mustUpload(t, a, jmsg.MediaFile, "", exact), jmsg.MediaFile, exact)
	ms.wantFiles(t, "after an upload of the limit", 1, 0)
}

// TestMediaGetUploadToken checks get_upload_token's answer and that it
// needs a login.
func TestMediaGetUploadToken(t *testing.T) {
	ms := newMediaServer(t, Config{Media: MediaConfig{UploadTokenTTL: 10 * time.Minute}})
	addUsers(t, ms.testServer, "alice")
	alice := logins(t, ms.testServer, "alice")[0]
	before := time.Now()
	var resp wire.UploadTokenResp
	alice.mustCall(wire.OpGetUploadToken, struct{}{}, &resp)
	after := time.Now()
	if resp.UpToken == "" || resp.ExpiresMs < before.Add(10*time.Minute).UnixMilli() || resp.ExpiresMs > after.Add(10*time.Minute).UnixMilli() {
		t.Errorf("get_upload_token = %+v, want a token expiring in 10 minutes", resp)
	}
	if want := ms.http.URL + "/v1/media"; resp.UploadURL != want {
		t.Errorf("upload_url = %q, want %q", resp.UploadURL, want)
	}
	// The URL it gives takes the upload.
	data := imageBytes(t, "png", 3, 3)
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, resp.UploadURL+"?type=image", bytes.NewReader(data))
	req.Header.Set("X-App-Key", ms.appKey)
	req.SetBasicAuth("alice", resp.UpToken)
	hr, err := ms.http.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	hr.Body.Close()
	if hr.StatusCode != http.StatusOK {
		t.Errorf("upload to upload_url = %d, want 200", hr.StatusCode)
	}

	anon := dial(t, ms.testServer, "anonymous")
	anon.init(ms.testServer, "")
	wantCode(t, anon, wire.OpGetUploadToken, nil, jmsg.TcpUserLogoutState)
	wantCode(t, anon, wire.OpGetResource, wire.ResourceReq{MediaID: "jmsg/image/" + strings.Repeat("A", 32)}, jmsg.TcpUserLogoutState)

	// With a public URL configured, URLs are built on it.
	pub := newMediaServer(t, Config{Media: MediaConfig{PublicURL: "https://media.example.com/"}})
	addUsers(t, pub.testServer, "alice")
	c := logins(t, pub.testServer, "alice")[0]
	c.mustCall(wire.OpGetUploadToken, nil, &resp)
	if resp.UploadURL != "https://media.example.com/v1/media" {
		t.Errorf("upload_url with a public URL = %q, want https://media.example.com/v1/media", resp.UploadURL)
	}
}

// TestMediaNotConfigured checks the answers of a server without a media
// store.
func TestMediaNotConfigured(t *testing.T) {
	ts := newTestServer(t, Config{})
	addUsers(t, ts, "alice")
	alice := logins(t, ts, "alice")[0]
	wantCode(t, alice, wire.OpGetUploadToken, nil, jmsg.TcpServerInternalError)
	wantCode(t, alice, wire.OpGetResource, wire.ResourceReq{MediaID: "jmsg/image/" + strings.Repeat("A", 32)}, jmsg.TcpServerInternalError)
	resp, err := ts.http.Client().Post(ts.http.URL+"/v1/media?type=image", "image/png", strings.NewReader("x"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("upload to a server without media = %d, want 503", resp.StatusCode)
	}
}
