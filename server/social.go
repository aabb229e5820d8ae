package server

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jmsg-im/jmsg"
	"github.com/jmsg-im/jmsg/server/store"
	"github.com/jmsg-im/jmsg/wire"
)

// The engine's operations on what users set up among themselves and
// towards groups — blacklists, friends, no-disturb settings, group
// shields — for app back-ends (the REST API). Like admin.go's, their
// errors are *jmsg.Error with the client protocol's codes (818xxx/819xxx
// blacklist, 805xxx friends, 831xxx–836xxx no-disturb, 842xxx/843xxx
// shields, 898003 for a malformed request), or store.ErrNotFound when the
// owner is no user of the app; the REST layer maps them to its own codes.
//
// Each operation checks everything before it writes anything, and writes
// in one store transaction: a refused request changes nothing.
//
// Effects: a blacklist refuses the listed users' single messages to its
// owner (checkBlocked, 803008); a shield keeps a group's messages from
// being pushed to the member who shielded it (unshielded); no-disturb and
// friends change no delivery (jmsg pushes no notifications), they are
// kept for the clients and the REST API. Each change is announced to the
// online sessions concerned with a plain event (sdk.md §13): 7 friends
// changed by the server API (both users), 37 own no-disturb changed, 38
// own blacklist changed, 39 own shields changed.

// Plain events of social changes (sdk.md §13 event list).
const (
	eventServerFriendUpdate = 7
	eventNoDisturbChanged   = 37
	eventBlacklistChanged   = 38
	eventShieldChanged      = 39
)

// blacklistMax is the most users one blacklist holds (limits.md §5:
// undocumented, 500 guessed); 818005 beyond.
const blacklistMax = 500

// pushEvent sends a plain event to every online session of each uid.
func (s *Server) pushEvent(ev wire.EventPush, uids ...int64) {
	f, err := wire.Push(wire.OpEvent, ev)
	if err != nil {
		return
	}
	b, err := wire.Encode(f)
	if err != nil {
		s.log.Error("encoding event", "err", err)
		return
	}
	var sessions []*conn
	for _, uid := range uids {
		sessions = s.hub.sessions(sessions[:0], uid)
		for _, c := range sessions {
			c.enqueue(b)
		}
	}
}

// checkNames checks the form of a list of usernames: at most 500, each
// well formed and not repeated (898003 otherwise).
func checkNames(names []string) error {
	if len(names) > jmsg.BatchUsernamesMax {
		return paramInvalid("usernames")
	}
	seen := make(map[string]bool, len(names))
	for _, n := range names {
		if !jmsg.ValidUsername(n) || seen[n] {
			return paramInvalid("usernames")
		}
		seen[n] = true
	}
	return nil
}

// socialUsers resolves the usernames of a social request of owner: the
// list passes checkNames, then each name is a user of appKey (missing
// otherwise) other than owner (898003).
func (s *Server) socialUsers(ctx context.Context, appKey string, owner int64, names []string, missing int) ([]store.User, error) {
	if err := checkNames(names); err != nil {
		return nil, err
	}
	users := make([]store.User, 0, len(names))
	for _, n := range names {
		u, err := s.store.UserByName(ctx, appKey, n)
		if errors.Is(err, store.ErrNotFound) {
			return nil, jmsg.E(missing)
		}
		if err != nil {
			return nil, err
		}
		if u.UID == owner {
			return nil, paramInvalid("usernames")
		}
		users = append(users, u)
	}
	return users, nil
}

func uidsOf(users []store.User) []int64 {
	out := make([]int64, len(users))
	for i, u := range users {
		out[i] = u.UID
	}
	return out
}

// storeErr turns a store refusal caused by a concurrent change (another
// process on the same database) into code; other errors pass.
func storeErr(err error, code int) error {
	if errors.Is(err, store.ErrExists) {
		return jmsg.E(code)
	}
	return err
}

