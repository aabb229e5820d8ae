package client

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strconv"
	"time"

	"github.com/jmsg-im/jmsg"
	"github.com/jmsg-im/jmsg/client/internal/localstore"
)

// newClientMsgID returns a random client message id; the server uses it to
// recognise retries of the same message.
func newClientMsgID() string {
	b := make([]byte, 16)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// CreateMessage stores a draft (status StatusSendDraft) with content in the
// conversation, ready for Client.Send. Errors: 865001 (content invalid:
// empty text, custom content that is not a JSON object, a content type that
// cannot be sent), 803007 (the message would exceed 4096 bytes), 863004.
func (cv *Conversation) CreateMessage(content Content) (*Message, error) {
	if content == nil {
		return nil, jmsg.E(jmsg.SDKParamContentInvalid)
	}
	s, err := cv.c.session()
	if err != nil {
		return nil, err
	}
	body, err := content.body()
	if err != nil {
		return nil, err
	}
	doc := jmsg.Doc{
		Version: 1, TargetType: cv.Type.TargetType(), TargetID: cv.Target,
		FromType: "user", FromID: s.username, FromPlatform: cv.c.cfg.Platform, CreateTime: time.Now().Unix(),
		MsgType: content.ContentType().String(), MsgBody: body,
	}
	raw, err := json.Marshal(doc)
	if err != nil {
		return nil, jmsg.Wrap(jmsg.SDKParamContentInvalid, err)
	}
	if len(raw) > jmsg.MessageMaxBytes {
		return nil, jmsg.E(jmsg.ServerMessageTooLong)
	}
	conv, err := s.db.ConversationByID(context.Background(), cv.id)
	if err != nil {
		return nil, jmsg.Wrap(jmsg.SDKMessageNotPrepared, err)
	}
	row := localstore.Message{
		ConvID: cv.id, CID: newClientMsgID(), Status: int(jmsg.StatusSendDraft),
		ContentType: int(content.ContentType()), Content: string(raw), From: s.username,
		LocalTime: time.Now().UnixMilli(),
	}
	row.ID, err = s.db.InsertOutgoing(context.Background(), row)
	if err != nil {
		return nil, jmsg.Wrap(jmsg.SDKUnknownError, err)
	}
	return fromRow(row, conv), nil
}

// SendText creates a text message and sends it. See Client.Send.
func (cv *Conversation) SendText(ctx context.Context, text string, extras map[string]any) (*Message, error) {
	return cv.createAndSend(ctx, &TextContent{Text: text, Extras: extras})
}

// SendCustom creates a custom message holding obj and sends it.
func (cv *Conversation) SendCustom(ctx context.Context, obj map[string]any) (*Message, error) {
	content, err := NewCustomContent(obj)
	if err != nil {
		return nil, err
	}
	return cv.createAndSend(ctx, content)
}

func (cv *Conversation) createAndSend(ctx context.Context, content Content) (*Message, error) {
	if err := checkCtx(ctx); err != nil {
		return nil, err
	}
	m, err := cv.CreateMessage(content)
	if err != nil {
		return nil, err
	}
	return cv.c.Send(ctx, m)
}

// Send queues a draft or a failed message for sending and waits for the
// server's answer. It returns the message as stored afterwards:
// StatusSendSucceed with its server id, sequence number and server time
// once the server has committed it, or StatusSendFailed with the server's
// refusal. A SendResult event is emitted either way.
//
// The message is stored (status StatusSending) before anything is sent, so
// it is never lost: while the client is offline it waits, and it is sent
// in order when the connection is back — also after the process is
// restarted and logs in again. If ctx ends first, Send returns 860016 and
// the message stays queued (its outcome arrives as a SendResult event),
// unless ctx was cancelled before the message left: then it is withdrawn
// (StatusCanceledSend, 865011). Retries reuse the message's client id, so
// the server never stores it twice.
//
// Errors: 861101 (nil context), 865002 (nil message), 865003 (the message
// is not a draft or a failed send: already sending or sent, or received),
// 865004 (a group message from a user who is not a member of the group,
// known locally or answered by the server), 863004, server codes (803003
// target does not exist, 803007 too long, 803010 rate ...), 860016, 865011.
func (c *Client) Send(ctx context.Context, m *Message) (*Message, error) {
	if err := checkCtx(ctx); err != nil {
		return nil, err
	}
	if m == nil {
		return nil, jmsg.E(jmsg.SDKParamMessageNil)
	}
	s, err := c.session()
	if err != nil {
		return nil, err
	}
	if ctx.Err() != nil {
		return nil, jmsg.Wrap(jmsg.SDKNetworkOtherError, ctx.Err())
	}
	wait := ctx
	ctx = context.WithoutCancel(ctx) // local steps finish whatever the caller's deadline
	row, err := s.db.MessageByID(ctx, m.ID)
	if errors.Is(err, localstore.ErrNotFound) {
		return nil, jmsg.E(jmsg.SDKMessageNotPrepared)
	} else if err != nil {
		return nil, jmsg.Wrap(jmsg.SDKUnknownError, err)
	}
	if row.Received || !jmsg.MessageStatus(row.Status).Sendable() {
		return nil, jmsg.E(jmsg.SDKMessageNotPrepared)
	}
	conv, err := s.db.ConversationByID(ctx, row.ConvID)
	if err != nil {
		return nil, jmsg.Wrap(jmsg.SDKMessageNotPrepared, err)
	}
	if conv.Type == int(jmsg.ConversationGroup) {
		gid, _ := strconv.ParseInt(conv.Target, 10, 64)
		if ms, err := s.db.Membership(ctx, gid); err == nil && ms == localstore.NotMember {
			return nil, jmsg.E(jmsg.SDKMessageNotInGroup)
		}
	}
	ch := s.outbox.wait(row.ID)
	if err := s.db.SetStatus(ctx, row.ID, int(jmsg.StatusSending), 0); err != nil {
		s.outbox.unwait(row.ID, ch)
		return nil, jmsg.Wrap(jmsg.SDKUnknownError, err)
	}
	s.outbox.kick()
	select {
	case out := <-ch:
		return out.msg, out.err
	case <-wait.Done():
		s.outbox.unwait(row.ID, ch)
	}
	if errors.Is(wait.Err(), context.Canceled) {
		if ok := s.outbox.withdraw(row.ID, s.db); ok {
			out, _ := c.messageFromRow(context.Background(), s.db, mustRow(s.db, row.ID, row))
			cerr := jmsg.Wrap(jmsg.SDKMessageCancelSend, wait.Err())
			c.emit(SendResult{Message: out, Err: cerr})
			return out, cerr
		}
	}
	out, _ := c.messageFromRow(context.Background(), s.db, mustRow(s.db, row.ID, row))
	return out, jmsg.Wrap(jmsg.SDKNetworkOtherError, errStillQueued)
}

// mustRow reloads a message row, falling back to the given one.
func mustRow(db *localstore.DB, id int64, fallback localstore.Message) localstore.Message {
	r, err := db.MessageByID(context.Background(), id)
	if err != nil {
		return fallback
	}
	return r
}
