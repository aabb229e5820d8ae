package rest

import (
	"sync"
	"time"
)

// rateLimiter counts calls per app key in fixed windows.
type rateLimiter struct {
	quota  int
	window time.Duration

	mu   sync.Mutex // guards apps
	apps map[string]*appWindow
}

type appWindow struct {
	start time.Time
	used  int
}

func newRateLimiter(quota int, window time.Duration) *rateLimiter {
	return &rateLimiter{quota: quota, window: window, apps: map[string]*appWindow{}}
}

// take counts a call of app at now. It returns the quota, the calls left
// after this one, the seconds until the window resets, and whether the
// call is allowed. A limiter without a quota allows everything and
// returns quota 0.
func (l *rateLimiter) take(app string, now time.Time) (quota, remaining, reset int, ok bool) {
	if l.quota <= 0 {
		return 0, 0, 0, true
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	w := l.apps[app]
	if w == nil || now.Sub(w.start) >= l.window {
		if len(l.apps) > 10000 { // forget old windows now and then
			for k, v := range l.apps {
				if now.Sub(v.start) >= l.window {
					delete(l.apps, k)
				}
			}
		}
		w = &appWindow{start: now}
		l.apps[app] = w
	}
	reset = int((w.start.Add(l.window).Sub(now) + time.Second - 1) / time.Second)
	if w.used >= l.quota {
		return l.quota, 0, reset, false
	}
	w.used++
	return l.quota, l.quota - w.used, reset, true
}
