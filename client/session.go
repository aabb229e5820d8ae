package client

import (
	"context"
	"errors"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jmsg-im/jmsg"
	"github.com/jmsg-im/jmsg/client/internal/localstore"
	"github.com/jmsg-im/jmsg/wire"
)

// session is one login: the user, the local database and the connection,
// kept up by run until Logout, Close or a kick.
//
// Goroutines: run (owner of the session) starts process and reconnects the
// transport; process applies pushes and syncs in order. stop cancels ctx
// and waits for both.
type session struct {
	c        *Client
	db       *localstore.DB
	me       jmsg.UserInfo
	username string

	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{} // closed when run has released everything

	mu      sync.Mutex // guards tr, token, me and recheck
	tr      *transport
	token   string       // login token for reconnecting
	recheck recheckState // held messages to re-read for retractions missed offline (retract.go)

	inbox     inbox       // pushes and reconnects, for process
	outbox    *outbox     // messages waiting to be sent
	downloads keyedMutex  // one download per destination file at a time
	ended     atomic.Bool // the server ended the session (kick); do not reconnect
}

// inboxItem is a server push, or a note that the connection was
// (re)established and the client must sync.
type inboxItem struct {
	frame  *wire.Frame
	resync bool
}

// inbox is an unbounded queue: the transport's reader never blocks on it.
type inbox struct {
	mu    sync.Mutex // guards items
	items []inboxItem
	wake  chan struct{} // capacity 1
}

func (q *inbox) put(it inboxItem) {
	q.mu.Lock()
	q.items = append(q.items, it)
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

func (q *inbox) take() []inboxItem {
	q.mu.Lock()
	defer q.mu.Unlock()
	items := q.items
	q.items = nil
	return items
}

// transport returns the live connection or 860016.
func (s *session) transport() (*transport, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tr == nil || !s.tr.alive() {
		return nil, jmsg.Errorf(jmsg.SDKNetworkOtherError, "not connected")
	}
	return s.tr, nil
}

// call runs a request on the live connection with the client's timeout.
func (s *session) call(ctx context.Context, op string, in, out any) error {
	tr, err := s.transport()
	if err != nil {
		return err
	}
	ctx, cancel := s.c.withTimeout(ctx)
	defer cancel()
	return tr.call(ctx, op, in, out)
}

// start launches the session's goroutines on the already logged-in tr.
func (s *session) start(tr *transport) {
	s.tr = tr
	s.inbox.wake = make(chan struct{}, 1)
	s.inbox.put(inboxItem{resync: true})
	s.c.emit(ConnStateChanged{State: Connected})
	s.outbox.kick() // what an earlier process left queued
	go s.run()
}

// stop ends the session and waits until its goroutines are gone and its
// database and connection are closed.
func (s *session) stop() {
	s.cancel()
	<-s.done
}

func (s *session) run() {
	defer close(s.done)
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		s.process()
	}()
	go func() {
		defer wg.Done()
		s.runOutbox()
	}()
	s.keepConnected()
	wg.Wait()
	s.mu.Lock()
	tr := s.tr
	s.tr = nil
	s.mu.Unlock()
	if tr != nil {
		tr.close()
	}
	s.db.Close()
}

// keepConnected waits for the connection to drop and reconnects with
// exponential backoff and jitter, until the session ends.
func (s *session) keepConnected() {
	for {
		s.mu.Lock()
		tr := s.tr
		s.mu.Unlock()
		select {
		case <-s.ctx.Done():
			return
		case <-tr.done:
		}
		if s.ended.Load() {
			return // process reports the end and cancels the session
		}
		s.noteOffline(s.ctx)
		s.c.emit(ConnStateChanged{State: Disconnected, Err: tr.lastErr()})
		backoff := 250 * time.Millisecond
		for {
			wait := backoff/2 + rand.N(backoff/2+1)
			select {
			case <-s.ctx.Done():
				return
			case <-time.After(wait):
			}
			s.c.emit(ConnStateChanged{State: Connecting})
			s.mu.Lock()
			token := s.token
			s.mu.Unlock()
			ntr, resp, err := s.c.connectAndLogin(s.ctx, wire.LoginReq{Username: s.username, Token: token}, s.onPush)
			if err == nil {
				s.mu.Lock()
				s.tr, s.me = ntr, resp.User
				s.recheck.connected(resp.ServerTime)
				s.mu.Unlock()
				s.c.emit(ConnStateChanged{State: Connected})
				s.inbox.put(inboxItem{resync: true})
				s.outbox.kick()
				break
			}
			var je *jmsg.Error
			if errors.As(err, &je) && (je.Code == jmsg.TcpUserPasswordError || je.Code == jmsg.TcpUserNotRegistered) {
				s.c.log.Warn("re-login refused", "err", err)
				s.c.sessionEnded(s, LoginStatusUnexpected)
				s.cancel()
				return
			}
			backoff = min(backoff*2, 30*time.Second)
		}
	}
}
