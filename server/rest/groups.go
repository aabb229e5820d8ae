package rest

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/jmsg-im/jmsg"
	"github.com/jmsg-im/jmsg/server"
	"github.com/jmsg-im/jmsg/server/store"
	"github.com/jmsg-im/jmsg/wire"
)

// Groups act through the engine as the group's owner, so that the SDK's
// rules, events and pushes apply; the REST API has the owner's powers.

func (a *API) groupRoutes() []route {
	return []route{
		{method: "POST", path: "/v1/groups/", fn: a.createGroup},
		{method: "GET", path: "/v1/groups/", fn: a.listGroups},
		{method: "GET", path: "/v1/groups/{gid}", fn: a.getGroup},
		{method: "PUT", path: "/v1/groups/{gid}", fn: a.updateGroup},
		{method: "DELETE", path: "/v1/groups/{gid}", fn: a.deleteGroup},
		{method: "POST", path: "/v1/groups/{gid}/members", fn: a.changeMembers},
		{method: "GET", path: "/v1/groups/{gid}/members/", fn: a.groupMembers},
		{method: "POST", path: "/v2/groups/{gid}/addMembers", fn: a.addMembersV2},
		{method: "POST", path: "/v2/groups/{gid}/delMembers", fn: a.delMembersV2},
		{method: "PUT", path: "/v1/groups/messages/{gid}/silence", bare: true, fn: a.silence},
		{method: "PUT", path: "/v1/groups/owner/{gid}", bare: true, fn: a.transferOwner},
		{method: "GET", path: "/v1/users/{username}/groups/", fn: a.userGroups},
	}
}

// groupOut renders a group (MaxMemberCount in CamelCase, as JMessage).
func (a *API) groupOut(g store.Group, owner string) map[string]any {
	m := map[string]any{"gid": g.GID, "name": g.Name, "desc": g.Desc, "appkey": g.AppKey,
		"MaxMemberCount": g.MaxMembers, "ctime": a.formatMs(g.CTimeMs), "mtime": a.formatMs(g.MTimeMs), "flag": g.Type}
	if owner != "" {
		m["owner_username"] = owner
	}
	if g.Avatar != "" {
		m["avatar"] = g.Avatar
	}
	return m
}

// pathGroup returns the live group named in the path and its owner's
// username: 899003 for a malformed gid, 899006 for an unknown or
// dissolved one.
func (a *API) pathGroup(r *http.Request, app store.App) (store.Group, string, error) {
	gid, err := strconv.ParseInt(r.PathValue("gid"), 10, 64)
	if err != nil || gid <= 0 {
		return store.Group{}, "", badParam()
	}
	g, err := a.st.Group(r.Context(), app.AppKey, gid)
	if errors.Is(err, store.ErrNotFound) || err == nil && g.Dissolved {
		return g, "", fail(jmsg.RestGroupIDInvalid)
	}
	if err != nil {
		return g, "", err
	}
	owners, err := a.st.UsersByID(r.Context(), app.AppKey, []int64{g.OwnerUID})
	if err != nil {
		return g, "", err
	}
	return g, owners[g.OwnerUID].Username, nil
}

// asOwner runs op on the group as its owner.
func (a *API) asOwner(r *http.Request, app store.App, owner, op string, req, out any) error {
	return a.do(r.Context(), app, owner, op, req, out, server.ActOptions{})
}

