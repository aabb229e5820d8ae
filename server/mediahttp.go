package server

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"mime"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jmsg-im/jmsg"
	"github.com/jmsg-im/jmsg/server/media"
	"github.com/jmsg-im/jmsg/server/store"
)

// The HTTP side of media (docs/MEDIA.md): uploads authenticated with an
// upload token, resumable uploads, and downloads through signed URLs.

// httpError writes JMessage's error envelope.
func httpError(w http.ResponseWriter, status, code int, msg string) {
	if msg == "" {
		msg = jmsg.MessageOf(code)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{"code": code, "message": msg}})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// uploader authenticates an upload request: X-App-Key and Basic
// username:uptoken. It answers 401 (860019) itself and returns false.
func (s *Server) uploader(w http.ResponseWriter, r *http.Request) (appKey string, uid int64, ok bool) {
	if s.cfg.Media.Store == nil {
		httpError(w, http.StatusServiceUnavailable, jmsg.TcpServerInternalError, "media is not configured")
		return "", 0, false
	}
	appKey = r.Header.Get("X-App-Key")
	username, token, hasAuth := r.BasicAuth()
	if appKey == "" || !hasAuth {
		httpError(w, http.StatusUnauthorized, jmsg.SDKNetworkUploadTokenVerifyFailed, "")
		return "", 0, false
	}
	uid, err := s.signer.checkUploadToken(token, appKey, time.Now())
	if err != nil {
		httpError(w, http.StatusUnauthorized, jmsg.SDKNetworkUploadTokenVerifyFailed, "")
		return "", 0, false
	}
	if owner, err := s.users.uid(r.Context(), appKey, username); err != nil || owner != uid {
		httpError(w, http.StatusUnauthorized, jmsg.SDKNetworkUploadTokenVerifyFailed, "")
		return "", 0, false
	}
	return appKey, uid, true
}

// uploadParams reads type and name of an upload request.
func uploadParams(w http.ResponseWriter, r *http.Request) (jmsg.MediaKind, string, bool) {
	kind := jmsg.MediaKind(r.URL.Query().Get("type"))
	if !kind.Valid() {
		httpError(w, http.StatusBadRequest, jmsg.RestParameterInvalid, "type must be image, voice, file or video")
		return "", "", false
	}
	name := r.URL.Query().Get("name")
	if name == "" {
		name = r.Header.Get("X-File-Name")
	}
	return kind, cleanFileName(name), true
}

// cleanFileName keeps the last element of a client's file name, at most
// 255 bytes of valid UTF-8.
func cleanFileName(name string) string {
	name = strings.ToValidUTF8(name, "")
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	name = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, name)
	for len(name) > 255 {
		_, size := lastRune(name)
		name = name[:len(name)-size]
	}
	if name == "." || name == ".." { // what is left of "../" or of a form's "../.."
		return ""
	}
	return name
}

func lastRune(s string) (rune, int) {
	for i := len(s) - 1; i >= 0; i-- {
		if s[i]&0xc0 != 0x80 {
			return rune(s[i]), len(s) - i
		}
	}
	return 0, 1
}

// bodyIdleTimeout bounds how long an upload waits for the next bytes of a
// request body. The HTTP server has no read timeout (bodies of 8 MiB on a
// poor link take long), so without it a client that stops sending would
// hold its request, its staging file and, for a PATCH, its upload for
// ever.
const bodyIdleTimeout = time.Minute

// idleReader reads a request body, failing a read that gets no byte
// within bodyIdleTimeout. Call stop once the body is read.
type idleReader struct {
	r  io.Reader
	rc *http.ResponseController
}

func newIdleReader(w http.ResponseWriter, r io.Reader) idleReader {
	return idleReader{r: r, rc: http.NewResponseController(w)}
}

func (ir idleReader) Read(p []byte) (int, error) {
	ir.rc.SetReadDeadline(time.Now().Add(bodyIdleTimeout)) // an error means not supported: no bound then
	return ir.r.Read(p)
}

// stop clears the deadline. Left set, it would fire on the read the HTTP
// server makes after the body to notice a client going away, and cancel
// the request's context while the upload is still being stored.
func (ir idleReader) stop() { ir.rc.SetReadDeadline(time.Time{}) }

