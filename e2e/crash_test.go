package e2e

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jmsg-im/jmsg"
	"github.com/jmsg-im/jmsg/client"
	"github.com/jmsg-im/jmsg/internal/jmsgdtest"
)

// checkReceived fails unless c's conversation with peer holds, among the
// texts with prefix, each of want exactly once, in contiguous sequence
// order, and nothing else.
func checkReceived(t *testing.T, c *client.Client, peer, prefix string, want map[string]bool) {
	t.Helper()
	ms := history(t, c, peer)
	seen := map[string]bool{}
	var last int64
	for _, m := range ms {
		if m.ServerMessageID == 0 {
			continue
		}
		if m.Seq != last+1 {
			t.Fatalf("conversation with %s: seq %d follows %d", peer, m.Seq, last)
		}
		last = m.Seq
		text := m.Text()
		if !strings.HasPrefix(text, prefix) {
			continue
		}
		if seen[text] {
			t.Fatalf("conversation with %s holds %q twice", peer, text)
		}
		seen[text] = true
	}
	for text := range want {
		if !seen[text] {
			t.Fatalf("conversation with %s lacks %q", peer, text)
		}
	}
}

// TestCrashServerKilledWhileSending: several clients send while jmsgd is
// killed with SIGKILL and restarted; afterwards every message is in every
// recipient's store exactly once and in sequence order — those acked
// before a kill and those the SDK retried after one.
//
// JMSG_CRASH_SCALE=N multiplies its size (messages and restarts), e.g.
// JMSG_CRASH_SCALE=20 go test -run TestCrash ./e2e.
func TestCrashServerKilledWhileSending(t *testing.T) {
	d := startDaemon(t)
	scale := crashScale()
	senders, perSender, restarts := 4, 60*scale, 3*scale
	recvs := []*client.Client{newClient(t, d, ""), newClient(t, d, "")}
	registerAndLogin(t, recvs[0], "recv1")
	registerAndLogin(t, recvs[1], "recv2")

	var mu sync.Mutex
	acked := map[string]bool{}
	all := map[string]bool{}
	var wg sync.WaitGroup
	senderClients := map[string]*client.Client{}
	for i := range senders {
		name := fmt.Sprintf("crasher%d", i)
		c := newClient(t, d, "")
		senderClients[name] = c
		registerAndLogin(t, c, name)
		convs := make([]*client.Conversation, 2)
		for j, r := range []string{"recv1", "recv2"} {
			conv, err := c.CreateSingleConversation(context.Background(), r)
			if err != nil {
				t.Fatal(err)
			}
			convs[j] = conv
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := range perSender {
				text := fmt.Sprintf("%s-%d", name, n)
				mu.Lock()
				all[text] = true
				mu.Unlock()
				// A short wait: sends caught by a kill time out here and stay
				// queued in the SDK, which retries them after the restart.
				ctx, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
				_, err := convs[n%2].SendText(ctx, text, nil)
				cancel()
				if err == nil {
					mu.Lock()
					acked[text] = true
					mu.Unlock()
				} // else: still queued; the SDK sends it after the restart
				time.Sleep(5 * time.Millisecond)
			}
		}()
	}
	for range restarts {
		time.Sleep(300 * time.Millisecond)
		d.Restart()
	}
	wg.Wait()

	// Every message (acked or queued) reaches its recipient once.
	want := []map[string]bool{{}, {}}
	for text := range all {
		var n int
		fmt.Sscanf(text[strings.LastIndex(text, "-")+1:], "%d", &n)
		want[n%2][text] = true
	}
	for i, r := range recvs {
		received := func() map[string]bool {
			got := map[string]bool{}
			for s := range senders {
				conv, err := r.Conversation(jmsg.ConversationSingle, fmt.Sprintf("crasher%d", s))
				if err != nil {
					continue
				}
				ms, _ := conv.Messages(0, 10000)
				for _, m := range ms {
					got[m.Text()] = true
				}
			}
			return got
		}
		deadline := time.Now().Add(time.Minute)
		for len(received()) < len(want[i]) {
			if time.Now().Before(deadline) {
				time.Sleep(10 * time.Millisecond)
				continue
			}
			// Say where each missing message is on its sender's side.
			got := received()
			for text := range want[i] {
				if got[text] {
					continue
				}
				sender := text[:strings.LastIndex(text, "-")]
				conv, _ := senderClients[sender].Conversation(jmsg.ConversationSingle, fmt.Sprintf("recv%d", i+1))
				state := "not in the sender's store"
				if conv != nil {
					ms, _ := conv.Messages(0, 10000)
					for _, m := range ms {
						if m.Text() == text {
							state = fmt.Sprintf("sender's status %d, server id %d, seq %d, acked %v", m.Status, m.ServerMessageID, m.Seq, acked[text])
						}
					}
				}
				t.Errorf("recv%d lacks %q: %s", i+1, text, state)
			}
			t.Fatalf("recv%d holds %d of %d messages a minute after the last restart", i+1, len(got), len(want[i]))
		}
		for s := range senders {
			peer := fmt.Sprintf("crasher%d", s)
			mine := map[string]bool{}
			for text := range want[i] {
				if strings.HasPrefix(text, peer+"-") {
					mine[text] = true
				}
			}
			checkReceived(t, r, peer, peer+"-", mine)
		}
	}
	t.Logf("%d messages sent across %d SIGKILL restarts, %d acked before a kill or timeout; all delivered once", len(all), restarts, len(acked))
}

