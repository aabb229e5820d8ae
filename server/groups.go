package server

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"time"

	"github.com/jmsg-im/jmsg"
	"github.com/jmsg-im/jmsg/server/store"
	"github.com/jmsg-im/jmsg/wire"
)

// Group operations check their input on the connection's goroutine, then
// run as a job on the committer goroutine, which owns group state: there the
// permission checks, the change and its event message, the cache update and
// the fan-out of the event happen in commit order with every message.

// inWritePath runs fn on the committer goroutine and returns its result
// once the pushes fn posted have been queued to their sessions, so that a
// client sees the events of its request no later than the response.
func (c *conn) inWritePath(fn func() (any, error)) (any, error) {
	done := make(chan struct{})
	var res any
	var err error
	j := &job{run: func() {
		defer c.s.post(func() { close(done) })
		defer func() {
			if p := recover(); p != nil {
				c.s.log.Error("group job panic", "panic", p)
				err = jmsg.E(jmsg.TcpServerInternalError)
			}
		}()
		res, err = fn()
	}}
	if e := c.s.commits.submit(c.ctx, j); e != nil {
		return nil, jmsg.Wrap(jmsg.TcpServerInternalError, e)
	}
	select {
	case <-done:
		return res, err
	case <-c.ctx.Done():
		return nil, jmsg.Wrap(jmsg.TcpServerInternalError, c.ctx.Err())
	}
}

// resolveUsers maps usernames of the app to uids, in order. Unknown or
// malformed names fail with missingCode; duplicates with dupCode; more
// than 500 with 863005-like 800008.
func (c *conn) resolveUsers(names []string, emptyCode, missingCode, dupCode int) ([]int64, error) {
	if len(names) == 0 {
		return nil, jmsg.E(emptyCode)
	}
	if len(names) > jmsg.BatchUsernamesMax {
		return nil, jmsg.WithMessage(jmsg.ServerInvalidRequest, "more than 500 usernames")
	}
	seen := map[string]bool{}
	uids := make([]int64, 0, len(names))
	for _, n := range names {
		if seen[n] {
			return nil, jmsg.E(dupCode)
		}
		seen[n] = true
		if !jmsg.ValidUsername(n) {
			return nil, jmsg.E(missingCode)
		}
		u, err := c.s.store.UserByName(c.ctx, c.appKey, n)
		if errors.Is(err, store.ErrNotFound) {
			return nil, jmsg.E(missingCode)
		} else if err != nil {
			return nil, err
		}
		uids = append(uids, u.UID)
	}
	return uids, nil
}

// groupReq decodes a request that names a group.
func groupReq(f *wire.Frame) (wire.GroupReq, error) {
	var req wire.GroupReq
	if err := wire.DecodeData(f, &req); err != nil {
		return req, err
	}
	return req, validGID(req.GID)
}

func validGID(gid int64) error {
	if gid <= 0 {
		return jmsg.E(jmsg.ServerGroupIDNotExist)
	}
	return nil
}

// eventMessage builds a group event message from actor.
func (s *Server) eventMessage(g store.Group, actor int64, actorName string, body wire.GroupEventBody) store.NewMessage {
	body.GID = g.GID
	b, _ := json.Marshal(body)
	doc := jmsg.Doc{
		Version: 1, TargetType: "group", TargetID: jmsg.FormatID(g.GID), FromType: "system", FromID: actorName,
		CreateTime: time.Now().Unix(), MsgType: "event", MsgBody: b,
	}
	content, _ := json.Marshal(doc)
	return store.NewMessage{AppKey: g.AppKey, SenderUID: actor, ConvID: g.ConvID, CTimeMs: time.Now().UnixMilli(), Content: content}
}

// pushTo pushes a committed message to the online sessions of uids, except
// the session except.
func (s *Server) pushTo(uids []int64, m wire.Message, except *conn) {
	b := wire.AppendMessagePush(make([]byte, 0, 96+len(m.Content)+len(m.ClientMsgID)), m)
	var sessions []*conn
	for _, uid := range uids {
		sessions = s.hub.sessions(sessions[:0], uid)
		for _, sc := range sessions {
			if sc != except {
				sc.enqueue(b)
				s.metrics.pushesOut.Add(1)
			}
		}
	}
}

func wireMessage(a store.Appended, cid string) wire.Message {
	return wire.Message{MsgID: a.MsgID, ConvID: a.ConvID, Seq: a.Seq, CTimeMs: a.CTimeMs, ClientMsgID: cid, Content: a.Content}
}

