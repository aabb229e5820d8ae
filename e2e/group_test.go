package e2e

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/jmsg-im/jmsg"
	"github.com/jmsg-im/jmsg/client"
)

// TestGroupOf500 runs a 500-member group through the real server: every
// member receives every message exactly once, and all hold the same
// sequence.
func TestGroupOf500(t *testing.T) {
	if testing.Short() {
		t.Skip("500 clients; skipped in -short mode")
	}
	d := startDaemon(t)
	const members, senders, perSender = 500, 4, 15
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	clients := make([]*client.Client, members)
	names := make([]string, members)
	var wg sync.WaitGroup
	errs := make(chan error, members)
	sem := make(chan struct{}, 16)
	for i := range members {
		names[i] = fmt.Sprintf("member%03d", i)
		clients[i] = newClient(t, d, "")
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			if err := clients[i].Register(ctx, names[i], "pw-"+names[i], nil); err != nil {
				errs <- err
				return
			}
			if err := clients[i].Login(ctx, names[i], "pw-"+names[i]); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}

	// Count what each member receives, by server message id.
	type tally struct {
		mu   sync.Mutex
		seen map[int64]int
	}
	tallies := make([]*tally, members)
	for i, c := range clients {
		tl := &tally{seen: map[int64]int{}}
		tallies[i] = tl
		go func() {
			for e := range c.Events() {
				var ms []*client.Message
				switch e := e.(type) {
				case client.MessageReceived:
					ms = []*client.Message{e.Message}
				case client.OfflineMessages:
					ms = e.Messages
				}
				tl.mu.Lock()
				for _, m := range ms {
					if _, isText := m.Content.(*client.TextContent); isText {
						tl.seen[m.ServerMessageID]++
					}
				}
				tl.mu.Unlock()
			}
		}()
	}

	g, err := clients[0].CreateGroup(ctx, client.GroupOptions{Name: "five hundred", Members: names[1:]})
	if err != nil {
		t.Fatal(err)
	}
	if g.MemberCount != members {
		t.Fatalf("group has %d members, want %d", g.MemberCount, members)
	}
	sent := make(chan int64, senders*perSender)
	var swg sync.WaitGroup
	for s := range senders {
		swg.Add(1)
		go func() {
			defer swg.Done()
			conv, err := clients[s].CreateGroupConversation(ctx, g.ID)
			if err != nil {
				t.Error(err)
				return
			}
			for n := range perSender {
				m, err := conv.SendText(ctx, fmt.Sprintf("from %d #%d", s, n), nil)
				if err != nil {
					t.Error(err)
					return
				}
				sent <- m.ServerMessageID
			}
		}()
	}
	swg.Wait()
	close(sent)
	if t.Failed() {
		t.FailNow()
	}
	all := map[int64]bool{}
	for id := range sent {
		all[id] = true
	}
	total := senders * perSender
	waitFor(t, "every member to receive every message", 2*time.Minute, func() bool {
		for i, tl := range tallies {
			want := total
			if i < senders {
				want = total - perSender // a sender's own messages are not pushed back to it
			}
			tl.mu.Lock()
			n := len(tl.seen)
			tl.mu.Unlock()
			if n < want {
				return false
			}
		}
		return true
	})
	for i, tl := range tallies {
		tl.mu.Lock()
		for id, n := range tl.seen {
			if n != 1 {
				t.Errorf("%s received message %d %d times", names[i], id, n)
			}
			if !all[id] {
				t.Errorf("%s received unknown message %d", names[i], id)
			}
		}
		tl.mu.Unlock()
	}
	// Every member's local history holds the same messages in the same order.
	var ref []int64
	for i, c := range clients {
		conv, err := c.Conversation(jmsg.ConversationGroup, jmsg.FormatID(g.ID))
		if err != nil {
			t.Fatalf("%s has no group conversation: %v", names[i], err)
		}
		ms, err := conv.Messages(0, 1000)
		if err != nil {
			t.Fatal(err)
		}
		var ids []int64
		for j := len(ms) - 1; j >= 0; j-- {
			if _, isText := ms[j].Content.(*client.TextContent); isText {
				ids = append(ids, ms[j].ServerMessageID)
			}
		}
		if len(ids) != total {
			t.Fatalf("%s holds %d messages, want %d", names[i], len(ids), total)
		}
		if ref == nil {
			ref = ids
			continue
		}
		for j := range ids {
			if ids[j] != ref[j] {
				t.Fatalf("%s's message %d is %d, %s's is %d", names[i], j, ids[j], names[0], ref[j])
			}
		}
	}
}
