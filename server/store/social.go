package store

import "context"

// Friend is one entry of a user's friend list: the friend and the owner's
// notes on them. Notes belong to one direction: each side of a friendship
// keeps its own.
type Friend struct {
	UID      int64
	NoteName string // 0–64 bytes, no line breaks (checked by the caller)
	Others   string // 0–250 bytes of free text (checked by the caller)
	CTimeMs  int64  // when the friendship began
}

// FriendNote sets the owner's notes on one friend. A nil field keeps the
// stored value.
type FriendNote struct {
	UID      int64
	NoteName *string
	Others   *string
}

// NoDisturb is a user's no-disturb settings: users and groups whose
// messages raise no alert, and the global switch.
type NoDisturb struct {
	Users  []int64 // ascending
	Groups []int64 // ascending
	Global bool
}

// NoDisturbChange is one change of a user's no-disturb settings. Global
// nil keeps the switch as it is.
type NoDisturbChange struct {
	AddUsers, RemoveUsers   []int64
	AddGroups, RemoveGroups []int64
	Global                  *bool
}

// Social stores the relations users set up among themselves and towards
// groups: blacklists, friends, no-disturb settings and group shields.
// Every write is one transaction and all-or-nothing: when one entry of a
// call conflicts (ErrExists, ErrNotFound), nothing of the call is written.
// Every write also returns ErrNotFound when the owner, a listed user or a
// listed group is not one of appKey (a dissolved group still is). Callers
// check that entries are not the owner and not repeated in one call. Rows
// of other apps are never read or changed; reads of an owner of another
// app return nothing.
type Social interface {
	// Blacklist returns the uids owner has blacklisted, in the order they
	// were added.
	Blacklist(ctx context.Context, appKey string, owner int64) ([]int64, error)
	// AddBlacklist adds uids to owner's blacklist; ErrExists if one of
	// them is on it already.
	AddBlacklist(ctx context.Context, appKey string, owner int64, uids []int64) error
	// RemoveBlacklist removes uids from owner's blacklist; ErrNotFound if
	// one of them is not on it.
	RemoveBlacklist(ctx context.Context, appKey string, owner int64, uids []int64) error

	// Friends returns owner's friends with owner's notes on them, in the
	// order the friendships began.
	Friends(ctx context.Context, appKey string, owner int64) ([]Friend, error)
	// AddFriends makes owner and each of uids friends of each other: both
	// directions, with empty notes. ErrExists if owner is a friend of one
	// of them already, in either direction.
	AddFriends(ctx context.Context, appKey string, owner int64, uids []int64) error
	// RemoveFriends ends the friendships of owner with uids, both
	// directions; ErrNotFound if one of them is not owner's friend.
	RemoveFriends(ctx context.Context, appKey string, owner int64, uids []int64) error
	// SetFriendNotes sets owner's notes on friends (the friends' notes on
	// owner stay); ErrNotFound if one of them is not owner's friend.
	SetFriendNotes(ctx context.Context, appKey string, owner int64, notes []FriendNote) error

	// NoDisturb returns uid's no-disturb settings (empty for a user who
	// never set any).
	NoDisturb(ctx context.Context, appKey string, uid int64) (NoDisturb, error)
	// ChangeNoDisturb applies ch to uid's settings: ErrExists if a user or
	// group to add is set already, ErrNotFound if one to remove is not.
	// The global switch is set to *ch.Global whatever it was.
	ChangeNoDisturb(ctx context.Context, appKey string, uid int64, ch NoDisturbChange) error

	// ShieldedGroups returns the gids whose messages uid has shielded,
	// ascending.
	ShieldedGroups(ctx context.Context, appKey string, uid int64) ([]int64, error)
	// GroupShielders returns the uids that have shielded gid's messages,
	// ascending.
	GroupShielders(ctx context.Context, appKey string, gid int64) ([]int64, error)
	// ChangeShields shields add and unshields remove for uid: ErrExists if
	// a group to add is shielded already, ErrNotFound if one to remove is
	// not.
	ChangeShields(ctx context.Context, appKey string, uid int64, add, remove []int64) error

	// DeleteUserSocial removes every row that names uid, as owner or as
	// entry: its blacklist and its places on others' blacklists, its
	// friendships both ways, its no-disturb settings and those naming it,
	// and its group shields. For deleted users.
	DeleteUserSocial(ctx context.Context, appKey string, uid int64) error
}