// profiles returns the users of uids, in order, leaving out those that no
// longer exist or were deleted (a deleted user's name is no username).
func (s *Server) profiles(ctx context.Context, appKey string, uids []int64) ([]jmsg.UserInfo, error) {
	users, err := s.store.UsersByID(ctx, appKey, uids)
	if err != nil {
		return nil, err
	}
	out := make([]jmsg.UserInfo, 0, len(uids))
	for _, uid := range uids {
		if u, ok := users[uid]; ok && jmsg.ValidUsername(u.Username) {
			out = append(out, u)
		}
	}
	return out, nil
}

// Blacklist returns the users owner has blacklisted, in the order they
// were added.
func (s *Server) Blacklist(ctx context.Context, appKey string, owner int64) ([]jmsg.UserInfo, error) {
	uids, err := s.store.Blacklist(ctx, appKey, owner)
	if err != nil {
		return nil, err
	}
	return s.profiles(ctx, appKey, uids)
}

// AddToBlacklist adds the users names to owner's blacklist: from then on
// their single messages to owner fail with 803008. Refusals: 898003 for
// an empty or malformed list (over 500, a repeated name, owner's own),
// 818002 a user does not exist, 818006 a user is an admin account, 818004
// a user is listed already, 818005 the blacklist would pass 500 users.
// Owner's online sessions get event 38.
func (s *Server) AddToBlacklist(ctx context.Context, appKey string, owner int64, names []string) error {
	if len(names) == 0 {
		return paramInvalid("usernames")
	}
	users, err := s.socialUsers(ctx, appKey, owner, names, jmsg.ServerBlacklistMemberNotExist)
	if err != nil {
		return err
	}
	for _, u := range users {
		if u.Admin {
			return jmsg.E(jmsg.ServerBlacklistTargetNotAllowed)
		}
	}
	s.social.write.Lock()
	defer s.social.write.Unlock()
	current, err := s.store.Blacklist(ctx, appKey, owner)
	if err != nil {
		return err
	}
	uids := uidsOf(users)
	for _, uid := range uids {
		if slices.Contains(current, uid) {
			return jmsg.E(jmsg.ServerBlacklistMemberRepeated)
		}
	}
	if len(current)+len(uids) > blacklistMax {
		return jmsg.E(jmsg.ServerBlacklistCountExceedLimit)
	}
	if err := s.store.AddBlacklist(ctx, appKey, owner, uids); err != nil {
		return storeErr(err, jmsg.ServerBlacklistMemberRepeated)
	}
	s.social.update(func() { s.social.edit(s.social.black, socialKey{appKey, owner}, uids, nil) })
	s.pushEvent(wire.EventPush{EventType: eventBlacklistChanged, CTimeMs: time.Now().UnixMilli()}, owner)
	return nil
}

// RemoveFromBlacklist removes the users names from owner's blacklist.
// Refusals: 898003 for an empty or malformed list, 819002 a user does not
// exist, 819004 a user is not on the blacklist. Owner's online sessions
// get event 38.
func (s *Server) RemoveFromBlacklist(ctx context.Context, appKey string, owner int64, names []string) error {
	if len(names) == 0 {
		return paramInvalid("usernames")
	}
	users, err := s.socialUsers(ctx, appKey, owner, names, jmsg.ServerBlacklistDelMemberNotExist)
	if err != nil {
		return err
	}
	s.social.write.Lock()
	defer s.social.write.Unlock()
	current, err := s.store.Blacklist(ctx, appKey, owner)
	if err != nil {
		return err
	}
	uids := uidsOf(users)
	for _, uid := range uids {
		if !slices.Contains(current, uid) {
			return jmsg.E(jmsg.ServerTargetNotInBlacklist)
		}
	}
	if err := s.store.RemoveBlacklist(ctx, appKey, owner, uids); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return jmsg.E(jmsg.ServerTargetNotInBlacklist)
		}
		return err
	}
	s.social.update(func() { s.social.edit(s.social.black, socialKey{appKey, owner}, nil, uids) })
	s.pushEvent(wire.EventPush{EventType: eventBlacklistChanged, CTimeMs: time.Now().UnixMilli()}, owner)
	return nil
}

