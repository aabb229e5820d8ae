package server

import (
	"context"
	"sync"
)

// The engine's in-memory copy of the social state the hot paths need:
// blacklists for single sends (checkBlocked) and group shields for
// routing group messages (route). The operations that change them are in
// social.go.

// socialCacheMax bounds each map of socialCache; a full map starts over
// (entries are loaded again on use).
const socialCacheMax = 1 << 17

// idSet is a set of uids. A set in socialCache is never modified once
// stored there: readers use it without a lock, and a change stores a new
// one. A nil set is empty.
type idSet map[int64]struct{}

// socialKey names a cached set: an owner's blacklist or a group's
// shielders, in one app.
type socialKey struct {
	app string
	id  int64
}

// socialCache holds what the hot paths need of social state, so that
// neither a single send nor a group message's routing reads the store:
// the blacklist of each user who was sent to, and the members who
// shielded each group that had a message. Sets are loaded on first use
// and kept up to date by the engine's own social writes, which are the
// only writers of that state.
//
// Cluster caveat: the copies are per process. With several jmsgd
// processes on one database, a change made through one of them reaches
// the others' copies only when those start over (restart or a full map);
// until then the others apply the old blacklist and shields. A shared
// deployment needs the change broadcast on the node bus, or these sets
// read through to the store.
//
// Lock order: write before mu. The zero value is ready to use.
type socialCache struct {
	// write is held by each social write across its checks, its store
	// transaction and its cache update, so that checks see every earlier
	// write and the cache changes in commit order.
	write sync.Mutex

	mu sync.RWMutex // guards the fields below
	// epoch counts cache updates. A load that began before an update may
	// have read the store before it, so it is used once but not stored.
	epoch   uint64
	black   map[socialKey]idSet // (app, owner uid) → the uids owner blacklisted
	shields map[socialKey]idSet // (app, gid) → the uids that shielded gid
}

func newIDSet(ids []int64) idSet {
	if len(ids) == 0 {
		return nil
	}
	s := make(idSet, len(ids))
	for _, id := range ids {
		s[id] = struct{}{}
	}
	return s
}

// get returns the set of k in *m, loading and storing it if it is not
// cached.
func (sc *socialCache) get(m *map[socialKey]idSet, k socialKey, load func() ([]int64, error)) (idSet, error) {
	sc.mu.RLock()
	set, ok := (*m)[k]
	epoch := sc.epoch
	sc.mu.RUnlock()
	if ok {
		return set, nil
	}
	ids, err := load()
	if err != nil {
		return nil, err
	}
	set = newIDSet(ids)
	sc.mu.Lock()
	defer sc.mu.Unlock()
	if sc.epoch == epoch {
		if *m == nil || len(*m) >= socialCacheMax {
			*m = make(map[socialKey]idSet)
		}
		(*m)[k] = set
	}
	return set, nil
}

// edit replaces the cached set of k in m, if there is one, by a copy
// with add added and remove removed. Called with mu held.
func (sc *socialCache) edit(m map[socialKey]idSet, k socialKey, add, remove []int64) {
	old, ok := m[k]
	if !ok {
		return
	}
	set := make(idSet, len(old)+len(add))
	for id := range old {
		set[id] = struct{}{}
	}
	for _, id := range add {
		set[id] = struct{}{}
	}
	for _, id := range remove {
		delete(set, id)
	}
	if len(set) == 0 {
		set = nil
	}
	m[k] = set
}

// update runs fn with mu held and starts a new epoch.
func (sc *socialCache) update(fn func()) {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	sc.epoch++
	fn()
}

// blacklisted reports whether owner has blacklisted uid; the first call
// for an owner reads its blacklist from the store.
func (s *Server) blacklisted(ctx context.Context, appKey string, owner, uid int64) (bool, error) {
	set, err := s.social.get(&s.social.black, socialKey{appKey, owner}, func() ([]int64, error) {
		return s.store.Blacklist(ctx, appKey, owner)
	})
	if err != nil {
		return false, err
	}
	_, in := set[uid]
	return in, nil
}

// unshielded returns the recipients of a message of sender to gid without
// the members who shielded gid (the sender keeps their own message). It
// returns recipients itself when nobody shielded gid. Routing calls it on
// the committer goroutine; the first call for a group reads its shields
// from the store. If that read fails, the message goes to everyone.
//
// Only the live push is withheld: the message is stored in the group's
// conversation like any other, and the member still belongs to the group,
// so the member's sync lists the conversation and history returns the
// message. Group events (member changes and the rest) are not routed here
// and reach every member.
func (s *Server) unshielded(appKey string, gid, sender int64, recipients []int64) []int64 {
	set, err := s.social.get(&s.social.shields, socialKey{appKey, gid}, func() ([]int64, error) {
		return s.store.GroupShielders(context.Background(), appKey, gid)
	})
	if err != nil {
		s.log.Error("reading group shields", "gid", gid, "err", err)
		return recipients
	}
	if len(set) == 0 {
		return recipients
	}
	out := make([]int64, 0, len(recipients))
	for _, uid := range recipients {
		if _, shielded := set[uid]; !shielded || uid == sender {
			out = append(out, uid)
		}
	}
	return out
}