// handleUpload receives a whole file in one request: the first file part
// of a multipart form, or the raw body.
func (s *Server) handleUpload(w http.ResponseWriter, r *http.Request) {
	appKey, uid, ok := s.uploader(w, r)
	if !ok {
		return
	}
	kind, name, ok := uploadParams(w, r)
	if !ok {
		return
	}
	body := io.Reader(r.Body)
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt == "multipart/form-data" {
		mr, err := r.MultipartReader()
		if err != nil {
			httpError(w, http.StatusBadRequest, jmsg.RestParameterInvalid, "bad multipart form")
			return
		}
		for {
			part, err := mr.NextPart()
			if err != nil {
				httpError(w, http.StatusBadRequest, jmsg.SDKMediaUploadEmptyFile, "no file part in the form")
				return
			}
			if part.FileName() != "" {
				if name == "" {
					name = cleanFileName(part.FileName())
				}
				body = part
				break
			}
			part.Close()
		}
	}
	in := newIdleReader(w, body)
	path, n, err := s.stage(in)
	in.stop()
	switch {
	case errors.Is(err, errStaging):
		s.log.Error("staging an upload", "err", err)
		httpError(w, http.StatusInternalServerError, jmsg.SDKNetworkUploadFailed, "")
		return
	case errors.Is(err, ErrMediaTooLarge):
		httpError(w, http.StatusRequestEntityTooLarge, jmsg.HttpFileSizeExceedLimit, "")
		return
	case errors.Is(err, ErrMediaEmpty):
		httpError(w, http.StatusBadRequest, jmsg.SDKMediaUploadEmptyFile, "")
		return
	case err != nil:
		httpError(w, http.StatusBadRequest, jmsg.SDKNetworkUploadFailed, "reading the upload: "+err.Error())
		return
	}
	defer os.Remove(path)
	s.finishUpload(w, r, upload{AppKey: appKey, UID: uid, Kind: kind, Name: name}, path, n)
}

// finishUpload ingests a complete staged file and answers the media
// object.
func (s *Server) finishUpload(w http.ResponseWriter, r *http.Request, u upload, path string, size int64) {
	obj, err := s.ingest(r.Context(), u, path, size)
	if errors.Is(err, errNotImage) {
		httpError(w, http.StatusBadRequest, jmsg.RestParameterInvalid, "type=image needs a JPEG, PNG, GIF, BMP or WebP image")
		return
	}
	if err != nil {
		s.log.Error("storing an upload", "err", err)
		httpError(w, http.StatusInternalServerError, jmsg.SDKNetworkUploadFailed, "")
		return
	}
	s.metrics.mediaUploads.Add(1)
	writeJSON(w, http.StatusOK, obj)
}

// stagingFile creates a new file in the staging directory.
func (s *Server) stagingFile() (string, *os.File, error) {
	if err := os.MkdirAll(s.cfg.Media.StagingDir, 0o700); err != nil {
		return "", nil, err
	}
	f, err := os.CreateTemp(s.cfg.Media.StagingDir, "upload-*.part")
	if err != nil {
		return "", nil, err
	}
	return f.Name(), f, nil
}

// uploadIDPattern is the shape of a resumable upload's id.
var uploadIDPattern = regexp.MustCompile(`^[0-9a-f]{32}$`)

func (s *Server) uploadPaths(id string) (data, meta string) {
	base := filepath.Join(s.cfg.Media.StagingDir, "r-"+id)
	return base + ".part", base + ".json"
}