// Friend is an entry of a friend list: the friend's profile and the list
// owner's notes on them.
type Friend struct {
	jmsg.UserInfo
	NoteName string
	Others   string
}

// Friends returns owner's friends in the order the friendships began.
func (s *Server) Friends(ctx context.Context, appKey string, owner int64) ([]Friend, error) {
	fs, err := s.store.Friends(ctx, appKey, owner)
	if err != nil {
		return nil, err
	}
	uids := make([]int64, len(fs))
	for i, f := range fs {
		uids[i] = f.UID
	}
	users, err := s.profiles(ctx, appKey, uids)
	if err != nil {
		return nil, err
	}
	byUID := make(map[int64]store.Friend, len(fs))
	for _, f := range fs {
		byUID[f.UID] = f
	}
	out := make([]Friend, len(users))
	for i, u := range users {
		f := byUID[u.UID]
		out[i] = Friend{UserInfo: u, NoteName: f.NoteName, Others: f.Others}
	}
	return out, nil
}

// friendsChanged tells owner and users, on their online sessions, that
// their friend lists were changed: event 7 once each per call, from owner
// for the others. (One event for owner, not one per friend: a call of 500
// friends must not fill owner's send queue.)
func (s *Server) friendsChanged(owner int64, ownerName string, users []store.User) {
	now := time.Now().UnixMilli()
	s.pushEvent(wire.EventPush{EventType: eventServerFriendUpdate, CTimeMs: now}, owner)
	if len(users) > 0 {
		s.pushEvent(wire.EventPush{EventType: eventServerFriendUpdate, CTimeMs: now, From: ownerName}, uidsOf(users)...)
	}
}

// ownerName returns the username of owner for events.
func (s *Server) ownerName(ctx context.Context, appKey string, owner int64) (string, error) {
	users, err := s.store.UsersByID(ctx, appKey, []int64{owner})
	if err != nil {
		return "", err
	}
	u, ok := users[owner]
	if !ok {
		return "", store.ErrNotFound
	}
	return u.Username, nil
}

// AddFriends makes owner and each of the users names friends of each
// other, without the invitation clients go through. Refusals: 898003 for
// an empty or malformed list, 805001 a user does not exist, 805002 a user
// is a friend already. Both sides' online sessions get event 7.
func (s *Server) AddFriends(ctx context.Context, appKey string, owner int64, names []string) error {
	return s.changeFriends(ctx, appKey, owner, names, true)
}

// RemoveFriends ends owner's friendships with the users names, on both
// sides. Refusals: 898003 for an empty or malformed list, 805001 a user
// does not exist, 805003 a user is not a friend. Both sides' online
// sessions get event 7.
func (s *Server) RemoveFriends(ctx context.Context, appKey string, owner int64, names []string) error {
	return s.changeFriends(ctx, appKey, owner, names, false)
}

func (s *Server) changeFriends(ctx context.Context, appKey string, owner int64, names []string, add bool) error {
	if len(names) == 0 {
		return paramInvalid("usernames")
	}
	users, err := s.socialUsers(ctx, appKey, owner, names, jmsg.ServerFriendTargetUserNotExist)
	if err != nil {
		return err
	}
	name, err := s.ownerName(ctx, appKey, owner)
	if err != nil {
		return err
	}
	s.social.write.Lock()
	defer s.social.write.Unlock()
	current, err := s.store.Friends(ctx, appKey, owner)
	if err != nil {
		return err
	}
	uids := uidsOf(users)
	for _, uid := range uids {
		isFriend := slices.ContainsFunc(current, func(f store.Friend) bool { return f.UID == uid })
		switch {
		case add && isFriend:
			return jmsg.E(jmsg.ServerAlreadyFriend)
		case !add && !isFriend:
			return jmsg.E(jmsg.ServerNotFriend)
		}
	}
	if add {
		err = storeErr(s.store.AddFriends(ctx, appKey, owner, uids), jmsg.ServerAlreadyFriend)
	} else if err = s.store.RemoveFriends(ctx, appKey, owner, uids); errors.Is(err, store.ErrNotFound) {
		err = jmsg.E(jmsg.ServerNotFriend)
	}
	if err != nil {
		return err
	}
	s.friendsChanged(owner, name, users)
	return nil
}

