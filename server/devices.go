package server

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/jmsg-im/jmsg/server/store"
)

// devices collects login records and writes them in batches, so that a
// storm of logins costs one write transaction per interval instead of one
// fsync per login. A record not yet written is lost if the process dies:
// it is the time of the last login, not anything a client was promised.
type devices struct {
	st    store.Users
	every time.Duration
	log   *slog.Logger

	mu      sync.Mutex // guards pending
	pending map[string]map[devKey]int64
}

type devKey struct {
	uid      int64
	platform string
}

func newDevices(st store.Users, every time.Duration, log *slog.Logger) *devices {
	return &devices{st: st, every: every, log: log, pending: map[string]map[devKey]int64{}}
}

// touch records a login of uid on platform at ms.
func (d *devices) touch(appKey string, uid int64, platform string, ms int64) {
	d.mu.Lock()
	defer d.mu.Unlock()
	m := d.pending[appKey]
	if m == nil {
		m = map[devKey]int64{}
		d.pending[appKey] = m
	}
	k := devKey{uid, platform}
	m[k] = max(m[k], ms)
}

// list returns uid's device records: the stored ones with the logins not
// written yet laid over them.
func (d *devices) list(ctx context.Context, appKey string, uid int64) ([]store.Device, error) {
	devs, err := d.st.Devices(ctx, appKey, uid)
	if err != nil {
		return nil, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	for k, ms := range d.pending[appKey] {
		if k.uid != uid {
			continue
		}
		found := false
		for i := range devs {
			if devs[i].Platform == k.platform {
				devs[i].MTimeMs, found = max(devs[i].MTimeMs, ms), true
			}
		}
		if !found {
			devs = append(devs, store.Device{Platform: k.platform, MTimeMs: ms})
		}
	}
	return devs, nil
}

// run flushes every interval until ctx ends, then flushes once more.
func (d *devices) run(ctx context.Context) { flushEvery(ctx, d.every, d.flush) }

func (d *devices) flush() {
	d.mu.Lock()
	pending := d.pending
	d.pending = map[string]map[devKey]int64{}
	d.mu.Unlock()
	for app, m := range pending {
		logins := make([]store.DeviceLogin, 0, len(m))
		for k, ms := range m {
			logins = append(logins, store.DeviceLogin{UID: k.uid, Platform: k.platform, MTimeMs: ms})
		}
		if err := d.st.TouchDevices(context.Background(), app, logins); err != nil {
			d.log.Error("writing device logins", "err", err)
		}
	}
}