// applyChange commits a change of st's group with its event, updates the
// cached state with apply, and pushes the event to the members before and
// after the change.
func (s *Server) applyChange(st *groupState, ch store.GroupChange, apply func()) error {
	before := st.memberUIDs()
	a, err := s.store.ApplyGroupChange(context.Background(), ch)
	if err != nil {
		return err
	}
	apply()
	st.changed()
	if ch.Info != nil {
		// The store stamps the change's mtime: keep the cached one equal.
		if g, err := s.store.Group(context.Background(), ch.AppKey, ch.GID); err == nil {
			st.g.MTimeMs = g.MTimeMs
		} else {
			s.log.Error("reading group after change", "gid", ch.GID, "err", err)
		}
	}
	recipients := before
	for _, uid := range st.memberUIDs() {
		if !slices.Contains(recipients, uid) {
			recipients = append(recipients, uid)
		}
	}
	if ch.Event.Content != nil {
		m := wireMessage(a, "")
		s.post(func() { s.pushTo(recipients, m, nil) })
	}
	return nil
}

func (s *Server) groupInfo(st *groupState) wire.GroupInfo {
	g := st.g
	return wire.GroupInfo{
		GID: g.GID, Name: g.Name, Desc: g.Desc, Avatar: g.Avatar, Type: g.Type, MaxMemberCount: g.MaxMembers,
		MemberCount: len(st.members), Owner: st.names[g.OwnerUID], ConvID: g.ConvID, CTimeMs: g.CTimeMs, MTimeMs: g.MTimeMs,
	}
}

func handleCreateGroup(c *conn, f *wire.Frame) (any, error) {
	var req wire.CreateGroupReq
	if err := wire.DecodeData(f, &req); err != nil {
		return nil, err
	}
	switch {
	case req.Name == "" || !jmsg.ValidGroupName(req.Name) && len(req.Name) <= jmsg.GroupNameMaxLen:
		return nil, jmsg.E(jmsg.ServerGroupNameInvalid)
	case len(req.Name) > jmsg.GroupNameMaxLen:
		return nil, jmsg.E(jmsg.ServerGroupNameTooLong)
	case !jmsg.ValidGroupDesc(req.Desc):
		return nil, jmsg.E(jmsg.ServerGroupDescTooLong)
	case req.Type != 0 && req.Type != wire.GroupPrivate && req.Type != wire.GroupPublic:
		return nil, jmsg.WithMessage(jmsg.ServerInvalidRequest, "type must be 1 (private) or 2 (public)")
	case req.MaxMemberCount != 0 && (req.MaxMemberCount <= 2 || req.MaxMemberCount > c.s.cfg.GroupMaxLimit):
		return nil, jmsg.E(jmsg.ServerMaxMemberCountInvalid)
	case len(req.Avatar) > jmsg.ProfileTextMaxLen:
		return nil, jmsg.WithMessage(jmsg.ServerInvalidRequest, "avatar too long")
	}
	if err := c.checkAvatar(req.Avatar); err != nil {
		return nil, err
	}
	if req.Type == 0 {
		req.Type = wire.GroupPrivate
	}
	if req.MaxMemberCount == 0 {
		req.MaxMemberCount = c.s.cfg.GroupDefaultMax
	}
	names := slices.DeleteFunc(slices.Clone(req.Members), func(n string) bool { return n == c.username })
	var uids []int64
	if len(names) > 0 {
		var err error
		if uids, err = c.resolveUsers(names, jmsg.TcpGroupMembersEmpty, jmsg.ServerAddMemberNotRegistered, jmsg.TcpGroupMembersDuplicated); err != nil {
			return nil, err
		}
	}
	owner, ownerName, appKey := c.uid, c.username, c.appKey
	return c.inWritePath(func() (any, error) {
		s := c.s
		if 1+len(uids) > req.MaxMemberCount {
			return nil, jmsg.E(jmsg.ServerGroupMemberCountExceedLimit)
		}
		counts, owned, err := s.store.GroupCounts(context.Background(), appKey, append([]int64{owner}, uids...))
		if err != nil {
			return nil, err
		}
		if owned[owner] >= s.cfg.GroupsOwnedPerUser {
			return nil, jmsg.E(jmsg.ServerGroupCountExceedLimit)
		}
		for _, uid := range append([]int64{owner}, uids...) {
			if counts[uid] >= s.cfg.GroupsPerUser {
				return nil, jmsg.E(jmsg.ServerUserGroupCountExceedLimit)
			}
		}
		now := time.Now().UnixMilli()
		members := []store.GroupMember{{UID: owner, Role: roleOwner, JoinTimeMs: now}}
		for _, uid := range uids {
			members = append(members, store.GroupMember{UID: uid, Role: roleOrdinary, JoinTimeMs: now})
		}
		g := store.Group{AppKey: appKey, Name: req.Name, Desc: req.Desc, Avatar: req.Avatar, Type: req.Type,
			MaxMembers: req.MaxMemberCount, OwnerUID: owner}
		g, a, err := s.store.CreateGroup(context.Background(), g, members, func(g store.Group) store.NewMessage {
			return s.eventMessage(g, owner, ownerName, wire.GroupEventBody{
				EventType: wire.EventGroupCreated, From: ownerName, To: names, GroupName: req.Name})
		})
		if err != nil {
			return nil, err
		}
		st := &groupState{g: g, members: map[int64]*store.GroupMember{}, names: map[int64]string{owner: ownerName}}
		for i := range members {
			m := members[i]
			st.members[m.UID] = &m
		}
		for i, uid := range uids {
			st.names[uid] = names[i]
		}
		s.groups.put(st)
		recipients, m := st.memberUIDs(), wireMessage(a, "")
		s.post(func() { s.pushTo(recipients, m, nil) })
		return s.groupInfo(st), nil
	})
}