// FriendNote sets owner's notes on one friend; a nil field is kept.
type FriendNote struct {
	Username string
	NoteName *string // 0–64 bytes, no line breaks
	Others   *string // 0–250 bytes
}

// Limits of friend notes (limits.md §1).
const (
	friendNoteNameMax = 64
	friendOthersMax   = 250
)

// SetFriendNotes sets owner's notes on friends (the friends' notes on
// owner stay). Refusals: 898003 for an empty or malformed list (over 500,
// a repeated or malformed name, owner's own), 805004 a note breaks its
// rule, 805001 a user does not exist, 805003 a user is not a friend.
// Owner's online sessions get event 7.
func (s *Server) SetFriendNotes(ctx context.Context, appKey string, owner int64, notes []FriendNote) error {
	if len(notes) == 0 {
		return paramInvalid("usernames")
	}
	names := make([]string, len(notes))
	for i, n := range notes {
		names[i] = n.Username
		if n.NoteName != nil && !validNote(*n.NoteName, friendNoteNameMax, true) ||
			n.Others != nil && !validNote(*n.Others, friendOthersMax, false) {
			return jmsg.E(jmsg.ServerInvalidFriendMemo)
		}
	}
	users, err := s.socialUsers(ctx, appKey, owner, names, jmsg.ServerFriendTargetUserNotExist)
	if err != nil {
		return err
	}
	s.social.write.Lock()
	defer s.social.write.Unlock()
	current, err := s.store.Friends(ctx, appKey, owner)
	if err != nil {
		return err
	}
	changes := make([]store.FriendNote, len(notes))
	for i, u := range users {
		if !slices.ContainsFunc(current, func(f store.Friend) bool { return f.UID == u.UID }) {
			return jmsg.E(jmsg.ServerNotFriend)
		}
		changes[i] = store.FriendNote{UID: u.UID, NoteName: notes[i].NoteName, Others: notes[i].Others}
	}
	if err := s.store.SetFriendNotes(ctx, appKey, owner, changes); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return jmsg.E(jmsg.ServerNotFriend)
		}
		return err
	}
	s.friendsChanged(owner, "", nil)
	return nil
}

// validNote reports whether a note is valid UTF-8 of at most max bytes,
// without line breaks when oneLine.
func validNote(s string, max int, oneLine bool) bool {
	return len(s) <= max && utf8.ValidString(s) && !(oneLine && strings.ContainsAny(s, "\r\n"))
}

// NoDisturbChange is a change of a user's no-disturb settings; every part
// is optional (Global nil keeps the switch).
type NoDisturbChange struct {
	AddUsers, RemoveUsers   []string
	AddGroups, RemoveGroups []int64
	Global                  *bool
}

