package server

import (
	"encoding/json"
	"errors"
	"strconv"
	"time"

	"github.com/jmsg-im/jmsg"
	"github.com/jmsg-im/jmsg/server/store"
	"github.com/jmsg-im/jmsg/wire"
)

// Paging limits of sync and history.
const (
	syncPageMax    = 200
	historyPageMax = 500
	// historyPageBytes bounds a history page's message content, so that a
	// page stays far below what clients read in one frame (1 MiB for the
	// Go SDK).
	historyPageBytes = 256 << 10
	clientIDMaxLen   = 64
)

// handleSend checks a message, resolves its target and hands it to the
// write path; the response is sent once it is committed.
func handleSend(c *conn, f *wire.Frame) (any, error) {
	var req wire.SendReq
	if err := wire.DecodeData(f, &req); err != nil {
		return nil, jmsg.Wrap(jmsg.ServerMessageContentJSONError, err)
	}
	if !c.s.sendLimit.allow(c.appKey+"/"+c.username, time.Now()) {
		return nil, jmsg.E(jmsg.ServerSendFrequencyLimit)
	}
	if len(req.ClientMsgID) > clientIDMaxLen {
		return nil, jmsg.WithMessage(jmsg.ServerInvalidRequest, "cid longer than 64 bytes")
	}
	doc := req.Content
	if doc.Version != 1 || doc.MsgType == "" || len(doc.MsgBody) == 0 {
		return nil, jmsg.E(jmsg.ServerMessageContentJSONError)
	}
	if !jmsg.CheckBody(doc.MsgType, doc.MsgBody) {
		return nil, jmsg.E(jmsg.ServerMessageContentJSONError)
	}
	if err := c.checkWords(doc.MsgType, doc.MsgBody); err != nil {
		return nil, err
	}
	mediaIDs, err := c.checkMedia(doc.MsgType, doc.MsgBody)
	if err != nil {
		return nil, err
	}
	msg := store.NewMessage{AppKey: c.appKey, SenderUID: c.uid, ClientMsgID: req.ClientMsgID, MediaIDs: mediaIDs}
	var gid int64
	switch doc.TargetType {
	case "single":
		if !jmsg.ValidUsername(doc.TargetID) {
			return nil, jmsg.E(jmsg.TcpTargetUserNotExist)
		}
		target, err := c.s.users.uid(c.ctx, c.appKey, doc.TargetID)
		if errors.Is(err, store.ErrNotFound) {
			return nil, jmsg.E(jmsg.TcpTargetUserNotExist)
		} else if err != nil {
			return nil, err
		}
		if err := c.checkBlocked(target); err != nil {
			return nil, err
		}
		msg.TargetUID = target
	case "group":
		id, err := strconv.ParseInt(doc.TargetID, 10, 64)
		if err != nil || id <= 0 {
			return nil, jmsg.E(jmsg.TcpTargetGroupNotExist)
		}
		gid = id
	default:
		return nil, jmsg.WithMessage(jmsg.ServerInvalidRequest, "unsupported target_type")
	}
	doc.FromType, doc.FromID, doc.FromAppKey, doc.FromPlatform = "user", c.username, "", c.platform
	if c.fromType != "" {
		doc.FromType = c.fromType
	}
	if doc.TargetAppKey == c.appKey {
		doc.TargetAppKey = ""
	}
	if doc.TargetAppKey != "" {
		return nil, jmsg.WithMessage(jmsg.ServerInvalidRequest, "cross-app messages are not supported")
	}
	content, err := json.Marshal(doc)
	if err != nil {
		return nil, err
	}
	limit := jmsg.MessageMaxBytes
	if c.fromType == "admin" {
		// The REST API bounds msg_body by 4096 bytes; the envelope it
		// builds around it is extra.
		limit += 1024
	}
	if len(content) > limit {
		return nil, jmsg.E(jmsg.ServerMessageTooLong)
	}
	msg.Content = content
	p := &pendingSend{
		msg:    msg,
		gid:    gid,
		admin:  c.fromType == "admin",
		origin: c,
		done: func(p *pendingSend) {
			if p.err != nil {
				// A refusal of checkSend (803004, 803005, 803012) keeps
				// its code; only a failed commit is 803001.
				var je *jmsg.Error
				if errors.As(p.err, &je) {
					c.respond(f, nil, je)
					return
				}
				c.s.log.Error("committing message", "err", p.err)
				c.respond(f, nil, jmsg.Wrap(jmsg.ServerSendSystemError, p.err))
				return
			}
			c.respond(f, wire.SendResp{MsgID: p.res.MsgID, ConvID: p.res.ConvID, Seq: p.res.Seq, CTimeMs: p.res.CTimeMs}, nil)
		},
	}
	if err := c.s.commits.submit(c.ctx, p); err != nil {
		return nil, jmsg.Wrap(jmsg.ServerSendSystemError, err)
	}
	return nil, errAsync
}

