package server

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jmsg-im/jmsg"
	"github.com/jmsg-im/jmsg/wire"
)

// These tests speak WebSocket by hand over TCP, so that they can send what
// no WebSocket library would: frames split anywhere, pipelined, unmasked,
// fragmented around control frames, after the upgrade request in the same
// write.

// Opcodes, written out so that the client shares no code with the server.
const (
	opCont   byte = 0x0
	opText   byte = 0x1
	opBinary byte = 0x2
	opClose  byte = 0x8
	opPing   byte = 0x9
	opPong   byte = 0xa
)

// tcpClient is a hand-written WebSocket client. Its methods must be called
// from the test goroutine.
type tcpClient struct {
	t       testing.TB
	nc      *net.TCPConn
	br      *bufio.Reader
	pending []wire.Frame // frames of a batch not yet returned by next
	pongs   [][]byte     // payloads of the pongs next read on its way
}

// dialTCP connects to ts and sends the upgrade request followed by extra
// in one write, then checks the 101 response.
func dialTCP(t testing.TB, ts *testServer, extra []byte) *tcpClient {
	t.Helper()
	addr := ts.http.Listener.Addr().String()
	conn, err := net.DialTimeout("tcp", addr, waitTimeout)
	if err != nil {
		t.Fatalf("dialing %s: %v", addr, err)
	}
	nc := conn.(*net.TCPConn)
	t.Cleanup(func() { nc.Close() })
	var nonce [16]byte
	rand.Read(nonce[:])
	key := base64.StdEncoding.EncodeToString(nonce[:])
	req := "GET /v1/ws HTTP/1.1\r\n" +
		"Host: " + addr + "\r\n" +
		"Upgrade: websocket\r\n" +
		"Connection: Upgrade\r\n" +
		"Sec-WebSocket-Key: " + key + "\r\n" +
		"Sec-WebSocket-Version: 13\r\n" +
		"Sec-WebSocket-Protocol: " + wire.Subprotocol + "\r\n" +
		"\r\n"
	c := &tcpClient{t: t, nc: nc, br: bufio.NewReader(nc)}
	c.write(append([]byte(req), extra...))
	nc.SetReadDeadline(time.Now().Add(waitTimeout))
	resp, err := http.ReadResponse(c.br, nil)
	if err != nil {
		t.Fatalf("reading the upgrade response: %v", err)
	}
	sum := sha1.Sum([]byte(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	accept := base64.StdEncoding.EncodeToString(sum[:])
	if resp.StatusCode != http.StatusSwitchingProtocols ||
		!strings.EqualFold(resp.Header.Get("Upgrade"), "websocket") ||
		resp.Header.Get("Sec-WebSocket-Accept") != accept ||
		resp.Header.Get("Sec-WebSocket-Protocol") != wire.Subprotocol {
		t.Fatalf("upgrade answered %s %v, want 101 with accept %q and protocol %q", resp.Status, resp.Header, accept, wire.Subprotocol)
	}
	return c
}

// write writes b in one call.
func (c *tcpClient) write(b []byte) {
	c.t.Helper()
	c.nc.SetWriteDeadline(time.Now().Add(waitTimeout))
	if _, err := c.nc.Write(b); err != nil {
		c.t.Fatalf("writing %d bytes: %v", len(b), err)
	}
}

// writeSlowly writes b in pieces of size bytes, pausing between them so
// that each piece leaves in its own TCP segment and the server reads it
// on its own.
func (c *tcpClient) writeSlowly(b []byte, size int) {
	c.t.Helper()
	for len(b) > 0 {
		k := min(size, len(b))
		c.write(b[:k])
		b = b[k:]
		time.Sleep(time.Millisecond)
	}
}

// frame returns a masked client frame.
func frame(fin bool, op byte, payload []byte) []byte {
	return rawFrame(fin, 0, op, true, payload)
}

// rawFrame returns a client frame with the RSV bits rsv, masked with a
// random key or not.
func rawFrame(fin bool, rsv, op byte, masked bool, payload []byte) []byte {
	b0 := rsv<<4 | op
	if fin {
		b0 |= 0x80
	}
	var m byte
	if masked {
		m = 0x80
	}
	b := []byte{b0}
	switch n := len(payload); {
	case n < 126:
		b = append(b, m|byte(n))
	case n <= 0xffff:
		b = binary.BigEndian.AppendUint16(append(b, m|126), uint16(n))
	default:
		b = binary.BigEndian.AppendUint64(append(b, m|127), uint64(n))
	}
	if !masked {
		return append(b, payload...)
	}
	var key [4]byte
	for key == [4]byte{} { // a zero key would hide a server that does not unmask
		rand.Read(key[:])
	}
	b = append(b, key[:]...)
	for i, p := range payload {
		b = append(b, p^key[i%4])
	}
	return b
}

// text returns a masked, final text frame.
func text(payload []byte) []byte { return frame(true, opText, payload) }

// closeBody returns the payload of a close frame.
func closeBody(code uint16, reason string) []byte {
	return append(binary.BigEndian.AppendUint16(nil, code), reason...)
}

// request returns the JSON of a request.
func request(t testing.TB, op string, id uint64, data any) []byte {
	t.Helper()
	f := wire.Frame{Op: op, ID: id}
	if data != nil {
		b, err := json.Marshal(data)
		if err != nil {
			t.Fatal(err)
		}
		f.Data = b
	}
	b, err := wire.Encode(&f)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// initReq returns the JSON of an init request for ts's app.
func initReq(t testing.TB, ts *testServer, id uint64) []byte {
	t.Helper()
	return request(t, wire.OpInit, id, wire.InitReq{AppKey: ts.appKey, Version: wire.Version})
}

// paddedPing returns the JSON of a ping request of exactly size bytes.
func paddedPing(id uint64, size int) []byte {
	head := `{"op":"ping","id":` + itoa(int(id)) + `,"data":{"pad":"`
	tail := `"}}`
	return []byte(head + strings.Repeat("x", size-len(head)-len(tail)) + tail)
}

// serverFrame is one frame read from the server.
type serverFrame struct {
	fin     bool
	op      byte
	payload []byte
}

// readFrame reads one frame within timeout, failing the test if the
// server breaks the framing rules for its side. The error is the read's:
// io.EOF when the server closed the socket.
func (c *tcpClient) readFrame(timeout time.Duration) (serverFrame, error) {
	c.t.Helper()
	c.nc.SetReadDeadline(time.Now().Add(timeout))
	var hdr [2]byte
	if _, err := io.ReadFull(c.br, hdr[:]); err != nil {
		return serverFrame{}, err
	}
	f := serverFrame{fin: hdr[0]&0x80 != 0, op: hdr[0] & 0x0f}
	if rsv := hdr[0] & 0x70; rsv != 0 {
		c.t.Fatalf("server frame % x has RSV bits set", hdr)
	}
	if hdr[1]&0x80 != 0 {
		c.t.Fatalf("server frame % x is masked", hdr)
	}
	n := uint64(hdr[1] & 0x7f)
	switch n {
	case 126:
		var b [2]byte
		if _, err := io.ReadFull(c.br, b[:]); err != nil {
			return serverFrame{}, err
		}
		n = uint64(binary.BigEndian.Uint16(b[:]))
	case 127:
		var b [8]byte
		if _, err := io.ReadFull(c.br, b[:]); err != nil {
			return serverFrame{}, err
		}
		n = binary.BigEndian.Uint64(b[:])
	}
	if n > 1<<24 {
		c.t.Fatalf("server frame of %d bytes", n)
	}
	f.payload = make([]byte, n)
	if _, err := io.ReadFull(c.br, f.payload); err != nil {
		return serverFrame{}, err
	}
	return f, nil
}

// next returns the next protocol frame, taking batches apart. Pongs read
// on the way are kept in c.pongs; anything else but a final text frame
// fails the test.
func (c *tcpClient) next() wire.Frame {
	c.t.Helper()
	for len(c.pending) == 0 {
		sf, err := c.readFrame(waitTimeout)
		if err != nil {
			c.t.Fatalf("reading a frame: %v", err)
		}
		switch {
		case sf.op == opPong && sf.fin:
			c.pongs = append(c.pongs, sf.payload)
			continue
		case sf.op != opText || !sf.fin:
			c.t.Fatalf("got frame (fin %v, opcode %d, payload %q), want a final text frame", sf.fin, sf.op, sf.payload)
		}
		parts, err := wire.SplitBatch(sf.payload)
		if err != nil {
			c.t.Fatalf("batch %q: %v", sf.payload, err)
		}
		for _, p := range parts {
			var f wire.Frame
			if err := json.Unmarshal(p, &f); err != nil {
				c.t.Fatalf("server sent a frame that is not JSON: %q", p)
			}
			c.pending = append(c.pending, f)
		}
	}
	f := c.pending[0]
	c.pending = c.pending[1:]
	return f
}

// expectResponse reads the next protocol frame and fails the test unless
// it is the successful response to request id of op.
func (c *tcpClient) expectResponse(op string, id uint64) wire.Frame {
	c.t.Helper()
	f := c.next()
	if f.Op != op || f.ID != id || f.Code != 0 {
		c.t.Fatalf("got frame (op %q, id %d, code %d %q, data %s), want the response to %s %d", f.Op, f.ID, f.Code, f.Message, f.Data, op, id)
	}
	return f
}

// expectError reads the next protocol frame and fails the test unless it
// is an error frame (op "error", no id) with code.
func (c *tcpClient) expectError(code int) {
	c.t.Helper()
	f := c.next()
	if f.Op != wire.OpError || f.ID != 0 || f.Code != code || f.Message != jmsg.MessageOf(code) {
		c.t.Fatalf("got frame (op %q, id %d, code %d %q, data %s), want an error frame with code %d %q",
			f.Op, f.ID, f.Code, f.Message, f.Data, code, jmsg.MessageOf(code))
	}
}

// init sends an init request and reads its response.
func (c *tcpClient) init(ts *testServer) {
	c.t.Helper()
	c.write(text(initReq(c.t, ts, 1)))
	c.expectResponse(wire.OpInit, 1)
}

// expectClose reads the server's next frame, which must be a close frame,
// and returns its code and reason.
func (c *tcpClient) expectClose() (uint16, string) {
	c.t.Helper()
	if len(c.pending) > 0 {
		c.t.Fatalf("got %+v, want a close frame", c.pending)
	}
	sf, err := c.readFrame(waitTimeout)
	if err != nil {
		c.t.Fatalf("reading the close frame: %v", err)
	}
	if sf.op != opClose || !sf.fin || len(sf.payload) < 2 {
		c.t.Fatalf("got frame (fin %v, opcode %d, payload %q), want a close frame with a code", sf.fin, sf.op, sf.payload)
	}
	return binary.BigEndian.Uint16(sf.payload), string(sf.payload[2:])
}

// expectEOF fails the test unless the server closes the socket within
// timeout with nothing more sent.
func (c *tcpClient) expectEOF(timeout time.Duration) {
	c.t.Helper()
	start := time.Now()
	sf, err := c.readFrame(timeout)
	switch {
	case err == nil:
		c.t.Fatalf("got frame (fin %v, opcode %d, payload %q), want the socket closed", sf.fin, sf.op, sf.payload)
	case !errors.Is(err, io.EOF):
		c.t.Fatalf("reading after the close handshake: %v after %v, want EOF within %v", err, time.Since(start).Round(time.Millisecond), timeout)
	}
}

// waitConnections waits until the server counts want connections.
func waitConnections(t testing.TB, ts *testServer, want int64, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		got := ts.srv.metrics.connections.Load()
		if got == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("connections = %d after %v, want %d", got, within, want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestFramesSplitWrites sends requests one byte per TCP write: the server
// puts frames together from whatever pieces the socket gives.
func TestFramesSplitWrites(t *testing.T) {
	ts := newTestServer(t, Config{})
	c := dialTCP(t, ts, nil)
	// A 16-bit length, whose header alone spans four reads.
	big := paddedPing(3, 300)
	c.writeSlowly(append(append(text(initReq(t, ts, 1)), text(request(t, wire.OpPing, 2, nil))...), text(big)...), 1)
	c.expectResponse(wire.OpInit, 1)
	c.expectResponse(wire.OpPing, 2)
	c.expectResponse(wire.OpPing, 3)
}

// TestFramesPipelined sends many requests in one TCP write: each is
// answered, in order.
func TestFramesPipelined(t *testing.T) {
	ts := newTestServer(t, Config{})
	c := dialTCP(t, ts, nil)
	const n = 50
	b := text(initReq(t, ts, 1))
	for id := uint64(2); id <= n; id++ {
		if id%10 == 0 {
			b = append(b, text(request(t, "teleport", id, nil))...)
		} else {
			b = append(b, text(request(t, wire.OpPing, id, nil))...)
		}
	}
	c.write(b)
	c.expectResponse(wire.OpInit, 1)
	for id := uint64(2); id <= n; id++ {
		f := c.next()
		wantCode := 0
		if id%10 == 0 {
			wantCode = jmsg.ServerInvalidRequest
		}
		if f.ID != id || f.Code != wantCode {
			t.Fatalf("frame %d = (op %q, id %d, code %d), want id %d, code %d", id, f.Op, f.ID, f.Code, id, wantCode)
		}
	}
}

// TestFramesWithUpgrade sends frames in the same write as the upgrade
// request: the bytes the HTTP server has already read are not lost.
func TestFramesWithUpgrade(t *testing.T) {
	ts := newTestServer(t, Config{})
	t.Run("a request", func(t *testing.T) {
		c := dialTCP(t, ts, text(initReq(t, ts, 1)))
		c.expectResponse(wire.OpInit, 1)
		c.write(text(request(t, wire.OpPing, 2, nil)))
		c.expectResponse(wire.OpPing, 2)
	})
	t.Run("two requests", func(t *testing.T) {
		c := dialTCP(t, ts, append(text(initReq(t, ts, 1)), text(request(t, wire.OpPing, 2, nil))...))
		c.expectResponse(wire.OpInit, 1)
		c.expectResponse(wire.OpPing, 2)
	})
	t.Run("part of a frame", func(t *testing.T) {
		b := text(initReq(t, ts, 1))
		for _, k := range []int{1, 4, 10} {
			c := dialTCP(t, ts, b[:k])
			time.Sleep(10 * time.Millisecond) // the rest in a later read
			c.write(b[k:])
			c.expectResponse(wire.OpInit, 1)
		}
	})
	t.Run("a ping", func(t *testing.T) {
		c := dialTCP(t, ts, frame(true, opPing, []byte("early")))
		c.init(ts)
		if len(c.pongs) != 1 || string(c.pongs[0]) != "early" {
			t.Errorf("pongs = %q, want one with payload %q", c.pongs, "early")
		}
	})
}

// TestFramesFragmented sends a request as a fragmented message with a ping
// between its fragments: it is answered as one request and the ping gets a
// pong with its payload.
func TestFramesFragmented(t *testing.T) {
	ts := newTestServer(t, Config{})
	req := paddedPing(7, 400)
	ping := []byte("ping-payload-42")
	// Split inside the JSON, so that no fragment alone is a request.
	msg := bytes.Join([][]byte{
		frame(false, opText, req[:5]),
		frame(false, opCont, req[5:200]), // a 16-bit length
		frame(true, opPing, ping),
		frame(false, opCont, nil),
		frame(true, opCont, req[200:]),
	}, nil)
	tests := []struct {
		name  string
		piece int // bytes per write; 0 for one write
	}{
		{"one write", 0},
		{"a byte per write", 1},
		{"7 bytes per write", 7},
		{"100 bytes per write", 100},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := dialTCP(t, ts, nil)
			c.init(ts)
			if tc.piece == 0 {
				c.write(msg)
			} else {
				c.writeSlowly(msg, tc.piece)
			}
			c.expectResponse(wire.OpPing, 7)
			if len(c.pongs) != 1 || !bytes.Equal(c.pongs[0], ping) {
				t.Errorf("pongs = %q, want one with payload %q", c.pongs, ping)
			}
			// Nothing else came of the fragments.
			c.write(text(request(t, wire.OpPing, 8, nil)))
			c.expectResponse(wire.OpPing, 8)
		})
	}
	// One frame's payload arrives in two reads, the others whole.
	frags := [][]byte{
		frame(false, opText, req[:150]),
		frame(false, opCont, req[150:300]),
		frame(true, opPing, ping),
		frame(true, opCont, req[300:]),
	}
	for i, name := range []string{"first fragment", "middle fragment", "ping", "last fragment"} {
		t.Run(name+" split in its payload", func(t *testing.T) {
			c := dialTCP(t, ts, nil)
			c.init(ts)
			var before, after []byte
			for j, f := range frags {
				switch {
				case j < i:
					before = append(before, f...)
				case j == i:
					before = append(before, f[:len(f)-5]...) // the whole header and part of the payload
					after = append(after, f[len(f)-5:]...)
				default:
					after = append(after, f...)
				}
			}
			c.write(before)
			time.Sleep(20 * time.Millisecond) // let the server read the first part on its own
			c.write(after)
			c.expectResponse(wire.OpPing, 7)
			if len(c.pongs) != 1 || !bytes.Equal(c.pongs[0], ping) {
				t.Errorf("pongs = %q, want one with payload %q", c.pongs, ping)
			}
		})
	}
	t.Run("fragments in separate writes", func(t *testing.T) {
		c := dialTCP(t, ts, nil)
		c.init(ts)
		c.write(frame(false, opText, req[:100]))
		c.write(frame(true, opPing, ping))
		if sf, err := c.readFrame(waitTimeout); err != nil || sf.op != opPong || !bytes.Equal(sf.payload, ping) {
			t.Fatalf("ping during a message answered (%+v, %v), want a pong with payload %q", sf, err, ping)
		}
		c.write(frame(true, opCont, req[100:]))
		c.expectResponse(wire.OpPing, 7)
	})
}

// TestFramesTooLong sends messages over MaxFrameBytes: each is discarded
// with one error frame, and the request after it is answered.
func TestFramesTooLong(t *testing.T) {
	const max = 1024
	ts := newTestServer(t, Config{MaxFrameBytes: max})
	over := paddedPing(50, 2000)
	ping := []byte("between")
	tests := []struct {
		name  string
		msg   []byte
		piece int // bytes per write; 0 for one write
		pongs int
	}{
		{"one frame", text(over), 0, 0},
		{"one frame, 64-bit length", text(paddedPing(50, 70000)), 0, 0},
		{"one frame, 100 bytes per write", text(over), 100, 0},
		{"one byte over", text(paddedPing(50, max+1)), 0, 0},
		{"fragments each within the limit", append(frame(false, opText, over[:600]), frame(true, opCont, over[600:1200])...), 0, 0},
		{"first fragment over the limit", append(frame(false, opText, over), frame(true, opCont, []byte("}"))...), 0, 0},
		{"three fragments", bytes.Join([][]byte{
			frame(false, opText, over[:400]), frame(false, opCont, over[400:1100]), frame(true, opCont, over[1100:1500]),
		}, nil), 0, 0},
		{"ping between discarded fragments", bytes.Join([][]byte{
			frame(false, opText, over[:1000]), frame(false, opCont, over[1000:1100]), frame(true, opPing, ping), frame(true, opCont, over[1100:]),
		}, nil), 0, 1},
		{"fragments each within the limit, 100 bytes per write", append(frame(false, opText, over[:600]), frame(true, opCont, over[600:1200])...), 100, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := dialTCP(t, ts, nil)
			c.init(ts)
			// The next request follows the message's last byte in the
			// same write: the discarding stops exactly there.
			b := append(bytes.Clone(tc.msg), text(request(t, wire.OpPing, 2, nil))...)
			if tc.piece == 0 {
				c.write(b)
			} else {
				c.writeSlowly(b, tc.piece)
			}
			c.expectError(jmsg.ServerMessageTooLong)
			c.expectResponse(wire.OpPing, 2)
			if len(c.pongs) != tc.pongs {
				t.Errorf("%d pongs, want %d", len(c.pongs), tc.pongs)
			}
			// A message of the largest size is still served.
			c.write(text(paddedPing(3, max)))
			c.expectResponse(wire.OpPing, 3)
		})
	}
}

// TestFramesProtocolError sends frames that break RFC 6455: the server
// closes with 1002 and ends the socket once the client answers the close.
func TestFramesProtocolError(t *testing.T) {
	ts := newTestServer(t, Config{})
	ping := request(t, wire.OpPing, 2, nil)
	tests := []struct {
		name string
		b    []byte
	}{
		{"unmasked frame", rawFrame(true, 0, opText, false, ping)},
		{"continuation without a message", frame(true, opCont, ping)},
		{"non-final continuation without a message", frame(false, opCont, ping)},
		{"text frame during a fragmented message", append(frame(false, opText, ping[:5]), text(ping)...)},
		{"binary frame during a fragmented message", append(frame(false, opText, ping[:5]), frame(true, opBinary, ping)...)},
		{"RSV1 set", rawFrame(true, 4, opText, true, ping)},
		{"reserved opcode", frame(true, 0x3, ping)},
		{"ping of 126 bytes", frame(true, opPing, bytes.Repeat([]byte("p"), 126))},
		{"non-final ping", frame(false, opPing, nil)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := ts.srv.metrics.connections.Load()
			c := dialTCP(t, ts, nil)
			c.init(ts)
			c.write(tc.b)
			if code, reason := c.expectClose(); code != 1002 {
				t.Errorf("close code %d %q, want 1002", code, reason)
			}
			c.write(frame(true, opClose, closeBody(1002, "")))
			c.expectEOF(closeTimeout / 2) // not the server's wait for a silent client
			waitConnections(t, ts, before, 2*time.Second)
		})
	}
	t.Run("client does not answer the close", func(t *testing.T) {
		before := ts.srv.metrics.connections.Load()
		c := dialTCP(t, ts, nil)
		c.init(ts)
		c.write(rawFrame(true, 0, opText, false, ping))
		if code, reason := c.expectClose(); code != 1002 {
			t.Errorf("close code %d %q, want 1002", code, reason)
		}
		c.expectEOF(closeTimeout + 3*time.Second)
		waitConnections(t, ts, before, 2*time.Second)
	})
}

// TestFramesClientClose sends close frames: the server echoes the code and
// closes the socket.
func TestFramesClientClose(t *testing.T) {
	ts := newTestServer(t, Config{})
	tests := []struct {
		name     string
		body     []byte
		wantCode uint16
	}{
		{"code 4000", closeBody(4000, ""), 4000},
		{"code and reason", closeBody(4001, "bye"), 4001},
		{"normal closure", closeBody(1000, ""), 1000},
		{"no code", nil, 1000},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := ts.srv.metrics.connections.Load()
			c := dialTCP(t, ts, nil)
			c.init(ts)
			c.write(frame(true, opClose, tc.body))
			if code, reason := c.expectClose(); code != tc.wantCode {
				t.Errorf("close(% x) echoed code %d %q, want %d", tc.body, code, reason, tc.wantCode)
			}
			c.expectEOF(2 * time.Second)
			waitConnections(t, ts, before, 2*time.Second)
		})
	}
	t.Run("after a pipelined request", func(t *testing.T) {
		c := dialTCP(t, ts, nil)
		c.init(ts)
		c.write(append(text(request(t, wire.OpPing, 2, nil)), frame(true, opClose, closeBody(4000, ""))...))
		// The response may or may not have left before the close; the
		// close frame is the last thing sent.
		for {
			sf, err := c.readFrame(waitTimeout)
			if err != nil {
				t.Fatalf("reading: %v, want a close frame", err)
			}
			if sf.op == opClose {
				if code := binary.BigEndian.Uint16(sf.payload); code != 4000 {
					t.Errorf("close code %d, want 4000", code)
				}
				break
			}
		}
		c.expectEOF(2 * time.Second)
	})
}

