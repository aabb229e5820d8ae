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
// state below. Frames to send wait in a queue; a writer goroutine runs
// only while the queue holds something, so an idle connection costs one
// goroutine. Other goroutines (the publisher, another connection kicking
// this one) only call enqueue, kick and close.
type conn struct {
	s      *Server
	ws     *websocket.Conn
	ctx    context.Context // cancelled when the connection ends
	cancel context.CancelFunc
	closed sync.Once
	code   websocket.StatusCode // close status, set once by close
	reason string
	kicked atomic.Bool

	qmu        sync.Mutex    // guards q, writing, closeAfter and ended
	qcond      *sync.Cond    // signalled when the writer stops
	q          [][]byte      // encoded frames waiting, oldest first
	writing    bool          // a writer goroutine is running
	closeAfter bool          // close (login kicked) once q is written
	ended      bool          // no writer may start any more
	closerDone chan struct{} // closed when close's goroutine is done; set by close

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
	c.qcond = sync.NewCond(&c.qmu)
	defer func() {
		if c.uid != 0 {
			c.s.hub.unbind(c, c.uid, c.platform)
		}
		c.close(websocket.StatusNormalClosure, "")
		c.qmu.Lock()
		c.ended = true
		for c.writing {
			c.qcond.Wait()
		}
		c.qmu.Unlock()
		<-c.closerDone
	}()
	max := c.s.cfg.MaxFrameBytes
	for {
		// Not c.ctx: cancelling a read drops the socket without a close
		// frame. close closes the socket when the connection ends, which
		// ends this read.
		typ, r, err := c.ws.Reader(context.Background())
		if err != nil {
			return
		}
		if !c.readFrame(typ, r, max) {
			return
		}
	}
}

// readBufs holds frame buffers between reads, so that an idle connection
// holds none.
var readBufs = sync.Pool{New: func() any { return new([]byte) }}

