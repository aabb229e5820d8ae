package server

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/jmsg-im/jmsg"
	"github.com/jmsg-im/jmsg/server/store"
	"github.com/jmsg-im/jmsg/server/store/sqlite"
	"github.com/jmsg-im/jmsg/wire"
)

// waitTimeout bounds every wait of these tests.
const waitTimeout = 30 * time.Second

// testServer is a running engine on a SQLite file, reachable over HTTP.
type testServer struct {
	srv    *Server
	st     store.Store
	http   *httptest.Server
	url    string // WebSocket endpoint
	appKey string
}

// newTestServer starts the engine with cfg (BcryptCost 4 unless set) and
// creates one app. Everything is stopped when the test ends.
func newTestServer(t testing.TB, cfg Config) *testServer {
	t.Helper()
	if cfg.BcryptCost == 0 {
		cfg.BcryptCost = 4
	}
	// Tests send fast; the rate limits are off unless a test sets them.
	if cfg.SendPerMinute == 0 {
		cfg.SendPerMinute = -1
	}
	if cfg.RequestsPerSecond == 0 {
		cfg.RequestsPerSecond = -1
	}
	st, err := sqlite.Open(t.Context(), t.TempDir()+"/jmsg.db")
	if err != nil {
		t.Fatalf("opening store: %v", err)
	}
	ts := &testServer{st: st, appKey: randomKey(t)}
	if err := st.CreateApp(t.Context(), store.App{AppKey: ts.appKey, MasterSecret: randomKey(t), Name: "test", CTimeMs: time.Now().UnixMilli()}); err != nil {
		t.Fatalf("CreateApp() = %v", err)
	}
	srv, err := New(cfg, st)
	if err != nil {
		t.Fatalf("New() = %v", err)
	}
	ts.srv = srv
	ts.http = httptest.NewServer(ts.srv.Handler())
	ts.url = "ws" + strings.TrimPrefix(ts.http.URL, "http") + "/v1/ws"
	t.Cleanup(func() {
		done := make(chan struct{})
		go func() {
			ts.srv.Close()
			close(done)
		}()
		select {
		case <-done:
		case <-time.After(waitTimeout):
			t.Errorf("Server.Close() did not return within %v", waitTimeout)
		}
		if n := ts.srv.metrics.connections.Load(); n != 0 {
			t.Errorf("%d connections still counted after Close", n)
		}
		ts.http.Close()
		if err := st.Close(); err != nil {
			t.Errorf("closing store: %v", err)
		}
	})
	return ts
}

// randomKey returns a 24-character alphanumeric key.
func randomKey(t testing.TB) string {
	t.Helper()
	const alnum = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	b := make([]byte, jmsg.AppKeyLen)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	for i := range b {
		b[i] = alnum[int(b[i])%len(alnum)]
	}
	return string(b)
}

// rawClient speaks the protocol frame by frame. A background goroutine
// reads every frame into an unbounded queue, so the server never sees it as
// slow. Its methods must be called from the test goroutine.
type rawClient struct {
	t      testing.TB
	name   string
	ws     *websocket.Conn
	lastID uint64
	stash  []wire.Frame // frames read while looking for something else

	mu      sync.Mutex    // guards the three fields below
	queue   [][]byte      // frames read and not yet taken
	readErr error         // why reading stopped
	notify  chan struct{} // signalled when queue or readErr changes
	done    chan struct{} // closed when the reader returns
}

// dialWS opens a WebSocket to ts; no reader runs on it.
func dialWS(t testing.TB, ts *testServer, opts *websocket.DialOptions) *websocket.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), waitTimeout)
	defer cancel()
	if opts == nil {
		opts = &websocket.DialOptions{}
	}
	opts.Subprotocols = []string{wire.Subprotocol}
	ws, _, err := websocket.Dial(ctx, ts.url, opts)
	if err != nil {
		t.Fatalf("dialing %s: %v", ts.url, err)
	}
	ws.SetReadLimit(1 << 20)
	t.Cleanup(func() { ws.CloseNow() })
	return ws
}

// dial connects a rawClient to ts.
func dial(t testing.TB, ts *testServer, name string) *rawClient {
	t.Helper()
	c := &rawClient{t: t, name: name, ws: dialWS(t, ts, nil), notify: make(chan struct{}, 1), done: make(chan struct{})}
	go c.readLoop()
	t.Cleanup(func() {
		c.ws.CloseNow()
		<-c.done
	})
	return c
}

