package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jmsg-im/jmsg/client"
)

// TestClientReconnectsAfterServerRestart: a logged-in client whose server
// dies reconnects by itself (with its session token) and receives what was
// sent meanwhile, once.
func TestClientReconnectsAfterServerRestart(t *testing.T) {
	d := startDaemon(t)
	alice := newClient(t, d, "")
	bob := newClient(t, d, "")
	registerAndLogin(t, alice, "alice")
	registerAndLogin(t, bob, "bob01")
	events := collect(t, bob)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conv, err := alice.CreateSingleConversation(ctx, "bob01")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conv.SendText(ctx, "before", nil); err != nil {
		t.Fatal(err)
	}
	if m := next[client.MessageReceived](t, events, 20*time.Second); m.Message.Text() != "before" {
		t.Fatalf("got %q", m.Message.Text())
	}

	d.Restart()
	st := next[client.ConnStateChanged](t, events, 20*time.Second)
	if st.State != client.Disconnected {
		t.Fatalf("first state change = %v, want disconnected", st.State)
	}
	// Alice's client reconnects too; her sends fail until it has.
	var sent []string
	for i := 0; len(sent) < 5; i++ {
		if i > 500 {
			t.Fatal("alice could not send after the restart")
		}
		text := fmt.Sprintf("after %d", i)
		sctx, scancel := context.WithTimeout(ctx, 2*time.Second)
		_, err := conv.SendText(sctx, text, nil)
		scancel()
		if err == nil {
			sent = append(sent, text)
		} else {
			time.Sleep(50 * time.Millisecond)
		}
	}
	waitFor(t, "bob to hold every message", 30*time.Second, func() bool {
		return len(history(t, bob, "alice")) == 1+len(sent)
	})
	h := history(t, bob, "alice")
	for i, text := range sent {
		if h[i+1].Text() != text || h[i+1].Seq != int64(i+2) {
			t.Fatalf("bob's message %d = %q seq %d, want %q seq %d", i+1, h[i+1].Text(), h[i+1].Seq, text, i+2)
		}
	}
}
