package server

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/jmsg-im/jmsg"
	"github.com/jmsg-im/jmsg/wire"
)

// TestBadInput sends one bad frame after another on a logged-in
// connection: each gets an error frame with a code, the connection stays
// usable, and other connections are unaffected.
func TestBadInput(t *testing.T) {
	ts := newTestServer(t, Config{})
	for _, u := range []string{"alice", "bobby", "carol"} {
		register(t, ts, u)
	}
	alice, _ := login(t, ts, "alice", "")
	bob, _ := login(t, ts, "bobby", "")
	carol, _ := login(t, ts, "carol", "")

	tests := []struct {
		name     string
		typ      websocket.MessageType
		frame    string
		wantOp   string
		wantID   uint64
		wantCode int
	}{
		{"malformed JSON", websocket.MessageText, `{"op":"ping","id":`, wire.OpError, 0, jmsg.ServerInvalidRequest},
		{"truncated, id salvaged", websocket.MessageText, `{"op":"ping","id":42,`, wire.OpError, 42, jmsg.ServerInvalidRequest},
		{"truncated in the data, id salvaged", websocket.MessageText, `{"op":"send","id":43,"data":{"cid":"x","content":{"text":"cut`, wire.OpError, 43, jmsg.ServerInvalidRequest},
		{"truncated in the id", websocket.MessageText, `{"op":"ping","id":44`, wire.OpError, 0, jmsg.ServerInvalidRequest},
		{"not JSON", websocket.MessageText, `ping`, wire.OpError, 0, jmsg.ServerInvalidRequest},
		{"empty", websocket.MessageText, ``, wire.OpError, 0, jmsg.ServerInvalidRequest},
		{"unknown op", websocket.MessageText, `{"op":"teleport","id":101}`, "teleport", 101, jmsg.ServerInvalidRequest},
		{"oversize", websocket.MessageText, `{"op":"ping","id":102,"data":{"pad":"` + strings.Repeat("x", 17<<10) + `"}}`, wire.OpError, 0, jmsg.ServerMessageTooLong},
		{"much oversize", websocket.MessageText, strings.Repeat(" ", 1<<20), wire.OpError, 0, jmsg.ServerMessageTooLong},
		{"invalid UTF-8", websocket.MessageText, "{\"op\":\"ping\",\"id\":103,\"data\":{\"x\":\"\xc3\x28\"}}", wire.OpError, 0, jmsg.ServerInvalidRequest},
		{"wrong field type", websocket.MessageText, `{"op":"user_info","id":104,"data":{"usernames":"bobby"}}`, wire.OpUserInfo, 104, jmsg.ServerInvalidRequest},
		{"username a number", websocket.MessageText, `{"op":"login","id":105,"data":{"username":5}}`, wire.OpLogin, 105, jmsg.ServerInvalidRequest},
		{"op a number, id salvaged", websocket.MessageText, `{"op":5,"id":106}`, wire.OpError, 106, jmsg.ServerInvalidRequest},
		{"data not an object", websocket.MessageText, `{"op":"ping","id":107,"data":[1,2]}`, wire.OpPing, 107, jmsg.ServerInvalidRequest},
		{"trailing data", websocket.MessageText, `{"op":"ping","id":108}{"op":"ping","id":109}`, wire.OpPing, 108, jmsg.ServerInvalidRequest},
		{"binary frame", websocket.MessageBinary, `{"op":"ping","id":110}`, wire.OpError, 0, jmsg.ServerInvalidRequest},
		{"no id", websocket.MessageText, `{"op":"ping"}`, wire.OpPing, 0, jmsg.ServerInvalidRequest},
		{"missing op", websocket.MessageText, `{"id":111}`, wire.OpError, 111, jmsg.ServerInvalidRequest},
		{"send content not a document", websocket.MessageText, `{"op":"send","id":112,"data":{"cid":"x","content":"hi"}}`, wire.OpSend, 112, jmsg.ServerMessageContentJSONError},
	}
	for i, tc := range tests {
		alice.write(tc.typ, []byte(tc.frame))
		f := alice.readFrame()
		if f.Op != tc.wantOp || f.ID != tc.wantID || f.Code != tc.wantCode {
			t.Errorf("%s: answered (op %q, id %d, code %d %q), want (op %q, id %d, code %d)",
				tc.name, f.Op, f.ID, f.Code, f.Message, tc.wantOp, tc.wantID, tc.wantCode)
		}
		if f.Message == "" || f.Message != jmsg.MessageOf(f.Code) {
			t.Errorf("%s: message %q, want the table's %q", tc.name, f.Message, jmsg.MessageOf(f.Code))
		}
		if got := alice.callCode(wire.OpPing, nil); got != 0 {
			t.Fatalf("%s: ping afterwards code = %d, want 0", tc.name, got)
		}
		// Another connection's traffic goes on.
		cid := "ok-" + string(rune('a'+i))
		r := bob.send("carol", cid, tc.name)
		p := carol.nextMsg()
		if p.Message.MsgID != r.MsgID {
			t.Errorf("%s: carol got msg %d, want %d", tc.name, p.Message.MsgID, r.MsgID)
		}
	}
	// The session is still logged in and can send.
	r := alice.send("bobby", "after", "still here")
	if p := bob.nextMsg(); p.Message.MsgID != r.MsgID {
		t.Errorf("bob got msg %d after alice's bad input, want %d", p.Message.MsgID, r.MsgID)
	}
}

