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
	Admin        bool // an admin account (REST); may send as admin
	Disabled     bool // may not log in
}

// Users stores users of apps.
type Users interface {
	// CreateUser registers u.Username in appKey; ErrExists if taken. It
	// returns the stored profile with UID, CTime and MTime set.
	CreateUser(ctx context.Context, appKey string, u User) (jmsg.UserInfo, error)
	// UserByName returns a user; ErrNotFound if none.
	UserByName(ctx context.Context, appKey, username string) (User, error)
	// ListUsers returns the users (admins when admins is set, else the
	// others) of appKey in registration order, count of them from offset
	// start, and how many there are in all.
	ListUsers(ctx context.Context, appKey string, admins bool, start, count int) ([]User, int, error)
	// DeleteUser removes uid as a user: its username is freed (the row is
	// kept, renamed, so that messages and memberships keep their sender),
	// it cannot log in, and its tokens and device records go. ErrNotFound
	// if no such user.
	DeleteUser(ctx context.Context, appKey string, uid int64) error
	// SetDisabled disables (or enables) uid's logins; ErrNotFound if none.
	SetDisabled(ctx context.Context, appKey string, uid int64, disabled bool) error
	// UsersByID returns the users with the given uids that exist, keyed by uid.
	UsersByID(ctx context.Context, appKey string, uids []int64) (map[int64]jmsg.UserInfo, error)
	// UpdateProfile replaces the profile fields of uid (not the username)
	// and sets MTime; ErrNotFound if no such user.
	UpdateProfile(ctx context.Context, appKey string, uid int64, info jmsg.UserInfo) (jmsg.UserInfo, error)
	// SetPassword replaces the password hash of uid and, in the same
	// transaction, revokes every login token of uid; ErrNotFound if none.
	SetPassword(ctx context.Context, appKey string, uid int64, hash []byte) error
	// TouchDevices records logins in one transaction: each sets the
	// device record of (UID, Platform) to MTimeMs. A login whose UID is not
	// a user of appKey is skipped.
	TouchDevices(ctx context.Context, appKey string, logins []DeviceLogin) error
	// Devices returns the device records of uid.
	Devices(ctx context.Context, appKey string, uid int64) ([]Device, error)
	// PutToken stores a login token (its hash) for uid, valid until
	// expiresMs.
	PutToken(ctx context.Context, appKey string, uid int64, tokenHash []byte, expiresMs int64) error
	// TokenUser returns the uid of an unexpired token at nowMs; ErrNotFound
	// if there is none.
	TokenUser(ctx context.Context, appKey string, tokenHash []byte, nowMs int64) (int64, error)
	// HasTokens reports whether uid holds a login token unexpired at nowMs.
	HasTokens(ctx context.Context, appKey string, uid int64, nowMs int64) (bool, error)
	// DeleteTokens revokes uid's token with tokenHash, or every token of uid
	// when tokenHash is nil.
	DeleteTokens(ctx context.Context, appKey string, uid int64, tokenHash []byte) error
}

// Device is the last login of a user on one platform.
type Device struct {
	Platform string
	MTimeMs  int64
}

// DeviceLogin is a login of UID on Platform at MTimeMs.
type DeviceLogin struct {
	UID      int64
	Platform string
	MTimeMs  int64
}

// NewMessage is a message to append. The sender and recipient are resolved
// uids of the same app; Content is the checked protocol document.
type NewMessage struct {
	AppKey      string
	SenderUID   int64
	TargetUID   int64 // single conversation peer
	ConvID      int64 // group conversation; 0 for a single conversation
	ClientMsgID string
	CTimeMs     int64
	Content     []byte   // JSON protocol document
	MediaIDs    []string // media the content carries (checked to exist); recorded for download permission
}

// Appended is the outcome of one NewMessage.
type Appended struct {
	MsgID     int64
	ConvID    int64
	Seq       int64
	CTimeMs   int64
	Content   []byte // as stored (the original on a duplicate)
	Duplicate bool   // the client id was already used: the original is returned
}

// ConvChange is a conversation of a user that changed after some cursor.
type ConvChange struct {
	ConvID  int64
	Type    jmsg.ConversationType
	PeerUID int64 // single conversations: the other member
	GID     int64 // group conversations: the group
	JoinSeq int64 // the user reads only messages after this one
	ReadSeq int64 // the user has read up to here (on any device)
	// DeliveredSeq is the user's delivered position: every message up to it
	// reached one of the user's devices.
	DeliveredSeq int64
	FirstSeq     int64 // the oldest message still kept (retention); LastSeq+1 when none is
	LastSeq      int64
	LSN          int64 // the change number of its newest change
}