// checkSend runs on the committer goroutine before a message joins a
// batch: a group message needs a live group (803004), a sender who is a
// member (803005) and not muted (803012). It also points the message at the
// group's conversation.
func (s *Server) checkSend(p *pendingSend) error {
	if p.gid == 0 {
		return nil
	}
	st, err := s.groups.get(p.msg.AppKey, p.gid)
	if err != nil {
		var je *jmsg.Error
		if errors.As(err, &je) && je.Code == jmsg.ServerGroupIDNotExist {
			return jmsg.E(jmsg.TcpTargetGroupNotExist)
		}
		return err
	}
	m := st.members[p.msg.SenderUID]
	switch {
	case p.admin && (m == nil || m.SilenceEndMs <= time.Now().UnixMilli()):
		// An admin (REST) may send to any group; a muted member admin stays muted.
	case m == nil:
		return jmsg.E(jmsg.TcpUserNotInGroup)
	case m.SilenceEndMs > time.Now().UnixMilli():
		return jmsg.E(jmsg.TcpUserBannedSendMessage)
	}
	p.msg.ConvID = st.g.ConvID
	return nil
}

// route fixes who gets a committed message: for a group, its members at
// commit but those who shielded it (socialcache.go); for a single
// conversation, both users. It runs on the committer goroutine, which owns
// group state.
func (s *Server) route(p *pendingSend) {
	if p.res.Duplicate {
		return
	}
	if p.gid != 0 {
		if st := s.groups.byConversation(p.res.ConvID); st != nil {
			p.recipients = s.unshielded(p.msg.AppKey, p.gid, p.msg.SenderUID, st.recipients())
		}
		return
	}
	p.recipients = []int64{p.msg.SenderUID}
	if p.msg.TargetUID != p.msg.SenderUID {
		p.recipients = append(p.recipients, p.msg.TargetUID)
	}
}

// publish pushes committed messages to the online sessions of their
// recipients, except the session that sent them. It runs on the publisher
// goroutine in commit order, so each session receives a conversation's
// messages in sequence order.
func (s *Server) publish(batch []*pendingSend) {
	for _, p := range batch {
		if p.res.Duplicate || len(p.recipients) == 0 {
			continue
		}
		s.pushTo(p.recipients, wireMessage(p.res, p.msg.ClientMsgID), p.origin)
	}
}

// ackMax is the most positions one ack may carry.
const ackMax = 500

// handleAck records the client's delivered positions. They are kept in
// memory and written in batches (positions.go): a position lost in a crash
// is only reported again by the client.
func handleAck(c *conn, f *wire.Frame) (any, error) {
	var req wire.AckReq
	if err := wire.DecodeData(f, &req); err != nil {
		return nil, err
	}
	if len(req.Positions) > ackMax {
		return nil, jmsg.WithMessage(jmsg.ServerInvalidRequest, "more than 500 positions")
	}
	for _, p := range req.Positions {
		if p.ConvID <= 0 || p.Seq <= 0 {
			return nil, jmsg.WithMessage(jmsg.ServerInvalidRequest, "bad conv_id or seq")
		}
	}
	for _, p := range req.Positions {
		c.s.positions.add(c.appKey, store.Delivery{UID: c.uid, ConvID: p.ConvID, Seq: p.Seq})
	}
	return nil, nil
}

func handleSync(c *conn, f *wire.Frame) (any, error) {
	var req wire.SyncReq
	if err := wire.DecodeData(f, &req); err != nil {
		return nil, err
	}
	if req.Since < 0 || req.SinceConv < 0 || req.Limit < 0 {
		return nil, jmsg.WithMessage(jmsg.ServerInvalidRequest, "negative since, since_conv or limit")
	}
	if req.Limit == 0 || req.Limit > syncPageMax {
		req.Limit = syncPageMax
	}
	since := store.Cursor{LSN: req.Since, ConvID: req.SinceConv}
	reset := false
	if req.Since > 0 && req.SinceConv == 0 { // a cursor inside a listing pages on
		purged, err := c.s.store.PurgedLSN(c.ctx)
		if err != nil {
			return nil, err
		}
		if req.Since < purged {
			// Messages the client never fetched may be gone: list every
			// conversation, and let the client see first_seq.
			since, reset = store.Cursor{}, true
		}
	}
	changes, next, more, err := c.s.store.Changes(c.ctx, c.appKey, c.uid, since, req.Limit)
	if err != nil {
		return nil, err
	}
	peers := make([]int64, 0, len(changes))
	for _, ch := range changes {
		peers = append(peers, ch.PeerUID)
	}
	names, err := c.s.store.UsersByID(c.ctx, c.appKey, peers)
	if err != nil {
		return nil, err
	}
	resp := wire.SyncResp{Changes: make([]wire.ConvChange, 0, len(changes)), Cursor: next.LSN, CursorConv: next.ConvID, More: more, Reset: reset}
	for _, ch := range changes {
		resp.Changes = append(resp.Changes, wire.ConvChange{
			ConvID: ch.ConvID, Type: int(ch.Type), Peer: names[ch.PeerUID].Username, GID: ch.GID, JoinSeq: ch.JoinSeq, LastSeq: ch.LastSeq,
			ReadSeq: ch.ReadSeq, DeliveredSeq: ch.DeliveredSeq, FirstSeq: ch.FirstSeq,
		})
	}
	return resp, nil
}

