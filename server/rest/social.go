package rest

import (
	"context"
	"net/http"

	"github.com/jmsg-im/jmsg"
	"github.com/jmsg-im/jmsg/server"
	"github.com/jmsg-im/jmsg/server/store"
)

// A user's blacklist, no-disturb settings, group shields, friends and
// chat rooms (rest-v1.md §5.12, §5.14, §5.17, §5.18, §9). The path user
// is checked first (899003 malformed, 899002 unknown), then the body;
// the engine (server/social.go) checks the rest before it writes, so a
// refused request changes nothing.
func (a *API) socialRoutes() []route {
	return []route{
		{method: "PUT", path: "/v1/users/{username}/blacklist", fn: a.namesOf(http.StatusNoContent, a.eng.AddToBlacklist)},
		{method: "DELETE", path: "/v1/users/{username}/blacklist", fn: a.namesOf(http.StatusNoContent, a.eng.RemoveFromBlacklist)},
		{method: "GET", path: "/v1/users/{username}/blacklist", fn: a.getBlacklist},
		{method: "POST", path: "/v1/users/{username}/nodisturb", fn: a.noDisturb},
		{method: "POST", path: "/v1/users/{username}/groupsShield", fn: a.groupsShield},
		{method: "POST", path: "/v1/users/{username}/friends", fn: a.namesOf(http.StatusCreated, a.eng.AddFriends)},
		{method: "DELETE", path: "/v1/users/{username}/friends", fn: a.namesOf(http.StatusNoContent, a.eng.RemoveFriends)},
		{method: "PUT", path: "/v1/users/{username}/friends", fn: a.setFriendNotes},
		{method: "GET", path: "/v1/users/{username}/friends", fn: a.getFriends},
		{method: "GET", path: "/v1/users/{username}/chatroom", fn: a.userChatRooms},
	}
}

// socialCodes maps the engine's codes for social operations to the REST
// API's (errors.md (d)). Codes not listed (818005, the blacklist is full)
// pass through with 403.
var socialCodes = map[int]int{
	jmsg.HttpPrameterInvalid:              jmsg.RestParameterInvalid,
	jmsg.ServerInvalidFriendMemo:          jmsg.RestParameterInvalid,
	jmsg.ServerBlacklistMemberNotExist:    jmsg.RestUserNotExist,
	jmsg.ServerBlacklistDelMemberNotExist: jmsg.RestUserNotExist,
	jmsg.ServerFriendTargetUserNotExist:   jmsg.RestUserNotExist,
	jmsg.TcpTargetUserNotExist:            jmsg.RestUserNotExist,
	jmsg.ServerBlacklistMemberRepeated:    jmsg.RestUsernamesInBlacklist,
	jmsg.ServerBlacklistTargetNotAllowed:  jmsg.RestAdminCannotBlacklist,
	jmsg.ServerTargetNotInBlacklist:       jmsg.RestUsernamesNotInBlacklist,
	jmsg.ServerUserNoDisturbAlreadySet:    jmsg.RestNoDisturbUserDuplicated,
	jmsg.ServerUserNoDisturbNeverSet:      jmsg.RestNoDisturbUserNotInSetting,
	jmsg.ServerNoDisturbGroupNotExist:     jmsg.RestNoDisturbGroupNotExist,
	jmsg.ServerNoDisturbUserNotInGroup:    jmsg.RestNoDisturbUserNotInGroup,
	jmsg.ServerGroupNoDisturbAlreadySet:   jmsg.RestNoDisturbGroupDuplicated,
	jmsg.ServerGroupNoDisturbNeverSet:     jmsg.RestNoDisturbGroupNotInSetting,
	jmsg.ServerGlobalNoDisturbAlreadySet:  jmsg.RestGlobalNoDisturbAlreadyOpen,
	jmsg.ServerGlobalNoDisturbNeverSet:    jmsg.RestGlobalNoDisturbAlreadyClosed,
	jmsg.ServerShieldGroupNotExist:        jmsg.RestShieldGroupNotExist,
	jmsg.ServerShieldUserNotInGroup:       jmsg.RestNoDisturbUserNotInGroup, // "user is not in group"; the shield family has no code of its own
	jmsg.ServerGroupShieldAlreadySet:      jmsg.RestGroupShieldAlreadyOpen,
	jmsg.ServerGroupShieldNeverSet:        jmsg.RestGroupShieldAlreadyClosed,
	jmsg.ServerAlreadyFriend:              jmsg.RestAlreadyFriend,
	jmsg.ServerNotFriend:                  jmsg.RestNotFriend,
}

// socialErr answers an engine refusal of a social operation with the REST
// API's code; other errors pass (899000).
func socialErr(err error) error { return engineErr(err, socialCodes) }

// usersOut renders users as user objects.
func (a *API) usersOut(users []jmsg.UserInfo) []map[string]any {
	out := make([]map[string]any, len(users))
	for i, u := range users {
		out[i] = a.userOut(u)
	}
	return out
}

// namesOf is an endpoint whose body lists 1–500 usernames that op applies
// to the path's user: adding to or removing from the blacklist (204) or
// the friends (201 on adding, 204 on removing; friendships are mutual).
// It answers status without a body.
func (a *API) namesOf(status int, op func(ctx context.Context, appKey string, owner int64, names []string) error) handlerFunc {
	return func(r *http.Request, app store.App) (int, any, error) {
		u, err := a.pathUser(r, app)
		if err != nil {
			return 0, nil, err
		}
		names, err := usernames(r, batchMax)
		if err != nil {
			return 0, nil, err
		}
		if err := op(r.Context(), app.AppKey, u.UID, names); err != nil {
			return 0, nil, socialErr(err)
		}
		return status, nil, nil
	}
}

