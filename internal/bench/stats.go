package bench

import (
	"math"
	"sync/atomic"
	"time"
)

// latencies is a lock-free histogram of durations with logarithmic buckets
// (about 4% wide) from 1µs to about 70s.
type latencies struct {
	buckets [512]atomic.Int64
	count   atomic.Int64
}

const bucketsPerDoubling = 16

func bucketOf(d time.Duration) int {
	us := float64(d) / float64(time.Microsecond)
	if us < 1 {
		return 0
	}
	b := int(math.Log2(us) * bucketsPerDoubling)
	return min(b, len(latencies{}.buckets)-1)
}

func bucketUpper(b int) time.Duration {
	return time.Duration(math.Exp2(float64(b+1)/bucketsPerDoubling) * float64(time.Microsecond))
}

func (l *latencies) record(d time.Duration) {
	l.buckets[bucketOf(d)].Add(1)
	l.count.Add(1)
}

// quantile returns the upper bound of the bucket holding quantile q.
func (l *latencies) quantile(q float64) time.Duration {
	n := l.count.Load()
	if n == 0 {
		return 0
	}
	rank := int64(math.Ceil(q * float64(n)))
	var seen int64
	for b := range l.buckets {
		seen += l.buckets[b].Load()
		if seen >= rank {
			return bucketUpper(b)
		}
	}
	return bucketUpper(len(l.buckets) - 1)
}

// counters are the numbers of a run, updated concurrently.
type counters struct {
	sent, acked, delivered, errors atomic.Int64
	lat                            latencies
}

// deliver counts a delivered push and its latency.
func (c *counters) deliver(raw []byte) {
	if !isMessagePush(raw) {
		return
	}
	c.delivered.Add(1)
	if t, ok := sentAt(raw); ok {
		c.lat.record(time.Since(t))
	}
}
