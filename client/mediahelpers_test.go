package client_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"image"
	"image/color"
	"image/png"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/jmsg-im/jmsg/client"
	"github.com/jmsg-im/jmsg/internal/jmsgdtest"
	"github.com/jmsg-im/jmsg/wire"
)

// mediaProxy is a reverse proxy in front of a real jmsgd. Clients connect
// to jmsgd through it, so jmsgd names it in upload and download URLs (the
// host the client used), and a test can put network faults into the media
// traffic while the server stays real.
type mediaProxy struct {
	URL string

	mu    sync.Mutex // guards fault and log
	fault func(r *http.Request) fault
	log   []string // "METHOD path [Upload-Offset]" of each media request
}

// fault is what the proxy does to one request.
type fault struct {
	refuse  bool          // drop the connection without forwarding
	cut     int64         // > 0: forward this many body bytes, then drop both connections
	hold    chan struct{} // with cut: wait for this to close (or the client to go) before dropping
	reached chan struct{} // with cut: closed once the cut bytes have passed
	corrupt bool          // flip a byte of the response body
	cutResp int64         // > 0: pass this many response body bytes, then drop the connection
}

type corruptKey struct{}

type cutRespKey struct{}

func newMediaProxy(t testing.TB, target string) *mediaProxy {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	p := &mediaProxy{}
	rp := httputil.NewSingleHostReverseProxy(u)
	rp.FlushInterval = -1
	rp.ErrorHandler = func(w http.ResponseWriter, r *http.Request, err error) { dropConn(w) }
	rp.ModifyResponse = func(resp *http.Response) error {
		if resp.Request.Context().Value(corruptKey{}) != nil {
			resp.Body = &flipFirst{ReadCloser: resp.Body}
		}
		if n, ok := resp.Request.Context().Value(cutRespKey{}).(int64); ok {
			resp.Body = &cutReader{r: resp.Body, left: n}
		}
		return nil
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var f fault
		if strings.HasPrefix(r.URL.Path, "/v1/media") || strings.HasPrefix(r.URL.Path, "/resource") {
			p.mu.Lock()
			p.log = append(p.log, strings.TrimSpace(r.Method+" "+r.URL.Path+" "+r.Header.Get("Upload-Offset")+r.Header.Get("Range")))
			fn := p.fault
			p.mu.Unlock()
			if fn != nil {
				f = fn(r) // may block: outside the lock
			}
		}
		switch {
		case f.refuse:
			dropConn(w)
			return
		case f.cut > 0:
			r.Body = &cutReader{r: r.Body, left: f.cut, hold: f.hold, reached: f.reached, done: r.Context().Done()}
		case f.corrupt:
			r = r.WithContext(context.WithValue(r.Context(), corruptKey{}, true))
		case f.cutResp > 0:
			r = r.WithContext(context.WithValue(r.Context(), cutRespKey{}, f.cutResp))
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	p.URL = srv.URL
	return p
}

// setFault sets the fault function (nil: pass everything).
func (p *mediaProxy) setFault(fn func(r *http.Request) fault) {
	p.mu.Lock()
	p.fault = fn
	p.mu.Unlock()
}

// count returns how many logged media requests start with prefix.
func (p *mediaProxy) count(prefix string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, l := range p.log {
		if strings.HasPrefix(l, prefix) {
			n++
		}
	}
	return n
}

func (p *mediaProxy) requests() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.log...)
}

// dropConn closes the client's connection without an answer.
func dropConn(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if c, _, err := hj.Hijack(); err == nil {
			c.Close()
			return
		}
	}
	panic(http.ErrAbortHandler)
}

// cutReader passes left bytes, then fails (after hold closes, if set).
type cutReader struct {
	r       io.ReadCloser
	left    int64
	hold    chan struct{}
	reached chan struct{}
	done    <-chan struct{}
}

