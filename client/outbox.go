package client

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"sync"
	"time"

	"github.com/jmsg-im/jmsg"
	"github.com/jmsg-im/jmsg/client/internal/localstore"
	"github.com/jmsg-im/jmsg/wire"
)

// outboxWindow is how many sends may be in flight on a connection.
const outboxWindow = 64

// outbox sends the messages of the local database whose status is Sending,
// in order, whenever the session is connected: messages sent while offline,
// and those left Sending by a process that died. Retries reuse the
// message's client id, so the server never stores a message twice.
//
// A media message is uploaded first (upload.go), by the outbox's own
// goroutine, so the messages queued after it wait for it.
type outbox struct {
	wake chan struct{} // capacity 1

	mu       sync.Mutex // guards inflight, waiters, preparing and progress; held while withdrawing
	inflight map[int64]bool
	waiters  map[int64][]chan sendOutcome
	// preparing holds the messages taken but whose send frame is not
	// written yet (their media may be uploading): they can still be
	// withdrawn, which stops the upload.
	preparing map[int64]context.CancelFunc
	progress  map[int64]func(sent, total int64) // SendOptions.UploadProgress of waiting Sends
}

type sendOutcome struct {
	msg *Message
	err error
}

func newOutbox() *outbox {
	return &outbox{wake: make(chan struct{}, 1), inflight: map[int64]bool{}, waiters: map[int64][]chan sendOutcome{},
		preparing: map[int64]context.CancelFunc{}, progress: map[int64]func(sent, total int64){}}
}

func (o *outbox) kick() {
	select {
	case o.wake <- struct{}{}:
	default:
	}
}

// wait registers for the outcome of message id.
func (o *outbox) wait(id int64) chan sendOutcome {
	ch := make(chan sendOutcome, 1)
	o.mu.Lock()
	o.waiters[id] = append(o.waiters[id], ch)
	o.mu.Unlock()
	return ch
}

// setProgress sets (nil: removes) the upload progress function of id.
func (o *outbox) setProgress(id int64, fn func(sent, total int64)) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if fn == nil {
		delete(o.progress, id)
	} else {
		o.progress[id] = fn
	}
}

func (o *outbox) unwait(id int64, ch chan sendOutcome) {
	o.mu.Lock()
	defer o.mu.Unlock()
	list := o.waiters[id]
	for i, x := range list {
		if x == ch {
			o.waiters[id] = append(list[:i:i], list[i+1:]...)
			break
		}
	}
	if len(o.waiters[id]) == 0 {
		delete(o.waiters, id)
	}
}

// settle ends id's flight and hands out its outcome.
func (o *outbox) settle(id int64, out sendOutcome) {
	o.mu.Lock()
	delete(o.inflight, id)
	ws := o.waiters[id]
	delete(o.waiters, id)
	o.mu.Unlock()
	for _, ch := range ws {
		ch <- out
	}
}

// land ends id's flight without an outcome: it stays queued.
func (o *outbox) land(id int64) {
	o.mu.Lock()
	delete(o.inflight, id)
	o.mu.Unlock()
}

// withdraw cancels message id if it has not left yet, reporting whether
// it did: a message still queued, or one the outbox has taken but not
// written yet, whose media may be uploading (the upload is stopped). The
// outbox checks the status again, under mu, just before it writes a
// message, so a withdrawn message is never sent.
func (o *outbox) withdraw(id int64, db *localstore.DB) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	stop, preparing := o.preparing[id]
	if o.inflight[id] && !preparing {
		return false
	}
	ok, err := db.CancelSending(context.Background(), id)
	if err == nil && ok && preparing {
		stop()
	}
	return err == nil && ok
}

// progressOf returns a function that passes upload progress to the
// SendOptions.UploadProgress of a Send waiting for id, if there is one
// at the time.
func (o *outbox) progressOf(id int64) func(sent, total int64) {
	return func(sent, total int64) {
		o.mu.Lock()
		fn := o.progress[id]
		o.mu.Unlock()
		if fn != nil {
			fn(sent, total)
		}
	}
}

