package client

import (
	"context"
	"encoding/json"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jmsg-im/jmsg"
	"github.com/jmsg-im/jmsg/wire"
)

// Group describes a group as the server last reported it.
type Group struct {
	ID             int64
	Name           string
	Desc           string
	Avatar         string // media id
	Public         bool   // public groups take join applications
	MaxMemberCount int
	MemberCount    int
	Owner          string
	CTime          time.Time
	MTime          time.Time
}

func groupFromWire(g wire.GroupInfo) *Group {
	return &Group{ID: g.GID, Name: g.Name, Desc: g.Desc, Avatar: g.Avatar, Public: g.Type == wire.GroupPublic,
		MaxMemberCount: g.MaxMemberCount, MemberCount: g.MemberCount, Owner: g.Owner,
		CTime: time.UnixMilli(g.CTimeMs), MTime: time.UnixMilli(g.MTimeMs)}
}

// MemberRole is a member's role in a group (iOS JMSGGroupMemberType).
type MemberRole int

// Roles.
const (
	RoleOrdinary MemberRole = wire.RoleOrdinary
	RoleOwner    MemberRole = wire.RoleOwner
	RoleAdmin    MemberRole = wire.RoleAdmin
)

// GroupMember is a member of a group.
type GroupMember struct {
	Username   string
	Nickname   string
	Role       MemberRole
	JoinTime   time.Time
	SilenceEnd time.Time // zero unless muted
}

// GroupOptions describe a new group.
type GroupOptions struct {
	Name           string // 1–64 bytes, no line breaks
	Desc           string // at most 250 bytes
	Avatar         string // media id
	Public         bool
	MaxMemberCount int      // 0: the server's default (500); else more than 2
	Members        []string // added with the creator, who becomes owner
}

// validGroupFields checks group fields locally (867002).
func validGroupFields(name *string, desc *string) error {
	if name != nil && (*name == "" || len(*name) > jmsg.GroupNameMaxLen || strings.ContainsAny(*name, "\r\n") || !utf8.ValidString(*name)) {
		return jmsg.E(jmsg.SDKParamGroupGroupInfoInvalid)
	}
	if desc != nil && !jmsg.ValidGroupDesc(*desc) {
		return jmsg.E(jmsg.SDKParamGroupGroupInfoInvalid)
	}
	return nil
}

func checkGID(gid int64) error {
	if gid <= 0 {
		return jmsg.E(jmsg.SDKParamGroupGroupIdInvalid)
	}
	return nil
}

// groupCall checks the context, the gid and the session before a group
// request.
func (c *Client) groupCall(ctx context.Context, gid int64) (*session, error) {
	if err := checkCtx(ctx); err != nil {
		return nil, err
	}
	if err := checkGID(gid); err != nil {
		return nil, err
	}
	return c.session()
}

// CreateGroup creates a group owned by the current user. Errors: 861101,
// 867002 (name empty, longer than 64 bytes or with line breaks, desc over
// 250 bytes, MaxMemberCount ≤ 2 other than 0), 863001 (an invalid member
// name), 863004, and the server's 808xxx/810xxx codes.
func (c *Client) CreateGroup(ctx context.Context, opt GroupOptions) (*Group, error) {
	if err := checkCtx(ctx); err != nil {
		return nil, err
	}
	if err := validGroupFields(&opt.Name, &opt.Desc); err != nil {
		return nil, err
	}
	if opt.MaxMemberCount < 0 || (opt.MaxMemberCount > 0 && opt.MaxMemberCount <= 2) {
		return nil, jmsg.E(jmsg.SDKParamGroupGroupInfoInvalid)
	}
	for _, u := range opt.Members {
		if !jmsg.ValidUsername(u) {
			return nil, jmsg.E(jmsg.SDKParamUsernameInvalid)
		}
	}
	s, err := c.session()
	if err != nil {
		return nil, err
	}
	typ := wire.GroupPrivate
	if opt.Public {
		typ = wire.GroupPublic
	}
	var g wire.GroupInfo
	req := wire.CreateGroupReq{Name: opt.Name, Desc: opt.Desc, Avatar: opt.Avatar, Type: typ, MaxMemberCount: opt.MaxMemberCount, Members: opt.Members}
	if err := s.call(ctx, wire.OpCreateGroup, req, &g); err != nil {
		return nil, err
	}
	if g.GID <= 0 {
		return nil, jmsg.Errorf(jmsg.SDKNetworkResultUnexpected, "create_group response without gid")
	}
	s.noteGroup(ctx, g, true)
	return groupFromWire(g), nil
}

