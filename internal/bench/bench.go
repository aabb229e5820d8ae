// Package bench is jmsg's load generator: it drives a real jmsgd over the
// real wire protocol (or, in the sdk scenario, through the Go SDK) and
// reports throughput, end-to-end latency and the server's CPU and memory.
// Every number comes from counted acknowledgements and deliveries; a
// message that never arrives counts as lost and fails the run.
package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// Options select and size a run.
type Options struct {
	Scenario string        // one-to-one, group, idle, reconnect, sdk
	Duration time.Duration // how long senders send (idle: how long connections are held)
	URL      string        // a running jmsgd; empty: start one
	AppKey   string        // with URL
	JMSGD    string        // jmsgd binary to start; default: next to this program, else in PATH
	Pairs    int           // one-to-one, sdk: sender/receiver pairs (default 50)
	Members  int           // group: members (default 500)
	Senders  int           // group: senders (default 1)
	Conns    int           // idle: connections (default 1000); reconnect: clients (default 1000)
	Missed   int           // reconnect: messages each client misses (default 10)
	Window   int           // sends in flight per sender (default 32)
	Rate     float64       // one-to-one, group: messages per second of all senders together; 0: as fast as acks allow
	Progress io.Writer     // progress bar; nil for none
}

// Result is what a run measured. JSON field names are part of the CLI's
// contract (-json).
type Result struct {
	Scenario    string  `json:"scenario"`
	DurationS   float64 `json:"duration_s"`
	Sent        int64   `json:"sent"`
	Acked       int64   `json:"acked"`
	Delivered   int64   `json:"delivered"`
	Expected    int64   `json:"expected"`
	Lost        int64   `json:"lost"`
	MsgsPerSec  float64 `json:"msgs_per_sec"`
	LatencyMs   Latency `json:"latency_ms"`
	Connections int     `json:"connections"`

	ServerRSSBytes   int64   `json:"server_rss_bytes"`
	ServerCPUSeconds float64 `json:"server_cpu_seconds"`
	ServerCPUPercent float64 `json:"server_cpu_percent"` // of one core, over the measured interval
	RSSPerConnBytes  int64   `json:"rss_per_conn_bytes,omitempty"`
	CatchUpSeconds   float64 `json:"catch_up_s,omitempty"`
	SetupSeconds     float64 `json:"setup_s"`
	ErrorsOrRefusals int64   `json:"errors"`
}

// Latency holds send-to-delivery percentiles in milliseconds.
type Latency struct {
	P50  float64 `json:"p50"`
	P99  float64 `json:"p99"`
	P999 float64 `json:"p999"`
}

// ErrLost is returned (with the result) when messages were lost.
var ErrLost = errors.New("messages were lost")

func (o *Options) defaults() {
	if o.Duration <= 0 {
		o.Duration = 30 * time.Second
	}
	if o.Pairs <= 0 {
		o.Pairs = 50
	}
	if o.Members <= 0 {
		o.Members = 500
	}
	if o.Senders <= 0 {
		o.Senders = 1
	}
	if o.Conns <= 0 {
		o.Conns = 1000
	}
	if o.Missed <= 0 {
		o.Missed = 10
	}
	if o.Window <= 0 {
		o.Window = 32
	}
}

// findJMSGD locates the jmsgd binary.
func findJMSGD(given string) (string, error) {
	if given != "" {
		return given, nil
	}
	if exe, err := os.Executable(); err == nil {
		p := filepath.Join(filepath.Dir(exe), "jmsgd")
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", errors.New("no jmsgd binary: build it next to jmsg-bench (go build -o bin/ ./cmd/...) or pass -jmsgd or -url")
}

// Run runs a scenario. It returns ErrLost with the result when any
// message was not delivered.
func Run(ctx context.Context, o Options) (Result, error) {
	o.defaults()
	var t *target
	var err error
	if o.URL != "" {
		t, err = remoteServer(o.URL, o.AppKey)
	} else {
		var path string
		if path, err = findJMSGD(o.JMSGD); err == nil {
			extra := ""
			if o.Scenario == "group" {
				extra = fmt.Sprintf("group_default_max_members = %d\ngroup_max_members_limit = %d\n", max(o.Members, 500), max(o.Members, 2000))
			}
			t, err = startServer(ctx, path, extra)
		}
	}
	if err != nil {
		return Result{}, err
	}
	defer t.stop()
	var r Result
	switch o.Scenario {
	case "one-to-one":
		r, err = runOneToOne(ctx, t, o)
	case "group":
		r, err = runGroup(ctx, t, o)
	case "idle":
		r, err = runIdle(ctx, t, o)
	case "reconnect":
		r, err = runReconnect(ctx, t, o)
	case "sdk":
		r, err = runSDK(ctx, t, o)
	default:
		return Result{}, fmt.Errorf("unknown scenario %q (one-to-one, group, idle, reconnect, sdk)", o.Scenario)
	}
	r.Scenario = o.Scenario
	if err == nil && r.Lost > 0 {
		err = ErrLost
	}
	return r, err
}

// measure runs the sending phase for d, sampling the server's usage before
// and after and drawing the progress bar.
func measure(ctx context.Context, t *target, o Options, c *counters, d time.Duration, send func(ctx context.Context)) (time.Duration, usage, usage) {
	before, _ := t.usage()
	sctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	start := time.Now()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		progress(sctx, o.Progress, start, d, c)
	}()
	send(sctx)
	elapsed := time.Since(start)
	cancel()
	wg.Wait()
	after, _ := t.usage()
	return elapsed, before, after
}