// TestFramesKicked checks the close handshake the server starts: a kicked
// session gets the event and a close frame 1000, and the socket stays open
// until the client answers it.
func TestFramesKicked(t *testing.T) {
	ts := newTestServer(t, Config{})
	register(t, ts, "alice")
	waitConnections(t, ts, 0, 2*time.Second)
	c := dialTCP(t, ts, nil)
	c.init(ts)
	c.write(text(request(t, wire.OpLogin, 2, wire.LoginReq{Username: "alice", Password: password})))
	c.expectResponse(wire.OpLogin, 2)
	login(t, ts, "alice", "")
	if f := c.next(); f.Op != wire.OpEvent {
		t.Fatalf("got frame (op %q, id %d, data %s), want the login kicked event", f.Op, f.ID, f.Data)
	}
	if code, reason := c.expectClose(); code != 1000 || reason != "login kicked" {
		t.Errorf("close %d %q, want 1000 %q", code, reason, "login kicked")
	}
	// The server waits for the client's close frame.
	if sf, err := c.readFrame(300 * time.Millisecond); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("read after the server's close = (%+v, %v), want nothing (a timeout)", sf, err)
	}
	c.write(frame(true, opClose, closeBody(1000, "")))
	c.expectEOF(2 * time.Second)
	waitConnections(t, ts, 1, 2*time.Second) // the second login's
}