// memberOf returns the state of gid with the caller checked to be a member
// (800019 otherwise).
func (c *conn) memberOf(gid int64) (*groupState, *store.GroupMember, error) {
	st, err := c.s.groups.get(c.appKey, gid)
	if err != nil {
		return nil, nil, err
	}
	m := st.members[c.uid]
	if m == nil {
		return nil, nil, jmsg.E(jmsg.ServerRequestUserNotInGroup)
	}
	return st, m, nil
}

func handleGroupInfo(c *conn, f *wire.Frame) (any, error) {
	req, err := groupReq(f)
	if err != nil {
		return nil, err
	}
	return c.inWritePath(func() (any, error) {
		st, err := c.s.groups.get(c.appKey, req.GID)
		if err != nil {
			return nil, err
		}
		return c.s.groupInfo(st), nil
	})
}

func handleGroupMembers(c *conn, f *wire.Frame) (any, error) {
	req, err := groupReq(f)
	if err != nil {
		return nil, err
	}
	res, err := c.inWritePath(func() (any, error) {
		st, _, err := c.memberOf(req.GID)
		if err != nil {
			return nil, err
		}
		list := make([]store.GroupMember, 0, len(st.members))
		for _, m := range st.members {
			list = append(list, *m)
		}
		return list, nil
	})
	if err != nil {
		return nil, err
	}
	list := res.([]store.GroupMember)
	slices.SortFunc(list, func(a, b store.GroupMember) int {
		switch {
		case a.Role == roleOwner:
			return -1
		case b.Role == roleOwner:
			return 1
		case a.JoinTimeMs != b.JoinTimeMs:
			return int(a.JoinTimeMs - b.JoinTimeMs)
		}
		return int(a.UID - b.UID)
	})
	uids := make([]int64, len(list))
	for i, m := range list {
		uids[i] = m.UID
	}
	users, err := c.s.store.UsersByID(c.ctx, c.appKey, uids)
	if err != nil {
		return nil, err
	}
	now := time.Now().UnixMilli()
	resp := wire.GroupMembersResp{Members: make([]wire.GroupMember, len(list))}
	for i, m := range list {
		gm := wire.GroupMember{Username: users[m.UID].Username, Nickname: users[m.UID].Nickname, Role: m.Role, JoinTimeMs: m.JoinTimeMs}
		if m.SilenceEndMs > now {
			gm.SilenceEndMs = m.SilenceEndMs
		}
		resp.Members[i] = gm
	}
	return resp, nil
}

func handleMyGroups(c *conn, f *wire.Frame) (any, error) {
	gs, err := c.s.store.UserGroups(c.ctx, c.appKey, c.uid)
	if err != nil {
		return nil, err
	}
	return c.groupList(gs, 0)
}

