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
//
// For a media content not uploaded yet (MediaID ""), the file at its Path
// (and a video's ThumbPath) is copied into the user's directory under
// DataDir, so the message survives the app deleting its file and a restart
// while it waits to be sent; the returned message's content points at the
// copy. The content passed in is not modified. Further errors: 864002 (the
// file does not exist), 864005 (the file is empty), 869999 (the copy
// cannot be written). A media content that carries media ids (forwarding a
// message) is sent as it is, with no upload.
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
	cid := newClientMsgID()
	var local mediaLocal
	if mc, ok := content.(MediaContent); ok {
		mc = mc.clone()
		if local, err = prepareMedia(s.db.Dir(), mc, cid); err != nil {
			return nil, err
		}
		content = mc
		if body, err = content.body(); err != nil {
			local.remove()
			return nil, err
		}
	}
	m, err := cv.insertDraft(s, content, body, cid, local)
	if err != nil {
		local.remove()
		return nil, err
	}
	return m, nil
}

func (cv *Conversation) insertDraft(s *session, content Content, body json.RawMessage, cid string, local mediaLocal) (*Message, error) {
	doc := jmsg.Doc{
		Version: 1, TargetType: cv.Type.TargetType(), TargetID: cv.Target,
		FromType: "user", FromID: s.username, FromPlatform: cv.c.cfg.Platform, CreateTime: time.Now().Unix(),
		MsgType: content.ContentType().String(), MsgBody: body,
	}
	raw, err := json.Marshal(doc)
	if err != nil {
		return nil, jmsg.Wrap(jmsg.SDKParamContentInvalid, err)
	}
	size := len(raw)
	if mc, ok := content.(MediaContent); ok && !uploaded(mc) {
		size += uploadGrowth * len(mc.parts()) // what the upload's answer adds
	}
	if size > jmsg.MessageMaxBytes {
		return nil, jmsg.E(jmsg.ServerMessageTooLong)
	}
	conv, err := s.db.ConversationByID(context.Background(), cv.id)
	if err != nil {
		return nil, jmsg.Wrap(jmsg.SDKMessageNotPrepared, err)
	}
	row := localstore.Message{
		ConvID: cv.id, CID: cid, Status: int(jmsg.StatusSendDraft),
		ContentType: int(content.ContentType()), Content: string(raw), From: s.username,
		LocalTime: time.Now().UnixMilli(), MediaPath: local.media, ThumbPath: local.thumb,
	}
	row.ID, err = s.db.InsertOutgoing(context.Background(), row)
	if err != nil {
		return nil, jmsg.Wrap(jmsg.SDKUnknownError, err)
	}
	return fromRow(row, conv, s.db.Dir()), nil
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

// SendImage creates an image message with the image at path and sends
// it; the file is copied first (see CreateMessage) and uploaded before the
// message is sent. For upload progress, use CreateMessage and
// Client.SendWithOptions. Errors: those of NewImageContent and Send, and
// those of the upload: 860020 (no upload token), 860018 (the upload
// failed), 898061 (larger than the server accepts), 860019 (upload token
// refused); after an upload failure the message has status
// StatusSendUploadFailed and can be sent again.
func (cv *Conversation) SendImage(ctx context.Context, path string) (*Message, error) {
	content, err := NewImageContent(path)
	if err != nil {
		return nil, err
	}
	return cv.createAndSend(ctx, content)
}

// SendVoice creates a voice message with the audio at path, seconds long,
// and sends it. Errors as SendImage, and 865001 for seconds ≤ 0.
func (cv *Conversation) SendVoice(ctx context.Context, path string, seconds int) (*Message, error) {
	content, err := NewVoiceContent(path, seconds)
	if err != nil {
		return nil, err
	}
	return cv.createAndSend(ctx, content)
}

// SendFile creates a file message with the file at path, shown as name
// (the base name of path when ""), and sends it. Errors as SendImage.
func (cv *Conversation) SendFile(ctx context.Context, path, name string) (*Message, error) {
	content, err := NewFileContent(path, name)
	if err != nil {
		return nil, err
	}
	return cv.createAndSend(ctx, content)
}

// SendVideo creates a video message with the video at path, the thumbnail
// image at thumbPath and a duration of seconds, and sends it: the
// thumbnail and the video are uploaded separately. Errors as SendImage.
func (cv *Conversation) SendVideo(ctx context.Context, path, thumbPath string, seconds int) (*Message, error) {
	content, err := NewVideoContent(path, thumbPath, seconds)
	if err != nil {
		return nil, err
	}
	return cv.createAndSend(ctx, content)
}

// SendLocation creates a location message and sends it. Errors: those of
// NewLocationContent and Send.
func (cv *Conversation) SendLocation(ctx context.Context, lat, lng float64, scale int, label string) (*Message, error) {
	content, err := NewLocationContent(lat, lng, scale, label)
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
// A media message is uploaded first (status StatusSending, then
// StatusSendUploadSucceed once its media is on the server); the messages
// queued after it wait. A failed upload ends with status
// StatusSendUploadFailed and 860020, 860018, 898061, 860019, 864002 (the
// SDK's copy of the file was deleted) or 864005; such a message may be
// sent again, and parts already uploaded are not uploaded twice.
// Cancelling ctx during the upload withdraws the message (865011).
//
// Errors: 861101 (nil context), 865002 (nil message), 865003 (the message
// is not a draft or a failed send: already sending or sent, or received),
// 865004 (a group message from a user who is not a member of the group,
// known locally or answered by the server), 863004, server codes (803003
// target does not exist, 803007 too long, 803010 rate ...), 860016, 865011,
// and the upload errors above.
func (c *Client) Send(ctx context.Context, m *Message) (*Message, error) {
	return c.SendWithOptions(ctx, m, SendOptions{})
}

// SendOptions are optional settings of SendWithOptions. The zero value is
// Send's behaviour.
type SendOptions struct {
	// UploadProgress, if set, is called while the message's media is
	// uploaded, with the bytes sent so far and the total (for a video, its
	// thumbnail and the video together). It runs on the SDK's sending
	// goroutine, so it must return quickly, and only while the Send call
	// waits: an upload the outbox resumes later (after a reconnection or a
	// restart) reports no progress.
	UploadProgress func(sent, total int64)
}

// SendWithOptions is Send with options.
func (c *Client) SendWithOptions(ctx context.Context, m *Message, opt SendOptions) (*Message, error) {
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
	// A ctx that has ended already is handled like one that ends while
	// waiting (below): past its deadline the message is queued all the
	// same, cancelled it is withdrawn. Returning before queueing would leave
	// a message that SendText created as a draft nobody sends.
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
	if opt.UploadProgress != nil {
		s.outbox.setProgress(row.ID, opt.UploadProgress)
		defer s.outbox.setProgress(row.ID, nil)
	}
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