// noteGroup caches what a response said of a group.
func (s *session) noteGroup(ctx context.Context, g wire.GroupInfo, member bool) {
	if b, err := json.Marshal(g); err == nil {
		s.db.SetGroupInfo(ctx, g.GID, string(b))
	}
	s.db.SetMembership(ctx, g.GID, member)
}

// GroupInfo returns a group's description from the server. Errors: 861101,
// 867001 (gid ≤ 0), 863004, 800018 (no such group).
func (c *Client) GroupInfo(ctx context.Context, gid int64) (*Group, error) {
	s, err := c.groupCall(ctx, gid)
	if err != nil {
		return nil, err
	}
	var g wire.GroupInfo
	if err := s.call(ctx, wire.OpGroupInfo, wire.GroupReq{GID: gid}, &g); err != nil {
		return nil, err
	}
	if b, err := json.Marshal(g); err == nil {
		s.db.SetGroupInfo(ctx, gid, string(b))
	}
	return groupFromWire(g), nil
}

// GroupUpdate names the fields to change; nil fields keep their value.
type GroupUpdate struct {
	Name   *string
	Desc   *string
	Avatar *string
}

// UpdateGroupInfo changes a group's name, description or avatar (owner and
// admins). Errors: 861101, 867001, 867002 (name set empty or too long, desc
// too long, nothing to change), 863004, 800019, 800020, 812003, 812004.
func (c *Client) UpdateGroupInfo(ctx context.Context, gid int64, u GroupUpdate) (*Group, error) {
	if err := checkCtx(ctx); err != nil {
		return nil, err
	}
	if err := checkGID(gid); err != nil {
		return nil, err
	}
	if u.Name == nil && u.Desc == nil && u.Avatar == nil {
		return nil, jmsg.E(jmsg.SDKParamGroupGroupInfoInvalid)
	}
	if err := validGroupFields(u.Name, u.Desc); err != nil {
		return nil, err
	}
	s, err := c.session()
	if err != nil {
		return nil, err
	}
	req := wire.UpdateGroupReq{GID: gid}
	if u.Name != nil {
		req.Fields, req.Name = append(req.Fields, "name"), *u.Name
	}
	if u.Desc != nil {
		req.Fields, req.Desc = append(req.Fields, "desc"), *u.Desc
	}
	if u.Avatar != nil {
		req.Fields, req.Avatar = append(req.Fields, "avatar"), *u.Avatar
	}
	var g wire.GroupInfo
	if err := s.call(ctx, wire.OpUpdateGroupInfo, req, &g); err != nil {
		return nil, err
	}
	return groupFromWire(g), nil
}

// groupUsers runs an op that names a group and users.
func (c *Client) groupUsers(ctx context.Context, op string, gid int64, usernames []string, reason string) error {
	s, err := c.groupCall(ctx, gid)
	if err != nil {
		return err
	}
	if len(usernames) == 0 {
		return jmsg.Errorf(jmsg.SDKParamInternalInvalid, "no usernames")
	}
	if len(usernames) > jmsg.BatchUsernamesMax {
		return jmsg.E(jmsg.SDKUserNumberOverflow)
	}
	for _, u := range usernames {
		if !jmsg.ValidUsername(u) {
			return jmsg.E(jmsg.SDKParamUsernameInvalid)
		}
	}
	return s.call(ctx, op, wire.GroupUsersReq{GID: gid, Usernames: usernames, Reason: reason}, nil)
}

