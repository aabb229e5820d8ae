package client

import (
	"context"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"sync"
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
	token    string

	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{} // closed when run has released everything

	mu sync.Mutex // guards tr
	tr *transport

	inbox inbox // pushes and local notes for process
}

// keySyncKey is the meta key of the newest change key applied locally.
const keySyncKey = "sync_key"

// inboxItem is a server push or a change key learned from a send response.
type inboxItem struct {
	frame   *wire.Frame
	seenKey int64
	resync  bool // connection (re)established: sync
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
	wg.Add(1)
	go func() {
		defer wg.Done()
		s.process()
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
			ntr, resp, err := s.c.connectAndLogin(s.ctx, wire.LoginReq{Username: s.username, Token: s.token}, s.onPush)
			if err == nil {
				s.mu.Lock()
				s.tr, s.me = ntr, resp.User
				s.mu.Unlock()
				s.c.emit(ConnStateChanged{State: Connected})
				s.inbox.put(inboxItem{resync: true})
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

// onPush runs on the transport's reader: it only queues.
func (s *session) onPush(f *wire.Frame) { s.inbox.put(inboxItem{frame: f}) }

// process applies inbox items in order and syncs when the change stream
// shows a gap or the connection was re-established.
func (s *session) process() {
	ctx := s.ctx
	key, err := s.db.Meta(ctx, keySyncKey)
	if err != nil {
		s.c.log.Error("reading sync key", "err", err)
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.inbox.wake:
		}
		needSync := false
		for _, it := range s.inbox.take() {
			switch {
			case it.resync:
				needSync = true
			case it.seenKey != 0:
				if it.seenKey == key+1 {
					key = it.seenKey
					s.saveKey(key)
				} else if it.seenKey > key {
					needSync = true
				}
			case it.frame != nil:
				if s.handlePush(it.frame, &key, &needSync) {
					return
				}
			}
		}
		if needSync {
			if k, err := s.sync(ctx, key); err != nil {
				s.c.log.Warn("sync failed", "err", err)
			} else {
				key = k
			}
		}
	}
}

func (s *session) saveKey(key int64) {
	if err := s.db.SetMeta(s.ctx, keySyncKey, key); err != nil {
		s.c.log.Error("saving sync key", "err", err)
		return
	}
	if tr, err := s.transport(); err == nil {
		tr.notify(s.ctx, wire.OpAck, wire.AckReq{SyncKey: key})
	}
}

// handlePush applies one push. It returns true when the session ended.
func (s *session) handlePush(f *wire.Frame, key *int64, needSync *bool) bool {
	switch f.Op {
	case wire.OpMessage:
		var p wire.MessagePush
		if json.Unmarshal(f.Data, &p) != nil {
			return false
		}
		in, ok := s.incoming(p.Message)
		if !ok {
			return false
		}
		stored, err := s.db.StoreIncoming(s.ctx, []localstore.Incoming{in})
		if err != nil {
			s.c.log.Error("storing message", "err", err)
			*needSync = true
			return false
		}
		for _, r := range stored {
			if m, err := s.c.messageFromRow(s.ctx, s.db, r); err == nil {
				s.c.emit(MessageReceived{Message: m})
			}
		}
		switch {
		case p.SyncKey == *key+1:
			*key = p.SyncKey
			s.saveKey(*key)
		case p.SyncKey > *key:
			*needSync = true
		}
	case wire.OpEvent:
		var e wire.EventPush
		if json.Unmarshal(f.Data, &e) != nil {
			return false
		}
		switch e.EventType {
		case wire.EventLoginKicked, wire.EventServerAlterPassword, wire.EventUserLoginStatusError:
			s.c.sessionEnded(s, LoginReason(e.EventType))
			s.cancel()
			return true
		}
	}
	return false
}

// incoming converts a server message into a row for the local store.
func (s *session) incoming(m wire.Message) (localstore.Incoming, bool) {
	var doc jmsg.Doc
	if json.Unmarshal(m.Content, &doc) != nil || doc.TargetType != "single" {
		return localstore.Incoming{}, false
	}
	received := doc.FromID != s.username
	peer := doc.FromID
	status := jmsg.StatusReceiveSucceed
	if !received {
		peer, status = doc.TargetID, jmsg.StatusSendSucceed
	}
	return localstore.Incoming{
		ConvType: int(jmsg.ConversationSingle), Target: peer, ServerConvID: m.ConvID,
		Message: localstore.Message{
			ServerID: m.MsgID, Seq: m.Seq, CID: m.ClientMsgID, Received: received, Status: int(status),
			ContentType: int(jmsg.ParseContentType(doc.MsgType)), Content: string(m.Content), From: doc.FromID,
			ServerTime: m.CTimeMs, LocalTime: time.Now().UnixMilli(),
		},
	}, true
}

// sync fetches every change after key: the changed conversations, then the
// messages of each that are missing locally. It stores them, reports them
// once per conversation as OfflineMessages, and returns the new key.
func (s *session) sync(ctx context.Context, key int64) (int64, error) {
	type batch struct {
		conv int64
		msgs []*Message
	}
	var order []int64
	batches := map[int64]*batch{}
	for {
		var resp wire.SyncResp
		if err := s.call(ctx, wire.OpSync, wire.SyncReq{Since: key}, &resp); err != nil {
			return key, err
		}
		for _, ch := range resp.Changes {
			if ch.Type != int(jmsg.ConversationSingle) {
				continue
			}
			after := int64(0)
			if lc, err := s.db.ConversationByTarget(ctx, ch.Type, ch.Peer); err == nil {
				after = lc.SyncedSeq
			}
			for after < ch.LastSeq {
				var h wire.HistoryResp
				if err := s.call(ctx, wire.OpHistory, wire.HistoryReq{ConvID: ch.ConvID, After: after}, &h); err != nil {
					return key, err
				}
				ins := make([]localstore.Incoming, 0, len(h.Messages))
				for _, m := range h.Messages {
					if in, ok := s.incoming(m); ok {
						ins = append(ins, in)
					}
					after = max(after, m.Seq)
				}
				stored, err := s.db.StoreIncoming(ctx, ins)
				if err != nil {
					return key, err
				}
				for _, r := range stored {
					m, err := s.c.messageFromRow(ctx, s.db, r)
					if err != nil {
						continue
					}
					b := batches[r.ConvID]
					if b == nil {
						b = &batch{conv: r.ConvID}
						batches[r.ConvID] = b
						order = append(order, r.ConvID)
					}
					b.msgs = append(b.msgs, m)
				}
				if !h.More {
					break
				}
			}
		}
		key = resp.Key
		if err := s.db.SetMeta(ctx, keySyncKey, key); err != nil {
			return key, err
		}
		if !resp.More {
			break
		}
	}
	if tr, err := s.transport(); err == nil {
		tr.notify(ctx, wire.OpAck, wire.AckReq{SyncKey: key})
	}
	for _, id := range order {
		b := batches[id]
		conv, err := s.c.conversationByID(ctx, s.db, b.conv)
		if err != nil {
			continue
		}
		s.c.emit(OfflineMessages{Conversation: conv, Messages: b.msgs})
	}
	s.c.emit(SyncCompleted{Key: key})
	return key, nil
}
