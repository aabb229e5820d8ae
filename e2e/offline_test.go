package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jmsg-im/jmsg/client"
)

// collect gathers the client's events in the background until the test ends.
type collector struct {
	ch chan client.Event
}

func collect(t testing.TB, c *client.Client) *collector {
	col := &collector{ch: make(chan client.Event, 100000)}
	go func() {
		for e := range c.Events() {
			col.ch <- e
		}
	}()
	return col
}

// next returns the next event of type T, failing after timeout.
func next[T client.Event](t testing.TB, col *collector, timeout time.Duration) T {
	t.Helper()
	deadline := time.After(timeout)
	for {
		select {
		case e := <-col.ch:
			if v, ok := e.(T); ok {
				return v
			}
		case <-deadline:
			var zero T
			t.Fatalf("no %T event within %v", zero, timeout)
			return zero
		}
	}
}

func TestOfflineMessagesArriveOnLogin(t *testing.T) {
	d := startDaemon(t)
	alice := newClient(t, d, "")
	bob := newClient(t, d, "")
	registerAndLogin(t, alice, "alice")
	registerAndLogin(t, bob, "bob01")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := bob.Logout(ctx); err != nil {
		t.Fatal(err)
	}
	conv, err := alice.CreateSingleConversation(ctx, "bob01")
	if err != nil {
		t.Fatal(err)
	}
	const n = 30
	for i := range n {
		if _, err := conv.SendText(ctx, fmt.Sprintf("offline %d", i), nil); err != nil {
			t.Fatal(err)
		}
	}
	events := collect(t, bob)
	if err := bob.Login(ctx, "bob01", "secret-bob01"); err != nil {
		t.Fatal(err)
	}
	off := next[client.OfflineMessages](t, events, 20*time.Second)
	if off.Conversation.Target != "alice" || len(off.Messages) != n {
		t.Fatalf("offline batch: conversation %q with %d messages, want alice with %d", off.Conversation.Target, len(off.Messages), n)
	}
	for i, m := range off.Messages {
		if m.Text() != fmt.Sprintf("offline %d", i) || m.Seq != int64(i+1) {
			t.Fatalf("offline message %d = %q seq %d", i, m.Text(), m.Seq)
		}
	}
	// Online from now on: a new message arrives as MessageReceived.
	if _, err := conv.SendText(ctx, "online", nil); err != nil {
		t.Fatal(err)
	}
	got := next[client.MessageReceived](t, events, 20*time.Second)
	if got.Message.Text() != "online" || got.Message.Seq != n+1 {
		t.Fatalf("online message = %q seq %d", got.Message.Text(), got.Message.Seq)
	}
}
