package server

import "time"

// workers runs connection handlers on goroutines that are kept a while
// after their handler returns, so that a busy server does not start a
// goroutine, and grow its stack, for every readable socket. An idle
// worker ends after workerIdle; a server with idle connections keeps none.
type workers struct {
	handle func(*conn)
	work   chan *conn // unbuffered: a send succeeds only to a waiting worker
}

// workerIdle is how long a worker waits for more work before it ends.
const workerIdle = 2 * time.Second

func newWorkers(handle func(*conn)) *workers {
	return &workers{handle: handle, work: make(chan *conn)}
}

// run handles c on a waiting worker, or on a new one when none waits.
func (w *workers) run(c *conn) {
	select {
	case w.work <- c:
	default:
		go w.loop(c)
	}
}

func (w *workers) loop(c *conn) {
	idle := time.NewTimer(workerIdle)
	defer idle.Stop()
	for {
		w.handle(c)
		idle.Reset(workerIdle)
		select {
		case c = <-w.work:
		case <-idle.C:
			return
		}
	}
}