// ChangeNoDisturb changes uid's no-disturb settings, all or nothing.
// No-disturb changes no delivery (jmsg pushes no notifications); it is
// kept for the clients. Refusals, checked in this order: 898003 a
// malformed request (a list over 500, a repeated or malformed name or
// uid's own, a name or group both added and removed), 803003 a user does
// not exist, 831001 a user to add is set already, 832001 a user to remove
// is not set, 833001 a group to add does not exist (or was dissolved),
// 833002 uid is not a member of it, 833003 it is set already, 834001 a
// group to remove is not set, 835001 global on while on, 836001 global
// off while off. Unless nothing changed, uid's online sessions get event
// 37.
func (s *Server) ChangeNoDisturb(ctx context.Context, appKey string, uid int64, ch NoDisturbChange) error {
	if checkNames(ch.AddUsers) != nil || checkNames(ch.RemoveUsers) != nil || overlap(ch.AddUsers, ch.RemoveUsers) ||
		!distinctGIDs(ch.AddGroups, ch.RemoveGroups) {
		return paramInvalid("no-disturb lists")
	}
	addUsers, err := s.socialUsers(ctx, appKey, uid, ch.AddUsers, jmsg.TcpTargetUserNotExist)
	if err != nil {
		return err
	}
	removeUsers, err := s.socialUsers(ctx, appKey, uid, ch.RemoveUsers, jmsg.TcpTargetUserNotExist)
	if err != nil {
		return err
	}
	s.social.write.Lock()
	defer s.social.write.Unlock()
	cur, err := s.store.NoDisturb(ctx, appKey, uid)
	if err != nil {
		return err
	}
	for _, u := range addUsers {
		if slices.Contains(cur.Users, u.UID) {
			return jmsg.E(jmsg.ServerUserNoDisturbAlreadySet)
		}
	}
	for _, u := range removeUsers {
		if !slices.Contains(cur.Users, u.UID) {
			return jmsg.E(jmsg.ServerUserNoDisturbNeverSet)
		}
	}
	if len(ch.AddGroups) > 0 {
		member, err := s.memberGroups(ctx, appKey, uid)
		if err != nil {
			return err
		}
		for _, gid := range ch.AddGroups {
			switch err := s.groupFor(ctx, appKey, gid, member); {
			case errors.Is(err, errNoGroup):
				return jmsg.E(jmsg.ServerNoDisturbGroupNotExist)
			case errors.Is(err, errNotMember):
				return jmsg.E(jmsg.ServerNoDisturbUserNotInGroup)
			case err != nil:
				return err
			}
			if slices.Contains(cur.Groups, gid) {
				return jmsg.E(jmsg.ServerGroupNoDisturbAlreadySet)
			}
		}
	}
	for _, gid := range ch.RemoveGroups {
		if !slices.Contains(cur.Groups, gid) {
			return jmsg.E(jmsg.ServerGroupNoDisturbNeverSet)
		}
	}
	if ch.Global != nil && *ch.Global == cur.Global {
		if cur.Global {
			return jmsg.E(jmsg.ServerGlobalNoDisturbAlreadySet)
		}
		return jmsg.E(jmsg.ServerGlobalNoDisturbNeverSet)
	}
	sc := store.NoDisturbChange{AddUsers: uidsOf(addUsers), RemoveUsers: uidsOf(removeUsers),
		AddGroups: ch.AddGroups, RemoveGroups: ch.RemoveGroups, Global: ch.Global}
	if len(sc.AddUsers)+len(sc.RemoveUsers)+len(sc.AddGroups)+len(sc.RemoveGroups) == 0 && sc.Global == nil {
		return nil
	}
	if err := s.store.ChangeNoDisturb(ctx, appKey, uid, sc); err != nil {
		if errors.Is(err, store.ErrExists) || errors.Is(err, store.ErrNotFound) {
			// Changed meanwhile by another process: what was checked no longer holds.
			return jmsg.E(jmsg.ServerUserNoDisturbAlreadySet)
		}
		return err
	}
	s.pushEvent(wire.EventPush{EventType: eventNoDisturbChanged, CTimeMs: time.Now().UnixMilli()}, uid)
	return nil
}

// overlap reports whether a and b share a name.
func overlap(a, b []string) bool {
	for _, n := range a {
		if slices.Contains(b, n) {
			return true
		}
	}
	return false
}

// distinctGIDs reports whether add and remove together name each group
// once and hold at most 500 gids each.
func distinctGIDs(add, remove []int64) bool {
	if len(add) > jmsg.BatchUsernamesMax || len(remove) > jmsg.BatchUsernamesMax {
		return false
	}
	all := slices.Concat(add, remove)
	slices.Sort(all)
	return len(slices.Compact(all)) == len(add)+len(remove)
}

var (
	errNoGroup   = errors.New("no such group")
	errNotMember = errors.New("not a member")
)

