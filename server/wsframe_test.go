package server

import (
	"bytes"
	"testing"

	"github.com/gobwas/ws"
)

// TestParseHeader parses headers of each length encoding, masked and not,
// and checks that every prefix shorter than the header asks for more.
func TestParseHeader(t *testing.T) {
	mask := [4]byte{0xa1, 0xb2, 0xc3, 0xd4}
	tests := []struct {
		name string
		b    []byte
		want ws.Header
		n    int
	}{
		{"7-bit, unmasked", []byte{0x81, 5},
			ws.Header{Fin: true, OpCode: ws.OpText, Length: 5}, 2},
		{"7-bit empty ping, unmasked", []byte{0x89, 0},
			ws.Header{Fin: true, OpCode: ws.OpPing}, 2},
		{"7-bit 125, masked", []byte{0x81, 0x80 | 125, 0xa1, 0xb2, 0xc3, 0xd4},
			ws.Header{Fin: true, OpCode: ws.OpText, Length: 125, Masked: true, Mask: mask}, 6},
		{"non-final text, masked", []byte{0x01, 0x80 | 3, 0xa1, 0xb2, 0xc3, 0xd4},
			ws.Header{OpCode: ws.OpText, Length: 3, Masked: true, Mask: mask}, 6},
		{"continuation, masked", []byte{0x80, 0x80 | 3, 0xa1, 0xb2, 0xc3, 0xd4},
			ws.Header{Fin: true, OpCode: ws.OpContinuation, Length: 3, Masked: true, Mask: mask}, 6},
		{"RSV bits", []byte{0xf2, 1},
			ws.Header{Fin: true, Rsv: 7, OpCode: ws.OpBinary, Length: 1}, 2},
		{"RSV1 only", []byte{0xc1, 1},
			ws.Header{Fin: true, Rsv: 4, OpCode: ws.OpText, Length: 1}, 2},
		{"16-bit, unmasked", []byte{0x82, 126, 0x01, 0x00},
			ws.Header{Fin: true, OpCode: ws.OpBinary, Length: 256}, 4},
		{"16-bit 126, masked", []byte{0x81, 0x80 | 126, 0x00, 126, 0xa1, 0xb2, 0xc3, 0xd4},
			ws.Header{Fin: true, OpCode: ws.OpText, Length: 126, Masked: true, Mask: mask}, 8},
		{"16-bit 65535, masked", []byte{0x81, 0x80 | 126, 0xff, 0xff, 0xa1, 0xb2, 0xc3, 0xd4},
			ws.Header{Fin: true, OpCode: ws.OpText, Length: 65535, Masked: true, Mask: mask}, 8},
		{"64-bit, unmasked", []byte{0x81, 127, 0, 0, 0, 0, 0, 1, 0, 0},
			ws.Header{Fin: true, OpCode: ws.OpText, Length: 65536}, 10},
		{"64-bit large, masked", []byte{0x00, 0x80 | 127, 0, 0, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0xa1, 0xb2, 0xc3, 0xd4},
			ws.Header{OpCode: ws.OpContinuation, Length: 0x010203040506, Masked: true, Mask: mask}, 14},
	}
	for _, tc := range tests {
		// Payload bytes after the header must not change the result.
		for _, b := range [][]byte{tc.b, append(bytes.Clone(tc.b), 'x', 'y', 'z')} {
			h, n, ok := parseHeader(b)
			if !ok || n != tc.n || h != tc.want {
				t.Errorf("%s: parseHeader(% x) = %+v, %d, %v, want %+v, %d, true", tc.name, b, h, n, ok, tc.want, tc.n)
			}
		}
		for k := range len(tc.b) {
			if h, n, ok := parseHeader(tc.b[:k]); ok {
				t.Errorf("%s: parseHeader(% x) (%d of %d header bytes) = %+v, %d, true, want ok false", tc.name, tc.b[:k], k, len(tc.b), h, n)
			}
		}
	}
}

