package server

import (
	"context"
	"sync"
	"time"
)

// windowLimiter allows at most n events per key in each fixed window of
// length per. It is safe for concurrent use; sweep drops idle keys.
type windowLimiter struct {
	n   int
	per time.Duration

	mu      sync.Mutex // guards windows
	windows map[string]*window
}

type window struct {
	start time.Time
	count int
}

func newWindowLimiter(n int, per time.Duration) *windowLimiter {
	return &windowLimiter{n: n, per: per, windows: map[string]*window{}}
}

// allow counts an event for key and reports whether it is within the limit.
// A limiter with n ≤ 0 allows everything.
func (l *windowLimiter) allow(key string, now time.Time) bool {
	if l == nil || l.n <= 0 {
		return true
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	w := l.windows[key]
	if w == nil || now.Sub(w.start) >= l.per {
		w = &window{start: now}
		l.windows[key] = w
	}
	w.count++
	return w.count <= l.n
}

// exceeded reports whether key has used up its window, without counting.
func (l *windowLimiter) exceeded(key string, now time.Time) bool {
	if l == nil || l.n <= 0 {
		return false
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	w := l.windows[key]
	return w != nil && now.Sub(w.start) < l.per && w.count >= l.n
}

// sweep forgets windows that have ended.
func (l *windowLimiter) sweep(now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for k, w := range l.windows {
		if now.Sub(w.start) >= l.per {
			delete(l.windows, k)
		}
	}
}

// housekeeping runs retention and limiter sweeps until ctx ends.
func (s *Server) housekeeping(ctx context.Context) {
	sweep := time.NewTicker(time.Minute)
	defer sweep.Stop()
	var purge <-chan time.Time
	if s.cfg.HistoryRetention > 0 { // negative: kept for ever
		t := time.NewTicker(s.cfg.PurgeInterval)
		defer t.Stop()
		purge = t.C
		s.purge(ctx)
	}
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-sweep.C:
			s.sendLimit.sweep(now)
			s.loginLimit.sweep(now)
			s.sweepUploads(now)
		case <-purge:
			s.purge(ctx)
		}
	}
}

// purge removes messages older than the retention period. It first marks
// the current LSN with the time, which later purges use to know how far
// their horizon reaches.
func (s *Server) purge(ctx context.Context) {
	if err := s.store.MarkLSN(ctx, time.Now().UnixMilli()); err != nil && ctx.Err() == nil {
		s.log.Error("marking the change number", "err", err)
	}
	before := time.Now().Add(-s.cfg.HistoryRetention).UnixMilli()
	n, err := s.store.Purge(ctx, before)
	if err != nil {
		if ctx.Err() == nil {
			s.log.Error("purging history", "err", err)
		}
		return
	}
	if n > 0 {
		s.log.Info("purged history", "messages", n)
	}
}
