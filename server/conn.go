package server

import (
	"context"
	"errors"
	"io"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"github.com/jmsg-im/jmsg"
	"github.com/jmsg-im/jmsg/wire"
)

// conn is one client connection. Its read loop (serve) owns the session
// state below; the writer goroutine owns the socket's write side. Other
// goroutines (the committer, another connection kicking this one) only
// call enqueue, kick and close.
type conn struct {
	s      *Server
	ws     *websocket.Conn
	ctx    context.Context // cancelled when the connection ends
	cancel context.CancelFunc
	out    chan []byte // frames to write; nil entry = close after flushing
	closed sync.Once
	code   websocket.StatusCode // close status, set once by close
	reason string
	kicked atomic.Bool

	// Session state, owned by the read loop.
	appKey    string
	platform  string
	uid       int64
	username  string
	tokenHash []byte // the login token of this session

	// Request rate, owned by the read loop.
	reqWindow time.Time
	reqCount  int
}

// errAsync tells the read loop that a handler will send its response itself.
var errAsync = errors.New("response sent asynchronously")

func (c *conn) loggedIn() bool { return c.uid != 0 && !c.kicked.Load() }

// serve runs the connection until the client leaves, the server closes or
// the connection is dropped. It returns after the writer has stopped.
func (c *conn) serve() {
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		c.writeLoop()
	}()
	defer func() {
		if c.uid != 0 {
			c.s.hub.unbind(c, c.uid, c.platform)
		}
		c.close(websocket.StatusNormalClosure, "")
		wg.Wait()
	}()
	max := c.s.cfg.MaxFrameBytes
	buf := make([]byte, max+1)
	for {
		// Not c.ctx: cancelling a read drops the socket without a close
		// frame. The writer closes the socket when the connection ends,
		// which ends this read.
		typ, r, err := c.ws.Reader(context.Background())
		if err != nil {
			return
		}
		n, err := io.ReadFull(r, buf)
		switch {
		case err == nil: // more than max bytes
			if _, err := io.Copy(io.Discard, r); err != nil {
				return
			}
			c.sendError("", 0, jmsg.Errorf(jmsg.ServerMessageTooLong, "frame exceeds %d bytes", max))
			continue
		case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		default:
			return
		}
		if typ != websocket.MessageText {
			c.sendError("", 0, jmsg.Errorf(jmsg.ServerInvalidRequest, "binary frames are not part of the protocol"))
			continue
		}
		f, err := wire.Decode(buf[:n], max)
		if err != nil {
			var de *wire.DecodeError
			errors.As(err, &de)
			c.sendError(de.Op, de.ID, de.Err)
			continue
		}
		c.dispatch(f)
	}
}

// dispatch runs the handler of f and sends its response. A panic in a
// handler is a bug in jmsgd: it is logged and answered with 800009, and the
// connection goes on.
func (c *conn) dispatch(f *wire.Frame) {
	defer func() {
		if p := recover(); p != nil {
			c.s.log.Error("handler panic", "op", f.Op, "panic", p, "stack", string(debug.Stack()))
			c.sendError(f.Op, f.ID, jmsg.E(jmsg.TcpServerInternalError))
		}
	}()
	if f.ID == 0 {
		c.sendError(f.Op, 0, jmsg.Errorf(jmsg.ServerInvalidRequest, "request has no id"))
		return
	}
	if limit := c.s.cfg.RequestsPerSecond; limit > 0 {
		now := time.Now()
		if now.Sub(c.reqWindow) >= time.Second {
			c.reqWindow, c.reqCount = now, 0
		}
		if c.reqCount++; c.reqCount > limit {
			c.sendError(f.Op, f.ID, jmsg.E(jmsg.ServerFrequencyLimit))
			return
		}
	}
	h, ok := handlers[f.Op]
	switch {
	case !ok:
		c.sendError(f.Op, f.ID, jmsg.Errorf(jmsg.ServerInvalidRequest, "unknown op %q", f.Op))
		return
	case f.Op != wire.OpInit && c.appKey == "":
		c.sendError(f.Op, f.ID, jmsg.Errorf(jmsg.ServerInvalidRequest, "init first"))
		return
	case h.login && c.kicked.Load():
		c.sendError(f.Op, f.ID, jmsg.E(jmsg.TcpUserOfflineState))
		return
	case h.login && c.uid == 0:
		c.sendError(f.Op, f.ID, jmsg.E(jmsg.TcpUserLogoutState))
		return
	}
	res, err := h.fn(c, f)
	if errors.Is(err, errAsync) {
		return
	}
	c.respond(f, res, err)
}

