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
	OpLogout         = "logout"          // {} → {}
	OpMyInfo         = "my_info"         // {} → jmsg.UserInfo
	OpUserInfo       = "user_info"       // UserInfoReq → UserInfoResp
	OpUpdateMyInfo   = "update_my_info"  // UpdateMyInfoReq → jmsg.UserInfo
	OpUpdatePassword = "update_password" // UpdatePasswordReq → {}
	OpSend           = "send"            // SendReq → SendResp
	OpAck            = "ack"             // AckReq → {}
	OpSync           = "sync"            // SyncReq → SyncResp
	OpHistory        = "history"         // HistoryReq → HistoryResp
)

// Pushes (server → client), frames without an id.
const (
	OpError   = "error"  // a frame that could not be attributed to a request
	OpMessage = "msg"    // MessagePush
	OpEvent   = "event"  // EventPush
	OpKicked  = "kicked" // deprecated alias, never sent; reserved
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
	SyncKey    int64         `json:"sync_key"`    // the user's newest change key
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

// SendReq sends one message. ClientMsgID is chosen by the sender and unique
// per sender; a retry with the same id returns the original message.
type SendReq struct {
	ClientMsgID string   `json:"cid"`
	Content     jmsg.Doc `json:"content"`
	NoOffline   bool     `json:"no_offline,omitempty"`
	NoNotify    bool     `json:"no_notification,omitempty"`
}

// SendResp answers send after the message is durably committed.
type SendResp struct {
	MsgID   int64 `json:"msg_id"`
	ConvID  int64 `json:"conv_id"`
	Seq     int64 `json:"seq"`
	CTimeMs int64 `json:"ctime_ms"`
	SyncKey int64 `json:"sync_key"` // the sender's change key of this message
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
// SyncKey is the receiving user's change key for it: a client that holds
// SyncKey-1 is up to date after storing the message; a larger gap means it
// missed changes and should sync.
type MessagePush struct {
	SyncKey int64   `json:"sync_key"`
	Message Message `json:"message"`
}

// Event types on the wire (sdk.md §13.2).
const (
	EventLoginKicked          = 1
	EventServerAlterPassword  = 2
	EventUserLoginStatusError = 70
)

// EventPush delivers a plain event (not stored as a message).
type EventPush struct {
	EventType int    `json:"event_type"`
	Extra     int    `json:"extra,omitempty"`
	CTimeMs   int64  `json:"ctime_ms"`
	From      string `json:"from_username,omitempty"`
	Desc      string `json:"description,omitempty"`
}

// AckReq acknowledges pushed messages: the client has stored everything of
// its change stream up to SyncKey.
type AckReq struct {
	SyncKey int64 `json:"sync_key"`
}

// SyncReq asks for the conversations changed after the client's key.
type SyncReq struct {
	Since int64 `json:"since"`
	Limit int   `json:"limit,omitempty"` // conversations per page; default and maximum 200
}

// ConvChange says that a conversation changed after the requested key.
type ConvChange struct {
	ConvID  int64  `json:"conv_id"`
	Type    int    `json:"type"`           // jmsg.ConversationType
	Peer    string `json:"peer,omitempty"` // single: the other user
	LastSeq int64  `json:"last_seq"`       // newest message sequence
	Key     int64  `json:"key"`            // change key of the newest change
}

// SyncResp answers sync with the changed conversations in key order. When
// More is set, the client asks again with Since = Key.
type SyncResp struct {
	Changes []ConvChange `json:"changes"`
	Key     int64        `json:"key"`
	More    bool         `json:"more"`
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

// HistoryResp answers history.
type HistoryResp struct {
	Messages []Message `json:"messages"`
	More     bool      `json:"more"`
}
