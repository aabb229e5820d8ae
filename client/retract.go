package client

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"time"

	"github.com/jmsg-im/jmsg"
	"github.com/jmsg-im/jmsg/client/internal/localstore"
	"github.com/jmsg-im/jmsg/wire"
)

// retractPromptText is the prompt_text jmsgd gives a retracted message;
// the SDK writes the same when it applies a retraction itself.
const retractPromptText = "message retracted"

// retractMargin widens the re-read after time offline: message times are
// the server's commit times, and several jmsgd nodes' clocks may differ.
const retractMargin = 30 * time.Second

// keyRetractChecked is the meta key of the server time (ms) up to which
// every retraction of a held message is applied locally: the login time
// of the last connection whose sync completed its re-read.
const keyRetractChecked = "retract_checked"

// RetractMessage retracts a message this user sent (iOS retractMessage),
// in a single or a group conversation, within the server's retract window
// (3 minutes by default). The server replaces the message with a prompt
// for everyone: the other members' online devices and this user's other
// devices get it at once, devices offline at the time when they reconnect
// (see Config.RetractWindow). Locally, on success, the message's content
// becomes a *PromptContent (PromptRetract, with the original type), its
// local media files are deleted (the server no longer serves them), and a
// MessageRetracted event is emitted. m may be any snapshot of the message:
// it is read from the local store by its ID and is not modified.
//
// Errors: 861101, 865002 (nil message), 865003 (no such message in the
// local store), 865010 (not sent: the message has no server id), 863004,
// 860016, and the server's codes: 855001 (sent longer ago than the retract
// window), 855002 (sent by someone else, or a group event), 855003 (the
// server no longer has it), 855004 (retracted already; the local copy is
// turned into the prompt if it was not yet). After 860016 the outcome is
// unknown: retrying answers 855004 if the retraction went through.
func (c *Client) RetractMessage(ctx context.Context, m *Message) error {
	if err := checkCtx(ctx); err != nil {
		return err
	}
	if m == nil {
		return jmsg.E(jmsg.SDKParamMessageNil)
	}
	s, err := c.session()
	if err != nil {
		return err
	}
	row, err := s.db.MessageByID(ctx, m.ID)
	if errors.Is(err, localstore.ErrNotFound) {
		return jmsg.E(jmsg.SDKMessageNotPrepared)
	} else if err != nil {
		return jmsg.Wrap(jmsg.SDKUnknownError, err)
	}
	if row.ServerID == 0 {
		return jmsg.Errorf(jmsg.SDKMessageStatusNotLegal, "the message was not sent")
	}
	err = s.call(ctx, wire.OpRetract, wire.RetractReq{MsgID: row.ServerID}, nil)
	if err != nil && jmsg.CodeOf(err) != jmsg.ServerMessageAlreadyRetracted {
		return err
	}
	// The requesting connection gets no event 55: apply it here. After
	// 855004 the local copy may predate a retraction made elsewhere.
	if lerr := s.retractLocal(context.WithoutCancel(ctx), row); lerr != nil && err == nil {
		return jmsg.Wrap(jmsg.SDKUnknownError, lerr)
	}
	return err
}

// retractLocal turns a held message into its retraction prompt, deletes
// its media files no other message uses and emits MessageRetracted;
// nothing if it is a prompt already.
func (s *session) retractLocal(ctx context.Context, row localstore.Message) error {
	content, err := retractPrompt(row.Content)
	if err != nil {
		return err
	}
	r, ok, err := s.db.Retract(ctx, row.ID, content)
	if err != nil || !ok {
		return err
	}
	s.retracted(ctx, []localstore.Retracted{r})
	return nil
}

// retractPrompt returns the stored document of a retracted message, as
// jmsgd makes it: the envelope as sent, msg_type prompt, and a body
// naming the original type.
func retractPrompt(content string) (string, error) {
	var doc jmsg.Doc
	if err := json.Unmarshal([]byte(content), &doc); err != nil {
		return "", err
	}
	body, err := json.Marshal(wire.RetractPromptBody{PromptType: wire.PromptRetract, PromptText: retractPromptText,
		OrigMsgType: doc.MsgType})
	if err != nil {
		return "", err
	}
	doc.MsgType, doc.MsgBody = wire.MsgTypePrompt, body
	b, err := json.Marshal(doc)
	return string(b), err
}

// retracted deletes the media files retracted messages left unused and
// reports each message.
func (s *session) retracted(ctx context.Context, rs []localstore.Retracted) {
	for _, r := range rs {
		for _, p := range r.Orphans {
			if err := os.Remove(absPath(s.db.Dir(), p)); err != nil && !errors.Is(err, os.ErrNotExist) {
				s.c.log.Warn("deleting a retracted message's media", "msg", r.Message.ID, "err", err)
			}
		}
		conv, err := s.db.ConversationByID(ctx, r.Message.ConvID)
		if err != nil {
			continue
		}
		s.c.emit(MessageRetracted{Conversation: s.c.convFromRow(conv), Message: fromRow(r.Message, conv, s.db.Dir())})
	}
}

// applyRetractEvent applies event 55: each listed message that is held
// becomes its retraction prompt. Messages not held are skipped: history
// hands them out as prompts.
func (s *session) applyRetractEvent(ctx context.Context, e wire.EventPush) {
	for _, id := range e.MsgIDs {
		row, err := s.db.MessageByServerID(ctx, id)
		if errors.Is(err, localstore.ErrNotFound) {
			continue
		}
		if err == nil {
			err = s.retractLocal(ctx, row)
		}
		if err != nil {
			s.c.log.Error("applying a retraction", "msg_id", id, "err", err)
		}
	}
}

