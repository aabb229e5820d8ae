package server

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/jmsg-im/jmsg/server/store"
)

// positions collects delivered positions from client acks and writes them
// in batches, so that acks never compete one by one with message commits
// for the database's single writer.
type positions struct {
	st    store.Messages
	every time.Duration
	log   *slog.Logger

	mu      sync.Mutex // guards pending
	pending map[string]map[posKey]int64
}

type posKey struct{ uid, conv int64 }

func newPositions(st store.Messages, every time.Duration, log *slog.Logger) *positions {
	return &positions{st: st, every: every, log: log, pending: map[string]map[posKey]int64{}}
}

// add records that d.UID holds d.ConvID up to d.Seq.
func (p *positions) add(appKey string, d store.Delivery) {
	p.mu.Lock()
	defer p.mu.Unlock()
	m := p.pending[appKey]
	if m == nil {
		m = map[posKey]int64{}
		p.pending[appKey] = m
	}
	k := posKey{d.UID, d.ConvID}
	if d.Seq > m[k] {
		m[k] = d.Seq
	}
}

// run flushes every interval until ctx ends, then flushes once more.
func (p *positions) run(ctx context.Context) { flushEvery(ctx, p.every, p.flush) }

// flushEvery calls flush every interval until ctx ends, then once more.
func flushEvery(ctx context.Context, every time.Duration, flush func()) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			flush()
			return
		case <-t.C:
			flush()
		}
	}
}

func (p *positions) flush() {
	p.mu.Lock()
	pending := p.pending
	p.pending = map[string]map[posKey]int64{}
	p.mu.Unlock()
	for app, m := range pending {
		ds := make([]store.Delivery, 0, len(m))
		for k, seq := range m {
			ds = append(ds, store.Delivery{UID: k.uid, ConvID: k.conv, Seq: seq})
		}
		if err := p.st.SetDelivered(context.Background(), app, ds); err != nil {
			p.log.Error("writing delivered positions", "err", err)
		}
	}
}
