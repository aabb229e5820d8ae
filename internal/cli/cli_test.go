package cli_test

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jmsg-im/jmsg/internal/cli"
	"github.com/jmsg-im/jmsg/internal/jmsgdtest"
)

func TestMain(m *testing.M) { jmsgdtest.Main(m) }

// run runs the CLI and returns its exit code, stdout and stderr.
func run(t *testing.T, ctx context.Context, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := cli.Main(ctx, args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestQuickstart(t *testing.T) {
	d := jmsgdtest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	a, b := t.TempDir(), t.TempDir()
	must := func(args ...string) string {
		t.Helper()
		code, out, errs := run(t, ctx, args...)
		if code != 0 {
			t.Fatalf("jmsg %s: exit %d: %s", strings.Join(args, " "), code, errs)
		}
		return out
	}
	must("register", "-config", a, "-server", d.URL, "-appkey", d.AppKey, "-u", "alice", "-p", "pw-alice")
	must("register", "-config", a, "-server", d.URL, "-appkey", d.AppKey, "-u", "bob01", "-p", "pw-bob01")
	must("login", "-config", a, "-server", d.URL, "-appkey", d.AppKey, "-u", "alice", "-p", "pw-alice")
	must("login", "-config", b, "-server", d.URL, "-appkey", d.AppKey, "-u", "bob01", "-p", "pw-bob01")
	if out := must("send", "-config", a, "-to", "bob01", "hello", "bob"); !strings.Contains(out, "seq 1") {
		t.Fatalf("send printed %q", out)
	}
	must("send", "-config", a, "-to", "bob01", "-custom", `{"n":2}`)

	// tail prints what arrives while it runs.
	tctx, tcancel := context.WithCancel(ctx)
	var tailOut lockedBuffer
	done := make(chan int)
	go func() { done <- cli.Main(tctx, []string{"tail", "-config", b}, &tailOut, &bytes.Buffer{}) }()
	time.Sleep(500 * time.Millisecond) // let tail log in before the next send
	must("send", "-config", a, "-to", "bob01", "live")
	jmsgdtest.WaitFor(t, "tail to print the live message", 20*time.Second, func() bool {
		return strings.Contains(tailOut.String(), "live")
	})
	tcancel()
	<-done

	hist := must("history", "-config", b, "-with", "alice")
	lines := strings.Split(strings.TrimSpace(hist), "\n")
	if len(lines) != 3 || !strings.Contains(lines[0], "hello bob") || !strings.Contains(lines[1], `custom {"n":2}`) || !strings.Contains(lines[2], "live") {
		t.Fatalf("history =\n%s", hist)
	}
	if out := must("conversations", "-config", b); !strings.Contains(out, "alice") || !strings.Contains(out, "unread 3") {
		t.Fatalf("conversations = %q", out)
	}

	// Errors carry JMessage codes.
	if code, _, errs := run(t, ctx, "login", "-config", b, "-server", d.URL, "-appkey", d.AppKey, "-u", "bob01", "-p", "wrong"); code != 1 || !strings.Contains(errs, "801004") {
		t.Fatalf("bad password: exit %d, %q", code, errs)
	}
	if code, _, errs := run(t, ctx, "send", "-config", b, "-to", "nobody", "x"); code != 1 || !strings.Contains(errs, "898002") {
		t.Fatalf("unknown recipient: exit %d, %q", code, errs)
	}
	if code, _, _ := run(t, ctx, "send", "-config", t.TempDir(), "-to", "alice", "x"); code != 1 {
		t.Fatalf("send while logged out: exit %d, want 1", code)
	}
}

// lockedBuffer is a bytes.Buffer written by one goroutine and read by another.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