func (c *rawClient) readLoop() {
	defer close(c.done)
	for {
		typ, b, err := c.ws.Read(context.Background())
		if err == nil && typ != websocket.MessageText {
			err = errors.New("server sent a binary frame")
		}
		var frames [][]byte
		if err == nil {
			frames, err = wire.SplitBatch(b)
		}
		c.mu.Lock()
		if err != nil {
			c.readErr = err
		} else {
			c.queue = append(c.queue, frames...)
		}
		c.mu.Unlock()
		select {
		case c.notify <- struct{}{}:
		default:
		}
		if err != nil {
			return
		}
	}
}

// readFrame returns the next frame from the server, failing the test if
// none comes within waitTimeout or the connection ends.
func (c *rawClient) readFrame() wire.Frame {
	c.t.Helper()
	f, err := c.tryRead()
	if err != nil {
		c.t.Fatalf("%s: reading a frame: %v", c.name, err)
	}
	return f
}

// tryRead is readFrame returning the error instead of failing.
func (c *rawClient) tryRead() (wire.Frame, error) {
	c.t.Helper()
	deadline := time.NewTimer(waitTimeout)
	defer deadline.Stop()
	for {
		c.mu.Lock()
		if len(c.queue) > 0 {
			b := c.queue[0]
			c.queue = c.queue[1:]
			c.mu.Unlock()
			var f wire.Frame
			if err := json.Unmarshal(b, &f); err != nil {
				c.t.Fatalf("%s: server sent a frame that is not JSON: %q", c.name, b)
			}
			return f, nil
		}
		err := c.readErr
		c.mu.Unlock()
		if err != nil {
			return wire.Frame{}, err
		}
		select {
		case <-c.notify:
		case <-deadline.C:
			return wire.Frame{}, errors.New("timed out")
		}
	}
}

// write sends a raw WebSocket message.
func (c *rawClient) write(typ websocket.MessageType, b []byte) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	if err := c.ws.Write(ctx, typ, b); err != nil {
		c.t.Fatalf("%s: writing: %v", c.name, err)
	}
}

// request sends a request frame with a new id and returns the id.
func (c *rawClient) request(op string, data any) uint64 {
	c.t.Helper()
	c.lastID++
	f := wire.Frame{Op: op, ID: c.lastID}
	if data != nil {
		b, err := json.Marshal(data)
		if err != nil {
			c.t.Fatal(err)
		}
		f.Data = b
	}
	b, err := wire.Encode(&f)
	if err != nil {
		c.t.Fatal(err)
	}
	c.write(websocket.MessageText, b)
	return c.lastID
}

// response waits for the response to request id, stashing anything else.
func (c *rawClient) response(id uint64) wire.Frame {
	c.t.Helper()
	for i, f := range c.stash {
		if f.ID == id {
			c.stash = append(c.stash[:i:i], c.stash[i+1:]...)
			return f
		}
	}
	for {
		f := c.readFrame()
		if f.ID == id {
			return f
		}
		c.stash = append(c.stash, f)
	}
}

// call sends a request and returns its response; pushes that arrive first
// are kept for next.
func (c *rawClient) call(op string, data any) wire.Frame {
	c.t.Helper()
	return c.response(c.request(op, data))
}

// mustCall is call that fails the test on an error response and decodes
// the response data into resp (if not nil).
func (c *rawClient) mustCall(op string, data, resp any) {
	c.t.Helper()
	f := c.call(op, data)
	if f.Code != 0 {
		c.t.Fatalf("%s: %s = error %d %q, want success", c.name, op, f.Code, f.Message)
	}
	if f.Op != op {
		c.t.Fatalf("%s: response to %s has op %q", c.name, op, f.Op)
	}
	if resp != nil {
		if err := json.Unmarshal(f.Data, resp); err != nil {
			c.t.Fatalf("%s: decoding %s response %s: %v", c.name, op, f.Data, err)
		}
	}
}

// callCode sends a request and returns the response's error code.
func (c *rawClient) callCode(op string, data any) int {
	c.t.Helper()
	f := c.call(op, data)
	if f.Op != op {
		c.t.Fatalf("%s: response to %s has op %q", c.name, op, f.Op)
	}
	return f.Code
}

// next waits for the next frame with op that is not a response, failing
// the test if another push or a response arrives before it.
func (c *rawClient) next(op string) wire.Frame {
	c.t.Helper()
	var f wire.Frame
	if len(c.stash) > 0 {
		f, c.stash = c.stash[0], c.stash[1:]
	} else {
		f = c.readFrame()
	}
	if f.Op != op || f.ID != 0 {
		c.t.Fatalf("%s: got frame op %q id %d code %d data %s, want a %q push", c.name, f.Op, f.ID, f.Code, f.Data, op)
	}
	return f
}