// runOutbox sends queued messages whenever woken and connected, until the
// session ends; it waits for its senders before returning.
func (s *session) runOutbox() {
	var wg sync.WaitGroup
	defer wg.Wait()
	o := s.outbox
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-o.wake:
		}
		tr, err := s.transport()
		if err != nil {
			continue // woken again on reconnect
		}
		rows, err := s.db.Outbox(s.ctx, 2*outboxWindow)
		if err != nil {
			s.c.log.Error("reading the outbox", "err", err)
			continue
		}
		for _, r := range rows {
			o.mu.Lock()
			busy, full := o.inflight[r.ID], len(o.inflight) >= outboxWindow
			var ctx context.Context
			if !busy && !full {
				o.inflight[r.ID] = true
				var cancel context.CancelFunc
				ctx, cancel = context.WithCancel(s.ctx)
				o.preparing[r.ID] = cancel
			}
			o.mu.Unlock()
			if busy {
				continue
			}
			if full {
				break // a finished send wakes the outbox again
			}
			var upErr error
			if mc, doc, ok := s.pendingMedia(r); ok {
				upErr = s.uploadMedia(ctx, r, mc, doc, o.progressOf(r.ID))
			}
			// The last moment the message can be withdrawn.
			o.mu.Lock()
			cancel := o.preparing[r.ID]
			delete(o.preparing, r.ID)
			cur, err := s.db.MessageByID(s.ctx, r.ID)
			o.mu.Unlock()
			cancel()
			if err != nil || !localstore.Queued(cur.Status) {
				o.land(r.ID) // withdrawn meanwhile
				continue
			}
			r = cur
			if upErr != nil {
				var later errRetryLater
				if s.ctx.Err() != nil {
					o.land(r.ID)
					return // the session ends; the next one continues the upload
				}
				if errors.As(upErr, &later) {
					// No connection for the token: later, in order.
					o.land(r.ID)
					if tr.alive() {
						time.AfterFunc(time.Second, o.kick)
					}
					break
				}
				s.finishUpload(r, upErr)
				continue
			}
			var doc jmsg.Doc
			if err := json.Unmarshal([]byte(r.Content), &doc); err != nil {
				o.land(r.ID)
				s.finish(r, wire.SendResp{}, jmsg.Wrap(jmsg.SDKUnknownError, err))
				continue
			}
			wait, err := tr.start(s.ctx, wire.OpSend, wire.SendReq{ClientMsgID: r.CID, Content: doc})
			if err != nil {
				o.land(r.ID)
				break // the connection is gone; the reconnect wakes the outbox
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				ctx, cancel := s.c.withTimeout(s.ctx)
				defer cancel()
				var resp wire.SendResp
				err := wait(ctx, &resp)
				if err == nil && (resp.MsgID == 0 || resp.Seq == 0) {
					err = jmsg.Errorf(jmsg.SDKNetworkResultUnexpected, "send response without msg_id or seq")
				}
				if code := jmsg.CodeOf(err); code == jmsg.ServerSendFrequencyLimit || code == jmsg.ServerFrequencyLimit {
					// Over the server's rate limit: not a refusal of the
					// message; send it again a little later.
					o.land(r.ID)
					if s.ctx.Err() == nil {
						time.AfterFunc(2*time.Second, o.kick)
					}
					return
				}
				if jmsg.CodeOf(err) == jmsg.SDKNetworkOtherError {
					// No answer: sent again, with the same client id, after a
					// reconnect or, on a live but slow connection, a second.
					o.land(r.ID)
					if tr.alive() && s.ctx.Err() == nil {
						time.AfterFunc(time.Second, o.kick)
					}
					return
				}
				s.finish(r, resp, err)
				o.kick()
			}()
		}
	}
}

// finishUpload records a failed upload (status SendUploadFailed with the
// error's code), reports it and hands it to Send.
func (s *session) finishUpload(r localstore.Message, upErr error) {
	ctx := context.Background()
	s.c.log.Warn("media upload failed", "msg", r.ID, "err", upErr)
	if err := s.db.SetStatus(ctx, r.ID, int(jmsg.StatusSendUploadFailed), jmsg.CodeOf(upErr)); err != nil {
		s.c.log.Error("recording a failed upload", "err", err)
	}
	m, err := s.c.messageFromRow(ctx, s.db, mustRow(s.db, r.ID, r))
	if err != nil {
		m = nil
	}
	s.c.emit(SendResult{Message: m, Err: upErr})
	s.outbox.settle(r.ID, sendOutcome{msg: m, err: upErr})
	s.outbox.kick()
}

// finish records the outcome of a send, reports it and hands it to Send.
func (s *session) finish(r localstore.Message, resp wire.SendResp, sendErr error) {
	ctx := context.Background()
	if sendErr != nil {
		if jmsg.CodeOf(sendErr) == jmsg.TcpUserNotInGroup {
			// The server knows better than the local cache: not a member.
			if c, err := s.db.ConversationByID(ctx, r.ConvID); err == nil {
				if gid, err := strconv.ParseInt(c.Target, 10, 64); err == nil {
					s.db.SetMembership(ctx, gid, false)
				}
			}
			sendErr = jmsg.Wrap(jmsg.SDKMessageNotInGroup, sendErr)
		}
		if err := s.db.SetStatus(ctx, r.ID, int(jmsg.StatusSendFailed), jmsg.CodeOf(sendErr)); err != nil {
			s.c.log.Error("recording a failed send", "err", err)
		}
	} else if err := s.db.MarkSent(ctx, r.ID, resp.MsgID, resp.Seq, resp.CTimeMs, resp.ConvID, int(jmsg.StatusSendSucceed)); err != nil {
		// Stored on the server but not here: fail it rather than send it
		// again and again (a retry would return the same answer).
		s.c.log.Error("recording a sent message", "err", err)
		sendErr = jmsg.Wrap(jmsg.SDKUnknownError, err)
		s.db.SetStatus(ctx, r.ID, int(jmsg.StatusSendFailed), jmsg.SDKUnknownError)
	} else if c, err := s.db.ConversationByID(ctx, r.ConvID); err == nil && c.SyncedSeq >= resp.Seq {
		// The user's own message counts as delivered to the user: without
		// this a new device would take it for an offline message.
		s.ack(ctx, []wire.Position{{ConvID: resp.ConvID, Seq: c.SyncedSeq}})
	}
	m, err := s.c.messageFromRow(ctx, s.db, mustRow(s.db, r.ID, r))
	if err != nil {
		m = nil
	}
	s.c.emit(SendResult{Message: m, Err: sendErr})
	s.outbox.settle(r.ID, sendOutcome{msg: m, err: sendErr})
}

// errStillQueued is returned by Send when ctx ends before the server has
// answered: the message stays queued and its result comes as a SendResult.
var errStillQueued = errors.New("no answer yet; the message stays queued and is sent when connected")
