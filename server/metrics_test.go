package server

import (
	"io"
	"net/http"
	"regexp"
	"strconv"
	"testing"

	"github.com/jmsg-im/jmsg/wire"
)

// scrape returns the value of an unlabelled metric from /metrics.
func scrape(t *testing.T, ts *testServer, name string) float64 {
	t.Helper()
	resp, err := http.Get(ts.http.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	m := regexp.MustCompile(`(?m)^` + name + ` (\S+)$`).FindSubmatch(b)
	if m == nil {
		t.Fatalf("/metrics has no %s:\n%s", name, b)
	}
	v, err := strconv.ParseFloat(string(m[1]), 64)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestMetrics(t *testing.T) {
	ts := newTestServer(t, Config{})
	register(t, ts, "alice")
	register(t, ts, "bobby")
	alice, _ := login(t, ts, "alice", "")
	bob, _ := login(t, ts, "bobby", "")
	for i := range 3 {
		if code := alice.callCode(wire.OpSend, textSend("bobby", "m"+itoa(i), "hi")); code != 0 {
			t.Fatalf("send = %d", code)
		}
		bob.next(wire.OpMessage)
	}
	if v := scrape(t, ts, "jmsg_connections"); v != 2 {
		t.Errorf("jmsg_connections = %v, want 2", v)
	}
	if v := scrape(t, ts, "jmsg_sessions"); v != 2 {
		t.Errorf("jmsg_sessions = %v, want 2", v)
	}
	if v := scrape(t, ts, "jmsg_messages_in_total"); v != 3 {
		t.Errorf("jmsg_messages_in_total = %v, want 3", v)
	}
	if v := scrape(t, ts, "jmsg_pushes_out_total"); v != 3 {
		t.Errorf("jmsg_pushes_out_total = %v, want 3", v)
	}
	if v := scrape(t, ts, "jmsg_commit_batch_messages_count"); v < 1 || v > 3 {
		t.Errorf("jmsg_commit_batch_messages_count = %v, want 1–3 batches", v)
	}
	if v := scrape(t, ts, "jmsg_slow_consumers_dropped_total"); v != 0 {
		t.Errorf("jmsg_slow_consumers_dropped_total = %v", v)
	}
	scrape(t, ts, "process_resident_memory_bytes")
}