// nextMsg waits for the next message push.
func (c *rawClient) nextMsg() wire.MessagePush {
	c.t.Helper()
	f := c.next(wire.OpMessage)
	var p wire.MessagePush
	if err := json.Unmarshal(f.Data, &p); err != nil {
		c.t.Fatalf("%s: decoding msg push %s: %v", c.name, f.Data, err)
	}
	return p
}

// waitClosed waits for the server to end the connection and returns the
// frames that came before the end and the error that ended reading (a
// websocket.CloseError when the server sent a close frame).
func (c *rawClient) waitClosed() ([]wire.Frame, error) {
	c.t.Helper()
	frames := c.stash
	c.stash = nil
	for {
		f, err := c.tryRead()
		if err != nil {
			if err.Error() == "timed out" {
				c.t.Fatalf("%s: connection still open after %v", c.name, waitTimeout)
			}
			c.t.Logf("%s: connection ended: %v (close status %d)", c.name, err, websocket.CloseStatus(err))
			return frames, err
		}
		frames = append(frames, f)
	}
}

// init sends init for ts's app on platform and fails on error.
func (c *rawClient) init(ts *testServer, platform string) {
	c.t.Helper()
	var resp wire.InitResp
	c.mustCall(wire.OpInit, wire.InitReq{AppKey: ts.appKey, Version: wire.Version, Platform: platform}, &resp)
	if resp.Version != wire.Version || resp.MaxFrame != ts.srv.cfg.MaxFrameBytes {
		c.t.Fatalf("%s: init = %+v, want version %d, max frame %d", c.name, resp, wire.Version, ts.srv.cfg.MaxFrameBytes)
	}
}

// password is every test user's password.
const password = "secret-pw"

// register registers username over a fresh connection.
func register(t testing.TB, ts *testServer, username string) {
	t.Helper()
	c := dial(t, ts, "register "+username)
	c.init(ts, "")
	c.mustCall(wire.OpRegister, wire.RegisterReq{UserInfo: jmsg.UserInfo{Username: username}, Password: password}, nil)
	c.ws.Close(websocket.StatusNormalClosure, "")
}

// login returns a client logged in as username (registered) on platform.
func login(t testing.TB, ts *testServer, username, platform string) (*rawClient, wire.LoginResp) {
	t.Helper()
	c := dial(t, ts, username+"/"+platform)
	c.init(ts, platform)
	var resp wire.LoginResp
	c.mustCall(wire.OpLogin, wire.LoginReq{Username: username, Password: password}, &resp)
	if resp.User.Username != username || resp.User.UID == 0 {
		t.Fatalf("login(%s) = %+v", username, resp)
	}
	return c, resp
}

// textSend is a send request of a text message to username.
func textSend(to, cid, text string) wire.SendReq {
	return wire.SendReq{ClientMsgID: cid, Content: jmsg.Doc{
		Version: 1, TargetType: "single", TargetID: to, CreateTime: time.Now().UnixMilli(),
		MsgType: "text", MsgBody: json.RawMessage(`{"text":` + jsonQuote(text) + `}`),
	}}
}

func jsonQuote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// send sends a text message and returns the response.
func (c *rawClient) send(to, cid, text string) wire.SendResp {
	c.t.Helper()
	var resp wire.SendResp
	c.mustCall(wire.OpSend, textSend(to, cid, text), &resp)
	if resp.MsgID == 0 || resp.ConvID == 0 || resp.Seq == 0 {
		c.t.Fatalf("%s: send(%s) = %+v, want ids set", c.name, cid, resp)
	}
	return resp
}

// msgText returns the text of a stored protocol document.
func msgText(t testing.TB, content json.RawMessage) (from, to, text string) {
	t.Helper()
	var doc jmsg.Doc
	if err := json.Unmarshal(content, &doc); err != nil {
		t.Fatalf("content %s: %v", content, err)
	}
	var body jmsg.TextBody
	if err := json.Unmarshal(doc.MsgBody, &body); err != nil {
		t.Fatalf("msg_body %s: %v", doc.MsgBody, err)
	}
	return doc.FromID, doc.TargetID, body.Text
}

func contextWithTimeout(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, d)
}

func itoa(n int) string { return strconv.Itoa(n) }

func storeApp(key string) store.App {
	return store.App{AppKey: key, MasterSecret: key, Name: key, CTimeMs: time.Now().UnixMilli()}
}