// TestAppendHeader checks that appendHeader writes the shortest length
// encoding and that parseHeader reads back what it wrote.
func TestAppendHeader(t *testing.T) {
	tests := []struct {
		size   int
		length int // bytes of the header
	}{
		{0, 2}, {1, 2}, {125, 2}, {126, 4}, {127, 4}, {65535, 4}, {65536, 10}, {1 << 24, 10},
	}
	for _, op := range []ws.OpCode{ws.OpText, ws.OpBinary, ws.OpClose, ws.OpPing, ws.OpPong} {
		for _, tc := range tests {
			prefix := []byte("prefix")
			b := appendHeader(bytes.Clone(prefix), op, tc.size)
			if !bytes.HasPrefix(b, prefix) {
				t.Fatalf("appendHeader(%q, %v, %d) = % x, lost what it was given", prefix, op, tc.size, b)
			}
			b = b[len(prefix):]
			if len(b) != tc.length {
				t.Errorf("appendHeader(%v, %d) = % x, %d bytes, want %d", op, tc.size, b, len(b), tc.length)
			}
			h, n, ok := parseHeader(b)
			want := ws.Header{Fin: true, OpCode: op, Length: int64(tc.size)}
			if !ok || n != len(b) || h != want {
				t.Errorf("parseHeader(appendHeader(%v, %d) = % x) = %+v, %d, %v, want %+v, %d, true", op, tc.size, b, h, n, ok, want, len(b))
			}
		}
	}
}

// TestValidClientFrame checks which frames a client may send.
func TestValidClientFrame(t *testing.T) {
	masked := func(fin bool, op ws.OpCode, length int64) ws.Header {
		return ws.Header{Fin: fin, OpCode: op, Length: length, Masked: true, Mask: [4]byte{1, 2, 3, 4}}
	}
	with := func(h ws.Header, f func(*ws.Header)) ws.Header { f(&h); return h }
	tests := []struct {
		name string
		h    ws.Header
		want bool
	}{
		{"text", masked(true, ws.OpText, 10), true},
		{"empty text", masked(true, ws.OpText, 0), true},
		{"binary", masked(true, ws.OpBinary, 10), true},
		{"non-final text", masked(false, ws.OpText, 10), true},
		{"continuation", masked(true, ws.OpContinuation, 10), true},
		{"non-final continuation", masked(false, ws.OpContinuation, 10), true},
		{"large text", masked(true, ws.OpText, 1<<40), true}, // the size limit is not framing's
		{"ping", masked(true, ws.OpPing, 0), true},
		{"ping of 125", masked(true, ws.OpPing, 125), true},
		{"pong of 125", masked(true, ws.OpPong, 125), true},
		{"close of 125", masked(true, ws.OpClose, 125), true},

		{"unmasked text", with(masked(true, ws.OpText, 10), func(h *ws.Header) { h.Masked = false }), false},
		{"unmasked ping", with(masked(true, ws.OpPing, 0), func(h *ws.Header) { h.Masked = false }), false},
		{"unmasked close", with(masked(true, ws.OpClose, 2), func(h *ws.Header) { h.Masked = false }), false},
		{"RSV1", with(masked(true, ws.OpText, 10), func(h *ws.Header) { h.Rsv = 4 }), false},
		{"RSV2", with(masked(true, ws.OpText, 10), func(h *ws.Header) { h.Rsv = 2 }), false},
		{"RSV3", with(masked(true, ws.OpText, 10), func(h *ws.Header) { h.Rsv = 1 }), false},
		{"RSV on ping", with(masked(true, ws.OpPing, 0), func(h *ws.Header) { h.Rsv = 4 }), false},
		{"ping of 126", masked(true, ws.OpPing, 126), false},
		{"64-bit length with its reserved top bit", masked(true, ws.OpText, -1<<63), false},
		{"pong of 126", masked(true, ws.OpPong, 126), false},
		{"close of 126", masked(true, ws.OpClose, 126), false},
		{"non-final ping", masked(false, ws.OpPing, 0), false},
		{"non-final pong", masked(false, ws.OpPong, 0), false},
		{"non-final close", masked(false, ws.OpClose, 2), false},
	}
	for op := ws.OpCode(3); op <= 0x0f; op++ {
		if op == ws.OpClose || op == ws.OpPing || op == ws.OpPong {
			continue
		}
		tests = append(tests, struct {
			name string
			h    ws.Header
			want bool
		}{"reserved opcode " + itoa(int(op)), masked(true, op, 1), false})
	}
	for _, tc := range tests {
		if got := validClientFrame(tc.h); got != tc.want {
			t.Errorf("%s: validClientFrame(%+v) = %v, want %v", tc.name, tc.h, got, tc.want)
		}
	}
}

// The top bit of a 64-bit length is reserved (RFC 6455 5.2): parseHeader
// keeps it, as a negative length, and validClientFrame refuses the frame.
func TestParseHeaderReservedLengthBit(t *testing.T) {
	b := []byte{0x81, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 5, 1, 2, 3, 4}
	h, n, ok := parseHeader(b)
	if !ok || n != len(b) || h.Length >= 0 {
		t.Fatalf("parseHeader = %+v, %d, %v; want a negative length", h, n, ok)
	}
	if validClientFrame(h) {
		t.Fatalf("validClientFrame(%+v) = true", h)
	}
}
