package client

import (
	"context"
	"encoding/json"
	"slices"
	"time"

	"github.com/jmsg-im/jmsg"
	"github.com/jmsg-im/jmsg/client/internal/localstore"
	"github.com/jmsg-im/jmsg/wire"
)

// Meta keys of the sync cursor: every conversation changed before it is
// stored locally.
const (
	keyCursor     = "sync_cursor"
	keyCursorConv = "sync_cursor_conv"
	keySyncedOnce = "synced_once" // 1 once a sync has completed: roaming applies before only
)

// sessionEndingEvents are the event types after which the server ends the
// session.
func endsSession(eventType int) bool {
	switch eventType {
	case wire.EventLoginKicked, wire.EventServerAlterPassword, wire.EventUserLoginStatusError:
		return true
	}
	return false
}

// onPush runs on the transport's reader. It only queues, except that it
// marks the session ended as soon as the server says so, before the reader
// sees the connection close, so that keepConnected does not log in again.
func (s *session) onPush(f *wire.Frame) {
	if f.Op == wire.OpEvent {
		var e wire.EventPush
		if json.Unmarshal(f.Data, &e) == nil && endsSession(e.EventType) {
			s.ended.Store(true)
		}
	}
	s.inbox.put(inboxItem{frame: f})
}

// process applies inbox items in order: it stores pushed messages, fills
// gaps in a conversation's sequence, acknowledges what it has stored, and
// syncs after every (re)connection.
func (s *session) process() {
	ctx := s.ctx
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.inbox.wake:
		}
		needSync := false
		var received []localstore.Message
		var retracts []wire.EventPush
		for _, it := range s.inbox.take() {
			switch {
			case it.resync:
				needSync = true
			case it.frame != nil && it.frame.Op == wire.OpMessage:
				var p wire.MessagePush
				if json.Unmarshal(it.frame.Data, &p) != nil {
					continue
				}
				if in, ok := s.incoming(p.Message); ok {
					s.noteJoin(ctx, in)
					rows, rs, err := s.db.StoreIncoming(ctx, []localstore.Incoming{in})
					if err != nil {
						s.c.log.Error("storing message", "err", err)
						needSync = true
						continue
					}
					received = append(received, rows...)
					s.retracted(ctx, rs)
				}
			case it.frame != nil && it.frame.Op == wire.OpReadPos:
				var p wire.ReadPush
				if json.Unmarshal(it.frame.Data, &p) == nil {
					s.applyRead(ctx, p.ConvID, p.Seq)
				}
			case it.frame != nil && it.frame.Op == wire.OpEvent:
				var e wire.EventPush
				if json.Unmarshal(it.frame.Data, &e) != nil {
					continue
				}
				if endsSession(e.EventType) {
					s.c.sessionEnded(s, LoginReason(e.EventType))
					s.cancel()
					return
				}
				switch e.EventType {
				case wire.EventGroupJoinRejected:
					s.c.emit(GroupEvent{EventContent: EventContent{EventType: e.EventType, GID: e.GID, From: e.From, Description: e.Desc}})
				case wire.EventMessageRetract:
					retracts = append(retracts, e)
				case eventFriendsChanged, eventNoDisturbChanged, eventBlacklistChanged, eventShieldChanged:
					s.c.emit(SettingsChanged{EventType: e.EventType, From: e.From})
				}
			}
		}
		s.autoDownload(ctx, rowPtrs(received), 0)
		for _, m := range s.announce(ctx, received) {
			s.c.emit(MessageReceived{Message: m})
		}
		if len(received) > 0 {
			s.fillGapsAndAck(ctx, received)
		}
		// A retraction follows the message it retracts: applied after the
		// batch's messages are stored and reported.
		for _, e := range retracts {
			s.applyRetractEvent(ctx, e)
		}
		if needSync {
			if err := s.sync(ctx); err != nil {
				s.c.log.Warn("sync failed", "err", err)
			}
		}
	}
}