// groupList describes stored groups (member counts and owners come from the
// write path's state).
func (c *conn) groupList(gs []store.Group, total int) (any, error) {
	return c.inWritePath(func() (any, error) {
		resp := wire.GroupListResp{Groups: make([]wire.GroupInfo, 0, len(gs)), Total: total}
		for _, g := range gs {
			st, err := c.s.groups.get(c.appKey, g.GID)
			if err != nil {
				continue // dissolved meanwhile
			}
			resp.Groups = append(resp.Groups, c.s.groupInfo(st))
		}
		return resp, nil
	})
}

func handlePublicGroups(c *conn, f *wire.Frame) (any, error) {
	var req wire.PublicGroupsReq
	if err := wire.DecodeData(f, &req); err != nil {
		return nil, err
	}
	if req.Start < 0 || req.Count <= 0 || req.Count > 500 {
		return nil, jmsg.WithMessage(jmsg.ServerInvalidRequest, "start must be ≥ 0 and count 1–500")
	}
	gs, total, err := c.s.store.PublicGroups(c.ctx, c.appKey, req.Start, req.Count)
	if err != nil {
		return nil, err
	}
	return c.groupList(gs, total)
}

var groupFields = []string{"name", "desc", "avatar"}

func handleUpdateGroupInfo(c *conn, f *wire.Frame) (any, error) {
	var req wire.UpdateGroupReq
	if err := wire.DecodeData(f, &req); err != nil {
		return nil, err
	}
	if err := validGID(req.GID); err != nil {
		return nil, err
	}
	if len(req.Fields) == 0 {
		return nil, jmsg.WithMessage(jmsg.ServerInvalidRequest, "no fields")
	}
	for _, fl := range req.Fields {
		switch {
		case !slices.Contains(groupFields, fl):
			return nil, jmsg.WithMessage(jmsg.ServerInvalidRequest, "unknown field "+fl)
		case fl == "name" && len(req.Name) > jmsg.GroupNameMaxLen:
			return nil, jmsg.E(jmsg.ServerUpdateGroupNameTooLong)
		case fl == "name" && !jmsg.ValidGroupName(req.Name):
			return nil, jmsg.E(jmsg.ServerGroupNameInvalid)
		case fl == "desc" && !jmsg.ValidGroupDesc(req.Desc):
			return nil, jmsg.E(jmsg.ServerUpdateGroupDescTooLong)
		case fl == "avatar" && len(req.Avatar) > jmsg.ProfileTextMaxLen:
			return nil, jmsg.WithMessage(jmsg.ServerInvalidRequest, "avatar too long")
		case fl == "avatar":
			if err := c.checkAvatar(req.Avatar); err != nil {
				return nil, err
			}
		}
	}
	return c.inWritePath(func() (any, error) {
		st, me, err := c.memberOf(req.GID)
		if err != nil {
			return nil, err
		}
		if me.Role == roleOrdinary {
			return nil, jmsg.E(jmsg.ServerRequestUserNoPermission)
		}
		info := st.g
		for _, fl := range req.Fields {
			switch fl {
			case "name":
				info.Name = req.Name
			case "desc":
				info.Desc = req.Desc
			case "avatar":
				info.Avatar = req.Avatar
			}
		}
		ch := store.GroupChange{AppKey: c.appKey, GID: req.GID, Info: &info,
			Event: c.s.eventMessage(st.g, c.uid, c.username, wire.GroupEventBody{EventType: wire.EventGroupInfoUpdated, From: c.username, GroupName: info.Name})}
		if err := c.s.applyChange(st, ch, func() { st.g = info }); err != nil {
			return nil, err
		}
		return c.s.groupInfo(st), nil
	})
}

func handleDissolveGroup(c *conn, f *wire.Frame) (any, error) {
	req, err := groupReq(f)
	if err != nil {
		return nil, err
	}
	return c.inWritePath(func() (any, error) {
		st, me, err := c.memberOf(req.GID)
		if err != nil {
			return nil, err
		}
		if me.Role != roleOwner {
			return nil, jmsg.E(jmsg.ServerRequestUserNoPermission)
		}
		return nil, c.s.dissolve(st, c.uid, c.username)
	})
}

