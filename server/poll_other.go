//go:build unix && !linux

package server

import "sync"

// poller tells which connections have bytes to read. Without epoll, each
// armed connection has a goroutine waiting in the runtime's network poller
// until its socket is readable; a connection is reported once per arm, so
// at most one handler reads it at a time.
type poller struct {
	ready func(*conn)
	done  chan struct{}

	mu    sync.Mutex // guards conns
	conns map[*conn]struct{}
}

// newPoller returns a poller that runs ready(c) for each connection c with
// bytes to read.
func newPoller(ready func(*conn)) (*poller, error) {
	return &poller{ready: ready, done: make(chan struct{}), conns: map[*conn]struct{}{}}, nil
}

// add registers c, armed.
func (p *poller) add(c *conn) error {
	p.mu.Lock()
	p.conns[c] = struct{}{}
	p.mu.Unlock()
	return p.arm(c)
}

// arm asks for c's next readiness. Only c's handler calls it, last.
func (p *poller) arm(c *conn) error {
	go func() {
		waited := false
		err := c.rc.Read(func(uintptr) bool {
			if !waited {
				waited = true
				return false // wait until readable
			}
			return true
		})
		_ = err // a closed socket is reported to the handler by its read
		p.ready(c)
	}()
	return nil
}

// remove unregisters c.
func (p *poller) remove(c *conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.conns, c)
}

// all returns the registered connections.
func (p *poller) all() []*conn {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]*conn, 0, len(p.conns))
	for c := range p.conns {
		out = append(out, c)
	}
	return out
}

// run waits until stop.
func (p *poller) run() { <-p.done }

// stop ends run.
func (p *poller) stop() { close(p.done) }
