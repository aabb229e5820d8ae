package e2e

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jmsg-im/jmsg"
	"github.com/jmsg-im/jmsg/client"
	"github.com/jmsg-im/jmsg/wire"
)

func TestSecondLoginOnSamePlatformKicksFirst(t *testing.T) {
	d := startDaemon(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	first := newClient(t, d, wire.PlatformAndroid)
	registerAndLogin(t, first, "alice")
	firstEvents := collect(t, first)

	// A login on another platform does not kick.
	pc := newClient(t, d, wire.PlatformWindows)
	if err := pc.Login(ctx, "alice", "secret-alice"); err != nil {
		t.Fatal(err)
	}
	second := newClient(t, d, wire.PlatformAndroid)
	if err := second.Login(ctx, "alice", "secret-alice"); err != nil {
		t.Fatal(err)
	}
	ev := next[client.LoginStateChanged](t, firstEvents, 20*time.Second)
	if ev.Reason != client.LoginKicked {
		t.Fatalf("first session ended with reason %d, want %d (kicked)", ev.Reason, client.LoginKicked)
	}
	_, err := first.CreateSingleConversation(ctx, "alice")
	var je *jmsg.Error
	if !errors.As(err, &je) || je.Code != jmsg.SDKUserNotLogin {
		t.Fatalf("call on kicked client = %v, want 863004", err)
	}
	// The PC session and the new Android session still work.
	for _, c := range []*client.Client{pc, second} {
		if _, err := c.UserInfo(ctx, "alice"); err != nil {
			t.Fatalf("UserInfo on a surviving session = %v", err)
		}
	}
	// The kicked client can log in again (kicking the second one).
	if err := first.Login(ctx, "alice", "secret-alice"); err != nil {
		t.Fatalf("login again after kick = %v", err)
	}
}
