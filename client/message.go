package client

import (
	"encoding/json"
	"unicode/utf8"

	"github.com/jmsg-im/jmsg"
	"github.com/jmsg-im/jmsg/client/internal/localstore"
	"github.com/jmsg-im/jmsg/wire"
)

// Content is a message's content: *TextContent, *CustomContent, a media
// content (*ImageContent, *VoiceContent, *FileContent, *VideoContent; see
// MediaContent), *LocationContent, *EventContent (received only),
// *PromptContent (a retracted message) or *UnknownContent.
type Content interface {
	ContentType() jmsg.ContentType
	// body returns the protocol msg_body, or 865001 if it is not sendable.
	body() (json.RawMessage, error)
}

// TextContent is a text message. Extras are optional key–value data carried
// with the text.
type TextContent struct {
	Text   string
	Extras map[string]any
}

// ContentType returns jmsg.ContentText.
func (*TextContent) ContentType() jmsg.ContentType { return jmsg.ContentText }

func (t *TextContent) body() (json.RawMessage, error) {
	if t == nil || !utf8.ValidString(t.Text) {
		return nil, jmsg.E(jmsg.SDKParamContentInvalid)
	}
	b := struct {
		Text   string         `json:"text"`
		Extras map[string]any `json:"extras,omitempty"`
	}{t.Text, t.Extras}
	raw, err := json.Marshal(b)
	if err != nil || !jmsg.CheckBody("text", raw) {
		return nil, jmsg.E(jmsg.SDKParamContentInvalid)
	}
	return raw, nil
}

// CustomContent is an app-defined message: JSON must hold one JSON object.
type CustomContent struct {
	JSON json.RawMessage
}

// NewCustomContent returns custom content holding obj.
func NewCustomContent(obj map[string]any) (*CustomContent, error) {
	if obj == nil {
		return nil, jmsg.E(jmsg.SDKParamContentInvalid)
	}
	b, err := json.Marshal(obj)
	if err != nil {
		return nil, jmsg.Wrap(jmsg.SDKParamContentInvalid, err)
	}
	return &CustomContent{JSON: b}, nil
}

// ContentType returns jmsg.ContentCustom.
func (*CustomContent) ContentType() jmsg.ContentType { return jmsg.ContentCustom }

func (c *CustomContent) body() (json.RawMessage, error) {
	if c == nil || !jmsg.IsJSONObject(c.JSON) {
		return nil, jmsg.E(jmsg.SDKParamContentInvalid)
	}
	return c.JSON, nil
}

// Object decodes the custom JSON object.
func (c *CustomContent) Object() (map[string]any, error) {
	var m map[string]any
	err := json.Unmarshal(c.JSON, &m)
	return m, err
}

// EventContent is a group event stored in the group's conversation
// (member added, removed, exited, group info updated, dissolved, owner or
// admin changed, member muted, join applied). It cannot be sent.
type EventContent struct {
	EventType   int      // JMessage's number: 8, 9, 10, 11, 12, 56, 65, 80, 82 (wire.EventGroup*)
	GID         int64    // the group
	From        string   // who did it
	To          []string // whom it concerns
	Extra       int      // 9: 69 = dissolved; 65: 1 muted, 2 unmuted; 80: 1 added, 2 removed
	NewOwner    string   // 9, 82
	Description string   // 56: the applicant's reason
	EventID     int64    // 56: pass to ProcessApplication
	GroupName   string
}

// ContentType returns jmsg.ContentEventNotification.
func (*EventContent) ContentType() jmsg.ContentType { return jmsg.ContentEventNotification }

func (*EventContent) body() (json.RawMessage, error) {
	return nil, jmsg.E(jmsg.SDKParamContentInvalid)
}

// PromptType is the kind of a PromptContent (iOS JMSGPromptContent's
// promptType).
type PromptType int

// Prompt types.
const (
	PromptRetract PromptType = 0 // the message was retracted by its sender
)

// PromptContent is a notice standing in for a message. A retracted message
// has it (PromptRetract) on every device, in place of the content it was
// sent with (see Client.RetractMessage). It cannot be sent.
type PromptContent struct {
	PromptType PromptType
	// Text is the server's wording, "message retracted"; apps show their
	// own from PromptType.
	Text string
	// OrigType is the type the message had before it was retracted
	// (jmsg.ContentUnknown for a type this SDK does not know).
	OrigType jmsg.ContentType
}