// handleCreateUpload starts a resumable upload of size bytes.
func (s *Server) handleCreateUpload(w http.ResponseWriter, r *http.Request) {
	appKey, uid, ok := s.uploader(w, r)
	if !ok {
		return
	}
	kind, name, ok := uploadParams(w, r)
	if !ok {
		return
	}
	size, err := strconv.ParseInt(r.URL.Query().Get("size"), 10, 64)
	switch {
	case err != nil || size < 0:
		httpError(w, http.StatusBadRequest, jmsg.RestParameterInvalid, "size must be the file's length in bytes")
		return
	case size == 0:
		httpError(w, http.StatusBadRequest, jmsg.SDKMediaUploadEmptyFile, "")
		return
	case size > s.cfg.Media.MaxUploadBytes:
		httpError(w, http.StatusRequestEntityTooLarge, jmsg.HttpFileSizeExceedLimit, "")
		return
	}
	b := make([]byte, 16)
	rand.Read(b)
	id := hex.EncodeToString(b)
	u := upload{AppKey: appKey, UID: uid, Kind: kind, Name: name, Size: size,
		ExpiresMs: time.Now().Add(s.cfg.Media.UploadTokenTTL).UnixMilli()}
	data, meta := s.uploadPaths(id)
	if err := os.MkdirAll(s.cfg.Media.StagingDir, 0o700); err == nil {
		err = os.WriteFile(data, nil, 0o600)
	}
	mb, _ := json.Marshal(u)
	if err == nil {
		err = os.WriteFile(meta, mb, 0o600)
	}
	if err != nil {
		s.log.Error("starting an upload", "err", err)
		httpError(w, http.StatusInternalServerError, jmsg.SDKNetworkUploadFailed, "")
		return
	}
	w.Header().Set("Location", "/v1/media/uploads/"+id)
	writeJSON(w, http.StatusCreated, map[string]any{"upload_id": id, "offset": 0})
}

// resumable finds the caller's resumable upload named in the path; it
// answers 404 itself for an unknown id or one of another user.
func (s *Server) resumable(w http.ResponseWriter, r *http.Request) (id string, u upload, ok bool) {
	appKey, uid, ok := s.uploader(w, r)
	if !ok {
		return "", u, false
	}
	id = r.PathValue("id")
	if !uploadIDPattern.MatchString(id) {
		httpError(w, http.StatusNotFound, jmsg.RestParameterInvalid, "no such upload")
		return "", u, false
	}
	_, meta := s.uploadPaths(id)
	mb, err := os.ReadFile(meta)
	if err == nil {
		err = json.Unmarshal(mb, &u)
	}
	if err != nil || u.AppKey != appKey || u.UID != uid || time.Now().UnixMilli() >= u.ExpiresMs {
		httpError(w, http.StatusNotFound, jmsg.RestParameterInvalid, "no such upload")
		return "", u, false
	}
	return id, u, true
}

// handleUploadOffset tells how many bytes of a resumable upload the
// server holds.
func (s *Server) handleUploadOffset(w http.ResponseWriter, r *http.Request) {
	id, u, ok := s.resumable(w, r)
	if !ok {
		return
	}
	data, _ := s.uploadPaths(id)
	fi, err := os.Stat(data)
	if err != nil {
		httpError(w, http.StatusNotFound, jmsg.RestParameterInvalid, "no such upload")
		return
	}
	w.Header().Set("Upload-Offset", strconv.FormatInt(fi.Size(), 10))
	w.Header().Set("Upload-Length", strconv.FormatInt(u.Size, 10))
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusNoContent)
}

// patching holds the data files of the resumable uploads a PATCH is
// writing to (path → struct{}). Two requests appending to one file at
// once would interleave their bytes: a client that gave up on a slow
// PATCH and sent the rest again while the first was still being read
// got a corrupt file. The lock is of a file, which is process-wide
// state, hence a package variable; the paths of different staging
// directories never collide.
var patching sync.Map