// readFrame reads and handles one frame; false when the connection failed.
func (c *conn) readFrame(typ websocket.MessageType, r io.Reader, max int) bool {
	bp := readBufs.Get().(*[]byte)
	defer readBufs.Put(bp)
	if cap(*bp) < max+1 {
		*bp = make([]byte, max+1)
	}
	buf := (*bp)[:max+1]
	{
		n, err := io.ReadFull(r, buf)
		switch {
		case err == nil: // more than max bytes
			if _, err := io.Copy(io.Discard, r); err != nil {
				return false
			}
			c.sendError("", 0, jmsg.Errorf(jmsg.ServerMessageTooLong, "frame exceeds %d bytes", max))
			return true
		case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		default:
			return false
		}
		if typ != websocket.MessageText {
			c.sendError("", 0, jmsg.Errorf(jmsg.ServerInvalidRequest, "binary frames are not part of the protocol"))
			return true
		}
		f, err := wire.Decode(buf[:n], max) // copies what it keeps: buf is reused
		if err != nil {
			var de *wire.DecodeError
			errors.As(err, &de)
			c.sendError(de.Op, de.ID, de.Err)
			return true
		}
		c.dispatch(f)
	}
	return true
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

// enqueue queues an encoded frame without blocking, starting a writer if
// none runs. A connection whose queue is full is a slow consumer: it is
// dropped, and the client catches up through sync when it reconnects.
func (c *conn) enqueue(b []byte) {
	c.qmu.Lock()
	if c.ended || c.ctx.Err() != nil {
		c.qmu.Unlock()
		return
	}
	if len(c.q) >= c.s.cfg.SendQueue {
		c.qmu.Unlock()
		c.s.metrics.slowConsumers.Add(1)
		c.s.log.Warn("dropping slow consumer", "queue", c.s.cfg.SendQueue)
		c.close(websocket.StatusPolicyViolation, "slow consumer")
		return
	}
	c.q = append(c.q, b)
	c.s.metrics.queued.Add(1)
	c.startWriterLocked()
	c.qmu.Unlock()
}

// startWriterLocked starts the writer if none runs. Called with qmu held.
func (c *conn) startWriterLocked() {
	if c.writing || c.ended {
		return
	}
	c.writing = true
	go c.writeQueued() // ends with writing = false, which serve waits for
}

// kick ends the session because another login took its place: the client
// gets event 1 (login kicked) and then the connection is closed with 1000
// "login kicked".
func (c *conn) kick() {
	if c.kicked.Swap(true) {
		return
	}
	f, err := wire.Push(wire.OpEvent, wire.EventPush{EventType: wire.EventLoginKicked, CTimeMs: time.Now().UnixMilli()})
	if err == nil {
		c.sendFrame(f)
	}
	c.qmu.Lock()
	c.closeAfter = true
	c.startWriterLocked()
	c.qmu.Unlock()
}

// close ends the connection: writes stop, and the socket is closed with
// code and reason — with a close handshake, or at once for a slow
// consumer, a failed write or a shutdown, whose peer is not to be waited
// for. That ends the read loop. Only the first call counts.
func (c *conn) close(code websocket.StatusCode, reason string) {
	c.closed.Do(func() {
		c.code, c.reason = code, reason
		c.cancel()
		c.closerDone = make(chan struct{})
		go func() {
			defer close(c.closerDone)
			c.qmu.Lock()
			c.ended = true
			for c.writing { // let a write in progress end: it sees ctx
				c.qcond.Wait()
			}
			for range c.q {
				c.s.metrics.queued.Add(-1)
			}
			c.q = nil
			c.qmu.Unlock()
			if code == websocket.StatusPolicyViolation || code == websocket.StatusGoingAway {
				c.ws.CloseNow()
			} else {
				c.ws.Close(code, reason)
			}
		}()
	})
}

// maxBatchBytes bounds one batch frame, far below what clients read in one
// frame (1 MiB for the Go SDK).
const maxBatchBytes = 256 << 10

// writeQueued writes what is queued, then stops. Several queued frames go
// out as one batch frame ({"op":"batch","data":[frame,…]}), in order: one
// write for many pushes.
func (c *conn) writeQueued() {
	for {
		c.qmu.Lock()
		if len(c.q) == 0 || c.ctx.Err() != nil {
			closeNow := c.closeAfter && c.ctx.Err() == nil
			c.writing = false
			c.qcond.Broadcast()
			c.qmu.Unlock()
			if closeNow {
				c.close(websocket.StatusNormalClosure, "login kicked")
			}
			return
		}
		frames := c.q
		c.q = nil
		c.qmu.Unlock()
		c.s.metrics.queued.Add(-int64(len(frames)))
		for len(frames) > 0 {
			b, n := batch(frames)
			frames = frames[n:]
			ctx, cancel := context.WithTimeout(c.ctx, c.s.cfg.WriteTimeout)
			err := c.ws.Write(ctx, websocket.MessageText, b)
			cancel()
			if err != nil {
				c.close(websocket.StatusGoingAway, "write failed")
				break
			}
		}
	}
}

var batchOpen, batchClose = []byte(`{"op":"batch","data":[`), []byte(`]}`)

// batch returns the frame to write for the first frames and how many it
// holds: a single frame as is, several as one batch frame.
func batch(frames [][]byte) ([]byte, int) {
	if len(frames) == 1 || len(frames[0]) >= maxBatchBytes {
		return frames[0], 1
	}
	size, n := len(batchOpen)+len(batchClose), 0
	for n < len(frames) && size+len(frames[n])+1 <= maxBatchBytes {
		size += len(frames[n]) + 1
		n++
	}
	if n == 1 {
		return frames[0], 1
	}
	b := make([]byte, 0, size)
	b = append(b, batchOpen...)
	for i, f := range frames[:n] {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, f...)
	}
	return append(b, batchClose...), n
}
