package wire

import (
	"encoding/json"

	"github.com/jmsg-im/jmsg"
)

// Requests (client → server). Each is answered by a response frame with the
// same op and id.
const (
	OpInit           = "init"            // InitReq → InitResp; must be first
	OpPing           = "ping"            // {} → {}
	OpRegister       = "register"        // RegisterReq → {}
	OpLogin          = "login"           // LoginReq → LoginResp
	OpLogout         = "logout"          // {} → {}; revokes the session's token
	OpMyInfo         = "my_info"         // {} → jmsg.UserInfo
	OpUserInfo       = "user_info"       // UserInfoReq → UserInfoResp
	OpUpdateMyInfo   = "update_my_info"  // UpdateMyInfoReq → jmsg.UserInfo
	OpUpdatePassword = "update_password" // UpdatePasswordReq → UpdatePasswordResp
	OpSend           = "send"            // SendReq → SendResp
	OpAck            = "ack"             // AckReq → {}
	OpSync           = "sync"            // SyncReq → SyncResp
	OpHistory        = "history"         // HistoryReq → HistoryResp
	OpRead           = "read"            // ReadReq → ReadResp
)

// Pushes (server → client), frames without an id.
const (
	OpError   = "error"     // a frame that could not be attributed to a request
	OpMessage = "msg"       // MessagePush
	OpEvent   = "event"     // EventPush
	OpReadPos = "read_sync" // ReadPush: the user read a conversation on another device
	OpKicked  = "kicked"    // deprecated alias, never sent; reserved
)

// Platform letters of JMessage device records. A login kicks the previous
// session of the same platform category (sdk.md §13.3).
const (
	PlatformAndroid = "a"
	PlatformIOS     = "i"
	PlatformWeb     = "j"
	PlatformWindows = "w"
)

// InitReq opens a session for an app. Version is the client's protocol
// version; Platform is a platform letter (default "w").
type InitReq struct {
	AppKey   string `json:"appkey"`
	Version  int    `json:"version"`
	Platform string `json:"platform,omitempty"`
}

// InitResp answers init.
type InitResp struct {
	Version    int   `json:"version"`
	ServerTime int64 `json:"server_time"` // ms
	MaxFrame   int   `json:"max_frame"`   // largest frame the server accepts
}

// RegisterReq registers a user of the app given at init. The optional
// profile fields follow jmsg.UserInfo's rules.
type RegisterReq struct {
	jmsg.UserInfo
	Password string `json:"password"`
}

// LoginReq logs a user in on this connection with a password or with a
// token from an earlier password login.
type LoginReq struct {
	Username string `json:"username"`
	Password string `json:"password,omitempty"`
	Token    string `json:"token,omitempty"`
}

// Device is the record of the last session of one platform category.
type Device struct {
	Platform string `json:"platform"`
	Online   bool   `json:"online"`
	MTime    int64  `json:"mtime"`          // last login, ms
	Kicked   bool   `json:"flag,omitempty"` // kicked by this login
}

// LoginResp answers login.
type LoginResp struct {
	User       jmsg.UserInfo `json:"user"`
	ServerTime int64         `json:"server_time"` // ms
	Devices    []Device      `json:"devices,omitempty"`
	Token      string        `json:"token,omitempty"` // issued on password login; valid 30 days
}

// UserInfoReq asks for the profiles of users of the same app.
type UserInfoReq struct {
	Usernames []string `json:"usernames"`
}

// UserInfoResp answers user_info in request order.
type UserInfoResp struct {
	Users []jmsg.UserInfo `json:"users"`
}

// UpdateMyInfoReq updates the named fields of the caller's profile; fields
// not listed in Fields keep their value.
type UpdateMyInfoReq struct {
	Fields []string      `json:"fields"` // nickname, avatar, gender, birthday, signature, region, address, extras
	Info   jmsg.UserInfo `json:"info"`
}

// UpdatePasswordReq changes the caller's password.
type UpdatePasswordReq struct {
	Old string `json:"old_password"`
	New string `json:"new_password"`
}

// UpdatePasswordResp answers update_password. Every login token issued
// before is revoked; Token replaces the session's.
type UpdatePasswordResp struct {
	Token string `json:"token"`
}

// SendReq sends one message. ClientMsgID (at most 64 bytes) is chosen by
// the sender and identifies the message among the sender's: a request
// with an id already used returns the original message, whatever its
// content. An empty id identifies nothing.
type SendReq struct {
	ClientMsgID string   `json:"cid"`
	Content     jmsg.Doc `json:"content"`
}

// SendResp answers send after the message is durably committed.
type SendResp struct {
	MsgID   int64 `json:"msg_id"`
	ConvID  int64 `json:"conv_id"`
	Seq     int64 `json:"seq"`
	CTimeMs int64 `json:"ctime_ms"`
}

// Message is a stored message as the server hands it out.
type Message struct {
	MsgID       int64           `json:"msg_id"`
	ConvID      int64           `json:"conv_id"`
	Seq         int64           `json:"seq"`
	CTimeMs     int64           `json:"ctime_ms"`
	ClientMsgID string          `json:"cid,omitempty"`
	Content     json.RawMessage `json:"content"` // the protocol document, a jmsg.Doc
}

