package client

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/jmsg-im/jmsg"
)

// mediaHTTP moves media bytes over HTTP (docs/MEDIA.md): one-request and
// resumable uploads, and downloads from signed URLs with resumption. It
// holds no state besides its configuration and is safe for concurrent
// use.
type mediaHTTP struct {
	hc *http.Client
	// idle fails a transfer that moves no byte (nor gets an answer) for
	// this long.
	idle time.Duration
	// attempts is how many times a transfer is tried when the network or
	// the server (5xx) fails; backoff doubles from retryBase between them.
	attempts  int
	retryBase time.Duration
}

// uploadAuth is what an upload needs from get_upload_token.
type uploadAuth struct {
	URL      string // the upload endpoint, e.g. http://host:port/v1/media
	AppKey   string
	Username string
	Token    string
}

func (a uploadAuth) set(req *http.Request) {
	req.Header.Set("X-App-Key", a.AppKey)
	req.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(a.Username+":"+a.Token)))
}

// uploadReq describes one file to upload.
type uploadReq struct {
	Kind     jmsg.MediaKind
	Name     string // file name given to the server, may be ""
	Path     string
	Size     int64
	Progress func(sent int64) // bytes of this file sent so far; may be nil
}

// resumeState is a resumable upload's id, kept across attempts and, by
// the caller's save, across process restarts.
type resumeState struct {
	ID   string
	URL  string                        // the endpoint ID belongs to
	Save func(id string) error         // records a new id ("" forgets it)
	Log  func(msg string, args ...any) // may be nil
}

// transient marks a failure worth retrying: the network, or a 5xx.
type transient struct{ err error }

func (t transient) Error() string { return t.err.Error() }
func (t transient) Unwrap() error { return t.err }

// errorBody is the JSON error answer of the media endpoints.
type errorBody struct {
	Error struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// uploadError turns a failed upload answer into the SDK's error: 898061
// (too large), 860019 (token rejected), 864005 (empty), a transient
// failure for 5xx, else 860018 carrying the server's error.
func uploadError(resp *http.Response) error {
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	var eb errorBody
	json.Unmarshal(b, &eb)
	code := eb.Error.Code
	var server error = fmt.Errorf("HTTP %s", resp.Status)
	if code != 0 {
		server = &jmsg.Error{Code: code, Message: eb.Error.Message}
	}
	switch {
	case resp.StatusCode == http.StatusRequestEntityTooLarge || code == jmsg.HttpFileSizeExceedLimit:
		return jmsg.Wrap(jmsg.HttpFileSizeExceedLimit, server)
	case resp.StatusCode == http.StatusUnauthorized || code == jmsg.SDKNetworkUploadTokenVerifyFailed:
		return jmsg.Wrap(jmsg.SDKNetworkUploadTokenVerifyFailed, server)
	case code == jmsg.SDKMediaUploadEmptyFile:
		return jmsg.Wrap(jmsg.SDKMediaUploadEmptyFile, server)
	case resp.StatusCode >= 500:
		return transient{jmsg.Wrap(jmsg.SDKNetworkUploadFailed, server)}
	}
	return jmsg.Wrap(jmsg.SDKNetworkUploadFailed, server)
}

// decodeObject reads a media object answer.
func decodeObject(resp *http.Response) (jmsg.MediaObject, error) {
	var o jmsg.MediaObject
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<16)).Decode(&o); err != nil || o.MediaID == "" {
		return o, jmsg.Errorf(jmsg.SDKNetworkUploadFailed, "unreadable media object (%v)", err)
	}
	return o, nil
}

