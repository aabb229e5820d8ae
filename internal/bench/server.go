package bench

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// serverConfig is the jmsgd.toml of a server the bench starts: durable
// commits as always, a cheap password hash (the bench registers thousands
// of users) and no per-user rate limits (it sends as fast as acks allow).
const serverConfig = `bcrypt_cost = 4
log_level = "warn"
send_per_minute = -1
requests_per_second = -1
login_failures_per_minute = -1
`

// target is the jmsgd a run talks to.
type target struct {
	base   string // http://host:port
	ws     string // ws://host:port/v1/ws
	appKey string
	pid    int       // local process, 0 when given by -url
	cmd    *exec.Cmd // started by the bench
	dir    string
}

// startServer runs jmsgd from path on a fresh data directory. Lines of
// $JMSG_BENCH_SERVER_CONFIG are added to its configuration (e.g.
// pprof_addr = "127.0.0.1:6060" to profile it).
func startServer(ctx context.Context, path string, extra string) (*target, error) {
	extra += os.Getenv("JMSG_BENCH_SERVER_CONFIG")
	dir, err := os.MkdirTemp("", "jmsg-bench")
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "jmsgd.toml"), []byte(serverConfig+extra), 0o600); err != nil {
		return nil, err
	}
	cmd := exec.Command(path, "-addr", "127.0.0.1:0", "-data", dir)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", path, err)
	}
	t := &target{cmd: cmd, pid: cmd.Process.Pid, dir: dir}
	urlc := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		re := regexp.MustCompile(`jmsgd serving (http://\S+)`)
		for sc.Scan() {
			if m := re.FindStringSubmatch(sc.Text()); m != nil {
				urlc <- m[1]
			}
		}
	}()
	select {
	case t.base = <-urlc:
	case <-time.After(30 * time.Second):
		t.stop()
		return nil, errors.New("jmsgd did not start")
	}
	b, err := os.ReadFile(filepath.Join(dir, "credentials.json"))
	if err != nil {
		t.stop()
		return nil, err
	}
	var creds struct {
		AppKey string `json:"appkey"`
	}
	json.Unmarshal(b, &creds)
	t.appKey = creds.AppKey
	t.ws = "ws" + strings.TrimPrefix(t.base, "http") + "/v1/ws"
	return t, nil
}

// remoteServer is a jmsgd given by URL and app key.
func remoteServer(url, appKey string) (*target, error) {
	if appKey == "" {
		return nil, errors.New("-url needs -appkey")
	}
	base := strings.TrimSuffix(strings.TrimSuffix(url, "/v1/ws"), "/")
	base = strings.Replace(strings.Replace(base, "ws://", "http://", 1), "wss://", "https://", 1)
	return &target{base: base, ws: "ws" + strings.TrimPrefix(base, "http") + "/v1/ws", appKey: appKey}, nil
}

func (t *target) stop() {
	if t.cmd != nil {
		t.cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { t.cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.cmd.Process.Kill()
			<-done
		}
	}
	if t.dir != "" {
		os.RemoveAll(t.dir)
	}
}

// usage is the server's resident memory and CPU time so far.
type usage struct {
	rss int64
	cpu time.Duration
}

// usage reads /proc for a local server, else its /metrics.
func (t *target) usage() (usage, error) {
	if t.pid != 0 {
		return procUsage(t.pid)
	}
	resp, err := http.Get(t.base + "/metrics")
	if err != nil {
		return usage{}, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	metric := func(name string) float64 {
		m := regexp.MustCompile(`(?m)^` + name + ` (\S+)$`).FindSubmatch(b)
		if m == nil {
			return 0
		}
		v, _ := strconv.ParseFloat(string(m[1]), 64)
		return v
	}
	return usage{rss: int64(metric("process_resident_memory_bytes")),
		cpu: time.Duration(metric("process_cpu_seconds_total") * float64(time.Second))}, nil
}

// procUsage reads VmRSS and utime+stime of pid.
func procUsage(pid int) (usage, error) {
	var u usage
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return u, err
	}
	for _, line := range strings.Split(string(status), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			u.rss = kb * 1024
		}
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return u, err
	}
	// Fields after the command name, which is in parentheses.
	f := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+2:]))
	if len(f) > 12 {
		ut, _ := strconv.ParseInt(f[11], 10, 64)
		st, _ := strconv.ParseInt(f[12], 10, 64)
		u.cpu = time.Duration(ut+st) * time.Second / 100 // clock ticks: 100 per second on Linux
	}
	return u, nil
}