// recheckState says which held messages a sync must re-read because they
// may have been retracted while no connection received event 55.
//
// A message sent at T can be retracted until T + RetractWindow. A device
// that was receiving pushes until S misses only the retractions of
// messages sent after S − RetractWindow. S is not known exactly (a crash
// records nothing), so the SDK takes a lower bound: the later of the
// newest held message's server time (it arrived while connected) and the
// login time of the last connection whose re-read completed (from then on
// pushes arrived, and everything before was re-read).
type recheckState struct {
	pending bool
	after   int64 // server ms: messages sent after it may have been retracted unseen
	maxID   int64 // among the rows stored up to this local id (later ones came from the server afterwards)
	loginAt int64 // the server's time at the current connection's login, ms
	gen     int64 // counts changes: a re-read clears pending only if none came meanwhile
}

// add merges a time offline with one whose re-read is still to be done.
func (r *recheckState) add(after, maxID int64) {
	if r.pending {
		after, maxID = min(after, r.after), max(maxID, r.maxID)
	}
	r.pending, r.after, r.maxID = true, after, maxID
	r.gen++
}

// connected records a new connection, logged in at the server's
// serverTime.
func (r *recheckState) connected(serverTime int64) {
	r.loginAt = serverTime
	r.gen++
}

// noteOffline runs when a session starts and when its connection is lost,
// before anything from the next connection is stored: it records which
// held messages the next sync must re-read.
func (s *session) noteOffline(ctx context.Context) {
	newest, maxID, err := s.db.NewestHeld(ctx)
	if err == nil && maxID > 0 {
		var checked int64
		if checked, err = s.db.Meta(ctx, keyRetractChecked); err == nil {
			after := max(newest, checked) - (s.c.cfg.RetractWindow + retractMargin).Milliseconds()
			s.mu.Lock()
			s.recheck.add(after, maxID)
			s.mu.Unlock()
		}
	}
	if err != nil && ctx.Err() == nil {
		s.c.log.Error("reading the held messages", "err", err)
	}
}

// recheckRetractions re-reads, with history, the held messages that may
// have been retracted while the client was offline (recheckState), and
// applies the retractions found: content replaced, media files deleted,
// MessageRetracted. It reads only the conversations holding such
// messages, from the oldest of them to the newest. A conversation the
// server refuses (a group the user left) is skipped; a network failure
// leaves the re-read for the next connection. It then records the
// connection's login time as the point up to which retractions are known.
func (s *session) recheckRetractions(ctx context.Context) error {
	s.mu.Lock()
	st := s.recheck
	s.mu.Unlock()
	if st.pending {
		held, err := s.db.Retractable(ctx, st.after, st.maxID)
		if err != nil {
			return err
		}
		for len(held) > 0 {
			n := 1
			for n < len(held) && held[n].ConvID == held[0].ConvID {
				n++
			}
			if err := s.reread(ctx, held[:n]); err != nil {
				if ctx.Err() != nil || isNetworkErr(err) {
					return err
				}
				s.c.log.Warn("re-reading a conversation for retractions", "conv", held[0].ServerConvID, "err", err)
			}
			held = held[n:]
		}
	}
	// Every retraction before the login is applied now, and later ones
	// were pushed on the connection. A connection lost meanwhile (add)
	// leaves its own re-read pending.
	s.mu.Lock()
	if s.recheck.gen == st.gen {
		s.recheck.pending = false
	}
	s.mu.Unlock()
	if st.loginAt <= 0 {
		return nil
	}
	return s.db.SetMeta(ctx, keyRetractChecked, st.loginAt)
}

// reread fetches the history of one conversation over held messages
// (ordered by sequence) and applies the retractions among them.
func (s *session) reread(ctx context.Context, held []localstore.Retractable) error {
	if held[0].ServerConvID == 0 {
		return nil
	}
	want := make(map[int64]bool, len(held))
	for _, h := range held {
		want[h.ServerID] = true
	}
	after, last := held[0].Seq-1, held[len(held)-1].Seq
	var ins []localstore.Incoming
	for after < last {
		var h wire.HistoryResp
		req := wire.HistoryReq{ConvID: held[0].ServerConvID, After: after, Limit: int(min(last-after, 500))}
		if err := s.call(ctx, wire.OpHistory, req, &h); err != nil {
			return err
		}
		for _, m := range h.Messages {
			after = max(after, m.Seq)
			if !want[m.MsgID] {
				continue
			}
			if in, ok := s.incoming(m); ok && in.Message.ContentType == int(jmsg.ContentPrompt) {
				ins = append(ins, in)
			}
		}
		if !h.More || len(h.Messages) == 0 {
			break
		}
	}
	if len(ins) == 0 {
		return nil
	}
	_, rs, err := s.db.StoreIncoming(ctx, ins)
	if err != nil {
		return err
	}
	s.retracted(ctx, rs)
	return nil
}

// isNetworkErr reports a failure to reach the server, as opposed to its
// refusal.
func isNetworkErr(err error) bool {
	switch jmsg.CodeOf(err) {
	case jmsg.SDKNetworkOtherError, jmsg.SDKNetworkResultUnexpected, jmsg.SDKNetworkDataFormatInvalid:
		return true
	}
	return false
}