// createGroup is POST /v1/groups/.
func (a *API) createGroup(r *http.Request, app store.App) (int, any, error) {
	var in struct {
		Owner   *string  `json:"owner_username"`
		Name    *string  `json:"name"`
		Members []string `json:"members_username"`
		Desc    string   `json:"desc"`
		Avatar  string   `json:"avatar"`
		Flag    *flexInt `json:"flag"`
		Max     *flexInt `json:"MaxMemberCount"`
	}
	if err := decode(r, &in); err != nil {
		return 0, nil, err
	}
	if in.Owner == nil || in.Name == nil || *in.Name == "" || len(in.Members) > batchMax || !validNames(in.Members) {
		return 0, nil, badParam()
	}
	req := wire.CreateGroupReq{Name: *in.Name, Desc: in.Desc, Avatar: in.Avatar, Type: wire.GroupPrivate, Members: in.Members}
	if in.Flag != nil {
		if *in.Flag != wire.GroupPrivate && *in.Flag != wire.GroupPublic {
			return 0, nil, badParam()
		}
		req.Type = int(*in.Flag)
	}
	if in.Max != nil {
		if *in.Max <= 0 {
			return 0, nil, badParam()
		}
		req.MaxMemberCount = int(*in.Max)
	}
	if _, err := a.user(r, app, *in.Owner); err != nil {
		return 0, nil, err
	}
	var info wire.GroupInfo
	if err := a.asOwner(r, app, *in.Owner, wire.OpCreateGroup, req, &info); err != nil {
		return 0, nil, err
	}
	g, err := a.st.Group(r.Context(), app.AppKey, info.GID)
	if err != nil {
		return 0, nil, err
	}
	out := a.groupOut(g, *in.Owner)
	delete(out, "flag")
	members := in.Members
	if members == nil {
		members = []string{}
	}
	out["members_username"] = members
	return http.StatusCreated, out, nil
}

// listGroups is GET /v1/groups/?start&count.
func (a *API) listGroups(r *http.Request, app store.App) (int, any, error) {
	start, count, err := page(r, batchMax)
	if err != nil {
		return 0, nil, err
	}
	gs, total, err := a.st.ListGroups(r.Context(), app.AppKey, start, count)
	if err != nil {
		return 0, nil, err
	}
	items := make([]map[string]any, len(gs))
	for i, g := range gs {
		items[i] = a.groupOut(g, "")
	}
	return http.StatusOK, map[string]any{"total": total, "start": start, "count": len(items), "groups": items}, nil
}

func (a *API) getGroup(r *http.Request, app store.App) (int, any, error) {
	g, owner, err := a.pathGroup(r, app)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, a.groupOut(g, owner), nil
}

// updateGroup is PUT /v1/groups/{gid}: any of name, desc, avatar.
func (a *API) updateGroup(r *http.Request, app store.App) (int, any, error) {
	g, owner, err := a.pathGroup(r, app)
	if err != nil {
		return 0, nil, err
	}
	var in struct {
		Name   *string `json:"name"`
		Desc   *string `json:"desc"`
		Avatar *string `json:"avatar"`
	}
	if err := decode(r, &in); err != nil {
		return 0, nil, err
	}
	req := wire.UpdateGroupReq{GID: g.GID}
	if in.Name != nil {
		req.Fields, req.Name = append(req.Fields, "name"), *in.Name
	}
	if in.Desc != nil {
		req.Fields, req.Desc = append(req.Fields, "desc"), *in.Desc
	}
	if in.Avatar != nil {
		req.Fields, req.Avatar = append(req.Fields, "avatar"), *in.Avatar
	}
	if len(req.Fields) == 0 {
		return 0, nil, badParam()
	}
	if err := a.asOwner(r, app, owner, wire.OpUpdateGroupInfo, req, nil); err != nil {
		return 0, nil, err
	}
	return http.StatusNoContent, nil, nil
}

// deleteGroup is DELETE /v1/groups/{gid}: dissolves it.
func (a *API) deleteGroup(r *http.Request, app store.App) (int, any, error) {
	g, owner, err := a.pathGroup(r, app)
	if err != nil {
		return 0, nil, err
	}
	if err := a.asOwner(r, app, owner, wire.OpDissolveGroup, wire.GroupReq{GID: g.GID}, nil); err != nil {
		return 0, nil, err
	}
	return http.StatusNoContent, nil, nil
}