// AddGroupMembers adds users to a group: any member of a private group,
// the owner or an admin of a public one. Errors: 861101, 867001, 863001,
// 863005, 863004, 800019, 800020, 810005, 810007, 810008, 810009.
func (c *Client) AddGroupMembers(ctx context.Context, gid int64, usernames ...string) error {
	return c.groupUsers(ctx, wire.OpAddGroupMembers, gid, usernames, "")
}

// RemoveGroupMembers removes members (owner and admins; an admin removes
// only ordinary members). Errors as AddGroupMembers, and 811006, 811008.
func (c *Client) RemoveGroupMembers(ctx context.Context, gid int64, usernames ...string) error {
	return c.groupUsers(ctx, wire.OpDelGroupMembers, gid, usernames, "")
}

// TransferGroupOwner makes username the owner; the current owner becomes an
// ordinary member. Errors: 867001, 863001, 863004, 800020, 765001.
func (c *Client) TransferGroupOwner(ctx context.Context, gid int64, username string) error {
	return c.groupUsers(ctx, wire.OpTransferGroupOwner, gid, []string{username}, "")
}

// AddGroupAdmins makes members admins (owner only; at most 15). Errors:
// 867001, 863004, 765001, 765002.
func (c *Client) AddGroupAdmins(ctx context.Context, gid int64, usernames ...string) error {
	return c.groupUsers(ctx, wire.OpAddGroupAdmins, gid, usernames, "")
}

// RemoveGroupAdmins makes admins ordinary members again (owner only).
func (c *Client) RemoveGroupAdmins(ctx context.Context, gid int64, usernames ...string) error {
	return c.groupUsers(ctx, wire.OpDelGroupAdmins, gid, usernames, "")
}

// SilenceGroupMembers mutes ordinary members for d (5 minutes to 365
// days); muting again restarts the period. Owner and admins may. Errors:
// 867001, 863004, 765001, 765002, 765003 (d out of range).
func (c *Client) SilenceGroupMembers(ctx context.Context, gid int64, d time.Duration, usernames ...string) error {
	ms := d.Milliseconds()
	if ms < jmsg.SilenceMinMs || ms > jmsg.SilenceMaxMs {
		return jmsg.E(jmsg.TcpMemberSilenceTimesOverLimit)
	}
	s, err := c.groupCall(ctx, gid)
	if err != nil {
		return err
	}
	for _, u := range usernames {
		if !jmsg.ValidUsername(u) {
			return jmsg.E(jmsg.SDKParamUsernameInvalid)
		}
	}
	return s.call(ctx, wire.OpSilenceMembers, wire.SilenceReq{GID: gid, Usernames: usernames, DurationMs: ms}, nil)
}

// UnsilenceGroupMembers unmutes members.
func (c *Client) UnsilenceGroupMembers(ctx context.Context, gid int64, usernames ...string) error {
	return c.groupUsers(ctx, wire.OpUnsilenceMembers, gid, usernames, "")
}

// ExitGroup leaves a group. An owner who leaves passes ownership to the
// earliest-joined member; the last member to leave ends the group.
func (c *Client) ExitGroup(ctx context.Context, gid int64) error {
	s, err := c.groupCall(ctx, gid)
	if err != nil {
		return err
	}
	if err := s.call(ctx, wire.OpExitGroup, wire.GroupReq{GID: gid}, nil); err != nil {
		return err
	}
	return s.db.SetMembership(ctx, gid, false)
}

// DissolveGroup ends a group (owner only). Errors: 867001, 863004, 800019,
// 800020.
func (c *Client) DissolveGroup(ctx context.Context, gid int64) error {
	s, err := c.groupCall(ctx, gid)
	if err != nil {
		return err
	}
	if err := s.call(ctx, wire.OpDissolveGroup, wire.GroupReq{GID: gid}, nil); err != nil {
		return err
	}
	return s.db.SetMembership(ctx, gid, false)
}

