package server

import (
	"context"
	"log/slog"
	"time"

	"github.com/jmsg-im/jmsg/server/store"
)

// pendingSend is a message waiting for the write path.
type pendingSend struct {
	msg    store.NewMessage
	origin *conn // the sending connection; not sent its own push
	res    store.Appended
	err    error
	done   func(*pendingSend) // called on the committer goroutine after commit
}

// committer is the group-commit write path: one goroutine takes every
// message waiting, commits them in one transaction (one fsync), then
// answers each sender and publishes the batch in commit order. A sender is
// answered only after its message is durable.
type committer struct {
	in      chan *pendingSend
	st      store.Messages
	max     int
	publish func([]*pendingSend)
	log     *slog.Logger
}

func newCommitter(st store.Messages, max int, publish func([]*pendingSend), log *slog.Logger) *committer {
	return &committer{in: make(chan *pendingSend, 4*max), st: st, max: max, publish: publish, log: log}
}

// submit queues p, waiting while the queue is full; it fails only when ctx
// ends first.
func (c *committer) submit(ctx context.Context, p *pendingSend) error {
	select {
	case c.in <- p:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// run commits batches until ctx ends, then commits what is still queued.
func (c *committer) run(ctx context.Context) {
	batch := make([]*pendingSend, 0, c.max)
	for {
		select {
		case p := <-c.in:
			batch = append(batch[:0], p)
		case <-ctx.Done():
			for {
				batch = c.fill(batch[:0])
				if len(batch) == 0 {
					return
				}
				c.commit(batch)
			}
		}
		c.commit(c.fill(batch))
	}
}

// fill adds to batch whatever is queued, up to the batch limit.
func (c *committer) fill(batch []*pendingSend) []*pendingSend {
	for len(batch) < c.max {
		select {
		case p := <-c.in:
			batch = append(batch, p)
		default:
			return batch
		}
	}
	return batch
}

// commit stores batch in one transaction. If that fails, each message is
// tried alone so that one bad message cannot fail its neighbours.
func (c *committer) commit(batch []*pendingSend) {
	now := time.Now().UnixMilli()
	msgs := make([]store.NewMessage, len(batch))
	for i, p := range batch {
		p.msg.CTimeMs = now // the commit's time: it never runs ahead of the sequence
		msgs[i] = p.msg
	}
	res, err := c.st.Append(context.Background(), msgs)
	if err != nil && len(batch) > 1 {
		c.log.Warn("batch commit failed, retrying one by one", "size", len(batch), "err", err)
		for _, p := range batch {
			c.commit([]*pendingSend{p})
		}
		return
	}
	for i, p := range batch {
		if err != nil {
			p.err = err
		} else {
			p.res = res[i]
		}
		p.done(p)
	}
	if err == nil {
		c.publish(batch)
	}
}