// getBlacklist is GET /v1/users/{username}/blacklist: 200 with the listed
// users' objects, in the order they were listed.
func (a *API) getBlacklist(r *http.Request, app store.App) (int, any, error) {
	u, err := a.pathUser(r, app)
	if err != nil {
		return 0, nil, err
	}
	users, err := a.eng.Blacklist(r.Context(), app.AppKey, u.UID)
	if err != nil {
		return 0, nil, socialErr(err)
	}
	return http.StatusOK, a.usersOut(users), nil
}

// nameLists is the {"add": [...], "remove": [...]} of usernames.
type nameLists struct {
	Add    []string `json:"add"`
	Remove []string `json:"remove"`
}

// gidLists is the {"add": [...], "remove": [...]} of group ids, numbers
// or numeric strings.
type gidLists struct {
	Add    []flexInt `json:"add"`
	Remove []flexInt `json:"remove"`
}

func gids(ns []flexInt) []int64 {
	out := make([]int64, len(ns))
	for i, n := range ns {
		out[i] = int64(n)
	}
	return out
}

// noDisturb is POST /v1/users/{username}/nodisturb
// {"single": {"add", "remove"}, "group": {"add", "remove"}, "global": 0|1},
// every part optional: 204, all or nothing.
func (a *API) noDisturb(r *http.Request, app store.App) (int, any, error) {
	u, err := a.pathUser(r, app)
	if err != nil {
		return 0, nil, err
	}
	var in struct {
		Single *nameLists `json:"single"`
		Group  *gidLists  `json:"group"`
		Global *flexInt   `json:"global"`
	}
	if err := decode(r, &in); err != nil {
		return 0, nil, err
	}
	var ch server.NoDisturbChange
	if in.Single != nil {
		ch.AddUsers, ch.RemoveUsers = in.Single.Add, in.Single.Remove
	}
	if in.Group != nil {
		ch.AddGroups, ch.RemoveGroups = gids(in.Group.Add), gids(in.Group.Remove)
	}
	if in.Global != nil {
		if *in.Global != 0 && *in.Global != 1 {
			return 0, nil, badParam()
		}
		on := *in.Global == 1
		ch.Global = &on
	}
	if err := a.eng.ChangeNoDisturb(r.Context(), app.AppKey, u.UID, ch); err != nil {
		return 0, nil, socialErr(err)
	}
	return http.StatusNoContent, nil, nil
}

// groupsShield is POST /v1/users/{username}/groupsShield
// {"add": [gid, …], "remove": [gid, …]}, both optional: 204, all or
// nothing.
func (a *API) groupsShield(r *http.Request, app store.App) (int, any, error) {
	u, err := a.pathUser(r, app)
	if err != nil {
		return 0, nil, err
	}
	var in gidLists
	if err := decode(r, &in); err != nil {
		return 0, nil, err
	}
	if err := a.eng.ChangeGroupShields(r.Context(), app.AppKey, u.UID, gids(in.Add), gids(in.Remove)); err != nil {
		return 0, nil, socialErr(err)
	}
	return http.StatusNoContent, nil, nil
}

// setFriendNotes is PUT /v1/users/{username}/friends
// [{"username", "note_name", "others"}, …] (≤ 500): 204. A note left out
// keeps its value.
func (a *API) setFriendNotes(r *http.Request, app store.App) (int, any, error) {
	u, err := a.pathUser(r, app)
	if err != nil {
		return 0, nil, err
	}
	var in []struct {
		Username *string `json:"username"`
		NoteName *string `json:"note_name"`
		Others   *string `json:"others"`
	}
	if err := decode(r, &in); err != nil {
		return 0, nil, err
	}
	if len(in) == 0 || len(in) > batchMax {
		return 0, nil, badParam()
	}
	notes := make([]server.FriendNote, len(in))
	for i, n := range in {
		if n.Username == nil {
			return 0, nil, badParam()
		}
		notes[i] = server.FriendNote{Username: *n.Username, NoteName: n.NoteName, Others: n.Others}
	}
	if err := a.eng.SetFriendNotes(r.Context(), app.AppKey, u.UID, notes); err != nil {
		return 0, nil, socialErr(err)
	}
	return http.StatusNoContent, nil, nil
}

// getFriends is GET /v1/users/{username}/friends: 200 with friend objects
// (rest-v1.md §2.7): the user object, note_name and others when set, and
// appkey.
func (a *API) getFriends(r *http.Request, app store.App) (int, any, error) {
	u, err := a.pathUser(r, app)
	if err != nil {
		return 0, nil, err
	}
	friends, err := a.eng.Friends(r.Context(), app.AppKey, u.UID)
	if err != nil {
		return 0, nil, socialErr(err)
	}
	out := make([]map[string]any, len(friends))
	for i, f := range friends {
		m := a.userOut(f.UserInfo)
		if f.NoteName != "" {
			m["note_name"] = f.NoteName
		}
		if f.Others != "" {
			m["others"] = f.Others
		}
		m["appkey"] = app.AppKey
		out[i] = m
	}
	return http.StatusOK, out, nil
}

// userChatRooms is GET /v1/users/{username}/chatroom. jmsg has no chat
// rooms yet, so a user is in none: 200 [].
func (a *API) userChatRooms(r *http.Request, app store.App) (int, any, error) {
	if _, err := a.pathUser(r, app); err != nil {
		return 0, nil, err
	}
	return http.StatusOK, []any{}, nil
}