func (c *cutReader) Read(p []byte) (int, error) {
	if c.left <= 0 {
		if c.reached != nil {
			close(c.reached)
			c.reached = nil
		}
		if c.hold != nil {
			select {
			case <-c.hold:
			case <-c.done:
			}
		}
		return 0, errors.New("connection cut by the test proxy")
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.r.Read(p)
	c.left -= int64(n)
	return n, err
}

func (c *cutReader) Close() error { return c.r.Close() }

// flipFirst flips the first byte of a body.
type flipFirst struct {
	io.ReadCloser
	done bool
}

func (f *flipFirst) Read(p []byte) (int, error) {
	n, err := f.ReadCloser.Read(p)
	if n > 0 && !f.done {
		p[0] ^= 0xff
		f.done = true
	}
	return n, err
}

// newClientVia returns a client of d's app that reaches d at server.
func newClientVia(t testing.TB, d *jmsgdtest.Daemon, server string, cfg client.Config) *client.Client {
	t.Helper()
	cfg.AppKey, cfg.ServerURL = d.AppKey, server
	if cfg.DataDir == "" {
		cfg.DataDir = t.TempDir()
	}
	c, err := client.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// writePNG writes a w×h PNG image and returns its path and bytes.
func writePNG(t testing.TB, dir string, w, h int) (string, []byte) {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.Set(x, y, color.RGBA{uint8(x), uint8(y), uint8(x ^ y), 255})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return writeFile(t, dir, "image.png", buf.Bytes()), buf.Bytes()
}

// writeRandom writes n random bytes and returns the path and bytes.
func writeRandom(t testing.TB, dir, name string, n int) (string, []byte) {
	t.Helper()
	b := make([]byte, n)
	r := rand.NewChaCha8([32]byte{byte(n), byte(n >> 8), byte(n >> 16)})
	r.Read(b)
	return writeFile(t, dir, name, b), b
}

func writeFile(t testing.TB, dir, name string, b []byte) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// waitEvent reads c's events until one of type E satisfies ok, and
// returns it; events before it are dropped.
func waitEvent[E client.Event](t testing.TB, c *client.Client, what string, ok func(E) bool) E {
	t.Helper()
	timeout := time.After(30 * time.Second)
	for {
		select {
		case e, open := <-c.Events():
			if !open {
				t.Fatalf("waiting for %s: events closed", what)
			}
			if x, is := e.(E); is && (ok == nil || ok(x)) {
				return x
			}
		case <-timeout:
			t.Fatalf("waiting for %s: timed out", what)
		}
	}
}

// scriptedServer is a WebSocket endpoint speaking the client protocol
// with answers chosen by answer (data and code; an init gets a valid
// answer). It stands in for jmsgd where a test needs an answer a real
// jmsgd never gives. push sends a frame to the connected client.
func scriptedServer(t testing.TB, answer func(op string, data json.RawMessage) (any, int)) (string, func(wire.Frame)) {
	t.Helper()
	var mu sync.Mutex
	var cur *websocket.Conn
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := websocket.Accept(w, r, &websocket.AcceptOptions{Subprotocols: []string{wire.Subprotocol}})
		if err != nil {
			return
		}
		defer ws.CloseNow()
		mu.Lock()
		cur = ws
		mu.Unlock()
		for {
			_, b, err := ws.Read(context.Background())
			if err != nil {
				return
			}
			var f wire.Frame
			if json.Unmarshal(b, &f) != nil {
				return
			}
			resp := wire.Frame{Op: f.Op, ID: f.ID}
			if f.Op == wire.OpInit {
				resp.Data = json.RawMessage(`{"version":1,"server_time":1,"max_frame":16384}`)
			} else {
				data, code := answer(f.Op, f.Data)
				resp.Code = code
				if data != nil {
					resp.Data, _ = json.Marshal(data)
				}
			}
			out, _ := json.Marshal(resp)
			mu.Lock()
			err = ws.Write(context.Background(), websocket.MessageText, out)
			mu.Unlock()
			if err != nil {
				return
			}
		}
	}))
	t.Cleanup(srv.Close)
	push := func(f wire.Frame) {
		mu.Lock()
		defer mu.Unlock()
		if cur == nil {
			t.Error("push: no connection")
			return
		}
		out, _ := json.Marshal(f)
		cur.Write(context.Background(), websocket.MessageText, out)
	}
	return srv.URL, push
}