// backoff waits before attempt i (1-based) of a retry, or returns ctx's
// error.
func (h *mediaHTTP) backoff(ctx context.Context, i int) error {
	d := h.retryBase << min(i-1, 6)
	d = d/2 + rand.N(d/2+1)
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// do sends req under an idle watchdog: the returned body's reads (and the
// request body's, through wrapBody) keep it alive. The caller closes the
// response body, which stops the watchdog.
func (h *mediaHTTP) do(ctx context.Context, method, u string, body io.Reader, size int64, setup func(*http.Request)) (*http.Response, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	var timer *time.Timer
	timer = time.AfterFunc(h.idle, func() { cancel(errIdle) })
	kick := func() { timer.Reset(h.idle) }
	stop := func() { timer.Stop(); cancel(nil) }
	if body != nil {
		body = &activityReader{r: body, kick: kick}
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		stop()
		return nil, err
	}
	if body != nil {
		req.ContentLength = size
		if size == 0 {
			req.Body = http.NoBody
		}
	}
	if setup != nil {
		setup(req)
	}
	resp, err := h.hc.Do(req)
	if err != nil {
		stop()
		if cause := context.Cause(ctx); errors.Is(cause, errIdle) {
			err = errIdle
		}
		return nil, err
	}
	kick()
	resp.Body = &watchedBody{ReadCloser: resp.Body, kick: kick, stop: stop}
	return resp, nil
}

var errIdle = errors.New("no progress within the request timeout")

type activityReader struct {
	r    io.Reader
	kick func()
}

func (a *activityReader) Read(p []byte) (int, error) {
	n, err := a.r.Read(p)
	if n > 0 {
		a.kick()
	}
	return n, err
}

type watchedBody struct {
	io.ReadCloser
	kick, stop func()
}

func (w *watchedBody) Read(p []byte) (int, error) {
	n, err := w.ReadCloser.Read(p)
	if n > 0 {
		w.kick()
	}
	return n, err
}

func (w *watchedBody) Close() error {
	err := w.ReadCloser.Close()
	w.stop()
	return err
}

// countingReader reports the bytes read through it.
type countingReader struct {
	r    io.Reader
	n    int64
	base int64
	fn   func(int64)
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if n > 0 {
		c.n += int64(n)
		if c.fn != nil {
			c.fn(c.base + c.n)
		}
	}
	return n, err
}

func kindQuery(kind jmsg.MediaKind, name string, size int64) string {
	q := url.Values{"type": {string(kind)}}
	if name != "" {
		q.Set("name", name)
	}
	if size > 0 {
		q.Set("size", strconv.FormatInt(size, 10))
	}
	return q.Encode()
}

// retry runs op up to h.attempts times while it fails transiently.
func (h *mediaHTTP) retry(ctx context.Context, op func() error) error {
	var err error
	for i := 1; ; i++ {
		if err = op(); err == nil {
			return nil
		}
		var t transient
		if !errors.As(err, &t) || i >= h.attempts || ctx.Err() != nil {
			break
		}
		if h.backoff(ctx, i) != nil {
			break
		}
	}
	var t transient
	if errors.As(err, &t) {
		err = t.err
	}
	return err
}

// netErr marks a failed exchange as transient, keeping a context's own
// end as it is.
func netErr(ctx context.Context, code int, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return transient{jmsg.Wrap(code, err)}
}

// upload sends a file in one request (POST <url>?type=…) and returns the
// media object. Network failures and 5xx answers are retried.
func (h *mediaHTTP) upload(ctx context.Context, a uploadAuth, r uploadReq) (jmsg.MediaObject, error) {
	var obj jmsg.MediaObject
	err := h.retry(ctx, func() error {
		f, err := os.Open(r.Path)
		if err != nil {
			return jmsg.Wrap(jmsg.SDKMediaResourceMissing, err)
		}
		defer f.Close()
		body := &countingReader{r: io.LimitReader(f, r.Size), fn: r.Progress}
		resp, err := h.do(ctx, http.MethodPost, a.URL+"?"+kindQuery(r.Kind, r.Name, 0), body, r.Size, func(req *http.Request) {
			a.set(req)
			req.Header.Set("Content-Type", "application/octet-stream")
		})
		if err != nil {
			return netErr(ctx, jmsg.SDKNetworkUploadFailed, err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return uploadError(resp)
		}
		obj, err = decodeObject(resp)
		return err
	})
	return obj, err
}

// resumable uploads a file with the resumable protocol: it creates an
// upload (or continues st.ID), sends the bytes the server lacks, and after
// a failure asks the server for its offset (HEAD) and continues from
// there. It gives up after h.attempts failures in a row that moved no
// byte.
func (h *mediaHTTP) resumable(ctx context.Context, a uploadAuth, r uploadReq, st *resumeState) (jmsg.MediaObject, error) {
	base := a.URL + "/uploads"
	if st.ID != "" && st.URL != a.URL {
		st.ID = "" // an id of another endpoint means nothing here
	}
	failures := 0
	offset, known := int64(0), false
	fail := func(err error) error {
		var t transient
		if !errors.As(err, &t) {
			return err
		}
		failures++
		if failures >= h.attempts {
			return t.err
		}
		if st.Log != nil {
			st.Log("media upload interrupted; resuming", "err", err, "attempt", failures)
		}
		known = false
		return h.backoff(ctx, failures)
	}
	for {
		if ctx.Err() != nil {
			return jmsg.MediaObject{}, ctx.Err()
		}
		if st.ID == "" {
			id, off, err := h.create(ctx, a, base, r)
			if err != nil {
				if err := fail(err); err != nil {
					return jmsg.MediaObject{}, err
				}
				continue
			}
			st.ID, st.URL, offset, known = id, a.URL, off, true
			if st.Save != nil {
				if err := st.Save(id); err != nil {
					return jmsg.MediaObject{}, jmsg.Wrap(jmsg.SDKUnknownError, err)
				}
			}
		}
		if !known {
			off, err := h.head(ctx, a, base+"/"+url.PathEscape(st.ID))
			if errors.Is(err, errUploadGone) {
				h.forget(st)
				continue
			}
			if err != nil {
				if err := fail(err); err != nil {
					return jmsg.MediaObject{}, err
				}
				continue
			}
			if off > offset {
				failures = 0 // the server has more than before: progress
			}
			offset, known = off, true
		}
		if r.Progress != nil {
			r.Progress(offset)
		}
		obj, off, err := h.patch(ctx, a, base+"/"+url.PathEscape(st.ID), r, offset)
		switch {
		case err == nil && obj != nil:
			h.forget(st)
			return *obj, nil
		case errors.Is(err, errUploadGone):
			h.forget(st)
			continue
		case err == nil || errors.Is(err, errOffsetMismatch):
			if off > offset {
				failures = 0
				offset = off
				continue
			}
			// No progress: a 204 that took no byte, or a 409 (the server
			// holds another offset, or an earlier request of this upload
			// is still running there). Back off and count it, or a server
			// that takes no bytes would be asked forever.
			offset = off
			if err := fail(transient{jmsg.Errorf(jmsg.SDKNetworkUploadFailed, "no progress at offset %d (%v)", off, err)}); err != nil {
				return jmsg.MediaObject{}, err
			}
			continue
		}
		if err := fail(err); err != nil {
			return jmsg.MediaObject{}, err
		}
	}
}

func (h *mediaHTTP) forget(st *resumeState) {
	st.ID = ""
	if st.Save != nil {
		st.Save("")
	}
}

var (
	errUploadGone     = errors.New("the server no longer knows the upload")
	errOffsetMismatch = errors.New("the server holds another offset")
)

// create starts a resumable upload.
func (h *mediaHTTP) create(ctx context.Context, a uploadAuth, base string, r uploadReq) (string, int64, error) {
	resp, err := h.do(ctx, http.MethodPost, base+"?"+kindQuery(r.Kind, r.Name, r.Size), nil, 0, a.set)
	if err != nil {
		return "", 0, netErr(ctx, jmsg.SDKNetworkUploadFailed, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusCreated && resp.StatusCode != http.StatusOK {
		return "", 0, uploadError(resp)
	}
	var out struct {
		UploadID string `json:"upload_id"`
		Offset   int64  `json:"offset"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<16)).Decode(&out); err != nil || out.UploadID == "" {
		return "", 0, jmsg.Errorf(jmsg.SDKNetworkUploadFailed, "unreadable upload creation answer (%v)", err)
	}
	return out.UploadID, out.Offset, nil
}

// head asks the server how many bytes of the upload it holds.
func (h *mediaHTTP) head(ctx context.Context, a uploadAuth, u string) (int64, error) {
	resp, err := h.do(ctx, http.MethodHead, u, nil, 0, a.set)
	if err != nil {
		return 0, netErr(ctx, jmsg.SDKNetworkUploadFailed, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusNotFound {
		return 0, errUploadGone
	}
	if resp.StatusCode/100 != 2 {
		return 0, uploadError(resp)
	}
	return uploadOffset(resp)
}

func uploadOffset(resp *http.Response) (int64, error) {
	off, err := strconv.ParseInt(resp.Header.Get("Upload-Offset"), 10, 64)
	if err != nil || off < 0 {
		return 0, jmsg.Errorf(jmsg.SDKNetworkUploadFailed, "bad Upload-Offset %q", resp.Header.Get("Upload-Offset"))
	}
	return off, nil
}

// patch sends the bytes from offset on. It returns the media object when
// the upload is complete, else the server's new offset.
func (h *mediaHTTP) patch(ctx context.Context, a uploadAuth, u string, r uploadReq, offset int64) (*jmsg.MediaObject, int64, error) {
	if offset > r.Size {
		return nil, 0, errUploadGone // the server holds more than the file: start over
	}
	f, err := os.Open(r.Path)
	if err != nil {
		return nil, 0, jmsg.Wrap(jmsg.SDKMediaResourceMissing, err)
	}
	defer f.Close()
	if _, err := f.Seek(offset, io.SeekStart); err != nil {
		return nil, 0, jmsg.Wrap(jmsg.SDKMediaResourceMissing, err)
	}
	n := r.Size - offset
	body := &countingReader{r: io.LimitReader(f, n), base: offset, fn: r.Progress}
	resp, err := h.do(ctx, http.MethodPatch, u, body, n, func(req *http.Request) {
		a.set(req)
		req.Header.Set("Upload-Offset", strconv.FormatInt(offset, 10))
		req.Header.Set("Content-Type", "application/offset+octet-stream")
	})
	if err != nil {
		return nil, 0, netErr(ctx, jmsg.SDKNetworkUploadFailed, err)
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusOK:
		obj, err := decodeObject(resp)
		if err != nil {
			return nil, 0, err
		}
		return &obj, r.Size, nil
	case http.StatusNoContent:
		off, err := uploadOffset(resp)
		return nil, off, err
	case http.StatusConflict:
		off, err := uploadOffset(resp)
		if err != nil {
			return nil, 0, err
		}
		return nil, off, errOffsetMismatch
	case http.StatusNotFound:
		return nil, 0, errUploadGone
	}
	err = uploadError(resp)
	if resp.StatusCode == http.StatusBadRequest && jmsg.CodeOf(err) == jmsg.SDKNetworkUploadFailed {
		// The server could not read the whole body (a request cut short):
		// it keeps what arrived; ask for its offset and go on.
		err = transient{err}
	}
	return nil, 0, err
}

// want is what downloaded bytes must be.
type want struct {
	Size int64
	CRC  uint32
}

// download fetches u into part (resuming a partial part with a Range
// request) and checks the bytes against w. It returns the response's
// Content-Type. Errors: 864004 (the bytes are not w; part is removed),
// 860015 (network or HTTP failure, retried first; part is kept for a later
// resumption), ctx's error.
func (h *mediaHTTP) download(ctx context.Context, u, part string, w want, progress func(got, total int64)) (string, error) {
	var ctype string
	err := h.retry(ctx, func() error {
		var err error
		ctype, err = h.downloadOnce(ctx, u, part, w, progress)
		return err
	})
	return ctype, err
}

func (h *mediaHTTP) downloadOnce(ctx context.Context, u, part string, w want, progress func(got, total int64)) (string, error) {
	f, err := os.OpenFile(part, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return "", jmsg.Wrap(jmsg.SDKUnknownError, err)
	}
	defer func() {
		// Keep what arrived for a resumption, but not an empty file.
		if fi, err := f.Stat(); err == nil && fi.Size() == 0 {
			os.Remove(part)
		}
		f.Close()
	}()
	crc := crc32.NewIEEE()
	have, err := io.Copy(crc, f)
	if err != nil {
		return "", jmsg.Wrap(jmsg.SDKUnknownError, err)
	}
	if have > w.Size {
		have = 0
	}
	if have == w.Size {
		if crc.Sum32() == w.CRC {
			return "", nil // complete already: an earlier attempt ended after the last byte
		}
		have = 0
	}
	if have == 0 {
		crc = crc32.NewIEEE()
	}
	resp, err := h.do(ctx, http.MethodGet, u, nil, 0, func(req *http.Request) {
		if have > 0 {
			req.Header.Set("Range", "bytes="+strconv.FormatInt(have, 10)+"-")
		}
	})
	if err != nil {
		return "", netErr(ctx, jmsg.SDKNetworkDownloadFailed, err)
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusPartialContent && have > 0 && strings.HasPrefix(resp.Header.Get("Content-Range"), "bytes "+strconv.FormatInt(have, 10)+"-"):
	case resp.StatusCode == http.StatusOK:
		have = 0
		crc = crc32.NewIEEE()
	case resp.StatusCode == http.StatusRequestedRangeNotSatisfiable:
		f.Truncate(0)
		return "", transient{jmsg.Errorf(jmsg.SDKNetworkDownloadFailed, "range not satisfiable")}
	case resp.StatusCode >= 500:
		return "", transient{jmsg.Errorf(jmsg.SDKNetworkDownloadFailed, "HTTP %s", resp.Status)}
	default:
		return "", jmsg.Errorf(jmsg.SDKNetworkDownloadFailed, "HTTP %s", resp.Status)
	}
	if err := f.Truncate(have); err != nil {
		return "", jmsg.Wrap(jmsg.SDKUnknownError, err)
	}
	if _, err := f.Seek(have, io.SeekStart); err != nil {
		return "", jmsg.Wrap(jmsg.SDKUnknownError, err)
	}
	if progress != nil {
		progress(have, w.Size)
	}
	// One byte more than wanted is enough to know the size is wrong.
	body := &countingReader{r: io.LimitReader(resp.Body, w.Size-have+1), base: have}
	if progress != nil {
		body.fn = func(got int64) { progress(min(got, w.Size), w.Size) }
	}
	n, err := io.Copy(io.MultiWriter(f, crc), body)
	if err != nil {
		return "", netErr(ctx, jmsg.SDKNetworkDownloadFailed, err)
	}
	got := have + n
	if got != w.Size || crc.Sum32() != w.CRC {
		f.Truncate(0) // removed on return
		return "", jmsg.Errorf(jmsg.SDKMediaCrcVerifyFailed, "got %d bytes with CRC-32 %08x, want %d bytes with %08x",
			got, crc.Sum32(), w.Size, w.CRC)
	}
	if err := f.Sync(); err != nil {
		return "", jmsg.Wrap(jmsg.SDKUnknownError, err)
	}
	return resp.Header.Get("Content-Type"), nil
}
