package server

import (
	"context"
	"errors"
	"sort"

	"github.com/jmsg-im/jmsg"
	"github.com/jmsg-im/jmsg/server/store"
)

// groupState is what the write path knows of a group: the row and its
// current members. It is owned by the committer goroutine: only jobs and
// the committer's checks and publishing read or change it.
type groupState struct {
	g       store.Group
	members map[int64]*store.GroupMember
	names   map[int64]string // uid → username of members and recent leavers
	sorted  []int64          // members' uids, ascending; nil when members changed
}

// recipients returns the members' uids in ascending order. The slice is
// shared and never modified: a membership change makes a new one.
func (st *groupState) recipients() []int64 {
	if st.sorted == nil {
		st.sorted = st.memberUIDs()
	}
	return st.sorted
}

// changed forgets derived state after the members changed.
func (st *groupState) changed() { st.sorted = nil }

// groupCache holds the state of groups in use, loaded on first use. It is
// owned by the committer goroutine.
type groupCache struct {
	st     store.Store
	byGID  map[int64]*groupState
	byConv map[int64]*groupState
}

func newGroupCache(st store.Store) *groupCache {
	return &groupCache{st: st, byGID: map[int64]*groupState{}, byConv: map[int64]*groupState{}}
}

// get returns the live state of gid in appKey: 800018 if there is no such
// group or it was dissolved.
func (gc *groupCache) get(appKey string, gid int64) (*groupState, error) {
	if st, ok := gc.byGID[gid]; ok {
		if st.g.AppKey != appKey || st.g.Dissolved {
			return nil, jmsg.E(jmsg.ServerGroupIDNotExist)
		}
		return st, nil
	}
	ctx := context.Background()
	g, err := gc.st.Group(ctx, appKey, gid)
	if errors.Is(err, store.ErrNotFound) {
		return nil, jmsg.E(jmsg.ServerGroupIDNotExist)
	}
	if err != nil {
		return nil, err
	}
	st := &groupState{g: g, members: map[int64]*store.GroupMember{}, names: map[int64]string{}}
	if !g.Dissolved {
		ms, err := gc.st.GroupMembers(ctx, appKey, gid)
		if err != nil {
			return nil, err
		}
		uids := make([]int64, len(ms))
		for i := range ms {
			m := ms[i]
			st.members[m.UID] = &m
			uids[i] = m.UID
		}
		users, err := gc.st.UsersByID(ctx, appKey, uids)
		if err != nil {
			return nil, err
		}
		for uid, u := range users {
			st.names[uid] = u.Username
		}
	}
	gc.byGID[gid], gc.byConv[g.ConvID] = st, st
	if g.Dissolved {
		return nil, jmsg.E(jmsg.ServerGroupIDNotExist)
	}
	return st, nil
}

// put records a group created by this write path.
func (gc *groupCache) put(st *groupState) {
	gc.byGID[st.g.GID], gc.byConv[st.g.ConvID] = st, st
}

// byConversation returns the cached state of the group whose conversation
// is convID, if cached.
func (gc *groupCache) byConversation(convID int64) *groupState { return gc.byConv[convID] }

// memberUIDs returns the members' uids in ascending order.
func (st *groupState) memberUIDs() []int64 {
	out := make([]int64, 0, len(st.members))
	for uid := range st.members {
		out = append(out, uid)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// successor returns the member who becomes owner when the owner leaves:
// the earliest to join among the others, 0 if none.
func (st *groupState) successor() int64 {
	var best *store.GroupMember
	for _, m := range st.members {
		if m.UID == st.g.OwnerUID {
			continue
		}
		if best == nil || m.JoinTimeMs < best.JoinTimeMs || (m.JoinTimeMs == best.JoinTimeMs && m.UID < best.UID) {
			best = m
		}
	}
	if best == nil {
		return 0
	}
	return best.UID
}

// adminCount counts the admins (the owner excluded).
func (st *groupState) adminCount() int {
	n := 0
	for _, m := range st.members {
		if m.Role == roleAdmin {
			n++
		}
	}
	return n
}

const (
	roleOrdinary = 0
	roleOwner    = 1
	roleAdmin    = 2
)