// memberGroups returns the gids of the live groups uid belongs to.
func (s *Server) memberGroups(ctx context.Context, appKey string, uid int64) (map[int64]bool, error) {
	gs, err := s.store.UserGroups(ctx, appKey, uid)
	if err != nil {
		return nil, err
	}
	out := make(map[int64]bool, len(gs))
	for _, g := range gs {
		if !g.Dissolved {
			out[g.GID] = true
		}
	}
	return out, nil
}

// groupFor checks that gid is a live group of appKey (errNoGroup) of
// which the user whose groups are member is a member (errNotMember).
func (s *Server) groupFor(ctx context.Context, appKey string, gid int64, member map[int64]bool) error {
	if member[gid] {
		return nil
	}
	if gid <= 0 {
		return errNoGroup
	}
	g, err := s.store.Group(ctx, appKey, gid)
	if errors.Is(err, store.ErrNotFound) || err == nil && g.Dissolved {
		return errNoGroup
	}
	if err != nil {
		return err
	}
	return errNotMember
}

// ChangeGroupShields shields the groups add and unshields the groups
// remove for uid, all or nothing: a shielded group's messages are no
// longer pushed to uid (see unshielded), its events still are. Refusals,
// in this order: 898003 a list over 500 or a group named twice, 842001 a
// group to add does not exist (or was dissolved), 842002 uid is not a
// member of it, 842003 it is shielded already, 843001 a group to remove
// is not shielded. Unless nothing changed, uid's online sessions get
// event 39.
func (s *Server) ChangeGroupShields(ctx context.Context, appKey string, uid int64, add, remove []int64) error {
	if !distinctGIDs(add, remove) {
		return paramInvalid("groups")
	}
	if len(add)+len(remove) == 0 {
		return nil
	}
	s.social.write.Lock()
	defer s.social.write.Unlock()
	cur, err := s.store.ShieldedGroups(ctx, appKey, uid)
	if err != nil {
		return err
	}
	if len(add) > 0 {
		member, err := s.memberGroups(ctx, appKey, uid)
		if err != nil {
			return err
		}
		for _, gid := range add {
			switch err := s.groupFor(ctx, appKey, gid, member); {
			case errors.Is(err, errNoGroup):
				return jmsg.E(jmsg.ServerShieldGroupNotExist)
			case errors.Is(err, errNotMember):
				return jmsg.E(jmsg.ServerShieldUserNotInGroup)
			case err != nil:
				return err
			}
			if slices.Contains(cur, gid) {
				return jmsg.E(jmsg.ServerGroupShieldAlreadySet)
			}
		}
	}
	for _, gid := range remove {
		if !slices.Contains(cur, gid) {
			return jmsg.E(jmsg.ServerGroupShieldNeverSet)
		}
	}
	if err := s.store.ChangeShields(ctx, appKey, uid, add, remove); err != nil {
		switch {
		case errors.Is(err, store.ErrExists):
			return jmsg.E(jmsg.ServerGroupShieldAlreadySet)
		case errors.Is(err, store.ErrNotFound):
			return jmsg.E(jmsg.ServerGroupShieldNeverSet)
		}
		return err
	}
	s.social.update(func() {
		for _, gid := range add {
			s.social.edit(s.social.shields, socialKey{appKey, gid}, []int64{uid}, nil)
		}
		for _, gid := range remove {
			s.social.edit(s.social.shields, socialKey{appKey, gid}, nil, []int64{uid})
		}
	})
	s.pushEvent(wire.EventPush{EventType: eventShieldChanged, CTimeMs: time.Now().UnixMilli()}, uid)
	return nil
}

// dropUserSocial removes a deleted user from every blacklist, friend list,
// no-disturb setting and group shield, its own included, and forgets the
// cached sets (which of them named the user is not known). User deletion
// should call it once the user is deleted.
func (s *Server) dropUserSocial(ctx context.Context, appKey string, uid int64) error {
	s.social.write.Lock()
	defer s.social.write.Unlock()
	if err := s.store.DeleteUserSocial(ctx, appKey, uid); err != nil {
		return err
	}
	s.social.update(func() {
		s.social.black, s.social.shields = nil, nil
	})
	return nil
}
