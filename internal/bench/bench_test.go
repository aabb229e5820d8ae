package bench

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/jmsg-im/jmsg/internal/jmsgdtest"
)

func TestMain(m *testing.M) { jmsgdtest.Main(m) }

// TestScenarios runs every scenario once at a tiny size against a jmsgd it
// starts: each completes, counts what it sent and delivered, and loses
// nothing. Speed is not asserted here (docs/BENCHMARKS.md).
func TestScenarios(t *testing.T) {
	tiny := map[string]Options{
		"one-to-one": {Pairs: 3, Duration: 500 * time.Millisecond, Window: 4},
		"group":      {Members: 20, Senders: 2, Duration: 500 * time.Millisecond, Window: 4},
		"idle":       {Conns: 30, Duration: 300 * time.Millisecond},
		"reconnect":  {Conns: 30, Missed: 3},
		"sdk":        {Pairs: 2, Duration: 500 * time.Millisecond, Window: 2},
	}
	for name, o := range tiny {
		t.Run(name, func(t *testing.T) {
			o.Scenario, o.JMSGD = name, jmsgdtest.Binary()
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			r, err := Run(ctx, o)
			if err != nil {
				t.Fatalf("Run(%s) = %v; result %+v", name, err, r)
			}
			if r.Scenario != name || r.Lost != 0 || r.ServerRSSBytes <= 0 || r.Connections <= 0 {
				t.Fatalf("Run(%s) = %+v", name, r)
			}
			switch name {
			case "idle":
				if r.Connections != o.Conns || r.RSSPerConnBytes == 0 || r.Delivered != int64(o.Conns) {
					t.Fatalf("idle: %+v", r)
				}
			case "reconnect":
				if r.Delivered != int64(o.Conns*o.Missed) || r.CatchUpSeconds <= 0 {
					t.Fatalf("reconnect: delivered %d of %d in %.2fs", r.Delivered, o.Conns*o.Missed, r.CatchUpSeconds)
				}
			default:
				if r.Acked == 0 || r.Delivered < r.Expected || r.MsgsPerSec <= 0 || r.LatencyMs.P50 <= 0 {
					t.Fatalf("%s: %+v", name, r)
				}
			}
			// The JSON form carries the documented fields.
			b, _ := json.Marshal(r)
			var m map[string]any
			json.Unmarshal(b, &m)
			for _, k := range []string{"scenario", "duration_s", "sent", "acked", "delivered", "lost", "msgs_per_sec", "latency_ms", "connections", "server_rss_bytes"} {
				if _, ok := m[k]; !ok {
					t.Errorf("JSON result lacks %q: %s", k, b)
				}
			}
		})
	}
}

// TestLostMessagesFailTheRun: a delivery count below what was expected is
// reported as lost.
func TestLostMessagesFailTheRun(t *testing.T) {
	var c counters
	c.acked.Store(10)
	c.delivered.Store(7)
	r := Result{Expected: 10}
	finish(&r, &c, time.Second, usage{}, usage{})
	if r.Lost != 3 {
		t.Fatalf("Lost = %d, want 3", r.Lost)
	}
}
