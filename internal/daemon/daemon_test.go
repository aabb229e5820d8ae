package daemon

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestConfigFileAndFlags(t *testing.T) {
	dir := t.TempDir()
	conf := filepath.Join(dir, "jmsgd.toml")
	os.WriteFile(conf, []byte("addr = \"127.0.0.1:9999\"\nsend_queue = 4096\nwrite_timeout = \"3s\"\n"), 0o600)
	var stderr bytes.Buffer
	cfg, err := parseFlags("jmsgd", []string{"-data", dir}, &stderr)
	if err != nil {
		t.Fatal(err, stderr.String())
	}
	if cfg.Addr != "127.0.0.1:9999" || cfg.SendQueue != 4096 || cfg.WriteTimeout.Duration != 3*time.Second || cfg.DataDir != dir {
		t.Fatalf("config from file = %+v", cfg)
	}
	// Flags override the file.
	cfg, err = parseFlags("jmsgd", []string{"-data", dir, "-addr", "127.0.0.1:1"}, &stderr)
	if err != nil || cfg.Addr != "127.0.0.1:1" {
		t.Fatalf("flag override: %+v, %v", cfg, err)
	}
	// An unknown key is an error that names it.
	os.WriteFile(conf, []byte("adr = \"x\"\n"), 0o600)
	stderr.Reset()
	if _, err := parseFlags("jmsgd", []string{"-data", dir}, &stderr); err == nil || !strings.Contains(err.Error(), "adr") {
		t.Fatalf("unknown key: err = %v", err)
	}
}

func TestFirstStartCreatesAppAndAppsCommand(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	cfg := DefaultConfig()
	cfg.Addr, cfg.DataDir, cfg.LogLevel = "127.0.0.1:0", dir, "error"
	var out syncBuffer
	done := make(chan error)
	go func() { done <- Run(ctx, cfg, &out) }()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(out.String(), "jmsgd serving") {
		if time.Now().After(deadline) {
			t.Fatalf("no serving line: %q", out.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`created app: appkey=([A-Za-z0-9]{24}) master_secret=([A-Za-z0-9]{24})`).FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("first start printed %q", out.String())
	}
	var creds Credentials
	b, _ := os.ReadFile(filepath.Join(dir, CredentialsFile))
	if err := json.Unmarshal(b, &creds); err != nil || creds.AppKey != m[1] || creds.MasterSecret != m[2] {
		t.Fatalf("credentials file %s = %+v, %v", b, creds, err)
	}

	var stdout, stderr bytes.Buffer
	if code := Main(context.Background(), []string{"apps", "add", "-data", dir, "-name", "second"}, &stdout, &stderr); code != 0 {
		t.Fatalf("apps add: exit %d %s", code, stderr.String())
	}
	stdout.Reset()
	if code := Main(context.Background(), []string{"apps", "list", "-data", dir}, &stdout, &stderr); code != 0 {
		t.Fatalf("apps list: exit %d %s", code, stderr.String())
	}
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], m[1]) || !strings.Contains(lines[1], `name="second"`) {
		t.Fatalf("apps list = %q", stdout.String())
	}
	if code := Main(context.Background(), []string{"apps", "frobnicate"}, &stdout, &stderr); code != 2 {
		t.Fatalf("apps frobnicate: exit %d, want 2", code)
	}
}

// syncBuffer is a bytes.Buffer written by Run and read by the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
