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
	"github.com/jmsg-im/jmsg/wire"
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

// Send sends a draft or a failed message and waits for the server's
// answer. It returns the message as stored afterwards: StatusSendSucceed
// with its server id, sequence number and server time once the server has
// committed it, or StatusSendFailed with the error. A SendResult event is
// emitted either way. Retrying a failed message reuses its client id, so
// the server never stores it twice.
//
// Errors: 861101 (nil context), 865002 (nil message), 865003 (the message
// is not a draft or a failed send: already sending or sent, or received),
// 865004 (a group message from a user who is not a member of the group,
// known locally or answered by the server),
// 863004, server codes (803003 target does not exist, 803007 too long ...),
// 860016 (network or timeout; the message is then StatusSendFailed), 865011
// (ctx was cancelled; the message is then StatusCanceledSend and is not sent
// again — if the server had already committed it, it still arrives).
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
	var gid int64
	if conv.Type == int(jmsg.ConversationGroup) {
		gid, _ = strconv.ParseInt(conv.Target, 10, 64)
		if ms, err := s.db.Membership(ctx, gid); err == nil && ms == localstore.NotMember {
			return nil, jmsg.E(jmsg.SDKMessageNotInGroup)
		}
	}
	if err := s.db.SetStatus(ctx, row.ID, int(jmsg.StatusSending), 0); err != nil {
		return nil, jmsg.Wrap(jmsg.SDKUnknownError, err)
	}
	var doc jmsg.Doc
	if err := json.Unmarshal([]byte(row.Content), &doc); err != nil {
		return nil, jmsg.Wrap(jmsg.SDKUnknownError, err)
	}
	var resp wire.SendResp
	sendErr := s.call(ctx, wire.OpSend, wire.SendReq{ClientMsgID: row.CID, Content: doc}, &resp)
	if gid != 0 && jmsg.CodeOf(sendErr) == jmsg.TcpUserNotInGroup {
		// The server knows better than the local cache: not a member.
		s.db.SetMembership(context.Background(), gid, false)
		sendErr = jmsg.Wrap(jmsg.SDKMessageNotInGroup, sendErr)
	}
	if sendErr == nil && (resp.MsgID == 0 || resp.Seq == 0) {
		sendErr = jmsg.Errorf(jmsg.SDKNetworkResultUnexpected, "send response without msg_id or seq")
	}
	if sendErr != nil {
		status := jmsg.StatusSendFailed
		if errors.Is(ctx.Err(), context.Canceled) {
			status, sendErr = jmsg.StatusCanceledSend, jmsg.Wrap(jmsg.SDKMessageCancelSend, ctx.Err())
		}
		if err := s.db.SetStatus(context.Background(), row.ID, int(status), jmsg.CodeOf(sendErr)); err != nil {
			c.log.Error("recording failed send", "err", err)
		}
	} else {
		if err := s.db.MarkSent(context.Background(), row.ID, resp.MsgID, resp.Seq, resp.CTimeMs, resp.ConvID, int(jmsg.StatusSendSucceed)); err != nil {
			return nil, jmsg.Wrap(jmsg.SDKUnknownError, err)
		}
	}
	out, err := c.messageFromRow(context.Background(), s.db, mustRow(s.db, row.ID, row))
	if err != nil {
		return nil, jmsg.Wrap(jmsg.SDKUnknownError, err)
	}
	c.emit(SendResult{Message: out, Err: sendErr})
	return out, sendErr
}

// mustRow reloads a message row, falling back to the given one.
func mustRow(db *localstore.DB, id int64, fallback localstore.Message) localstore.Message {
	r, err := db.MessageByID(context.Background(), id)
	if err != nil {
		return fallback
	}
	return r
}