// crashScale reads JMSG_CRASH_SCALE (default 1).
func crashScale() int {
	n, err := strconv.Atoi(os.Getenv("JMSG_CRASH_SCALE"))
	if err != nil || n < 1 {
		return 1
	}
	return n
}

// startSender runs the sdksender program and returns it with a channel of
// its output lines.
func startSender(t *testing.T, d *daemon, dataDir string, count int) (*exec.Cmd, chan string) {
	t.Helper()
	cmd := exec.Command(jmsgdtest.SDKSenderBin, "-server", d.URL, "-appkey", d.AppKey, "-data", dataDir,
		"-user", "procsender", "-pass", "secret-procsender", "-to", "recv1", "-count", fmt.Sprint(count), "-prefix", "proc")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string, 10000)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	return cmd, lines
}

// TestCrashClientKilledWhileSending kills an SDK client process with
// SIGKILL mid-send and runs it again on the same data directory: every
// message reaches the recipient exactly once.
func TestCrashClientKilledWhileSending(t *testing.T) {
	d := startDaemon(t)
	recv := newClient(t, d, "")
	registerAndLogin(t, recv, "recv1")
	reg := newClient(t, d, "")
	if err := reg.Register(context.Background(), "procsender", "secret-procsender", nil); err != nil {
		t.Fatal(err)
	}
	count := 300 * crashScale()
	dataDir := t.TempDir()
	for round := range 2 * crashScale() {
		cmd, lines := startSender(t, d, dataDir, count)
		sent := 0
		deadline := time.After(time.Minute)
	read:
		for sent < 40*(round+1) {
			select {
			case l, ok := <-lines:
				if !ok {
					break read
				}
				if strings.HasPrefix(l, "sent ") {
					sent++
				}
				if strings.HasPrefix(l, "resuming") {
					t.Logf("run %d: %s", round+1, l)
				}
			case <-deadline:
				t.Fatal("the sender made no progress")
			}
		}
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
	}
	cmd, lines := startSender(t, d, dataDir, count)
	done := false
	for l := range lines {
		if l == "done" {
			done = true
		}
		if strings.HasPrefix(l, "resuming") {
			t.Logf("last run: %s", l)
		}
	}
	if err := cmd.Wait(); err != nil || !done {
		t.Fatalf("the last sender run ended with %v (done %v)", err, done)
	}
	want := map[string]bool{}
	for i := range count {
		want[fmt.Sprintf("proc-%d", i)] = true
	}
	waitFor(t, "the recipient to hold every message", time.Minute, func() bool {
		return len(history(t, recv, "procsender")) >= count
	})
	checkReceived(t, recv, "procsender", "proc-", want)
}