// handleUploadPatch appends bytes to a resumable upload at the offset the
// server holds; once all bytes are there it answers the media object.
// Bytes of a request cut short are kept. While one PATCH of an upload
// runs, another gets 409 with the offset so far.
func (s *Server) handleUploadPatch(w http.ResponseWriter, r *http.Request) {
	id, u, ok := s.resumable(w, r)
	if !ok {
		return
	}
	data, meta := s.uploadPaths(id)
	if _, busy := patching.LoadOrStore(data, struct{}{}); busy {
		if fi, err := os.Stat(data); err == nil {
			w.Header().Set("Upload-Offset", strconv.FormatInt(fi.Size(), 10))
		}
		httpError(w, http.StatusConflict, jmsg.RestParameterInvalid, "another request is sending bytes of this upload")
		return
	}
	defer patching.Delete(data) // after the removals deferred below
	f, err := os.OpenFile(data, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		httpError(w, http.StatusNotFound, jmsg.RestParameterInvalid, "no such upload")
		return
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		httpError(w, http.StatusInternalServerError, jmsg.SDKNetworkUploadFailed, "")
		return
	}
	have := fi.Size()
	offset, err := strconv.ParseInt(r.Header.Get("Upload-Offset"), 10, 64)
	if err != nil || offset != have {
		f.Close()
		w.Header().Set("Upload-Offset", strconv.FormatInt(have, 10))
		httpError(w, http.StatusConflict, jmsg.RestParameterInvalid, fmt.Sprintf("the server holds %d bytes", have))
		return
	}
	in := newIdleReader(w, r.Body)
	n, err := io.Copy(f, io.LimitReader(in, u.Size-have+1))
	in.stop()
	if serr := f.Sync(); err == nil {
		err = serr
	}
	f.Close()
	have += n
	if have > u.Size { // more than announced: the upload is void
		os.Remove(data)
		os.Remove(meta)
		httpError(w, http.StatusRequestEntityTooLarge, jmsg.HttpFileSizeExceedLimit, "more bytes than the announced size")
		return
	}
	w.Header().Set("Upload-Offset", strconv.FormatInt(have, 10))
	if err != nil {
		httpError(w, http.StatusBadRequest, jmsg.SDKNetworkUploadFailed, "reading the upload: "+err.Error())
		return
	}
	if have < u.Size {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	defer os.Remove(data)
	defer os.Remove(meta)
	s.finishUpload(w, r, u, data, have)
}

// sweepUploads removes resumable uploads past their lifetime and single
// uploads left behind by a crash.
func (s *Server) sweepUploads(now time.Time) {
	dir := s.cfg.Media.StagingDir
	if dir == "" {
		return
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		path := filepath.Join(dir, e.Name())
		switch {
		case strings.HasPrefix(e.Name(), "r-") && strings.HasSuffix(e.Name(), ".json"):
			var u upload
			mb, err := os.ReadFile(path)
			if err == nil && json.Unmarshal(mb, &u) == nil && now.UnixMilli() < u.ExpiresMs {
				continue
			}
			os.Remove(strings.TrimSuffix(path, ".json") + ".part")
			os.Remove(path)
		case strings.HasPrefix(e.Name(), "r-") && strings.HasSuffix(e.Name(), ".part"):
			// Its .json is handled above; without one (a crash between
			// the two writes of handleCreateUpload, or between the two
			// removals) the bytes belong to no upload.
			meta := strings.TrimSuffix(path, ".part") + ".json"
			if _, err := os.Stat(meta); errors.Is(err, fs.ErrNotExist) {
				if fi, err := e.Info(); err == nil && now.Sub(fi.ModTime()) > time.Hour {
					os.Remove(path)
				}
			}
		case strings.HasPrefix(e.Name(), "upload-"):
			if fi, err := e.Info(); err == nil && now.Sub(fi.ModTime()) > time.Hour {
				os.Remove(path)
			}
		}
	}
}

// servedTypes are the sniffed content types downloads are served with;
// anything else goes out as application/octet-stream. An upload of type
// file may be HTML or XML (SVG) with scripts: served as such from jmsgd's
// origin, a browser opening the URL would run them there.
var servedTypes = map[string]bool{
	"image/jpeg": true, "image/png": true, "image/gif": true, "image/bmp": true, "image/webp": true,
	"application/ogg": true,
}

// servedType returns the Content-Type a download of sniffed type ct is
// served with.
func servedType(ct string) string {
	if servedTypes[ct] || strings.HasPrefix(ct, "audio/") || strings.HasPrefix(ct, "video/") {
		return ct
	}
	return "application/octet-stream"
}

// handleDownload serves the bytes a signed URL names, with Range support.
func (s *Server) handleDownload(w http.ResponseWriter, r *http.Request) {
	if s.cfg.Media.Store == nil {
		httpError(w, http.StatusServiceUnavailable, jmsg.TcpServerInternalError, "media is not configured")
		return
	}
	appKey, mediaID, variant, err := s.signer.checkDownload(r.URL.Query(), time.Now())
	if errors.Is(err, errExpired) {
		httpError(w, http.StatusForbidden, jmsg.ServerRequestUserNoPermission, "the URL has expired")
		return
	}
	if err != nil {
		httpError(w, http.StatusForbidden, jmsg.ServerRequestUserNoPermission, "bad signature")
		return
	}
	rec, err := s.store.Media(r.Context(), appKey, mediaID)
	if errors.Is(err, store.ErrNotFound) {
		httpError(w, http.StatusNotFound, jmsg.RestParameterInvalid, "no such media")
		return
	} else if err != nil {
		s.log.Error("reading media", "err", err)
		httpError(w, http.StatusInternalServerError, jmsg.TcpServerInternalError, "")
		return
	}
	key, crc, ctype, size := rec.BlobKey, rec.CRC32, servedType(rec.ContentType), rec.FSize
	if variant == "t" && rec.ThumbKey != "" {
		key, crc, size = rec.ThumbKey, rec.ThumbCRC32, rec.ThumbSize
		ctype = "image/png"
		if rec.Format == "jpg" {
			ctype = "image/jpeg"
		}
	}
	start, end, ranged := int64(0), size-1, false
	if h := r.Header.Get("Range"); h != "" {
		var satisfiable bool
		start, end, ranged, satisfiable = parseRange(h, size)
		if !satisfiable {
			w.Header().Set("Content-Range", "bytes */"+strconv.FormatInt(size, 10))
			httpError(w, http.StatusRequestedRangeNotSatisfiable, jmsg.RestParameterInvalid, "range beyond the end")
			return
		}
	}
	body, stored, err := s.cfg.Media.Store.Open(r.Context(), key, start)
	if err == nil && stored != size {
		body.Close()
		err = fmt.Errorf("media %s: %d bytes stored, %d recorded", key, stored, size)
	}
	if errors.Is(err, media.ErrNotFound) {
		httpError(w, http.StatusNotFound, jmsg.RestParameterInvalid, "no such media")
		return
	}
	if err != nil {
		s.log.Error("opening media", "err", err)
		httpError(w, http.StatusInternalServerError, jmsg.TcpServerInternalError, "")
		return
	}
	defer body.Close()
	h := w.Header()
	h.Set("Content-Type", ctype)
	h.Set("ETag", `"`+strconv.FormatUint(uint64(crc), 10)+`"`)
	h.Set("Accept-Ranges", "bytes")
	h.Set("Cache-Control", "private, max-age=3600")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "sandbox; default-src 'none'")
	length := end - start + 1
	h.Set("Content-Length", strconv.FormatInt(length, 10))
	status := http.StatusOK
	if ranged {
		h.Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", start, end, size))
		status = http.StatusPartialContent
	}
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		io.Copy(w, io.LimitReader(body, length))
	}
}

