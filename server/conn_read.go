package server

import (
	"errors"
	"io"
	"sync"
	"syscall"
	"time"

	"github.com/gobwas/ws"

	"github.com/jmsg-im/jmsg"
)

// readChunk is how much one read takes from a socket.
const readChunk = 64 << 10

// readBufs holds read buffers between reads, so that an idle connection
// holds none.
var readBufs = sync.Pool{New: func() any { b := make([]byte, readChunk); return &b }}

// errWouldBlock is what a read of a drained socket returns.
var errWouldBlock = syscall.EAGAIN

// readable handles what c's socket holds: it reads until the socket is
// drained, handles every complete frame, keeps an incomplete one, and asks
// the poller for the next readiness. The poller starts it; at most one
// runs per connection.
func (c *conn) readable() {
	c.rmu.Lock()
	defer c.rmu.Unlock()
	bp := readBufs.Get().(*[]byte)
	defer readBufs.Put(bp)
	for !c.closed.Load() {
		n, err := c.read(*bp)
		if n > 0 && !c.take((*bp)[:n]) {
			return
		}
		if err == nil && n > 0 && n < len(*bp) {
			// Most likely drained: re-arm rather than read again for
			// EAGAIN. The poller is level-triggered, so bytes that came
			// meanwhile are reported at once.
			err = errWouldBlock
		}
		switch {
		case errors.Is(err, errWouldBlock):
			if c.closed.Load() {
				return
			}
			if err := c.s.poller.arm(c); err != nil {
				c.close(ws.StatusGoingAway, "")
			}
			return
		case err != nil || n == 0: // the client went away
			c.close(ws.StatusGoingAway, "")
			return
		}
	}
}

// take handles data read from the socket after what rbuf holds; false when
// the connection ended.
func (c *conn) take(data []byte) bool {
	fromBuf := len(c.rbuf) > 0
	if fromBuf {
		c.rbuf = append(c.rbuf, data...)
		data = c.rbuf
	}
	rest, ok := c.consume(data)
	if !ok {
		return false
	}
	switch {
	case len(rest) == 0:
		c.rbuf = nil
	case fromBuf:
		c.rbuf = c.rbuf[:copy(c.rbuf, rest)]
	default:
		c.rbuf = append([]byte(nil), rest...)
	}
	return true
}

// consume handles the complete frames at the start of data and returns the
// bytes of the incomplete one after them; false when the connection ended.
func (c *conn) consume(data []byte) ([]byte, bool) {
	max := int64(c.s.cfg.MaxFrameBytes)
	for !c.closed.Load() {
		if c.skip > 0 {
			k := min(int64(len(data)), c.skip)
			data, c.skip = data[k:], c.skip-k
			if c.skip > 0 {
				return nil, true
			}
			continue
		}
		h, hn, ok := parseHeader(data)
		if !ok {
			return data, true
		}
		if !validClientFrame(h) {
			c.close(ws.StatusProtocolError, "invalid frame")
			return nil, false
		}
		isData := !h.OpCode.IsControl()
		fresh := h.OpCode != ws.OpContinuation
		if isData {
			if fresh == c.inMsg {
				c.close(ws.StatusProtocolError, "unexpected continuation")
				return nil, false
			}
			if c.skipMsg || int64(len(c.msg))+h.Length > max {
				// Over-long: discard the message, then say so.
				c.inMsg = !h.Fin
				c.msg, c.skipMsg, c.skip = nil, !h.Fin, h.Length
				data = data[hn:]
				if h.Fin {
					c.sendError("", 0, jmsg.Errorf(jmsg.ServerMessageTooLong, "frame exceeds %d bytes", max))
				}
				continue
			}
		}
		if int64(len(data)-hn) < h.Length {
			return data, true // the header is parsed again with the rest
		}
		if isData {
			if fresh {
				c.msgOp = h.OpCode
			}
			c.inMsg = !h.Fin
		}
		payload := data[hn : hn+int(h.Length)]
		data = data[hn+int(h.Length):]
		ws.Cipher(payload, h.Mask, 0)
		switch {
		case h.OpCode == ws.OpPing:
			c.writeFrame(ws.OpPong, payload)
		case h.OpCode == ws.OpPong:
		case h.OpCode == ws.OpClose:
			code, _ := ws.ParseCloseFrameData(payload)
			if code == 0 {
				code = ws.StatusNormalClosure
			}
			// The client started the handshake: answer and close.
			c.closed.Store(true)
			c.writeFrame(ws.OpClose, ws.NewCloseFrameBody(code, ""))
			c.end(code, "", false)
			return nil, false
		case !h.Fin:
			c.msg = append(c.msg, payload...)
		case h.OpCode == ws.OpContinuation:
			m := append(c.msg, payload...)
			c.msg = nil
			c.handleText(c.msgOp, m)
		default:
			c.handleText(h.OpCode, payload)
		}
	}
	return nil, false
}

// awaitClose reads until the client's close frame arrives, the socket ends
// or closeTimeout passes, discarding everything else. Called by finish,
// holding rmu.
func (c *conn) awaitClose() {
	c.nc.SetReadDeadline(time.Now().Add(closeTimeout))
	data := c.rbuf
	buf := make([]byte, 4096)
	for {
		for {
			if c.skip > 0 {
				k := min(int64(len(data)), c.skip)
				data, c.skip = data[k:], c.skip-k
				if c.skip > 0 {
					break
				}
			}
			h, hn, ok := parseHeader(data)
			if !ok {
				break
			}
			if h.OpCode == ws.OpClose {
				return
			}
			data, c.skip = data[hn:], h.Length
		}
		n, err := c.nc.Read(buf)
		if err != nil {
			if !errors.Is(err, io.EOF) {
				c.s.log.Debug("waiting for the close frame", "err", err)
			}
			return
		}
		data = append(data, buf[:n]...)
	}
}