// Cursor is a position in the order of changes: every conversation whose
// newest change is before it has been seen. ConvID breaks ties between
// conversations changed by the same LSN; 0 means all of LSN.
type Cursor struct {
	LSN    int64
	ConvID int64
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

// Delivery is a member's position in a conversation: every message up to
// Seq has reached one of the member's devices.
type Delivery struct {
	UID    int64
	ConvID int64
	Seq    int64
}

// Messages stores conversations, messages and their change numbers.
//
// Every committed change (today: a new message) gets a change number, the
// LSN, larger than every LSN committed before it; a conversation remembers
// the LSN of its newest change. A client that has stored everything up to
// a cursor returned by Changes asks for the conversations changed after
// it, so catching up costs one page per changed conversation rather than
// one read per message.
type Messages interface {
	// Append commits msgs in one transaction, in order: each message gets
	// the next sequence number of its conversation (created on first use),
	// and the transaction gets the next LSN. A message whose (sender,
	// non-empty client id) exists already is not stored again: its original
	// is returned with Duplicate set. Either all of msgs are committed
	// durably or none is.
	Append(ctx context.Context, msgs []NewMessage) ([]Appended, error)
	// Changes returns up to limit conversations of uid changed after
	// cursor since — a new message, or a change of uid's own position in it
	// (read) — in (LSN, conversation id) order, whether more remain, and
	// the cursor to ask from next: the last conversation returned when more
	// remain, else the newest committed LSN.
	Changes(ctx context.Context, appKey string, uid int64, since Cursor, limit int) (changes []ConvChange, next Cursor, more bool, err error)
	// MemberWindow returns the sequence numbers of convID that uid may
	// read: those after join and, when left > 0, up to left. ok is false
	// if uid never belonged to the conversation.
	MemberWindow(ctx context.Context, appKey string, convID, uid int64) (join, left int64, ok bool, err error)
	// History returns up to limit messages of convID with seq > after in
	// ascending order, or, when before > 0, with seq < before in
	// descending order; and whether more remain.
	History(ctx context.Context, appKey string, convID, after, before int64, limit int) ([]StoredMessage, bool, error)
	// SetDelivered raises members' delivered positions (never lowers them,
	// never past the conversation's newest message). Positions of
	// conversations a uid does not belong to are ignored.
	SetDelivered(ctx context.Context, appKey string, ds []Delivery) error
	// Delivered returns uid's delivered position in convID (0 if none).
	Delivered(ctx context.Context, appKey string, convID, uid int64) (int64, error)
	// SetRead raises uid's read position in convID (never lowers it, never
	// past the newest message uid may read) and, when it moved, gives the
	// change a new LSN so that uid's other devices see it in Changes. It
	// returns the position after the call and whether it moved; ErrNotFound
	// if uid is no member.
	SetRead(ctx context.Context, appKey string, convID, uid, seq int64) (pos int64, moved bool, err error)
	// Purge deletes messages committed before beforeMs (retention) and
	// raises the purge horizon to an LSN at least as new as every message
	// it deleted (from the marks MarkLSN left). It returns how many it
	// deleted.
	Purge(ctx context.Context, beforeMs int64) (int64, error)
	// FirstSeq returns the oldest sequence number of convID still kept: 0
	// for a conversation that never had a message, last_seq+1 when
	// retention removed all of them.
	FirstSeq(ctx context.Context, appKey string, convID int64) (int64, error)
	// MarkLSN records the newest LSN with the time nowMs, so that Purge can
	// tell which LSNs were committed before a time. jmsgd marks at every
	// purge run.
	MarkLSN(ctx context.Context, nowMs int64) error
	// PurgedLSN returns the purge horizon: a client whose cursor is below
	// it may have missed messages that no longer exist.
	PurgedLSN(ctx context.Context) (int64, error)
}

// Group is a stored group.
type Group struct {
	GID        int64
	AppKey     string
	ConvID     int64
	Name       string
	Desc       string
	Avatar     string
	Type       int // 1 private, 2 public
	MaxMembers int
	OwnerUID   int64
	CTimeMs    int64
	MTimeMs    int64
	Dissolved  bool
}

// GroupMember is a member of a group.
type GroupMember struct {
	UID            int64
	Role           int // 0 ordinary, 1 owner, 2 admin
	JoinTimeMs     int64
	SilenceStartMs int64
	SilenceEndMs   int64
}

// GroupChange is one change of a group, applied with its event message in
// one transaction.
type GroupChange struct {
	AppKey string
	GID    int64
	Info   *Group        // new name, desc, avatar, type and owner, if set
	Add    []GroupMember // members joining; they may read from the event on
	Remove []int64       // members leaving; they may read up to the event
	Update []GroupMember // new role and silence of existing members
	// Dissolve marks the group dissolved; every member leaves.
	Dissolve bool
	// Application is a pending join application this change resolves
	// (status 1 approved, 2 rejected); 0 for none.
	Application       int64
	ApplicationStatus int
	// Event is the event message appended to the group's conversation
	// (its ConvID is filled in). A change without an event (a rejected
	// application) sets Event.Content to nil.
	Event NewMessage
}

// Application is a request to join a public group.
type Application struct {
	EventID int64
	GID     int64
	UID     int64
	Reason  string
	Status  int // 0 pending, 1 approved, 2 rejected
	CTimeMs int64
}

// Groups stores groups, their members and join applications.
type Groups interface {
	// CreateGroup stores g (GID, ConvID, times assigned) with its members
	// and appends the event message that event builds for the new group to
	// its conversation, in one transaction.
	CreateGroup(ctx context.Context, g Group, members []GroupMember, event func(Group) NewMessage) (Group, Appended, error)
	// Group returns a group, dissolved or not; ErrNotFound if none.
	Group(ctx context.Context, appKey string, gid int64) (Group, error)
	// GroupMembers returns the current members, owner first, then by join
	// time.
	GroupMembers(ctx context.Context, appKey string, gid int64) ([]GroupMember, error)
	// UserGroups returns the groups uid is a member of, by gid.
	UserGroups(ctx context.Context, appKey string, uid int64) ([]Group, error)
	// GroupCounts returns how many groups each uid belongs to and owns.
	GroupCounts(ctx context.Context, appKey string, uids []int64) (member, owned map[int64]int, err error)
	// ListGroups returns count groups of appKey that are not dissolved,
	// from start (by gid), and how many there are.
	ListGroups(ctx context.Context, appKey string, start, count int) ([]Group, int, error)
	// PublicGroups returns count public groups from start (by gid) and the
	// number of public groups.
	PublicGroups(ctx context.Context, appKey string, start, count int) ([]Group, int, error)
	// ApplyGroupChange applies ch and appends its event, in one transaction.
	ApplyGroupChange(ctx context.Context, ch GroupChange) (Appended, error)
	// CreateApplication records a pending application of uid to gid;
	// ErrExists if one is pending already.
	CreateApplication(ctx context.Context, appKey string, a Application) (Application, error)
	// ApplicationByID returns an application; ErrNotFound if none.
	ApplicationByID(ctx context.Context, appKey string, eventID int64) (Application, error)
}

// MediaRecord is an uploaded media object: what the upload answered
// (jmsg.MediaObject), where its bytes are and who uploaded it.
type MediaRecord struct {
	jmsg.MediaObject
	Kind        jmsg.MediaKind
	UploaderUID int64
	ContentType string // sniffed
	BlobKey     string // key of the bytes in the media store
	ThumbKey    string // key of the thumbnail, "" when there is none
	ThumbCRC32  uint32
	ThumbSize   int64
	CTimeMs     int64
}

// Media stores media records (the bytes are in a media.Store) and server
// secrets.
type Media interface {
	// PutMedia records m; ErrExists if its media id is taken.
	PutMedia(ctx context.Context, appKey string, m MediaRecord) error
	// Media returns the record of mediaID; ErrNotFound if none.
	Media(ctx context.Context, appKey, mediaID string) (MediaRecord, error)
	// MediaByHash returns a record of appKey whose bytes have SHA-256 hash
	// (lowercase hex); ErrNotFound if none.
	MediaByHash(ctx context.Context, appKey, hash string) (MediaRecord, error)
	// CanReadMedia reports whether uid may download mediaID: uid uploaded
	// it, or a conversation uid belongs to holds a message carrying it
	// within uid's window (after join_seq, up to left_seq when left), or
	// it is the avatar of a user or a group of appKey.
	CanReadMedia(ctx context.Context, appKey, mediaID string, uid int64) (bool, error)
	// Secret returns the server secret called name, creating it from gen
	// on first use. Every server sharing the store gets the same bytes.
	Secret(ctx context.Context, name string, gen func() []byte) ([]byte, error)
}

// Store is everything jmsgd keeps.
type Store interface {
	Apps
	Users
	Messages
	Groups
	Media
	Moderation
	Social
	Close() error
}