// changeMembers is POST /v1/groups/{gid}/members {"add", "remove"}:
// additions first; a removal of a non-member fails with 899014 and the
// additions stay.
func (a *API) changeMembers(r *http.Request, app store.App) (int, any, error) {
	g, owner, err := a.pathGroup(r, app)
	if err != nil {
		return 0, nil, err
	}
	var in struct {
		Add    []string `json:"add"`
		Remove []string `json:"remove"`
	}
	if err := decode(r, &in); err != nil {
		return 0, nil, err
	}
	if len(in.Add) == 0 && len(in.Remove) == 0 || len(in.Add) > batchMax || len(in.Remove) > batchMax ||
		!validNames(in.Add) || !validNames(in.Remove) {
		return 0, nil, badParam()
	}
	if len(in.Add) > 0 {
		if err := a.asOwner(r, app, owner, wire.OpAddGroupMembers, wire.GroupUsersReq{GID: g.GID, Usernames: in.Add}, nil); err != nil {
			return 0, nil, err
		}
	}
	if len(in.Remove) > 0 {
		if err := a.removeMembers(r, app, g, owner, in.Remove); err != nil {
			return 0, nil, err
		}
	}
	return http.StatusNoContent, nil, nil
}

// validNames reports whether every name follows the username rule: a
// malformed name is 899003, as in the v2 bodies (usernames), not an
// unknown user.
func validNames(names []string) bool {
	for _, n := range names {
		if !jmsg.ValidUsername(n) {
			return false
		}
	}
	return true
}

// removeMembers removes names from g: every name must be a member
// (899014 otherwise, nothing removed). Removing the owner passes ownership
// to the earliest-joined member who stays (rest-v1.md §8.5; event 82),
// then removes them; removing every member dissolves the group.
func (a *API) removeMembers(r *http.Request, app store.App, g store.Group, owner string, names []string) error {
	ms, err := a.st.GroupMembers(r.Context(), app.AppKey, g.GID)
	if err != nil {
		return err
	}
	uids := make([]int64, len(ms))
	for i, m := range ms {
		uids[i] = m.UID
	}
	users, err := a.st.UsersByID(r.Context(), app.AppKey, uids)
	if err != nil {
		return err
	}
	member := map[string]bool{}
	for _, u := range users {
		member[u.Username] = true
	}
	seen := map[string]bool{}
	for _, n := range names {
		if !jmsg.ValidUsername(n) || seen[n] {
			return badParam()
		}
		seen[n] = true
		if !member[n] {
			return fail(jmsg.RestRemoveMemberNotInGroup)
		}
	}
	if seen[owner] {
		heir := ""
		for _, m := range ms { // owner first, then by join time
			if n := users[m.UID].Username; !seen[n] {
				heir = n
				break
			}
		}
		if heir == "" { // nobody stays
			return a.asOwner(r, app, owner, wire.OpDissolveGroup, wire.GroupReq{GID: g.GID}, nil)
		}
		if err := a.asOwner(r, app, owner, wire.OpTransferGroupOwner, wire.GroupUsersReq{GID: g.GID, Usernames: []string{heir}}, nil); err != nil {
			return err
		}
		owner = heir
	}
	err = a.asOwner(r, app, owner, wire.OpDelGroupMembers, wire.GroupUsersReq{GID: g.GID, Usernames: names}, nil)
	var ae *apiError
	if errors.As(err, &ae) && ae.code == jmsg.RestUserNotExist {
		return fail(jmsg.RestRemoveMemberNotInGroup)
	}
	return err
}

func (a *API) addMembersV2(r *http.Request, app store.App) (int, any, error) {
	g, owner, err := a.pathGroup(r, app)
	if err != nil {
		return 0, nil, err
	}
	names, err := usernames(r, batchMax)
	if err != nil {
		return 0, nil, err
	}
	if err := a.asOwner(r, app, owner, wire.OpAddGroupMembers, wire.GroupUsersReq{GID: g.GID, Usernames: names}, nil); err != nil {
		return 0, nil, err
	}
	return http.StatusNoContent, nil, nil
}

func (a *API) delMembersV2(r *http.Request, app store.App) (int, any, error) {
	g, owner, err := a.pathGroup(r, app)
	if err != nil {
		return 0, nil, err
	}
	names, err := usernames(r, batchMax)
	if err != nil {
		return 0, nil, err
	}
	if err := a.removeMembers(r, app, g, owner, names); err != nil {
		return 0, nil, err
	}
	return http.StatusNoContent, nil, nil
}

