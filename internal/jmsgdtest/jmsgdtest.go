// Package jmsgdtest runs the real jmsgd binary for tests: built once per
// test binary, started on loopback with a fresh data directory, killed
// with SIGKILL and restarted on demand. Tests that use it never import the
// server's packages, so SDK tests stay free of them.
package jmsgdtest

import (
	"bufio"
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
)

// jmsgdBin is the jmsgd binary built by Main.
var jmsgdBin string

// SDKSenderBin is the sdksender test program (built by Main): a separate
// process built only on the SDK, for tests that kill a client.
var SDKSenderBin string

// Main builds jmsgd (with -race when the tests run with it), runs the
// tests and removes the binary. Call it from TestMain.
func Main(m *testing.M) {
	dir, err := os.MkdirTemp("", "jmsgdtest")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	jmsgdBin = filepath.Join(dir, "jmsgd")
	args := []string{"build", "-o", jmsgdBin}
	if raceEnabled {
		args = append(args, "-race")
	}
	cmd := exec.Command("go", append(args, "github.com/jmsg-im/jmsg/cmd/jmsgd")...)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building jmsgd:", err)
		os.Exit(1)
	}
	SDKSenderBin = filepath.Join(dir, "sdksender")
	args[2] = SDKSenderBin
	cmd = exec.Command("go", append(args, "github.com/jmsg-im/jmsg/internal/jmsgdtest/sdksender")...)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building sdksender:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// Daemon is a running jmsgd process.
type Daemon struct {
	t       testing.TB
	DataDir string // the data directory
	Addr    string // host:port it listens on, the same across restarts
	URL     string // base URL
	AppKey  string // the first app's key
	Secret  string // and master secret

	extraConfig string
	cmd         *exec.Cmd
	exited      chan struct{}
	mu          sync.Mutex
	output      strings.Builder
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

// DefaultConfig is the jmsgd.toml of a test daemon: a low bcrypt cost, no
// send or request rate limits (tests send fast), warnings only.
const DefaultConfig = "bcrypt_cost = 4\nlog_level = \"warn\"\nsend_per_minute = -1\nrequests_per_second = -1\n"

// StartWithConfig is Start with TOML lines added to DefaultConfig (later
// keys must not repeat earlier ones).
func StartWithConfig(t testing.TB, extraConfig string, extraArgs ...string) *Daemon {
	t.Helper()
	d := &Daemon{t: t, DataDir: t.TempDir(), Addr: freeAddr(t), extraConfig: extraConfig}
	d.start(extraArgs...)
	t.Cleanup(d.Kill)
	return d
}

// Start starts jmsgd on a fresh data directory and a fixed port, and kills
// it at the end of the test. The data directory holds a jmsgd.toml with
// DefaultConfig.
func Start(t testing.TB, extraArgs ...string) *Daemon {
	t.Helper()
	d := &Daemon{t: t, DataDir: t.TempDir(), Addr: freeAddr(t)}
	d.start(extraArgs...)
	t.Cleanup(d.Kill)
	return d
}

// start launches the process on d's data directory and address and waits
// until it serves.
func (d *Daemon) start(extraArgs ...string) {
	d.t.Helper()
	cfg := filepath.Join(d.DataDir, "jmsgd.toml")
	if _, err := os.Stat(cfg); err != nil {
		os.WriteFile(cfg, []byte(DefaultConfig+d.extraConfig), 0o600)
	}
	args := append([]string{"-addr", d.Addr, "-data", d.DataDir}, extraArgs...)
	d.cmd = exec.Command(jmsgdBin, args...)
	stdout, err := d.cmd.StdoutPipe()
	if err != nil {
		d.t.Fatal(err)
	}
	d.cmd.Stderr = &lockedWriter{d: d}
	if path := os.Getenv("JMSGDTEST_STDERR"); path != "" { // debugging: keep the daemons' stderr
		if f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644); err == nil {
			d.cmd.Stderr = f
		}
	}
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
	b, err := os.ReadFile(filepath.Join(d.DataDir, "credentials.json"))
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

type lockedWriter struct{ d *Daemon }

func (w *lockedWriter) Write(p []byte) (int, error) {
	w.d.mu.Lock()
	defer w.d.mu.Unlock()
	return w.d.output.Write(p)
}

func (d *Daemon) out() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.output.String()
}

// Kill ends the process with SIGKILL and waits for it.
func (d *Daemon) Kill() {
	if d.cmd == nil || d.cmd.Process == nil {
		return
	}
	d.cmd.Process.Signal(syscall.SIGKILL)
	<-d.exited
}

// Restart kills the process with SIGKILL and starts it again on the same
// data directory and address.
func (d *Daemon) Restart() {
	d.t.Helper()
	d.Kill()
	d.start()
}

// Output returns what the process has printed so far.
func (d *Daemon) Output() string { return d.out() }

// WaitFor polls cond until it holds, failing the test after timeout.
func WaitFor(t testing.TB, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Binary returns the path of the jmsgd binary Main built.
func Binary() string { return jmsgdBin }