// dissolve ends a group: every member leaves, and sees the event.
func (s *Server) dissolve(st *groupState, actor int64, actorName string) error {
	ch := store.GroupChange{AppKey: st.g.AppKey, GID: st.g.GID, Dissolve: true,
		Event: s.eventMessage(st.g, actor, actorName, wire.GroupEventBody{EventType: wire.EventGroupMemberExit, From: actorName, Extra: wire.ExtraDissolved})}
	return s.applyChange(st, ch, func() {
		st.g.Dissolved = true
		clear(st.members)
	})
}

func handleExitGroup(c *conn, f *wire.Frame) (any, error) {
	req, err := groupReq(f)
	if err != nil {
		return nil, err
	}
	return c.inWritePath(func() (any, error) {
		st, me, err := c.memberOf(req.GID)
		if err != nil {
			return nil, err
		}
		if len(st.members) == 1 { // the last member: the group goes
			return nil, c.s.dissolve(st, c.uid, c.username)
		}
		body := wire.GroupEventBody{EventType: wire.EventGroupMemberExit, From: c.username, To: []string{c.username}}
		ch := store.GroupChange{AppKey: c.appKey, GID: req.GID, Remove: []int64{c.uid}}
		var heir int64
		if me.Role == roleOwner {
			heir = st.successor()
			info := st.g
			info.OwnerUID = heir
			ch.Info = &info
			ch.Update = []store.GroupMember{{UID: heir, Role: roleOwner, JoinTimeMs: st.members[heir].JoinTimeMs}}
			body.NewOwner = st.names[heir]
		}
		ch.Event = c.s.eventMessage(st.g, c.uid, c.username, body)
		return nil, c.s.applyChange(st, ch, func() {
			delete(st.members, c.uid)
			if heir != 0 {
				st.g.OwnerUID = heir
				st.members[heir].Role = roleOwner
				st.members[heir].SilenceEndMs = 0
			}
		})
	})
}

// groupUsers decodes a GroupUsersReq and resolves its usernames.
func (c *conn) groupUsers(f *wire.Frame, emptyCode, missingCode, dupCode int) (wire.GroupUsersReq, []int64, error) {
	var req wire.GroupUsersReq
	if err := wire.DecodeData(f, &req); err != nil {
		return req, nil, err
	}
	if err := validGID(req.GID); err != nil {
		return req, nil, err
	}
	if !jmsg.ValidReason(req.Reason) {
		return req, nil, jmsg.WithMessage(jmsg.ServerInvalidRequest, "reason longer than 250 bytes")
	}
	uids, err := c.resolveUsers(req.Usernames, emptyCode, missingCode, dupCode)
	return req, uids, err
}

func handleAddGroupMembers(c *conn, f *wire.Frame) (any, error) {
	req, uids, err := c.groupUsers(f, jmsg.TcpGroupMembersEmpty, jmsg.ServerAddMemberNotRegistered, jmsg.TcpGroupMembersDuplicated)
	if err != nil {
		return nil, err
	}
	return c.inWritePath(func() (any, error) {
		st, me, err := c.memberOf(req.GID)
		if err != nil {
			return nil, err
		}
		if st.g.Type == wire.GroupPublic && me.Role == roleOrdinary {
			return nil, jmsg.E(jmsg.ServerRequestUserNoPermission)
		}
		return nil, c.s.addMembers(st, c.uid, c.username, uids, req.Usernames, 0)
	})
}

// addMembers adds uids (named names) to st's group, resolving application
// app when it is not 0.
func (s *Server) addMembers(st *groupState, actor int64, actorName string, uids []int64, names []string, app int64) error {
	for _, uid := range uids {
		if st.members[uid] != nil {
			return jmsg.E(jmsg.TcpGroupMembersDuplicated)
		}
	}
	if len(st.members)+len(uids) > st.g.MaxMembers {
		return jmsg.E(jmsg.ServerGroupMemberCountExceedLimit)
	}
	counts, _, err := s.store.GroupCounts(context.Background(), st.g.AppKey, uids)
	if err != nil {
		return err
	}
	for _, uid := range uids {
		if counts[uid] >= s.cfg.GroupsPerUser {
			return jmsg.E(jmsg.ServerUserGroupCountExceedLimit)
		}
	}
	now := time.Now().UnixMilli()
	add := make([]store.GroupMember, len(uids))
	for i, uid := range uids {
		add[i] = store.GroupMember{UID: uid, Role: roleOrdinary, JoinTimeMs: now}
	}
	ch := store.GroupChange{AppKey: st.g.AppKey, GID: st.g.GID, Add: add, Application: app, ApplicationStatus: 1,
		Event: s.eventMessage(st.g, actor, actorName, wire.GroupEventBody{EventType: wire.EventGroupMembersAdded, From: actorName, To: names})}
	return s.applyChange(st, ch, func() {
		for i := range add {
			m := add[i]
			st.members[m.UID] = &m
			st.names[m.UID] = names[i]
		}
	})
}