// TestLargestFrame checks the frame limit from both sides: a frame of
// exactly MaxFrameBytes is served, one byte more is refused.
func TestLargestFrame(t *testing.T) {
	ts := newTestServer(t, Config{MaxFrameBytes: 1024})
	c := dial(t, ts, "client")
	c.init(ts, "")
	frame := func(n int) []byte {
		head := `{"op":"ping","id":7,"data":{"pad":"`
		tail := `"}}`
		return []byte(head + strings.Repeat("x", n-len(head)-len(tail)) + tail)
	}
	c.write(websocket.MessageText, frame(1024))
	if f := c.readFrame(); f.ID != 7 || f.Code != 0 {
		t.Errorf("frame of 1024 bytes answered %+v, want ping response", f)
	}
	c.write(websocket.MessageText, frame(1025))
	if f := c.readFrame(); f.Code != jmsg.ServerMessageTooLong {
		t.Errorf("frame of 1025 bytes answered %+v, want code %d", f, jmsg.ServerMessageTooLong)
	}
	if got := c.callCode(wire.OpPing, nil); got != 0 {
		t.Errorf("ping after an oversize frame code = %d", got)
	}
}

// TestKick checks that a login on a platform ends the session of the same
// user on that platform (event 1, then the connection closes) and leaves
// the sessions of other platforms alone.
func TestKick(t *testing.T) {
	ts := newTestServer(t, Config{})
	register(t, ts, "alice")
	register(t, ts, "bobby")
	bob, _ := login(t, ts, "bobby", "")

	first, _ := login(t, ts, "alice", wire.PlatformAndroid)
	second, resp := login(t, ts, "alice", wire.PlatformAndroid)
	var kickedFlag bool
	for _, d := range resp.Devices {
		if d.Platform == wire.PlatformAndroid {
			kickedFlag = d.Kicked
		}
	}
	if !kickedFlag {
		t.Errorf("second login devices = %+v, want platform a flagged as kicked", resp.Devices)
	}

	frames, err := first.waitClosed()
	if len(frames) != 1 || frames[0].Op != wire.OpEvent {
		t.Fatalf("kicked session got %+v before closing, want one event", frames)
	}
	var ev wire.EventPush
	if err := json.Unmarshal(frames[0].Data, &ev); err != nil || ev.EventType != wire.EventLoginKicked || ev.CTimeMs == 0 {
		t.Errorf("kick event = %s (%v), want event_type %d with a time", frames[0].Data, err, wire.EventLoginKicked)
	}
	// The event is followed by a close handshake, not a dropped socket.
	var ce websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != websocket.StatusNormalClosure || ce.Reason != "login kicked" {
		t.Errorf("kicked connection ended with %v, want a close frame with status 1000 and reason %q", err, "login kicked")
	}

	// A login on another platform kicks nobody.
	third, resp := login(t, ts, "alice", wire.PlatformIOS)
	for _, d := range resp.Devices {
		if d.Kicked {
			t.Errorf("login on platform i flagged %+v as kicked", d)
		}
		if d.Platform == wire.PlatformAndroid && !d.Online {
			t.Errorf("login on platform i reports platform a offline: %+v", d)
		}
	}
	r := bob.send("alice", "m1", "to both")
	for _, c := range []*rawClient{second, third} {
		if p := c.nextMsg(); p.Message.MsgID != r.MsgID {
			t.Errorf("%s got msg %d, want %d", c.name, p.Message.MsgID, r.MsgID)
		}
		if got := c.callCode(wire.OpPing, nil); got != 0 {
			t.Errorf("%s ping code = %d, want 0", c.name, got)
		}
	}
}

