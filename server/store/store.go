// Package store defines what jmsgd needs from durable storage, split by
// aggregate: apps, users, and messages with their per-user change stream.
// Every method takes the app key and never reads or changes rows of
// another app. Implementations live in sub-packages and pass the
// conformance suite in storetest.
package store

import (
	"context"
	"errors"

	"github.com/jmsg-im/jmsg"
)

// Errors returned by every implementation.
var (
	ErrNotFound = errors.New("store: not found")
	ErrExists   = errors.New("store: already exists")
)

// App is a tenant: an app key and its master secret.
type App struct {
	AppKey       string
	MasterSecret string
	Name         string
	CTimeMs      int64
}

// Apps stores apps.
type Apps interface {
	// CreateApp adds an app; ErrExists if its key is taken.
	CreateApp(ctx context.Context, a App) error
	// App returns the app with key appKey; ErrNotFound if none.
	App(ctx context.Context, appKey string) (App, error)
	// ListApps returns every app, oldest first.
	ListApps(ctx context.Context) ([]App, error)
}

// User is a stored user: the profile and the password hash.
type User struct {
	jmsg.UserInfo
	PasswordHash []byte
	SyncKey      int64 // newest change key of the user's change stream
}

// Users stores users of apps.
type Users interface {
	// CreateUser registers u.Username in appKey; ErrExists if taken. It
	// returns the stored profile with UID, CTime and MTime set.
	CreateUser(ctx context.Context, appKey string, u User) (jmsg.UserInfo, error)
	// UserByName returns a user; ErrNotFound if none.
	UserByName(ctx context.Context, appKey, username string) (User, error)
	// UsersByID returns the users with the given uids that exist, keyed by uid.
	UsersByID(ctx context.Context, appKey string, uids []int64) (map[int64]jmsg.UserInfo, error)
	// UpdateProfile replaces the profile fields of uid (not the username)
	// and sets MTime; ErrNotFound if no such user.
	UpdateProfile(ctx context.Context, appKey string, uid int64, info jmsg.UserInfo) (jmsg.UserInfo, error)
	// SetPassword replaces the password hash of uid; ErrNotFound if none.
	SetPassword(ctx context.Context, appKey string, uid int64, hash []byte) error
	// TouchDevice records a login of uid on platform at ms.
	TouchDevice(ctx context.Context, appKey string, uid int64, platform string, ms int64) error
	// Devices returns the device records of uid.
	Devices(ctx context.Context, appKey string, uid int64) ([]Device, error)
	// PutToken stores a login token (its hash) for uid, valid until
	// expiresMs.
	PutToken(ctx context.Context, appKey string, uid int64, tokenHash []byte, expiresMs int64) error
	// TokenUser returns the uid of an unexpired token at nowMs; ErrNotFound
	// if there is none.
	TokenUser(ctx context.Context, appKey string, tokenHash []byte, nowMs int64) (int64, error)
}

// Device is the last login of a user on one platform.
type Device struct {
	Platform string
	MTimeMs  int64
}

// NewMessage is a message to append. The sender and recipient are resolved
// uids of the same app; Content is the checked protocol document.
type NewMessage struct {
	AppKey      string
	SenderUID   int64
	TargetUID   int64 // single conversation peer
	ClientMsgID string
	CTimeMs     int64
	Content     []byte // JSON protocol document
}

// Appended is the outcome of one NewMessage.
type Appended struct {
	MsgID     int64
	ConvID    int64
	Seq       int64
	CTimeMs   int64
	Content   []byte          // as stored (the original on a duplicate)
	Keys      map[int64]int64 // change key per member uid; nil on a duplicate
	Duplicate bool            // the client id was already used: the original is returned
}

// ConvChange is a conversation of a user that changed after some key.
type ConvChange struct {
	ConvID  int64
	Type    jmsg.ConversationType
	PeerUID int64
	LastSeq int64
	Key     int64
}

// StoredMessage is a message read back.
type StoredMessage struct {
	MsgID       int64
	ConvID      int64
	Seq         int64
	SenderUID   int64
	ClientMsgID string
	CTimeMs     int64
	Content     []byte
}

// Messages stores conversations, messages and the per-user change stream.
type Messages interface {
	// Append commits msgs in one transaction, in order: each message gets
	// the next sequence number of its conversation (created on first use)
	// and every member's next change key. A message whose (sender, client
	// id) exists already is not stored again: its original is returned with
	// Duplicate set; an empty client id is never a duplicate. Either all of
	// msgs are committed durably or none is.
	Append(ctx context.Context, msgs []NewMessage) ([]Appended, error)
	// Changes returns up to limit conversations of uid whose change key is
	// greater than since, in key order, and whether more remain.
	Changes(ctx context.Context, appKey string, uid, since int64, limit int) ([]ConvChange, bool, error)
	// IsMember reports whether uid belongs to conversation convID.
	IsMember(ctx context.Context, appKey string, convID, uid int64) (bool, error)
	// History returns up to limit messages of convID with seq > after in
	// ascending order, or, when before > 0, with seq < before in
	// descending order; and whether more remain.
	History(ctx context.Context, appKey string, convID, after, before int64, limit int) ([]StoredMessage, bool, error)
}

// Store is everything jmsgd keeps.
type Store interface {
	Apps
	Users
	Messages
	Close() error
}