// fillGapsAndAck fetches what is missing before the pushed messages in
// their conversations (a push arrives only after everything before it was
// pushed on the same connection, so a gap means messages committed before
// this connection existed), then acknowledges each conversation's position.
func (s *session) fillGapsAndAck(ctx context.Context, pushed []localstore.Message) {
	convs := map[int64]bool{}
	for _, r := range pushed {
		convs[r.ConvID] = true
	}
	var acks []wire.Position
	for id := range convs {
		c, err := s.db.ConversationByID(ctx, id)
		if err != nil {
			continue
		}
		var newest int64
		for _, r := range pushed {
			if r.ConvID == id {
				newest = max(newest, r.Seq)
			}
		}
		if c.SyncedSeq < newest {
			msgs, err := s.fetch(ctx, c.ID, c.ServerConvID, c.SyncedSeq, newest)
			if err != nil {
				s.c.log.Warn("filling a gap", "err", err)
				continue
			}
			s.autoDownload(ctx, rowPtrs(msgs), 0)
			for _, m := range s.announce(ctx, msgs) {
				s.c.emit(MessageReceived{Message: m})
			}
			if c, err = s.db.ConversationByID(ctx, id); err != nil {
				continue
			}
		}
		if c.ServerConvID != 0 && c.SyncedSeq > 0 {
			acks = append(acks, wire.Position{ConvID: c.ServerConvID, Seq: c.SyncedSeq})
		}
	}
	s.ack(ctx, acks)
}

// ack tells the server the client's positions, without waiting.
func (s *session) ack(ctx context.Context, ps []wire.Position) {
	tr, err := s.transport()
	if err != nil || len(ps) == 0 {
		return
	}
	for len(ps) > 0 {
		n := min(len(ps), 500)
		tr.notify(ctx, wire.OpAck, wire.AckReq{Positions: ps[:n]})
		ps = ps[n:]
	}
}

// fetch pages through a conversation's messages after seq `after` up to
// `upto` (0: to the end), stores them and returns those newly stored.
// localConv is the local conversation, whose contiguous count starts at the
// user's join when the server says so.
func (s *session) fetch(ctx context.Context, localConv, convID, after, upto int64) ([]localstore.Message, error) {
	var out []localstore.Message
	for upto == 0 || after < upto {
		var h wire.HistoryResp
		if err := s.call(ctx, wire.OpHistory, wire.HistoryReq{ConvID: convID, After: after}, &h); err != nil {
			return out, err
		}
		if h.JoinSeq > 0 && localConv != 0 {
			if err := s.db.RaiseSynced(ctx, localConv, h.JoinSeq); err != nil {
				return out, err
			}
			after = max(after, h.JoinSeq)
		}
		if h.FirstSeq > after+1 && localConv != 0 {
			// after+1 .. FirstSeq-1 were removed by retention before this
			// client got them: say so, and count them as held.
			if err := s.db.RaiseSynced(ctx, localConv, h.FirstSeq-1); err != nil {
				return out, err
			}
			if conv, err := s.c.conversationByID(ctx, s.db, localConv); err == nil {
				s.c.emit(HistoryTrimmed{Conversation: conv, From: after + 1, To: h.FirstSeq - 1})
			}
			after = h.FirstSeq - 1
		}
		ins := make([]localstore.Incoming, 0, len(h.Messages))
		for _, m := range h.Messages {
			if in, ok := s.incoming(m); ok {
				ins = append(ins, in)
			}
			after = max(after, m.Seq)
		}
		stored, rs, err := s.db.StoreIncoming(ctx, ins)
		if err != nil {
			return out, err
		}
		out = append(out, stored...)
		s.retracted(ctx, rs) // held messages read again, retracted meanwhile
		if !h.More || len(h.Messages) == 0 {
			break
		}
	}
	return out, nil
}

// announce turns newly stored rows into Messages. For group events it
// also records what they say of the user's membership and emits a
// GroupEvent.
func (s *session) announce(ctx context.Context, rows []localstore.Message) []*Message {
	out := make([]*Message, 0, len(rows))
	for _, r := range rows {
		m, err := s.c.messageFromRow(ctx, s.db, r)
		if err != nil {
			continue
		}
		out = append(out, m)
		if ev, ok := m.Content.(*EventContent); ok {
			if member, known := s.membershipAfter(ev); known {
				s.db.SetMembership(ctx, ev.GID, member)
			}
			s.c.emit(GroupEvent{EventContent: *ev, Message: m})
		}
	}
	return out
}