// TestKickedConnection checks what a kicked connection may still do before
// it closes: a login is refused with 800013 (user logout), as is every
// request that needs a session. The kick and the close race with these
// requests on the wire, so the handlers are called directly.
func TestKickedConnection(t *testing.T) {
	ts := newTestServer(t, Config{})
	register(t, ts, "alice")
	for _, uid := range []int64{0, 1} { // kicked during or after its login
		// writing: no writer starts (there is no socket); frames stay in q.
		c := &conn{s: ts.srv, ctx: t.Context(), appKey: ts.appKey, platform: wire.PlatformAndroid, uid: uid, writing: true}
		c.kicked.Store(true)
		if c.loggedIn() {
			t.Errorf("uid %d: a kicked connection reports itself logged in", uid)
		}
		data, _ := json.Marshal(wire.LoginReq{Username: "alice", Password: password})
		_, err := handleLogin(c, &wire.Frame{Op: wire.OpLogin, ID: 1, Data: data})
		if got := jmsg.CodeOf(err); got != jmsg.TcpUserOfflineState {
			t.Errorf("uid %d: login on a kicked connection = %v (code %d), want %d", uid, err, got, jmsg.TcpUserOfflineState)
		}
		if c.uid != uid || c.tokenHash != nil {
			t.Errorf("uid %d: the refused login changed the session to uid %d", uid, c.uid)
		}
		c.dispatch(&wire.Frame{Op: wire.OpMyInfo, ID: 2})
		var f wire.Frame
		if len(c.q) == 0 {
			t.Fatalf("uid %d: my_info on a kicked connection queued nothing", uid)
		}
		if err := json.Unmarshal(c.q[len(c.q)-1], &f); err != nil || f.ID != 2 || f.Code != jmsg.TcpUserOfflineState {
			t.Errorf("uid %d: my_info on a kicked connection = %+v (%v), want code %d", uid, f, err, jmsg.TcpUserOfflineState)
		}
	}
}

// TestClientClose checks that the server completes a close handshake the
// client starts.
func TestClientClose(t *testing.T) {
	ts := newTestServer(t, Config{})
	register(t, ts, "alice")
	ws := dialWS(t, ts, nil)
	stalledLogin(t, ts, ws, "alice", "")
	done := make(chan error, 1)
	go func() { done <- ws.Close(websocket.StatusNormalClosure, "bye") }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Close() = %v, want the server to answer the close frame", err)
		}
	case <-time.After(waitTimeout):
		t.Fatalf("Close() did not return within %v", waitTimeout)
	}
	// The session is gone: a new login on the same platform kicks nobody.
	_, resp := login(t, ts, "alice", "")
	for _, d := range resp.Devices {
		if d.Kicked || d.Online {
			t.Errorf("login after the client closed reports %+v", d)
		}
	}
}

// TestServerClose checks that Close ends connections and that a request
// racing with it neither hangs nor gets a wrong answer.
func TestServerClose(t *testing.T) {
	ts := newTestServer(t, Config{})
	register(t, ts, "alice")
	register(t, ts, "bobby")
	alice, _ := login(t, ts, "alice", "")
	bob, _ := login(t, ts, "bobby", "")
	r := alice.send("bobby", "before", "before close")
	if p := bob.nextMsg(); p.Message.MsgID != r.MsgID {
		t.Fatalf("bob got %d, want %d", p.Message.MsgID, r.MsgID)
	}
	id := alice.request(wire.OpSend, textSend("bobby", "during", "during close"))
	if err := ts.srv.Close(); err != nil {
		t.Errorf("Close() = %v", err)
	}
	frames, _ := alice.waitClosed()
	for _, f := range frames {
		if f.ID == id && f.Code != 0 && f.Code != jmsg.ServerSendSystemError {
			t.Errorf("the send racing with Close was answered %+v", f)
		}
	}
	bob.waitClosed()
	// Every message that was answered is stored.
	var answered []int64
	for _, f := range append(alice.stash, frames...) {
		if f.ID == id && f.Code == 0 {
			var resp wire.SendResp
			json.Unmarshal(f.Data, &resp)
			answered = append(answered, resp.MsgID)
		}
	}
	msgs, _, err := ts.st.History(t.Context(), ts.appKey, r.ConvID, 0, 0, 10)
	if err != nil || len(msgs) < 1+len(answered) || msgs[0].MsgID != r.MsgID {
		t.Errorf("History() after Close = %+v, %v; want msg %d and the answered %v", msgs, err, r.MsgID, answered)
	}
	// New connections are refused while and after closing.
	_, resp, err := websocket.Dial(t.Context(), ts.url, &websocket.DialOptions{Subprotocols: []string{wire.Subprotocol}})
	if err == nil || resp == nil || resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("dialing a closed server = %v (response %v), want 503", err, resp)
	}
}