// MessagePush delivers a newly committed message to an online session.
// A session receives each conversation's messages in sequence order; a
// client that sees a sequence number more than one past the last it holds
// has missed messages and fetches them with history.
type MessagePush struct {
	Message Message `json:"message"`
}

// Event types on the wire (sdk.md §13.2).
const (
	EventLoginKicked         = 1
	EventServerAlterPassword = 2
	// Extra of EventLoginKicked when the server, not another login, ended
	// the session.
	KickedUserDisabled        = 1
	KickedUserDeleted         = 2
	EventUserLoginStatusError = 70
)

// EventPush delivers a plain event (not stored as a message).
type EventPush struct {
	EventType int    `json:"event_type"`
	Extra     int    `json:"extra,omitempty"`
	CTimeMs   int64  `json:"ctime_ms"`
	From      string `json:"from_username,omitempty"`
	Desc      string `json:"description,omitempty"`
	GID       int64  `json:"gid,omitempty"`
	// Retraction (EventMessageRetract): the messages, their conversation,
	// RetractSingle or RetractGroup, and in a single conversation the
	// receiver's username.
	MsgIDs      []int64  `json:"msgid_list,omitempty"`
	ConvID      int64    `json:"conv_id,omitempty"`
	TargetType  int      `json:"type,omitempty"`
	ToUsernames []string `json:"to_usernames,omitempty"`
}

// Position says that a client holds every message of a conversation up to
// Seq.
type Position struct {
	ConvID int64 `json:"conv_id"`
	Seq    int64 `json:"seq"`
}

// AckReq acknowledges delivery: the client has stored the messages of each
// listed conversation up to the position's Seq. jmsgd records them as the
// user's delivered positions (at most 500 per request).
type AckReq struct {
	Positions []Position `json:"positions"`
}

// SyncReq asks for the conversations changed after a cursor: Since and
// SinceConv as returned by the previous sync (0 and 0 on a new device).
type SyncReq struct {
	Since     int64 `json:"since"`
	SinceConv int64 `json:"since_conv,omitempty"`
	Limit     int   `json:"limit,omitempty"` // conversations per page; default and maximum 200
}

// ConvChange says that a conversation changed after the cursor.
type ConvChange struct {
	ConvID  int64  `json:"conv_id"`
	Type    int    `json:"type"`               // jmsg.ConversationType
	Peer    string `json:"peer,omitempty"`     // single: the other user
	GID     int64  `json:"gid,omitempty"`      // group: the group
	JoinSeq int64  `json:"join_seq,omitempty"` // the user reads only messages after this one (joined later)
	LastSeq int64  `json:"last_seq"`           // newest message sequence the user may read
	// ReadSeq is how far the user has read, on any device.
	ReadSeq int64 `json:"read_seq,omitempty"`
	// DeliveredSeq is how far the user's devices have acknowledged delivery:
	// a new device without roaming starts after it.
	DeliveredSeq int64 `json:"delivered_seq,omitempty"`
	// FirstSeq is the oldest message still kept; older ones were removed
	// by retention.
	FirstSeq int64 `json:"first_seq,omitempty"`
}

// SyncResp answers sync with the changed conversations, oldest change
// first. Once the client has stored each conversation's messages up to
// LastSeq, it keeps Cursor and CursorConv; when More is set it asks again
// from them.
//
// Reset says the cursor was older than the server's retention horizon:
// messages the client never fetched may have been removed. The page then
// lists every conversation of the user from the start (as for cursor 0);
// the client resynchronises each one from what it holds, noting where
// first_seq shows that messages are gone.
type SyncResp struct {
	Changes    []ConvChange `json:"changes"`
	Cursor     int64        `json:"cursor"`
	CursorConv int64        `json:"cursor_conv,omitempty"`
	More       bool         `json:"more"`
	Reset      bool         `json:"reset,omitempty"`
}

// ReadReq says the user has read a conversation up to Seq. The position
// only moves forward; the user's other devices get a ReadPush.
type ReadReq struct {
	ConvID int64 `json:"conv_id"`
	Seq    int64 `json:"seq"`
}

// ReadResp answers read with the position after the call.
type ReadResp struct {
	ReadSeq int64 `json:"read_seq"`
}

// ReadPush tells the user's other sessions that a conversation was read up
// to Seq.
type ReadPush struct {
	ConvID int64 `json:"conv_id"`
	Seq    int64 `json:"seq"`
}

// HistoryReq asks for messages of one conversation the caller belongs to.
// With After set it returns messages with seq > After oldest-first; with
// Before set, messages with seq < Before newest-first.
type HistoryReq struct {
	ConvID int64 `json:"conv_id"`
	After  int64 `json:"after,omitempty"`
	Before int64 `json:"before,omitempty"`
	Limit  int   `json:"limit,omitempty"` // default and maximum 500
}

// HistoryResp answers history. JoinSeq is where the caller's window
// starts: messages up to it (sent before the caller joined) are never
// readable, so a client counts its contiguous messages from there.
//
// FirstSeq is the oldest message of the conversation still kept: anything
// before it (and after JoinSeq) was removed by retention.
type HistoryResp struct {
	Messages []Message `json:"messages"`
	More     bool      `json:"more"`
	JoinSeq  int64     `json:"join_seq,omitempty"`
	FirstSeq int64     `json:"first_seq,omitempty"`
}
