package server

import (
	"encoding/binary"

	"github.com/gobwas/ws"
)

// WebSocket framing (RFC 6455) for the server side of a connection whose
// bytes arrive in whatever pieces the socket gives: parseHeader works on a
// byte slice and says when it needs more. gobwas/ws supplies the types,
// the handshake and the unmasking.

// parseHeader parses the frame header at the start of b. ok is false when
// b does not hold a whole header yet; n is the header's length.
func parseHeader(b []byte) (h ws.Header, n int, ok bool) {
	if len(b) < 2 {
		return h, 0, false
	}
	h.Fin = b[0]&0x80 != 0
	h.Rsv = (b[0] & 0x70) >> 4
	h.OpCode = ws.OpCode(b[0] & 0x0f)
	h.Masked = b[1]&0x80 != 0
	n = 2
	switch l := b[1] & 0x7f; l {
	case 126:
		if len(b) < n+2 {
			return h, 0, false
		}
		h.Length = int64(binary.BigEndian.Uint16(b[n:]))
		n += 2
	case 127:
		if len(b) < n+8 {
			return h, 0, false
		}
		h.Length = int64(binary.BigEndian.Uint64(b[n:])) // negative when the reserved top bit is set
		n += 8
	default:
		h.Length = int64(l)
	}
	if h.Masked {
		if len(b) < n+4 {
			return h, 0, false
		}
		copy(h.Mask[:], b[n:n+4])
		n += 4
	}
	return h, n, true
}

// appendHeader appends the header of an unmasked, final server frame of op
// carrying size bytes.
func appendHeader(b []byte, op ws.OpCode, size int) []byte {
	b = append(b, 0x80|byte(op))
	switch {
	case size < 126:
		return append(b, byte(size))
	case size <= 0xffff:
		return binary.BigEndian.AppendUint16(append(b, 126), uint16(size))
	default:
		return binary.BigEndian.AppendUint64(append(b, 127), uint64(size))
	}
}

// validClientFrame reports whether h is a frame a client may send:
// masked, no extension bits, a length without its reserved top bit, a known
// opcode, control frames final and at most 125 bytes.
func validClientFrame(h ws.Header) bool {
	if !h.Masked || h.Rsv != 0 || h.Length < 0 {
		return false
	}
	switch h.OpCode {
	case ws.OpContinuation, ws.OpText, ws.OpBinary:
		return true
	case ws.OpClose, ws.OpPing, ws.OpPong:
		return h.Fin && h.Length <= 125
	}
	return false
}