// respond sends the response to request f.
func (c *conn) respond(f *wire.Frame, res any, err error) {
	if err != nil {
		var je *jmsg.Error
		if !errors.As(err, &je) {
			c.s.log.Error("request failed", "op", f.Op, "err", err)
		}
		c.sendError(f.Op, f.ID, err)
		return
	}
	if res == nil {
		res = struct{}{}
	}
	out, err := wire.Response(f, res)
	if err != nil {
		c.sendError(f.Op, f.ID, jmsg.Wrap(jmsg.TcpServerInternalError, err))
		return
	}
	c.sendFrame(out)
}

func (c *conn) sendError(op string, id uint64, err error) {
	c.sendFrame(wire.ErrorFrame(op, id, err))
}

func (c *conn) sendFrame(f *wire.Frame) {
	b, err := wire.Encode(f)
	if err != nil {
		c.s.log.Error("encoding frame", "op", f.Op, "err", err)
		return
	}
	c.enqueue(b)
}

// enqueue queues an encoded frame without blocking. A connection whose
// queue is full is a slow consumer: it is dropped, and the client catches
// up through sync when it reconnects.
func (c *conn) enqueue(b []byte) {
	if c.ctx.Err() != nil {
		return
	}
	select {
	case c.out <- b:
		c.s.metrics.queued.Add(1)
	default:
		c.s.metrics.slowConsumers.Add(1)
		c.s.log.Warn("dropping slow consumer", "queue", cap(c.out))
		c.close(websocket.StatusPolicyViolation, "slow consumer")
	}
}

// kick ends the session because another login took its place: the client
// gets event 1 (login kicked) and then the connection is closed.
func (c *conn) kick() {
	if c.kicked.Swap(true) {
		return
	}
	f, err := wire.Push(wire.OpEvent, wire.EventPush{EventType: wire.EventLoginKicked, CTimeMs: time.Now().UnixMilli()})
	if err == nil {
		c.sendFrame(f)
	}
	select {
	case c.out <- nil:
	default:
		c.close(websocket.StatusPolicyViolation, "kicked")
	}
}

// close ends the connection: the writer stops and closes the socket with
// code and reason, which ends the read loop. Only the first call counts.
func (c *conn) close(code websocket.StatusCode, reason string) {
	c.closed.Do(func() {
		c.code, c.reason = code, reason
		c.cancel()
	})
}

// writeLoop writes queued frames until the connection ends, then closes
// the socket: with a close handshake, or at once for a slow consumer or a
// failed write, whose peer is not reading, and at server shutdown.
func (c *conn) writeLoop() {
	defer func() {
		// Server.Close cancels ctx without calling close. Calling it here
		// sets code for that case (closed at once, no handshake), and the
		// Once makes code and reason safe to read whichever goroutine's
		// close came first.
		c.close(websocket.StatusGoingAway, "server shutting down")
		if c.code == websocket.StatusPolicyViolation || c.code == websocket.StatusGoingAway {
			c.ws.CloseNow()
		} else {
			c.ws.Close(c.code, c.reason)
		}
	}()
	for {
		select {
		case <-c.ctx.Done():
			return
		case b := <-c.out:
			if b != nil {
				c.s.metrics.queued.Add(-1)
			}
			if b == nil {
				c.close(websocket.StatusNormalClosure, "login kicked")
				return
			}
			ctx, cancel := context.WithTimeout(c.ctx, c.s.cfg.WriteTimeout)
			err := c.ws.Write(ctx, websocket.MessageText, b)
			cancel()
			if err != nil {
				c.close(websocket.StatusGoingAway, "write failed")
				return
			}
		}
	}
}