func handleDelGroupMembers(c *conn, f *wire.Frame) (any, error) {
	req, uids, err := c.groupUsers(f, jmsg.ServerDelMemberListEmpty, jmsg.ServerDelMemberNotRegistered, jmsg.ServerMemberDeletedRepeatedly)
	if err != nil {
		return nil, err
	}
	return c.inWritePath(func() (any, error) {
		st, me, err := c.memberOf(req.GID)
		if err != nil {
			return nil, err
		}
		if me.Role == roleOrdinary {
			return nil, jmsg.E(jmsg.ServerRequestUserNoPermission)
		}
		for _, uid := range uids {
			m := st.members[uid]
			switch {
			case m == nil:
				return nil, jmsg.E(jmsg.ServerMemberNotInGroup)
			case m.Role == roleOwner, m.Role == roleAdmin && me.Role != roleOwner, uid == c.uid:
				return nil, jmsg.E(jmsg.ServerMemberNotPermittedDeleted)
			}
		}
		ch := store.GroupChange{AppKey: c.appKey, GID: req.GID, Remove: uids,
			Event: c.s.eventMessage(st.g, c.uid, c.username, wire.GroupEventBody{EventType: wire.EventGroupMembersRemoved, From: c.username, To: req.Usernames})}
		return nil, c.s.applyChange(st, ch, func() {
			for _, uid := range uids {
				delete(st.members, uid)
			}
		})
	})
}

func handleTransferOwner(c *conn, f *wire.Frame) (any, error) {
	req, uids, err := c.groupUsers(f, jmsg.TcpGroupMembersEmpty, jmsg.ServerTargetNotInGroup, jmsg.TcpGroupMembersDuplicated)
	if err != nil {
		return nil, err
	}
	if len(uids) != 1 {
		return nil, jmsg.WithMessage(jmsg.ServerInvalidRequest, "name exactly one new owner")
	}
	return c.inWritePath(func() (any, error) {
		st, me, err := c.memberOf(req.GID)
		if err != nil {
			return nil, err
		}
		if me.Role != roleOwner {
			return nil, jmsg.E(jmsg.ServerRequestUserNoPermission)
		}
		heir := st.members[uids[0]]
		if heir == nil {
			return nil, jmsg.E(jmsg.ServerTargetNotInGroup)
		}
		if heir.UID == c.uid {
			return nil, nil
		}
		info := st.g
		info.OwnerUID = heir.UID
		ch := store.GroupChange{AppKey: c.appKey, GID: req.GID, Info: &info,
			Update: []store.GroupMember{
				{UID: heir.UID, Role: roleOwner, JoinTimeMs: heir.JoinTimeMs},
				{UID: c.uid, Role: roleOrdinary, JoinTimeMs: me.JoinTimeMs},
			},
			Event: c.s.eventMessage(st.g, c.uid, c.username, wire.GroupEventBody{EventType: wire.EventGroupOwnerChanged, From: c.username, To: req.Usernames, NewOwner: req.Usernames[0]})}
		return nil, c.s.applyChange(st, ch, func() {
			st.g.OwnerUID = heir.UID
			heir.Role, heir.SilenceStartMs, heir.SilenceEndMs = roleOwner, 0, 0
			me.Role = roleOrdinary
		})
	})
}

func handleAddGroupAdmins(c *conn, f *wire.Frame) (any, error) { return c.changeAdmins(f, true) }
func handleDelGroupAdmins(c *conn, f *wire.Frame) (any, error) { return c.changeAdmins(f, false) }

