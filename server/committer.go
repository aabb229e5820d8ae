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
	gid    int64 // group messages: the group; 0 for single
	admin  bool  // sent by an admin through the REST API: no membership needed
	origin *conn // the sending connection; not sent its own push
	// recipients are the members to push to, fixed by the committer at
	// commit (a group's members of that moment).
	recipients []int64
	res        store.Appended
	err        error
	done       func(*pendingSend) // called on the committer goroutine after commit
}

// job is work that must run in order with message commits: a change of a
// group, which reads and changes state that only the committer goroutine
// touches.
type job struct {
	run func()
}

// committer is the write path: one goroutine that owns every change to
// conversations. It takes every message waiting, commits them in one
// transaction (one fsync: group commit), fixes each message's recipients,
// and hands the batch to the publisher goroutine, which answers each sender
// and pushes to recipients in commit order while the next batch commits.
// Jobs run between batches, in the order they were submitted, and hand
// their pushes to the publisher too. A sender is answered only after its
// message is durable.
type committer struct {
	in      chan any // *pendingSend or *job
	st      store.Messages
	max     int
	check   func(*pendingSend) error // on the committer goroutine, before a message joins a batch
	route   func(*pendingSend)       // on the committer goroutine, after commit: sets recipients
	publish func([]*pendingSend)     // on the publisher goroutine
	post    func(func())             // hands work to the publisher, in order
	log     *slog.Logger
	metrics *metrics
}

// submit queues a *pendingSend or a *job, waiting while the queue is full;
// it fails only when ctx ends first.
func (c *committer) submit(ctx context.Context, item any) error {
	select {
	case c.in <- item:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// run processes the queue until ctx ends, then what is still queued.
func (c *committer) run(ctx context.Context) {
	batch := make([]*pendingSend, 0, c.max)
	for {
		select {
		case item := <-c.in:
			batch = c.take(batch[:0], item)
		case <-ctx.Done():
			for {
				select {
				case item := <-c.in:
					batch = c.take(batch[:0], item)
					batch = c.drain(batch)
					c.commit(batch)
				default:
					return
				}
			}
		}
		batch = c.drain(batch)
		c.commit(batch)
	}
}

// take adds item to batch, or, for a job, commits the batch and runs it.
func (c *committer) take(batch []*pendingSend, item any) []*pendingSend {
	switch it := item.(type) {
	case *pendingSend:
		if err := c.check(it); err != nil {
			it.err = err
			it.done(it)
			return batch
		}
		return append(batch, it)
	case *job:
		c.commit(batch)
		it.run()
		return batch[:0]
	}
	return batch
}

// drain takes whatever is queued, up to the batch limit.
func (c *committer) drain(batch []*pendingSend) []*pendingSend {
	for len(batch) < c.max {
		select {
		case item := <-c.in:
			batch = c.take(batch, item)
		default:
			return batch
		}
	}
	return batch
}

// commit stores batch in one transaction. If that fails, each message is
// tried alone so that one bad message cannot fail its neighbours.
func (c *committer) commit(batch []*pendingSend) {
	if len(batch) == 0 {
		return
	}
	now := time.Now().UnixMilli()
	msgs := make([]store.NewMessage, len(batch))
	for i, p := range batch {
		p.msg.CTimeMs = now // the commit's time: it never runs ahead of the sequence
		msgs[i] = p.msg
	}
	start := time.Now()
	res, err := c.st.Append(context.Background(), msgs)
	if err == nil {
		c.metrics.commitSeconds.Observe(time.Since(start).Seconds())
		c.metrics.commitBatch.Observe(float64(len(batch)))
		c.metrics.messagesIn.Add(int64(len(batch)))
	}
	if err != nil && len(batch) > 1 {
		c.log.Warn("batch commit failed, retrying one by one", "size", len(batch), "err", err)
		for _, p := range batch {
			c.commit([]*pendingSend{p})
		}
		return
	}
	done := make([]*pendingSend, len(batch)) // batch is reused; the publisher keeps this
	for i, p := range batch {
		if err != nil {
			p.err = err
		} else {
			p.res = res[i]
			c.route(p)
		}
		done[i] = p
	}
	// Answering senders and pushing to recipients (JSON, queues) runs on the
	// publisher while the next batch commits; the publisher keeps commit
	// order.
	c.post(func() {
		for _, p := range done {
			p.done(p)
		}
		if err == nil {
			c.publish(done)
		}
	})
}
