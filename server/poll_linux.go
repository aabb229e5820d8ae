package server

import (
	"errors"
	"sync"

	"golang.org/x/sys/unix"
)

// poller tells which connections have bytes to read, so that an idle
// connection needs no goroutine: one goroutine waits in epoll_wait for all
// of them and starts a handler for each ready one. Connections are
// registered one-shot: a connection is reported once and then not again
// until its handler re-arms it, so at most one handler reads it at a time.
type poller struct {
	epfd  int
	wake  int // eventfd that ends run
	ready *workers

	mu    sync.Mutex // guards conns
	conns map[int32]*conn
}

// newPoller returns a poller that runs ready(c), on a worker goroutine,
// for each connection c with bytes to read.
func newPoller(ready func(*conn)) (*poller, error) {
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, err
	}
	wake, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		unix.Close(epfd)
		return nil, err
	}
	ev := unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(wake)}
	if err := unix.EpollCtl(epfd, unix.EPOLL_CTL_ADD, wake, &ev); err != nil {
		unix.Close(epfd)
		unix.Close(wake)
		return nil, err
	}
	return &poller{epfd: epfd, wake: wake, ready: newWorkers(ready), conns: map[int32]*conn{}}, nil
}

// add registers c, armed: its handler is started when it has bytes.
func (p *poller) add(c *conn) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	ev := unix.EpollEvent{Events: unix.EPOLLIN | unix.EPOLLRDHUP | unix.EPOLLONESHOT, Fd: int32(c.fd)}
	if err := unix.EpollCtl(p.epfd, unix.EPOLL_CTL_ADD, c.fd, &ev); err != nil {
		return err
	}
	p.conns[int32(c.fd)] = c
	return nil
}

// arm asks for c's next readiness. Only c's handler calls it, last.
func (p *poller) arm(c *conn) error {
	ev := unix.EpollEvent{Events: unix.EPOLLIN | unix.EPOLLRDHUP | unix.EPOLLONESHOT, Fd: int32(c.fd)}
	return unix.EpollCtl(p.epfd, unix.EPOLL_CTL_MOD, c.fd, &ev)
}

// remove unregisters c. Call it before closing c's socket: once closed,
// its descriptor number may be given to a new connection.
func (p *poller) remove(c *conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.conns[int32(c.fd)] == c {
		delete(p.conns, int32(c.fd))
		unix.EpollCtl(p.epfd, unix.EPOLL_CTL_DEL, c.fd, nil)
	}
}

// all returns the registered connections.
func (p *poller) all() []*conn {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]*conn, 0, len(p.conns))
	for _, c := range p.conns {
		out = append(out, c)
	}
	return out
}

// run waits for ready connections and starts a handler for each, until
// stop.
func (p *poller) run() {
	events := make([]unix.EpollEvent, 256)
	for {
		n, err := unix.EpollWait(p.epfd, events, -1)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return
		}
		for _, ev := range events[:n] {
			if int(ev.Fd) == p.wake {
				unix.Close(p.epfd)
				unix.Close(p.wake)
				return
			}
			p.mu.Lock()
			c := p.conns[ev.Fd]
			p.mu.Unlock()
			if c != nil {
				p.ready.run(c)
			}
		}
	}
}

// stop ends run.
func (p *poller) stop() {
	var one = [8]byte{1}
	unix.Write(p.wake, one[:])
}
