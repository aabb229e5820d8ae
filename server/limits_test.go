package server

import (
	"testing"
	"time"

	"github.com/jmsg-im/jmsg"
	"github.com/jmsg-im/jmsg/wire"
)

func TestSendRateLimit(t *testing.T) {
	ts := newTestServer(t, Config{SendPerMinute: 5})
	register(t, ts, "alice")
	register(t, ts, "bobby")
	alice, _ := login(t, ts, "alice", "")
	for i := range 5 {
		if code := alice.callCode(wire.OpSend, textSend("bobby", "c"+itoa(i), "hi")); code != 0 {
			t.Fatalf("send %d within the limit = %d", i, code)
		}
	}
	if code := alice.callCode(wire.OpSend, textSend("bobby", "c6", "one too many")); code != jmsg.ServerSendFrequencyLimit {
		t.Fatalf("send past the limit = %d, want %d", code, jmsg.ServerSendFrequencyLimit)
	}
	// Another user is not limited by alice's sends.
	bob, _ := login(t, ts, "bobby", "")
	if code := bob.callCode(wire.OpSend, textSend("alice", "b1", "hi")); code != 0 {
		t.Fatalf("bob's send = %d", code)
	}
}

func TestRequestRateLimit(t *testing.T) {
	ts := newTestServer(t, Config{RequestsPerSecond: 20})
	register(t, ts, "alice")
	alice, _ := login(t, ts, "alice", "")
	limited := 0
	for range 60 {
		if alice.callCode(wire.OpPing, struct{}{}) == jmsg.ServerFrequencyLimit {
			limited++
		}
	}
	if limited == 0 {
		t.Fatal("60 pings in a burst were never limited with 20 per second")
	}
	time.Sleep(1100 * time.Millisecond) // the window is a real second
	if code := alice.callCode(wire.OpPing, struct{}{}); code != 0 {
		t.Fatalf("ping in a new second = %d", code)
	}
}

func TestLoginFailuresAreThrottled(t *testing.T) {
	ts := newTestServer(t, Config{LoginFailuresPerMinute: 3})
	register(t, ts, "alice")
	c := dial(t, ts, "login attempts")
	c.init(ts, "")
	for i := range 3 {
		if code := c.callCode(wire.OpLogin, wire.LoginReq{Username: "alice", Password: "wrong"}); code != jmsg.TcpUserPasswordError {
			t.Fatalf("failed login %d = %d, want 801004", i, code)
		}
	}
	// Now even the right password is refused until the minute ends.
	if code := c.callCode(wire.OpLogin, wire.LoginReq{Username: "alice", Password: password}); code != jmsg.ServerFrequencyLimit {
		t.Fatalf("login after 3 failures = %d, want %d", code, jmsg.ServerFrequencyLimit)
	}
}

func TestWindowLimiter(t *testing.T) {
	l := newWindowLimiter(2, time.Minute)
	t0 := time.Now()
	if !l.allow("k", t0) || !l.allow("k", t0) || l.allow("k", t0) {
		t.Fatal("allow: want two allowed then refused")
	}
	if !l.exceeded("k", t0) || l.exceeded("other", t0) {
		t.Fatal("exceeded: wrong")
	}
	if !l.allow("k", t0.Add(time.Minute)) {
		t.Fatal("a new window must allow again")
	}
	l.sweep(t0.Add(3 * time.Minute))
	if len(l.windows) != 0 {
		t.Fatalf("sweep left %d windows", len(l.windows))
	}
}