// parseRange reads a Range header for a file of size bytes. It serves one
// range, "bytes=first-[last]" or the suffix "bytes=-n"; anything else (other
// units, several ranges, a malformed one) is ignored as RFC 9110 allows:
// ranged false, the whole file. A range starting at or beyond the end is
// not satisfiable (416).
func parseRange(h string, size int64) (start, end int64, ranged, satisfiable bool) {
	whole := func() (int64, int64, bool, bool) { return 0, size - 1, false, true }
	spec, found := strings.CutPrefix(h, "bytes=")
	if !found || strings.Contains(spec, ",") {
		return whole()
	}
	a, b, found := strings.Cut(strings.TrimSpace(spec), "-")
	if !found {
		return whole()
	}
	if a == "" { // the last n bytes
		n, err := strconv.ParseInt(b, 10, 64)
		switch {
		case err != nil || n < 0:
			return whole()
		case n == 0:
			return 0, 0, true, false
		}
		return max(0, size-n), size - 1, true, true
	}
	start, err := strconv.ParseInt(a, 10, 64)
	if err != nil || start < 0 {
		return whole()
	}
	end = size - 1
	if b != "" {
		last, err := strconv.ParseInt(b, 10, 64)
		if err != nil || last < start {
			return whole()
		}
		end = min(last, size-1)
	}
	if start >= size {
		return 0, 0, true, false
	}
	return start, end, true, true
}
