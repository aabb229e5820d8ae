package e2e

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/jmsg-im/jmsg"
)

// TestKillNineLosesNoAckedMessage sends from several clients while jmsgd is
// killed with SIGKILL and restarted; every message the server acknowledged
// must be in the history a fresh device downloads afterwards, exactly once.
func TestKillNineLosesNoAckedMessage(t *testing.T) {
	d := startDaemon(t)
	const senders = 4
	recv := newClient(t, d, "")
	registerAndLogin(t, recv, "sink1")
	if err := recv.Logout(context.Background()); err != nil {
		t.Fatal(err)
	}

	var mu sync.Mutex
	acked := map[int64]string{} // server id → text
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for i := range senders {
		name := fmt.Sprintf("sender%d", i)
		c := newClient(t, d, "")
		registerAndLogin(t, c, name)
		conv, err := c.CreateSingleConversation(context.Background(), "sink1")
		if err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
				text := fmt.Sprintf("%s-%d", name, n)
				m, err := conv.SendText(ctx, text, nil)
				cancel()
				if err == nil {
					mu.Lock()
					acked[m.ServerMessageID] = text
					mu.Unlock()
				} else {
					time.Sleep(20 * time.Millisecond)
				}
			}
		}()
	}
	for round := range 3 {
		waitFor(t, "some acks", 20*time.Second, func() bool {
			mu.Lock()
			defer mu.Unlock()
			return len(acked) >= (round+1)*40
		})
		d.Restart()
	}
	close(stop)
	wg.Wait()

	// A fresh device of the recipient downloads everything.
	fresh := newClient(t, d, "")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := fresh.Login(ctx, "sink1", "secret-sink1"); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	want := len(acked)
	mu.Unlock()
	have := func() map[int64]string {
		got := map[int64]string{}
		for i := range senders {
			conv, err := fresh.Conversation(jmsg.ConversationSingle, fmt.Sprintf("sender%d", i))
			if err != nil {
				return nil
			}
			ms, _ := conv.Messages(0, 100000)
			for _, m := range ms {
				if _, dup := got[m.ServerMessageID]; dup {
					t.Fatalf("message %d stored twice", m.ServerMessageID)
				}
				got[m.ServerMessageID] = m.Text()
			}
		}
		return got
	}
	waitFor(t, "the fresh device to sync", 30*time.Second, func() bool { return len(have()) >= want })
	got := have()
	texts := map[string]bool{}
	for _, text := range got {
		if texts[text] {
			t.Fatalf("text %q stored under two server ids", text)
		}
		texts[text] = true
	}
	for id, text := range acked {
		if got[id] != text {
			t.Fatalf("acked message %d (%q) is missing after kill -9 (have %q)", id, text, got[id])
		}
	}
	t.Logf("%d acked messages survived 3 SIGKILL restarts; %d stored in all", len(acked), len(got))
}