func handleHistory(c *conn, f *wire.Frame) (any, error) {
	var req wire.HistoryReq
	if err := wire.DecodeData(f, &req); err != nil {
		return nil, err
	}
	if req.ConvID <= 0 || req.After < 0 || req.Before < 0 || req.Limit < 0 || (req.After > 0 && req.Before > 0) {
		return nil, jmsg.WithMessage(jmsg.ServerInvalidRequest, "bad conv_id, after, before or limit")
	}
	if req.Limit == 0 || req.Limit > historyPageMax {
		req.Limit = historyPageMax
	}
	join, left, ok, err := c.s.store.MemberWindow(c.ctx, c.appKey, req.ConvID, c.uid)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, jmsg.E(jmsg.ServerRequestUserNotInGroup)
	}
	// A member reads only what was sent while they belonged: after join and
	// up to left.
	after, before := max(req.After, join), req.Before
	if before > 0 {
		after = 0
		if left > 0 && before > left+1 {
			before = left + 1
		}
	}
	msgs, more, err := c.s.store.History(c.ctx, c.appKey, req.ConvID, after, before, req.Limit)
	if err != nil {
		return nil, err
	}
	msgs, more = clampWindow(msgs, more, join, left)
	first, err := c.s.store.FirstSeq(c.ctx, c.appKey, req.ConvID)
	if err != nil {
		return nil, err
	}
	resp := wire.HistoryResp{Messages: make([]wire.Message, 0, len(msgs)), More: more, JoinSeq: join, FirstSeq: first}
	size := 0
	for i, m := range msgs {
		if size += len(m.Content) + 128; size > historyPageBytes && i > 0 {
			resp.More = true // the rest on the next page
			break
		}
		resp.Messages = append(resp.Messages, wire.Message{MsgID: m.MsgID, ConvID: m.ConvID, Seq: m.Seq, CTimeMs: m.CTimeMs,
			ClientMsgID: m.ClientMsgID, Content: m.Content})
	}
	return resp, nil
}

// clampWindow drops messages outside (join, left] (left 0: no end); when it
// drops any, nothing more is readable in that direction.
func clampWindow(msgs []store.StoredMessage, more bool, join, left int64) ([]store.StoredMessage, bool) {
	out := msgs[:0]
	for _, m := range msgs {
		if m.Seq <= join || (left > 0 && m.Seq > left) {
			more = false
			continue
		}
		out = append(out, m)
	}
	return out, more
}

// handleRead records how far the user has read a conversation and tells
// the user's other sessions.
func handleRead(c *conn, f *wire.Frame) (any, error) {
	var req wire.ReadReq
	if err := wire.DecodeData(f, &req); err != nil {
		return nil, err
	}
	if req.ConvID <= 0 || req.Seq <= 0 {
		return nil, jmsg.WithMessage(jmsg.ServerInvalidRequest, "bad conv_id or seq")
	}
	pos, moved, err := c.s.store.SetRead(c.ctx, c.appKey, req.ConvID, c.uid, req.Seq)
	if errors.Is(err, store.ErrNotFound) {
		return nil, jmsg.E(jmsg.ServerRequestUserNotInGroup)
	} else if err != nil {
		return nil, err
	}
	if !moved {
		return wire.ReadResp{ReadSeq: pos}, nil
	}
	if push, err := wire.Push(wire.OpReadPos, wire.ReadPush{ConvID: req.ConvID, Seq: pos}); err == nil {
		if b, err := wire.Encode(push); err == nil {
			for _, sc := range c.s.hub.sessions(nil, c.uid) {
				if sc != c {
					sc.enqueue(b)
				}
			}
		}
	}
	return wire.ReadResp{ReadSeq: pos}, nil
}