// ContentType returns jmsg.ContentPrompt.
func (*PromptContent) ContentType() jmsg.ContentType { return jmsg.ContentPrompt }

func (*PromptContent) body() (json.RawMessage, error) {
	return nil, jmsg.E(jmsg.SDKParamContentInvalid)
}

// UnknownContent is content of a type this SDK does not know; Raw is the
// msg_body as received.
type UnknownContent struct {
	MsgType string
	Raw     json.RawMessage
}

// ContentType returns jmsg.ContentUnknown.
func (*UnknownContent) ContentType() jmsg.ContentType { return jmsg.ContentUnknown }

func (*UnknownContent) body() (json.RawMessage, error) {
	return nil, jmsg.E(jmsg.SDKParamContentInvalid)
}

// Message is a message in the local store. It is a snapshot: fields do not
// change after the call that returned it; fetch it again for later state.
type Message struct {
	ID               int64 // local id
	ServerMessageID  int64 // 0 until the server accepts it
	Seq              int64 // per-conversation sequence number, 0 until sent
	ConversationType jmsg.ConversationType
	Target           string // single: the other user; group: the group id in decimal
	From             string // sender's username
	Received         bool   // sent by someone else (or by this user on another device: false)
	Status           jmsg.MessageStatus
	Timestamp        int64 // server time in ms; local creation time until sent
	Content          Content
	ErrorCode        int // the code of the last failed send or upload (or automatic download: ReceiveDownloadFailed), 0 otherwise

	doc    jmsg.Doc
	convID int64 // local conversation id
}

// Doc returns the message's protocol document.
func (m *Message) Doc() jmsg.Doc { return m.doc }

// Text returns the text of a text message, "" otherwise.
func (m *Message) Text() string {
	if t, ok := m.Content.(*TextContent); ok {
		return t.Text
	}
	return ""
}

// fromRow rebuilds a Message from its row; dir is the directory the row's
// media paths are relative to.
func fromRow(r localstore.Message, conv localstore.Conversation, dir string) *Message {
	m := &Message{
		ID: r.ID, ServerMessageID: r.ServerID, Seq: r.Seq,
		ConversationType: jmsg.ConversationType(conv.Type), Target: conv.Target,
		From: r.From, Received: r.Received, Status: jmsg.MessageStatus(r.Status),
		Timestamp: r.ServerTime, ErrorCode: r.ErrorCode, convID: r.ConvID,
	}
	if m.Timestamp == 0 {
		m.Timestamp = r.LocalTime
	}
	_ = json.Unmarshal([]byte(r.Content), &m.doc)
	m.Content = decodeContent(m.doc.MsgType, m.doc.MsgBody)
	if mc, ok := m.Content.(MediaContent); ok {
		mc.setLocal(absPath(dir, r.MediaPath), absPath(dir, r.ThumbPath))
	}
	return m
}

func decodeContent(msgType string, body json.RawMessage) Content {
	switch jmsg.ParseContentType(msgType) {
	case jmsg.ContentText:
		var b struct {
			Text   string         `json:"text"`
			Extras map[string]any `json:"extras"`
		}
		if json.Unmarshal(body, &b) == nil {
			return &TextContent{Text: b.Text, Extras: b.Extras}
		}
	case jmsg.ContentCustom:
		return &CustomContent{JSON: append(json.RawMessage(nil), body...)}
	case jmsg.ContentEventNotification:
		var b wire.GroupEventBody
		if json.Unmarshal(body, &b) == nil {
			return eventContent(b)
		}
	case jmsg.ContentPrompt:
		var b wire.RetractPromptBody
		if json.Unmarshal(body, &b) == nil {
			return &PromptContent{PromptType: PromptType(b.PromptType), Text: b.PromptText,
				OrigType: jmsg.ParseContentType(b.OrigMsgType)}
		}
	case jmsg.ContentImage, jmsg.ContentVoice, jmsg.ContentFile, jmsg.ContentVideo, jmsg.ContentLocation:
		if c := decodeMedia(jmsg.ParseContentType(msgType), body); c != nil {
			return c
		}
	}
	return &UnknownContent{MsgType: msgType, Raw: body}
}

func eventContent(b wire.GroupEventBody) *EventContent {
	return &EventContent{EventType: b.EventType, GID: b.GID, From: b.From, To: b.To, Extra: b.Extra,
		NewOwner: b.NewOwner, Description: b.Description, EventID: b.EventID, GroupName: b.GroupName}
}