// groupMembers is GET /v1/groups/{gid}/members/: user objects with flag
// (0 member, 1 owner, 2 admin), owner first, then by join time.
func (a *API) groupMembers(r *http.Request, app store.App) (int, any, error) {
	g, _, err := a.pathGroup(r, app)
	if err != nil {
		return 0, nil, err
	}
	ms, err := a.st.GroupMembers(r.Context(), app.AppKey, g.GID)
	if err != nil {
		return 0, nil, err
	}
	uids := make([]int64, len(ms))
	for i, m := range ms {
		uids[i] = m.UID
	}
	users, err := a.st.UsersByID(r.Context(), app.AppKey, uids)
	if err != nil {
		return 0, nil, err
	}
	out := make([]map[string]any, 0, len(ms))
	for _, m := range ms {
		u := a.userOut(users[m.UID])
		u["flag"] = m.Role
		out = append(out, u)
	}
	return http.StatusOK, out, nil
}

// silence is PUT /v1/groups/messages/{gid}/silence?status=true|false with
// usernames: muted until unmuted (the longest mute the SDK allows, a
// year), or unmuted.
func (a *API) silence(r *http.Request, app store.App) (int, any, error) {
	g, owner, err := a.pathGroup(r, app)
	if err != nil {
		return 0, nil, err
	}
	status := r.URL.Query().Get("status")
	if status != "true" && status != "false" {
		return 0, nil, badParam()
	}
	names, err := usernames(r, batchMax)
	if err != nil {
		return 0, nil, err
	}
	seen := make(map[string]bool, len(names))
	for _, name := range names {
		if seen[name] {
			return 0, nil, badParam() // not the engine's "Repeat to add the members"
		}
		seen[name] = true
		if _, err := a.user(r, app, name); err != nil {
			return 0, nil, err // an unknown user is 899002, not "not a member"
		}
	}
	if status == "true" {
		err = a.asOwner(r, app, owner, wire.OpSilenceMembers, wire.SilenceReq{GID: g.GID, Usernames: names, DurationMs: jmsg.SilenceMaxMs}, nil)
	} else {
		err = a.asOwner(r, app, owner, wire.OpUnsilenceMembers, wire.GroupUsersReq{GID: g.GID, Usernames: names}, nil)
	}
	if err != nil {
		return 0, nil, err
	}
	return http.StatusNoContent, nil, nil
}

// transferOwner is PUT /v1/groups/owner/{gid} {"username"}.
func (a *API) transferOwner(r *http.Request, app store.App) (int, any, error) {
	g, owner, err := a.pathGroup(r, app)
	if err != nil {
		return 0, nil, err
	}
	var in struct {
		Username *string `json:"username"`
		AppKey   string  `json:"appkey"`
	}
	if err := decode(r, &in); err != nil {
		return 0, nil, err
	}
	if in.Username == nil || in.AppKey != "" && !strings.EqualFold(in.AppKey, app.AppKey) {
		return 0, nil, badParam()
	}
	if _, err := a.user(r, app, *in.Username); err != nil {
		return 0, nil, err
	}
	err = a.asOwner(r, app, owner, wire.OpTransferGroupOwner, wire.GroupUsersReq{GID: g.GID, Usernames: []string{*in.Username}}, nil)
	if code := apiCode(err); code == jmsg.ServerTargetNotInGroup {
		return 0, nil, badParam() // the new owner must be a member
	}
	if err != nil {
		return 0, nil, err
	}
	return http.StatusNoContent, nil, nil
}

// userGroups is GET /v1/users/{username}/groups/.
func (a *API) userGroups(r *http.Request, app store.App) (int, any, error) {
	u, err := a.pathUser(r, app)
	if err != nil {
		return 0, nil, err
	}
	gs, err := a.st.UserGroups(r.Context(), app.AppKey, u.UID)
	if err != nil {
		return 0, nil, err
	}
	out := make([]map[string]any, 0, len(gs))
	for _, g := range gs {
		if !g.Dissolved {
			m := a.groupOut(g, "")
			delete(m, "flag")
			out = append(out, m)
		}
	}
	return http.StatusOK, out, nil
}

// apiCode is the code of an *apiError, or 0.
func apiCode(err error) int {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae.code
	}
	return 0
}
