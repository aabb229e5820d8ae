package server

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/jmsg-im/jmsg"
	"github.com/jmsg-im/jmsg/server/store"
	"github.com/jmsg-im/jmsg/wire"
)

// retractPromptText is the prompt_text of a retracted message; clients
// show their own wording from prompt_type.
const retractPromptText = "message retracted"

// handleRetract retracts a message the caller sent within RetractWindow.
// It runs as a job of the write path, in order with the conversation's
// messages: the message becomes a prompt (wire.RetractPromptBody) in
// history, and the online sessions of the conversation's members — the
// caller's other sessions included — get event 55 after every push of
// what was committed before it.
//
// Errors, in the order they are checked: 855003 no such message of the
// app (or removed by retention); 855002 the caller did not send it (a
// group event message is the system's); 855004 it was retracted already;
// 855001 it is older than the window.
func handleRetract(c *conn, f *wire.Frame) (any, error) {
	var req wire.RetractReq
	if err := wire.DecodeData(f, &req); err != nil {
		return nil, err
	}
	if req.MsgID <= 0 {
		return nil, jmsg.E(jmsg.ServerRetractMessageNotExist)
	}
	return c.inWritePath(func() (any, error) {
		return nil, c.s.retract(c, req.MsgID)
	})
}

// retract runs on the committer goroutine.
func (s *Server) retract(c *conn, msgID int64) error {
	ctx := context.Background() // a job runs to its end once started
	m, err := s.store.LookupMessage(ctx, c.appKey, msgID)
	if errors.Is(err, store.ErrNotFound) {
		return jmsg.E(jmsg.ServerRetractMessageNotExist)
	}
	if err != nil {
		return err
	}
	var doc jmsg.Doc
	if err := json.Unmarshal(m.Content, &doc); err != nil {
		return err
	}
	switch {
	case m.SenderUID != c.uid || doc.FromType == "system":
		return jmsg.E(jmsg.ServerRetractNotSender)
	case m.Retracted:
		return jmsg.E(jmsg.ServerMessageAlreadyRetracted)
	}
	now := time.Now()
	if now.Sub(time.UnixMilli(m.CTimeMs)) > s.cfg.RetractWindow {
		return jmsg.E(jmsg.ServerRetractOutOfTime)
	}
	body, err := json.Marshal(wire.RetractPromptBody{PromptType: wire.PromptRetract, PromptText: retractPromptText, OrigMsgType: doc.MsgType})
	if err != nil {
		return err
	}
	doc.MsgType, doc.MsgBody = wire.MsgTypePrompt, body
	content, err := json.Marshal(doc)
	if err != nil {
		return err
	}
	if err := s.store.Retract(ctx, c.appKey, msgID, c.uid, content, now.UnixMilli()); err != nil {
		if errors.Is(err, store.ErrExists) {
			return jmsg.E(jmsg.ServerMessageAlreadyRetracted)
		}
		return err
	}

	ev := wire.EventPush{EventType: wire.EventMessageRetract, CTimeMs: now.UnixMilli(), From: c.username,
		MsgIDs: []int64{msgID}, ConvID: m.ConvID}
	recipients := []int64{c.uid}
	if m.ConvType == jmsg.ConversationGroup {
		ev.TargetType, ev.GID = wire.RetractGroup, m.GID
		// A dissolved group has no members left to tell; a sender who left
		// still has other devices.
		if st, err := s.groups.get(c.appKey, m.GID); err == nil && st.members[c.uid] != nil {
			recipients = st.recipients()
		} else if err == nil {
			recipients = append(recipients, st.recipients()...)
		}
	} else {
		ev.TargetType, ev.ToUsernames = wire.RetractSingle, []string{doc.TargetID}
		if m.PeerUID != c.uid {
			recipients = append(recipients, m.PeerUID)
		}
	}
	push, err := wire.Push(wire.OpEvent, ev)
	if err != nil {
		return err
	}
	b, err := wire.Encode(push)
	if err != nil {
		return err
	}
	// The publisher pushes in commit order: the retraction reaches a
	// session after the message it retracts.
	s.post(func() {
		for _, uid := range recipients {
			for _, sc := range s.hub.sessions(nil, uid) {
				if sc != c {
					sc.enqueue(b)
				}
			}
		}
	})
	return nil
}