// TestStalledReader checks that a connection that stops reading is dropped
// once its send queue fills, at once and without a close frame, while every
// other session keeps receiving.
func TestStalledReader(t *testing.T) {
	// The send queue is at least two commits' worth of pushes: small
	// commits keep it small.
	ts := newTestServer(t, Config{SendQueue: 8, CommitBatchMax: 4, WriteTimeout: time.Minute})
	if ts.srv.cfg.SendQueue != 8 {
		t.Fatalf("SendQueue = %d, want 8", ts.srv.cfg.SendQueue)
	}
	register(t, ts, "alice")
	register(t, ts, "bobby")
	register(t, ts, "carol")
	alice, _ := login(t, ts, "alice", "")
	live, _ := login(t, ts, "bobby", wire.PlatformIOS)
	carol, _ := login(t, ts, "carol", "")

	// bob's Android session logs in and then never reads again.
	stalled := dialWS(t, ts, nil)
	stalledLogin(t, ts, stalled, "bobby", wire.PlatformAndroid)

	text := strings.Repeat("x", 3500)
	const window = 4 // sends in flight: at most this many pushes per commit
	sent, liveSeq := 0, int64(0)
	// Filling the socket buffers takes a few MB; on a loaded machine that
	// can take a while, so the bound is on messages, with a generous clock.
	deadline := time.Now().Add(2 * time.Minute)
	for ts.srv.metrics.slowConsumers.Load() == 0 {
		if time.Now().After(deadline) || sent > 20000 {
			t.Fatalf("stalled session not dropped after %d messages", sent)
		}
		ids := make([]uint64, window)
		for i := range ids {
			sent++
			ids[i] = alice.request(wire.OpSend, textSend("bobby", "m"+itoa(sent), text))
		}
		for _, id := range ids {
			if f := alice.response(id); f.Code != 0 {
				t.Fatalf("send #%d = error %d", sent, f.Code)
			}
		}
		// The live session drains as it goes, in sequence order.
		for range window {
			liveSeq++
			if p := live.nextMsg(); p.Message.Seq != liveSeq {
				t.Fatalf("live session got seq %d, want %d", p.Message.Seq, liveSeq)
			}
		}
	}
	t.Logf("stalled session dropped after %d messages", sent)

	// Other recipients are unaffected: carol and bob's live session receive.
	r := alice.send("carol", "to-carol", "hello carol")
	if p := carol.nextMsg(); p.Message.MsgID != r.MsgID {
		t.Errorf("carol got msg %d, want %d", p.Message.MsgID, r.MsgID)
	}
	r = alice.send("bobby", "last", "hello bob")
	if p := live.nextMsg(); p.Message.MsgID != r.MsgID || p.Message.Seq != int64(sent+1) {
		t.Errorf("bob's live session got msg %d seq %d, want %d seq %d", p.Message.MsgID, p.Message.Seq, r.MsgID, sent+1)
	}

	// The stalled client, reading at last, finds the connection ended
	// before all of the messages.
	got := 0
	rctx, cancel := contextWithTimeout(t.Context(), waitTimeout)
	defer cancel()
	for {
		_, _, err := stalled.Read(rctx)
		if err != nil {
			if rctx.Err() != nil {
				t.Fatalf("stalled connection still open after reading %d frames", got)
			}
			t.Logf("stalled client: %v", err)
			if code := websocket.CloseStatus(err); code != -1 {
				t.Errorf("stalled connection ended with close status %d, want no close frame", code)
			}
			break
		}
		got++
	}
	if got >= sent+1 {
		t.Errorf("stalled connection delivered %d frames, want fewer than the %d messages sent", got, sent+1)
	}
	t.Logf("stalled client read %d frames before the end", got)
	if n := ts.srv.metrics.slowConsumers.Load(); n != 1 {
		t.Errorf("%d connections dropped as slow, want only the stalled one", n)
	}
}

// stalledLogin inits and logs in on ws, reading only the two responses.
func stalledLogin(t testing.TB, ts *testServer, ws *websocket.Conn, username, platform string) {
	t.Helper()
	ctx, cancel := contextWithTimeout(t.Context(), waitTimeout)
	defer cancel()
	for i, req := range []struct {
		op   string
		data any
	}{
		{wire.OpInit, wire.InitReq{AppKey: ts.appKey, Version: wire.Version, Platform: platform}},
		{wire.OpLogin, wire.LoginReq{Username: username, Password: password}},
	} {
		data, _ := json.Marshal(req.data)
		b, _ := wire.Encode(&wire.Frame{Op: req.op, ID: uint64(i + 1), Data: data})
		if err := ws.Write(ctx, websocket.MessageText, b); err != nil {
			t.Fatal(err)
		}
		_, resp, err := ws.Read(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var f wire.Frame
		if err := json.Unmarshal(resp, &f); err != nil || f.Code != 0 || f.ID != uint64(i+1) {
			t.Fatalf("%s: %s (%v)", req.op, resp, err)
		}
	}
}