// TestFramesAbruptClose ends TCP connections without a close frame: the
// server forgets them within a couple of seconds.
func TestFramesAbruptClose(t *testing.T) {
	ts := newTestServer(t, Config{})
	tests := []struct {
		name  string
		after []byte // sent before the socket is closed
		reset bool   // close with RST rather than FIN
	}{
		{"FIN", nil, false},
		{"RST", nil, true},
		{"FIN within a frame", text(paddedPing(2, 500))[:100], false},
		{"RST within a frame", text(paddedPing(2, 500))[:100], true},
		{"FIN within a fragmented message", frame(false, opText, []byte(`{"op":`)), false},
		{"FIN within an over-long frame", text(paddedPing(2, 20000))[:5000], false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := ts.srv.metrics.connections.Load()
			c := dialTCP(t, ts, nil)
			c.init(ts)
			if got := ts.srv.metrics.connections.Load(); got != before+1 {
				t.Fatalf("connections = %d with the client connected, want %d", got, before+1)
			}
			if tc.after != nil {
				c.write(tc.after)
				time.Sleep(20 * time.Millisecond) // let the server read it first
			}
			if tc.reset {
				c.nc.SetLinger(0)
			}
			c.nc.Close()
			waitConnections(t, ts, before, 2*time.Second)
		})
	}
}

// TestFramesBinary sends binary messages: each gets an error frame and the
// connection goes on.
func TestFramesBinary(t *testing.T) {
	ts := newTestServer(t, Config{})
	ping := request(t, wire.OpPing, 5, nil)
	tests := []struct {
		name string
		b    []byte
	}{
		{"binary frame", frame(true, opBinary, ping)},
		{"empty binary frame", frame(true, opBinary, nil)},
		{"fragmented binary message", append(frame(false, opBinary, ping[:4]), frame(true, opCont, ping[4:])...)},
	}
	c := dialTCP(t, ts, nil)
	c.init(ts)
	for i, tc := range tests {
		id := uint64(10 + i)
		c.write(tc.b)
		c.expectError(jmsg.ServerInvalidRequest)
		c.write(text(request(t, wire.OpPing, id, nil)))
		c.expectResponse(wire.OpPing, id)
	}
}
