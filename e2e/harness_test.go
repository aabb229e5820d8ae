// Package e2e runs jmsgd as users run it — the real binary, on loopback,
// with a data directory — and drives it with SDK clients.
package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jmsg-im/jmsg/client"
)

// jmsgdBin is the jmsgd binary built once for the package's tests.
var jmsgdBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "jmsg-e2e-bin")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	jmsgdBin = filepath.Join(dir, "jmsgd")
	args := []string{"build", "-o", jmsgdBin}
	if raceEnabled {
		args = append(args, "-race")
	}
	cmd := exec.Command("go", append(args, "../cmd/jmsgd")...)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building jmsgd:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// daemon is a running jmsgd process.
type daemon struct {
	t       testing.TB
	dataDir string
	addr    string
	URL     string
	AppKey  string
	Secret  string
	cmd     *exec.Cmd
	exited  chan struct{}
	mu      sync.Mutex
	output  strings.Builder
}

var serving = regexp.MustCompile(`jmsgd serving (http://\S+)`)

// freeAddr returns a loopback address with a port that was free a moment ago.
func freeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// startDaemon starts jmsgd on a fresh data directory and a fixed port, and
// stops it (SIGKILL) at the end of the test.
func startDaemon(t testing.TB, extraArgs ...string) *daemon {
	t.Helper()
	d := &daemon{t: t, dataDir: t.TempDir(), addr: freeAddr(t)}
	d.start(extraArgs...)
	t.Cleanup(d.kill)
	return d
}

// start launches the process on d's data directory and address and waits
// until it serves.
func (d *daemon) start(extraArgs ...string) {
	d.t.Helper()
	cfg := filepath.Join(d.dataDir, "jmsgd.toml")
	if _, err := os.Stat(cfg); err != nil {
		os.WriteFile(cfg, []byte("bcrypt_cost = 4\nlog_level = \"warn\"\n"), 0o600)
	}
	args := append([]string{"-addr", d.addr, "-data", d.dataDir}, extraArgs...)
	d.cmd = exec.Command(jmsgdBin, args...)
	stdout, err := d.cmd.StdoutPipe()
	if err != nil {
		d.t.Fatal(err)
	}
	d.cmd.Stderr = &lockedWriter{d: d}
	if err := d.cmd.Start(); err != nil {
		d.t.Fatal(err)
	}
	d.exited = make(chan struct{})
	urlc := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			line := sc.Text()
			d.mu.Lock()
			d.output.WriteString(line + "\n")
			d.mu.Unlock()
			if m := serving.FindStringSubmatch(line); m != nil {
				urlc <- m[1]
			}
		}
	}()
	go func() {
		d.cmd.Wait()
		close(d.exited)
	}()
	select {
	case d.URL = <-urlc:
	case <-d.exited:
		d.t.Fatalf("jmsgd exited: %s", d.out())
	case <-time.After(30 * time.Second):
		d.t.Fatalf("jmsgd did not start: %s", d.out())
	}
	b, err := os.ReadFile(filepath.Join(d.dataDir, "credentials.json"))
	if err != nil {
		d.t.Fatal(err)
	}
	var creds struct {
		AppKey       string `json:"appkey"`
		MasterSecret string `json:"master_secret"`
	}
	if err := json.Unmarshal(b, &creds); err != nil {
		d.t.Fatal(err)
	}
	d.AppKey, d.Secret = creds.AppKey, creds.MasterSecret
}

type lockedWriter struct{ d *daemon }

func (w *lockedWriter) Write(p []byte) (int, error) {
	w.d.mu.Lock()
	defer w.d.mu.Unlock()
	return w.d.output.Write(p)
}

func (d *daemon) out() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.output.String()
}

// kill ends the process with SIGKILL and waits for it.
func (d *daemon) kill() {
	if d.cmd == nil || d.cmd.Process == nil {
		return
	}
	d.cmd.Process.Signal(syscall.SIGKILL)
	<-d.exited
}

// restart kills the process with SIGKILL and starts it again on the same
// data directory and address.
func (d *daemon) restart() {
	d.t.Helper()
	d.kill()
	d.start()
}

// newClient returns an SDK client for the daemon's app with its own data
// directory, closed at the end of the test.
func newClient(t testing.TB, d *daemon, platform string) *client.Client {
	t.Helper()
	c, err := client.New(client.Config{AppKey: d.AppKey, ServerURL: d.URL, DataDir: t.TempDir(), Platform: platform})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// registerAndLogin registers username (password "secret-"+username) and
// logs c in.
func registerAndLogin(t testing.TB, c *client.Client, username string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := c.Register(ctx, username, "secret-"+username, nil); err != nil {
		t.Fatalf("Register(%q) = %v", username, err)
	}
	if err := c.Login(ctx, username, "secret-"+username); err != nil {
		t.Fatalf("Login(%q) = %v", username, err)
	}
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t testing.TB, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