// GroupMembers lists a group's members, the owner first, then by join time
// (members only: 800019 otherwise).
func (c *Client) GroupMembers(ctx context.Context, gid int64) ([]GroupMember, error) {
	s, err := c.groupCall(ctx, gid)
	if err != nil {
		return nil, err
	}
	var resp wire.GroupMembersResp
	if err := s.call(ctx, wire.OpGroupMembers, wire.GroupReq{GID: gid}, &resp); err != nil {
		if jmsg.CodeOf(err) == jmsg.ServerRequestUserNotInGroup {
			s.db.SetMembership(ctx, gid, false)
		}
		return nil, err
	}
	out := make([]GroupMember, len(resp.Members))
	for i, m := range resp.Members {
		out[i] = GroupMember{Username: m.Username, Nickname: m.Nickname, Role: MemberRole(m.Role), JoinTime: time.UnixMilli(m.JoinTimeMs)}
		if m.SilenceEndMs > 0 {
			out[i].SilenceEnd = time.UnixMilli(m.SilenceEndMs)
		}
	}
	s.db.SetMembership(ctx, gid, true)
	return out, nil
}

// MyGroups lists the groups the current user belongs to.
func (c *Client) MyGroups(ctx context.Context) ([]*Group, error) {
	if err := checkCtx(ctx); err != nil {
		return nil, err
	}
	s, err := c.session()
	if err != nil {
		return nil, err
	}
	var resp wire.GroupListResp
	if err := s.call(ctx, wire.OpMyGroups, struct{}{}, &resp); err != nil {
		return nil, err
	}
	out := make([]*Group, len(resp.Groups))
	for i, g := range resp.Groups {
		s.noteGroup(ctx, g, true)
		out[i] = groupFromWire(g)
	}
	return out, nil
}

// PublicGroups pages through the app's public groups (count 1–500) and
// returns how many there are. Errors: 861101 (start < 0, count out of range).
func (c *Client) PublicGroups(ctx context.Context, start, count int) ([]*Group, int, error) {
	if err := checkCtx(ctx); err != nil {
		return nil, 0, err
	}
	if start < 0 || count <= 0 || count > 500 {
		return nil, 0, jmsg.Errorf(jmsg.SDKParamInternalInvalid, "start must be ≥ 0 and count 1–500")
	}
	s, err := c.session()
	if err != nil {
		return nil, 0, err
	}
	var resp wire.GroupListResp
	if err := s.call(ctx, wire.OpPublicGroups, wire.PublicGroupsReq{Start: start, Count: count}, &resp); err != nil {
		return nil, 0, err
	}
	out := make([]*Group, len(resp.Groups))
	for i, g := range resp.Groups {
		out[i] = groupFromWire(g)
	}
	return out, resp.Total, nil
}

// ApplyJoinGroup applies to join a public group and returns the
// application's event id. Errors: 867001, 863004, 859001 (already a
// member), 859002 (private group), 856003 (an application is pending).
func (c *Client) ApplyJoinGroup(ctx context.Context, gid int64, reason string) (int64, error) {
	s, err := c.groupCall(ctx, gid)
	if err != nil {
		return 0, err
	}
	var resp wire.ApplyJoinResp
	if err := s.call(ctx, wire.OpApplyJoinGroup, wire.ApplyJoinReq{GID: gid, Reason: reason}, &resp); err != nil {
		return 0, err
	}
	return resp.EventID, nil
}

// ProcessApplication approves or rejects a join application (owner and
// admins), given the event id of its event (GroupEvent.EventID). Errors:
// 861101, 863004, 800019, 800020, 856001 (already processed), 856002.
func (c *Client) ProcessApplication(ctx context.Context, eventID int64, approve bool, reason string) error {
	if err := checkCtx(ctx); err != nil {
		return err
	}
	if eventID <= 0 {
		return jmsg.Errorf(jmsg.SDKParamInternalInvalid, "event id must be positive")
	}
	s, err := c.session()
	if err != nil {
		return err
	}
	return s.call(ctx, wire.OpProcessApplication, wire.ProcessApplicationReq{EventID: eventID, Approve: approve, Reason: reason}, nil)
}