// changeAdmins makes members admins (add) or ordinary members again. Only
// the owner may; a group has at most 15 admins.
func (c *conn) changeAdmins(f *wire.Frame, add bool) (any, error) {
	req, uids, err := c.groupUsers(f, jmsg.TcpGroupMembersEmpty, jmsg.ServerTargetNotInGroup, jmsg.TcpGroupMembersDuplicated)
	if err != nil {
		return nil, err
	}
	return c.inWritePath(func() (any, error) {
		st, me, err := c.memberOf(req.GID)
		if err != nil {
			return nil, err
		}
		if me.Role != roleOwner {
			return nil, jmsg.E(jmsg.ServerMemberOpNoPermission)
		}
		role, extra := roleOrdinary, 2
		if add {
			role, extra = roleAdmin, 1
		}
		var upd []store.GroupMember
		for _, uid := range uids {
			m := st.members[uid]
			switch {
			case m == nil:
				return nil, jmsg.E(jmsg.ServerTargetNotInGroup)
			case m.Role == roleOwner:
				return nil, jmsg.E(jmsg.ServerMemberOpNoPermission)
			}
			u := *m
			u.Role = role
			if add {
				u.SilenceStartMs, u.SilenceEndMs = 0, 0 // admins cannot be muted
			}
			upd = append(upd, u)
		}
		if add && st.adminCount()+countRole(st, uids, roleOrdinary) > jmsg.GroupMaxAdmins {
			return nil, jmsg.Errorf(jmsg.ServerMemberOpNoPermission, "a group has at most %d admins", jmsg.GroupMaxAdmins)
		}
		ch := store.GroupChange{AppKey: c.appKey, GID: req.GID, Update: upd,
			Event: c.s.eventMessage(st.g, c.uid, c.username, wire.GroupEventBody{EventType: wire.EventGroupAdminChanged, From: c.username, To: req.Usernames, Extra: extra})}
		return nil, c.s.applyChange(st, ch, func() {
			for _, u := range upd {
				*st.members[u.UID] = u
			}
		})
	})
}

func countRole(st *groupState, uids []int64, role int) int {
	n := 0
	for _, uid := range uids {
		if m := st.members[uid]; m != nil && m.Role == role {
			n++
		}
	}
	return n
}

func handleSilence(c *conn, f *wire.Frame) (any, error) {
	var req wire.SilenceReq
	if err := wire.DecodeData(f, &req); err != nil {
		return nil, err
	}
	if req.DurationMs < jmsg.SilenceMinMs || req.DurationMs > jmsg.SilenceMaxMs {
		return nil, jmsg.E(jmsg.TcpMemberSilenceTimesOverLimit)
	}
	raw, _ := json.Marshal(wire.GroupUsersReq{GID: req.GID, Usernames: req.Usernames})
	return c.changeSilence(&wire.Frame{Op: f.Op, ID: f.ID, Data: raw}, req.DurationMs)
}

func handleUnsilence(c *conn, f *wire.Frame) (any, error) { return c.changeSilence(f, 0) }

// changeSilence mutes members for durationMs, or unmutes them (0). Owner
// and admins may; they cannot be muted.
func (c *conn) changeSilence(f *wire.Frame, durationMs int64) (any, error) {
	req, uids, err := c.groupUsers(f, jmsg.TcpGroupMembersEmpty, jmsg.ServerTargetNotInGroup, jmsg.TcpGroupMembersDuplicated)
	if err != nil {
		return nil, err
	}
	return c.inWritePath(func() (any, error) {
		st, me, err := c.memberOf(req.GID)
		if err != nil {
			return nil, err
		}
		if me.Role == roleOrdinary {
			return nil, jmsg.E(jmsg.ServerMemberOpNoPermission)
		}
		now := time.Now().UnixMilli()
		var upd []store.GroupMember
		for _, uid := range uids {
			m := st.members[uid]
			switch {
			case m == nil:
				return nil, jmsg.E(jmsg.ServerTargetNotInGroup)
			case m.Role != roleOrdinary:
				return nil, jmsg.E(jmsg.ServerMemberOpNoPermission)
			}
			u := *m
			if durationMs > 0 {
				u.SilenceStartMs, u.SilenceEndMs = now, now+durationMs
			} else {
				u.SilenceStartMs, u.SilenceEndMs = 0, 0
			}
			upd = append(upd, u)
		}
		extra := 2
		if durationMs > 0 {
			extra = 1
		}
		ch := store.GroupChange{AppKey: c.appKey, GID: req.GID, Update: upd,
			Event: c.s.eventMessage(st.g, c.uid, c.username, wire.GroupEventBody{EventType: wire.EventGroupMemberSilence, From: c.username, To: req.Usernames, Extra: extra, DurationMs: durationMs})}
		return nil, c.s.applyChange(st, ch, func() {
			for _, u := range upd {
				*st.members[u.UID] = u
			}
		})
	})
}