// progress draws a progress bar until ctx ends.
func progress(ctx context.Context, w io.Writer, start time.Time, d time.Duration, c *counters) {
	if w == nil {
		return
	}
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			fmt.Fprintln(w)
			return
		case <-tick.C:
		}
		done := min(float64(time.Since(start))/float64(d), 1)
		bar := strings.Repeat("=", int(done*30)) + ">" + strings.Repeat(" ", 30-int(done*30))
		fmt.Fprintf(w, "\r[%s] %4.1fs sent %d acked %d delivered %d   ", bar, time.Since(start).Seconds(), c.sent.Load(), c.acked.Load(), c.delivered.Load())
	}
}

// finish fills a result's common fields.
func finish(r *Result, c *counters, elapsed time.Duration, before, after usage) {
	r.DurationS = elapsed.Seconds()
	r.Sent, r.Acked, r.Delivered, r.ErrorsOrRefusals = c.sent.Load(), c.acked.Load(), c.delivered.Load(), c.errors.Load()
	r.LatencyMs = Latency{
		P50:  float64(c.lat.quantile(0.50)) / float64(time.Millisecond),
		P99:  float64(c.lat.quantile(0.99)) / float64(time.Millisecond),
		P999: float64(c.lat.quantile(0.999)) / float64(time.Millisecond),
	}
	r.ServerRSSBytes = after.rss
	cpu := after.cpu - before.cpu
	r.ServerCPUSeconds = cpu.Seconds()
	if elapsed > 0 {
		r.ServerCPUPercent = 100 * cpu.Seconds() / elapsed.Seconds()
	}
	if r.Expected > r.Delivered {
		r.Lost = r.Expected - r.Delivered
	}
}

// waitDelivered waits until want deliveries were counted or grace passes.
func waitDelivered(c *counters, want int64, grace time.Duration) {
	deadline := time.Now().Add(grace)
	for c.delivered.Load() < want && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
}

// Print writes a human-readable report.
func Print(w io.Writer, r Result) {
	fmt.Fprintf(w, "scenario     %s\n", r.Scenario)
	fmt.Fprintf(w, "duration     %.1fs (setup %.1fs)\n", r.DurationS, r.SetupSeconds)
	fmt.Fprintf(w, "connections  %d\n", r.Connections)
	fmt.Fprintf(w, "sent         %d\nacked        %d\ndelivered    %d (expected %d, lost %d)\n", r.Sent, r.Acked, r.Delivered, r.Expected, r.Lost)
	fmt.Fprintf(w, "msgs/s       %.0f\n", r.MsgsPerSec)
	fmt.Fprintf(w, "latency ms   p50 %.2f  p99 %.2f  p999 %.2f\n", r.LatencyMs.P50, r.LatencyMs.P99, r.LatencyMs.P999)
	fmt.Fprintf(w, "server       RSS %.1f MB, CPU %.1fs (%.0f%% of a core)\n", float64(r.ServerRSSBytes)/(1<<20), r.ServerCPUSeconds, r.ServerCPUPercent)
	if r.RSSPerConnBytes > 0 {
		fmt.Fprintf(w, "per conn     %.1f KB RSS\n", float64(r.RSSPerConnBytes)/1024)
	}
	if r.CatchUpSeconds > 0 {
		fmt.Fprintf(w, "catch-up     %.2fs\n", r.CatchUpSeconds)
	}
	if r.ErrorsOrRefusals > 0 {
		fmt.Fprintf(w, "errors       %d\n", r.ErrorsOrRefusals)
	}
}

// every is the interval between one sender's sends for Rate spread over
// senders; 0 when there is no rate.
func (o Options) every(senders int) time.Duration {
	if o.Rate <= 0 || senders <= 0 {
		return 0
	}
	return time.Duration(float64(senders) / o.Rate * float64(time.Second))
}
