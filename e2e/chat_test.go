package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jmsg-im/jmsg"
	"github.com/jmsg-im/jmsg/client"
)

// history returns every message of the single conversation with peer,
// oldest first.
func history(t testing.TB, c *client.Client, peer string) []*client.Message {
	t.Helper()
	conv, err := c.Conversation(jmsg.ConversationSingle, peer)
	if err != nil {
		t.Fatalf("Conversation(%q) = %v", peer, err)
	}
	ms, err := conv.Messages(0, 10000)
	if err != nil {
		t.Fatal(err)
	}
	for i, j := 0, len(ms)-1; i < j; i, j = i+1, j-1 {
		ms[i], ms[j] = ms[j], ms[i]
	}
	return ms
}

func TestTwoClientsExchangeText(t *testing.T) {
	d := startDaemon(t)
	alice := newClient(t, d, "")
	bob := newClient(t, d, "")
	registerAndLogin(t, alice, "alice")
	registerAndLogin(t, bob, "bob01")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	toBob, err := alice.CreateSingleConversation(ctx, "bob01")
	if err != nil {
		t.Fatal(err)
	}
	toAlice, err := bob.CreateSingleConversation(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	const n = 20
	for i := range n {
		if _, err := toBob.SendText(ctx, fmt.Sprintf("a%d", i), map[string]any{"i": i}); err != nil {
			t.Fatalf("alice send %d: %v", i, err)
		}
		if _, err := toAlice.SendText(ctx, fmt.Sprintf("b%d", i), nil); err != nil {
			t.Fatalf("bob send %d: %v", i, err)
		}
	}
	waitFor(t, "both sides to hold every message", 20*time.Second, func() bool {
		return len(history(t, alice, "bob01")) == 2*n && len(history(t, bob, "alice")) == 2*n
	})
	ha, hb := history(t, alice, "bob01"), history(t, bob, "alice")
	for i := range ha {
		a, b := ha[i], hb[i]
		if a.ServerMessageID != b.ServerMessageID || a.Seq != b.Seq || a.Text() != b.Text() {
			t.Fatalf("position %d: alice has (%d, seq %d, %q), bob has (%d, seq %d, %q)",
				i, a.ServerMessageID, a.Seq, a.Text(), b.ServerMessageID, b.Seq, b.Text())
		}
		if a.Seq != int64(i+1) {
			t.Fatalf("position %d has seq %d, want %d", i, a.Seq, i+1)
		}
		wantStatusA := jmsg.StatusReceiveSucceed
		if a.From == "alice" {
			wantStatusA = jmsg.StatusSendSucceed
		}
		if a.Status != wantStatusA {
			t.Fatalf("alice's message %d status = %d, want %d", i, a.Status, wantStatusA)
		}
	}
	conv, _ := bob.Conversation(jmsg.ConversationSingle, "alice")
	if conv.UnreadCount != n {
		t.Fatalf("bob unread = %d, want %d", conv.UnreadCount, n)
	}
	if err := conv.ClearUnread(); err != nil {
		t.Fatal(err)
	}
	if total, _ := bob.AllUnreadCount(); total != 0 {
		t.Fatalf("bob total unread after clear = %d", total)
	}
}
