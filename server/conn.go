package server

import (
	"context"
	"errors"
	"net"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gobwas/ws"

	"github.com/jmsg-im/jmsg"
	"github.com/jmsg-im/jmsg/wire"
)

// conn is one client connection. No goroutine waits on an idle one: the
// server's poller starts readable when the socket has bytes, and that
// handler owns the read state and the session state below until it
// returns (rmu). Frames to send wait in a queue; a writer goroutine runs
// only while the queue holds something. Other goroutines (the publisher,
// another connection kicking this one) only call enqueue, kick and close.
type conn struct {
	s      *Server
	nc     net.Conn
	rc     syscall.RawConn
	fd     int
	ctx    context.Context // the server's: requests end with it
	base   string          // scheme://host the client connected to, for media URLs
	closed atomic.Bool     // set by close: nothing more is read or queued
	once   sync.Once
	kicked atomic.Bool

	wmu     sync.Mutex  // serialises writes to nc
	aborted atomic.Bool // writes are to fail at once: closing without a handshake

	qmu        sync.Mutex // guards q, writing, closeAfter and ended
	qcond      sync.Cond  // signalled when the writer stops
	q          [][]byte   // encoded frames waiting, oldest first
	writing    bool       // a writer goroutine is running
	closeAfter bool       // close (login kicked) once q is written
	ended      bool       // no writer may start any more

	// Read state, owned by the holder of rmu (readable, then close).
	rmu     sync.Mutex
	rbuf    []byte    // bytes of an incomplete frame; nil when there are none
	msg     []byte    // a fragmented message being assembled
	msgOp   ws.OpCode // the opcode of msg
	inMsg   bool      // a fragmented message has begun and not ended
	skip    int64     // bytes of an over-long frame still to discard
	skipMsg bool      // the message being received is over-long: discard it

	// Session state, owned by the holder of rmu.
	appKey    string
	platform  string
	uid       int64
	username  string
	tokenHash []byte // the login token of this session

	// An actor (actor.go) has no socket: replies get what it would send,
	// and fromType is the from_type of what it sends ("admin").
	replies  chan *wire.Frame
	fromType string

	// Request rate, owned by the holder of rmu.
	reqWindow time.Time
	reqCount  int
}

// errAsync tells the read loop that a handler will send its response itself.
var errAsync = errors.New("response sent asynchronously")

func (c *conn) loggedIn() bool { return c.uid != 0 && !c.kicked.Load() }

// handleText handles one complete text or binary message.
func (c *conn) handleText(op ws.OpCode, payload []byte) {
	if op != ws.OpText {
		c.sendError("", 0, jmsg.Errorf(jmsg.ServerInvalidRequest, "binary frames are not part of the protocol"))
		return
	}
	f, err := wire.Decode(payload, c.s.cfg.MaxFrameBytes) // copies what it keeps: payload is reused
	if err != nil {
		var de *wire.DecodeError
		errors.As(err, &de)
		c.sendError(de.Op, de.ID, de.Err)
		return
	}
	c.dispatch(f)
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
	if c.replies != nil { // an actor: the caller of Do takes the answer
		select {
		case c.replies <- f:
		default:
		}
		return
	}
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
	if c.ended || c.closed.Load() {
		c.qmu.Unlock()
		return
	}
	if len(c.q) >= c.s.cfg.SendQueue {
		c.qmu.Unlock()
		c.s.metrics.slowConsumers.Add(1)
		c.s.log.Warn("dropping slow consumer", "queue", c.s.cfg.SendQueue)
		c.close(ws.StatusPolicyViolation, "slow consumer")
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
	c.kickWith(wire.EventPush{EventType: wire.EventLoginKicked, CTimeMs: time.Now().UnixMilli()})
}

// kickWith ends the session the way kick does, telling the client ev
// (e.g. event 1 with extra 1: the user was disabled; event 2: the password
// was changed on the server).
func (c *conn) kickWith(ev wire.EventPush) {
	if c.kicked.Swap(true) {
		return
	}
	f, err := wire.Push(wire.OpEvent, ev)
	if err == nil {
		c.sendFrame(f)
	}
	c.qmu.Lock()
	c.closeAfter = true
	c.startWriterLocked()
	c.qmu.Unlock()
}

// close ends the connection: reading and queueing stop at once, and a
// goroutine finishes the job — waits for the writer, sends a close frame
// with code and reason and waits for the client's (a close handshake), or
// for a slow consumer, a failed write or a shutdown, whose peer is not to be
// waited for, closes the socket at once. Only the first call counts.
func (c *conn) close(code ws.StatusCode, reason string) {
	c.end(code, reason, code != ws.StatusPolicyViolation && code != ws.StatusGoingAway)
}

// end is close, saying whether to send a close frame and wait for the
// client's.
func (c *conn) end(code ws.StatusCode, reason string, handshake bool) {
	c.once.Do(func() {
		c.closed.Store(true)
		go c.finish(code, reason, handshake)
	})
}

// closeTimeout bounds the wait for a client's close frame.
const closeTimeout = 5 * time.Second

// finish ends the connection for close.
func (c *conn) finish(code ws.StatusCode, reason string, handshake bool) {
	if !handshake { // a write blocked on this peer ends now
		c.aborted.Store(true)
		c.nc.SetWriteDeadline(time.Now())
	}
	c.qmu.Lock()
	c.ended = true
	for c.writing { // let a write in progress end
		c.qcond.Wait()
	}
	c.s.metrics.queued.Add(-int64(len(c.q)))
	c.q = nil
	c.qmu.Unlock()
	c.rmu.Lock() // a handler in progress returns: closed is set
	defer c.rmu.Unlock()
	if handshake {
		c.writeFrame(ws.OpClose, ws.NewCloseFrameBody(code, reason))
		c.awaitClose()
	}
	c.s.poller.remove(c)
	c.nc.Close()
	if c.uid != 0 {
		c.s.hub.unbind(c, c.uid, c.platform)
	}
	c.rbuf, c.msg = nil, nil
	c.s.metrics.connections.Add(-1)
	c.s.wg.Done()
}

// writeFrame writes one frame within the write timeout.
func (c *conn) writeFrame(op ws.OpCode, payload []byte) error {
	var hdr [ws.MaxHeaderSize]byte
	bufs := net.Buffers{appendHeader(hdr[:0], op, len(payload)), payload}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.nc.SetWriteDeadline(time.Now().Add(c.s.cfg.WriteTimeout))
	if c.aborted.Load() { // after the deadline: finish's may be overwritten
		return net.ErrClosed
	}
	_, err := bufs.WriteTo(c.nc)
	return err
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
		if len(c.q) == 0 || c.closed.Load() {
			closeNow := c.closeAfter && !c.closed.Load()
			c.writing = false
			c.qcond.Broadcast()
			c.qmu.Unlock()
			if closeNow {
				c.close(ws.StatusNormalClosure, "login kicked")
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
			if err := c.writeFrame(ws.OpText, b); err != nil {
				c.close(ws.StatusGoingAway, "write failed")
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