// membershipAfter says whether a group event makes the user a member or
// not; known is false when it does not concern the user's membership.
func (s *session) membershipAfter(ev *EventContent) (member, known bool) {
	me := slices.Contains(ev.To, s.username)
	switch ev.EventType {
	case wire.EventGroupCreated:
		return true, me || ev.From == s.username
	case wire.EventGroupMembersAdded:
		return true, me
	case wire.EventGroupMembersRemoved:
		return false, me
	case wire.EventGroupMemberExit:
		if ev.Extra == wire.ExtraDissolved {
			return false, true
		}
		return false, me
	}
	return false, false
}

// noteJoin handles a pushed event that adds the user to a group: nothing
// before it is readable, so the conversation's contiguous messages start
// there rather than at 1.
func (s *session) noteJoin(ctx context.Context, in localstore.Incoming) {
	if in.ConvType != int(jmsg.ConversationGroup) || in.Message.ContentType != int(jmsg.ContentEventNotification) {
		return
	}
	var doc jmsg.Doc
	if json.Unmarshal([]byte(in.Message.Content), &doc) != nil {
		return
	}
	ev, ok := decodeContent(doc.MsgType, doc.MsgBody).(*EventContent)
	if !ok || (ev.EventType != wire.EventGroupCreated && ev.EventType != wire.EventGroupMembersAdded) || !slices.Contains(ev.To, s.username) {
		return
	}
	c, err := s.db.EnsureConversation(ctx, in.ConvType, in.Target, in.Target)
	if err == nil {
		s.db.RaiseSynced(ctx, c.ID, in.Message.Seq-1)
	}
}

// incoming converts a server message into a row for the local store.
func (s *session) incoming(m wire.Message) (localstore.Incoming, bool) {
	var doc jmsg.Doc
	if json.Unmarshal(m.Content, &doc) != nil {
		return localstore.Incoming{}, false
	}
	convType := jmsg.ConversationSingle
	received := doc.FromID != s.username
	peer := doc.FromID
	status := jmsg.StatusReceiveSucceed
	switch doc.TargetType {
	case "single":
		if !received {
			peer, status = doc.TargetID, jmsg.StatusSendSucceed
		}
	case "group":
		convType, peer = jmsg.ConversationGroup, doc.TargetID
		if doc.FromType == "system" {
			received = true // events are the group's, whoever caused them
		} else if !received {
			status = jmsg.StatusSendSucceed
		}
	default:
		return localstore.Incoming{}, false
	}
	return localstore.Incoming{
		ConvType: int(convType), Target: peer, ServerConvID: m.ConvID,
		Message: localstore.Message{
			ServerID: m.MsgID, Seq: m.Seq, CID: m.ClientMsgID, Received: received, Status: int(status),
			ContentType: int(jmsg.ParseContentType(doc.MsgType)), Content: string(m.Content), From: doc.FromID,
			ServerTime: m.CTimeMs, LocalTime: time.Now().UnixMilli(),
		},
	}, true
}

