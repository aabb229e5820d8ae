package jmsg

import (
	"bytes"
	"encoding/json"
	"strconv"
	"unicode/utf8"
)

// ConversationType is the kind of a conversation (iOS JMSGConversationType).
type ConversationType int

// Conversation types.
const (
	ConversationSingle   ConversationType = 1
	ConversationGroup    ConversationType = 2
	ConversationChatRoom ConversationType = 3
)

// Valid reports whether t is a known conversation type.
func (t ConversationType) Valid() bool { return t >= ConversationSingle && t <= ConversationChatRoom }

// TargetType returns the protocol document's target_type for t.
func (t ConversationType) TargetType() string {
	switch t {
	case ConversationSingle:
		return "single"
	case ConversationGroup:
		return "group"
	case ConversationChatRoom:
		return "chatroom"
	}
	return ""
}

// ContentType is the kind of a message's content (iOS JMSGContentType).
type ContentType int

// Content types with their iOS numeric values.
const (
	ContentUnknown           ContentType = 0
	ContentText              ContentType = 1
	ContentImage             ContentType = 2
	ContentVoice             ContentType = 3
	ContentCustom            ContentType = 4
	ContentEventNotification ContentType = 5
	ContentFile              ContentType = 6
	ContentLocation          ContentType = 7
	ContentPrompt            ContentType = 8
	ContentVideo             ContentType = 9
)

var contentWire = map[ContentType]string{
	ContentText: "text", ContentImage: "image", ContentVoice: "voice", ContentCustom: "custom",
	ContentFile: "file", ContentLocation: "location", ContentVideo: "video", ContentEventNotification: "event",
	ContentPrompt: "prompt",
}

// String returns the protocol's msg_type for c ("text", "custom", ...), or
// "unknown".
func (c ContentType) String() string {
	if s, ok := contentWire[c]; ok {
		return s
	}
	return "unknown"
}

// ParseContentType maps a protocol msg_type to its ContentType; unknown
// strings give ContentUnknown.
func ParseContentType(s string) ContentType {
	for c, w := range contentWire {
		if w == s {
			return c
		}
	}
	return ContentUnknown
}

// MessageStatus is the state of a message on a device (iOS JMSGMessageStatus).
type MessageStatus int

// Message statuses with their iOS numeric values.
const (
	StatusSendDraft             MessageStatus = 0
	StatusSending               MessageStatus = 1
	StatusSendUploadFailed      MessageStatus = 2
	StatusSendUploadSucceed     MessageStatus = 3
	StatusSendFailed            MessageStatus = 4
	StatusSendSucceed           MessageStatus = 5
	StatusReceiving             MessageStatus = 6
	StatusReceiveDownloadFailed MessageStatus = 7
	StatusReceiveSucceed        MessageStatus = 8
	StatusCanceledSend          MessageStatus = 9
)

// Sendable reports whether a message in status s may be sent: only drafts,
// failed sends and failed uploads (865003 otherwise).
func (s MessageStatus) Sendable() bool {
	return s == StatusSendDraft || s == StatusSendFailed || s == StatusSendUploadFailed
}

// Doc is JMessage's message JSON protocol document: the envelope and a
// type-specific msg_body. The server stores and relays it as the sender
// wrote it, after checking it and setting from_type and from_id.
type Doc struct {
	Version      int             `json:"version"`
	TargetType   string          `json:"target_type"`
	TargetID     string          `json:"target_id"`
	TargetName   string          `json:"target_name,omitempty"`
	TargetAppKey string          `json:"target_appkey,omitempty"`
	FromType     string          `json:"from_type"`
	FromID       string          `json:"from_id"`
	FromName     string          `json:"from_name,omitempty"`
	FromAppKey   string          `json:"from_appkey,omitempty"`
	FromPlatform string          `json:"from_platform,omitempty"`
	CreateTime   int64           `json:"create_time"`
	MsgType      string          `json:"msg_type"`
	MsgBody      json.RawMessage `json:"msg_body"`
}

// TextBody is the msg_body of a text message.
type TextBody struct {
	Text   string          `json:"text"`
	Extras json.RawMessage `json:"extras,omitempty"`
}

// IsJSONObject reports whether b holds exactly one JSON object.
func IsJSONObject(b []byte) bool {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || b[0] != '{' || !json.Valid(b) {
		return false
	}
	return true
}

// CheckBody validates a msg_body for msg_type: text needs a non-empty valid
// UTF-8 text and, if present, an extras object; custom needs a JSON object;
// image, voice, file, video and location bodies are described in
// docs/MEDIA.md (the shape only: whether a media id exists is the
// server's check).
// It returns false for types that cannot be sent as such.
func CheckBody(msgType string, body []byte) bool {
	if !IsJSONObject(body) {
		return false
	}
	switch ParseContentType(msgType) {
	case ContentText:
		var t TextBody
		if json.Unmarshal(body, &t) != nil || t.Text == "" || !utf8.ValidString(t.Text) {
			return false
		}
		return len(t.Extras) == 0 || string(t.Extras) == "null" || IsJSONObject(t.Extras)
	case ContentCustom:
		return true
	case ContentImage, ContentVoice, ContentFile, ContentVideo, ContentLocation:
		return checkMediaBody(ParseContentType(msgType), body)
	}
	return false
}

// FormatID formats a numeric id (group id, uid) as the protocol's string.
func FormatID(id int64) string { return strconv.FormatInt(id, 10) }