func handleApplyJoin(c *conn, f *wire.Frame) (any, error) {
	var req wire.ApplyJoinReq
	if err := wire.DecodeData(f, &req); err != nil {
		return nil, err
	}
	if err := validGID(req.GID); err != nil {
		return nil, err
	}
	if !jmsg.ValidReason(req.Reason) {
		return nil, jmsg.WithMessage(jmsg.ServerInvalidRequest, "reason longer than 250 bytes")
	}
	return c.inWritePath(func() (any, error) {
		st, err := c.s.groups.get(c.appKey, req.GID)
		if err != nil {
			return nil, err
		}
		switch {
		case st.members[c.uid] != nil:
			return nil, jmsg.E(jmsg.ServerUserAlreadyInGroup)
		case st.g.Type != wire.GroupPublic:
			return nil, jmsg.E(jmsg.ServerGroupTypeNotSupport)
		}
		a, err := c.s.store.CreateApplication(context.Background(), c.appKey, store.Application{GID: req.GID, UID: c.uid, Reason: req.Reason})
		if errors.Is(err, store.ErrExists) {
			return nil, jmsg.E(jmsg.TcpGroupApplyRepeat)
		} else if err != nil {
			return nil, err
		}
		// The application is an event of the group's conversation: its
		// members, owner and admins among them, see it.
		ch := store.GroupChange{AppKey: c.appKey, GID: req.GID,
			Event: c.s.eventMessage(st.g, c.uid, c.username, wire.GroupEventBody{EventType: wire.EventGroupJoinApplied,
				From: c.username, To: []string{c.username}, Description: req.Reason, EventID: a.EventID, GroupName: st.g.Name})}
		if err := c.s.applyChange(st, ch, func() {}); err != nil {
			return nil, err
		}
		return wire.ApplyJoinResp{EventID: a.EventID}, nil
	})
}

func handleProcessApplication(c *conn, f *wire.Frame) (any, error) {
	var req wire.ProcessApplicationReq
	if err := wire.DecodeData(f, &req); err != nil {
		return nil, err
	}
	if req.EventID <= 0 {
		return nil, jmsg.E(jmsg.ServerInvalidRequestData)
	}
	if !jmsg.ValidReason(req.Reason) {
		return nil, jmsg.WithMessage(jmsg.ServerInvalidRequest, "reason longer than 250 bytes")
	}
	a, err := c.s.store.ApplicationByID(c.ctx, c.appKey, req.EventID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, jmsg.E(jmsg.ServerInvalidRequestData)
	} else if err != nil {
		return nil, err
	}
	users, err := c.s.store.UsersByID(c.ctx, c.appKey, []int64{a.UID})
	if err != nil {
		return nil, err
	}
	applicant := users[a.UID].Username
	return c.inWritePath(func() (any, error) {
		st, me, err := c.memberOf(a.GID)
		if err != nil {
			return nil, err
		}
		if me.Role == roleOrdinary {
			return nil, jmsg.E(jmsg.ServerRequestUserNoPermission)
		}
		cur, err := c.s.store.ApplicationByID(context.Background(), c.appKey, req.EventID)
		if err != nil {
			return nil, err
		}
		if cur.Status != 0 {
			return nil, jmsg.E(jmsg.ServerRequestAlreadyProcessed)
		}
		if req.Approve {
			if st.members[a.UID] != nil {
				return nil, jmsg.E(jmsg.ServerUserAlreadyInGroup)
			}
			return nil, c.s.addMembers(st, c.uid, c.username, []int64{a.UID}, []string{applicant}, req.EventID)
		}
		ch := store.GroupChange{AppKey: c.appKey, GID: a.GID, Application: req.EventID, ApplicationStatus: 2}
		if _, err := c.s.store.ApplyGroupChange(context.Background(), ch); err != nil {
			return nil, err
		}
		// The applicant is no member: the rejection reaches them as a plain
		// event while they are online.
		ev, _ := wire.Push(wire.OpEvent, wire.EventPush{EventType: wire.EventGroupJoinRejected, CTimeMs: time.Now().UnixMilli(),
			From: c.username, Desc: req.Reason, GID: a.GID})
		if b, err := wire.Encode(ev); err == nil {
			for _, sc := range c.s.hub.sessions(nil, a.UID) {
				sc.enqueue(b)
			}
		}
		return nil, nil
	})
}