// sync catches up from the stored cursor: it asks for the conversations
// changed since, fetches each one's missing messages, stores them, and only
// then moves the cursor. New messages are reported once per conversation
// as OfflineMessages (or RoamingSynced for history a first login fetches
// with Config.Roaming); then held messages that may have been retracted
// while offline are re-read (recheckRetractions), and SyncCompleted
// follows.
func (s *session) sync(ctx context.Context) error {
	cursor, err := s.db.Meta(ctx, keyCursor)
	if err != nil {
		return err
	}
	cursorConv, err := s.db.Meta(ctx, keyCursorConv)
	if err != nil {
		return err
	}
	once, err := s.db.Meta(ctx, keySyncedOnce)
	if err != nil {
		return err
	}
	fresh := once == 0 && cursor == 0 && cursorConv == 0 // this device has never completed a sync
	reset := false
	var order []int64
	batches := map[int64][]*Message{}
	roamed := map[int64]bool{}
	for {
		var resp wire.SyncResp
		if err := s.call(ctx, wire.OpSync, wire.SyncReq{Since: cursor, SinceConv: cursorConv}, &resp); err != nil {
			return err
		}
		reset = reset || resp.Reset
		var acks []wire.Position
		for _, ch := range resp.Changes {
			target := ch.Peer
			switch ch.Type {
			case int(jmsg.ConversationSingle):
			case int(jmsg.ConversationGroup):
				target = jmsg.FormatID(ch.GID)
			default:
				continue
			}
			lc, err := s.db.EnsureConversation(ctx, ch.Type, target, target)
			if err != nil {
				return err
			}
			// Nothing before the user joined is readable; on a first login
			// without roaming, nothing another device already received is
			// fetched.
			skip := ch.JoinSeq
			if fresh && !s.c.cfg.Roaming {
				skip = max(skip, ch.DeliveredSeq)
			}
			if skip > lc.SyncedSeq {
				if err := s.db.RaiseSynced(ctx, lc.ID, skip); err != nil {
					return err
				}
				if lc, err = s.db.ConversationByID(ctx, lc.ID); err != nil {
					return err
				}
			}
			if moved, err := s.db.RaiseRead(ctx, lc.ID, ch.ReadSeq); err != nil {
				return err
			} else if moved && !fresh {
				if conv, err := s.c.conversationByID(ctx, s.db, lc.ID); err == nil {
					s.c.emit(UnreadChanged{Conversation: conv})
				}
			}
			if after := lc.SyncedSeq; after < ch.LastSeq {
				stored, err := s.fetch(ctx, lc.ID, ch.ConvID, after, ch.LastSeq)
				if err != nil {
					return err
				}
				roaming := func(seq int64, received bool) bool {
					return fresh && s.c.cfg.Roaming && (seq <= ch.DeliveredSeq || !received)
				}
				// Media of the offline batch: the newest ones only; none
				// for roamed history.
				var offline []*localstore.Message
				for i := range stored {
					if !roaming(stored[i].Seq, stored[i].Received) {
						offline = append(offline, &stored[i])
					}
				}
				s.autoDownload(ctx, offline, offlineAutoDownloads)
				for _, m := range s.announce(ctx, stored) {
					if roaming(m.Seq, m.Received) {
						roamed[m.convID] = true // history another device had
						continue
					}
					id := m.convID
					if batches[id] == nil {
						order = append(order, id)
					}
					batches[id] = append(batches[id], m)
				}
			}
			acks = append(acks, wire.Position{ConvID: ch.ConvID, Seq: ch.LastSeq})
		}
		cursor, cursorConv = resp.Cursor, resp.CursorConv
		metas := map[string]int64{keyCursor: cursor, keyCursorConv: cursorConv}
		if !resp.More {
			metas[keySyncedOnce] = 1
		}
		if err := s.db.SetMetas(ctx, metas); err != nil {
			return err
		}
		s.ack(ctx, acks)
		if !resp.More {
			break
		}
	}
	for id := range roamed {
		if conv, err := s.c.conversationByID(ctx, s.db, id); err == nil {
			s.c.emit(RoamingSynced{Conversation: conv})
		}
	}
	for _, id := range order {
		conv, err := s.c.conversationByID(ctx, s.db, id)
		if err != nil {
			continue
		}
		s.c.emit(OfflineMessages{Conversation: conv, Messages: batches[id]})
	}
	if err := s.recheckRetractions(ctx); err != nil {
		s.c.log.Warn("re-reading held messages for retractions", "err", err)
	}
	s.sendReads(ctx)
	s.c.emit(SyncCompleted{Cursor: cursor, Reset: reset})
	return nil
}

// sendReads sends the read positions the server does not have yet.
func (s *session) sendReads(ctx context.Context) {
	convs, err := s.db.PendingReads(ctx)
	if err != nil {
		s.c.log.Error("reading pending read positions", "err", err)
		return
	}
	for _, c := range convs {
		var resp wire.ReadResp
		if err := s.call(ctx, wire.OpRead, wire.ReadReq{ConvID: c.ServerConvID, Seq: c.ReadSeq}, &resp); err != nil {
			return // sent again after the next (re)connection
		}
		if err := s.db.SetReadSent(ctx, c.ID, c.ReadSeq); err != nil {
			s.c.log.Error("recording a sent read position", "err", err)
		}
	}
}

// applyRead applies a read position from another device.
func (s *session) applyRead(ctx context.Context, serverConv, seq int64) {
	c, err := s.db.ConversationByServerID(ctx, serverConv)
	if err != nil {
		return
	}
	if moved, err := s.db.RaiseRead(ctx, c.ID, seq); err == nil && moved {
		if conv, err := s.c.conversationByID(ctx, s.db, c.ID); err == nil {
			s.c.emit(UnreadChanged{Conversation: conv})
		}
	}
}
