package rest

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/jmsg-im/jmsg"
	"github.com/jmsg-im/jmsg/server"
	"github.com/jmsg-im/jmsg/server/store"
)

func (a *API) userRoutes() []route {
	return []route{
		{method: "POST", path: "/v1/users/", fn: a.registerUsers},
		{method: "GET", path: "/v1/users/", fn: a.listUsers(false)},
		{method: "POST", path: "/v1/admins/", fn: a.registerAdmin},
		{method: "GET", path: "/v1/admins", fn: a.listUsers(true)},
		{method: "GET", path: "/v1/users/{username}", fn: a.getUser},
		{method: "PUT", path: "/v1/users/{username}", fn: a.updateUser},
		{method: "DELETE", path: "/v1/users/{username}", fn: a.deleteUser},
		{method: "DELETE", path: "/v1/users/", fn: a.deleteUsers},
		{method: "PUT", path: "/v1/users/{username}/password", fn: a.setPassword},
		{method: "PUT", path: "/v1/users/{username}/forbidden", fn: a.forbid},
		{method: "GET", path: "/v1/users/{username}/userstat", fn: a.userStat},
		{method: "POST", path: "/v1/users/userstat", fn: a.userStats},
		{method: "POST", path: "/v2/users/statuser", fn: a.userStatsV2},
		{method: "POST", path: "/v2/users/userstat", fn: a.userStatsV2},
	}
}

// batchMax is the most users one register or status call takes.
const batchMax = 500

// registerOne registers one user or admin from u.
func (a *API) registerOne(r *http.Request, app store.App, u userIn, admin bool) error {
	if u.Username == nil || u.Password == nil || !jmsg.ValidUsername(*u.Username) || !jmsg.ValidPassword(*u.Password) {
		return badParam()
	}
	info := jmsg.UserInfo{Username: *u.Username}
	if !u.apply(&info) {
		return badParam()
	}
	_, err := a.eng.RegisterUser(r.Context(), app.AppKey, info, *u.Password, admin)
	switch {
	case errors.Is(err, store.ErrExists):
		return fail(jmsg.RestUserExist)
	case server.IsParamInvalid(err):
		return badParam()
	}
	return err
}

// registerUsers is POST /v1/users/: 1–500 users; 201 with one result per
// user, in order, a failed one carrying its error.
//
// Items are decoded one by one, so that an item of the wrong shape (not
// an object, a field of the wrong JSON type) fails alone with 899003, as
// any other item breaking a rule; its result echoes the username only
// when that is a string.
func (a *API) registerUsers(r *http.Request, app store.App) (int, any, error) {
	var items []json.RawMessage
	if err := decode(r, &items); err != nil || len(items) == 0 {
		return 0, nil, badParam()
	}
	if len(items) > batchMax {
		return 0, nil, fail(jmsg.RestUserListTooLong)
	}
	out := make([]map[string]any, len(items))
	for i, item := range items {
		res := map[string]any{}
		var name struct {
			Username any `json:"username"`
		}
		if json.Unmarshal(item, &name) == nil {
			if s, ok := name.Username.(string); ok {
				res["username"] = s
			}
		}
		var err error = badParam()
		var u userIn
		if json.Unmarshal(item, &u) == nil {
			err = a.registerOne(r, app, u, false)
		}
		if err != nil {
			var ae *apiError
			if !errors.As(err, &ae) {
				return 0, nil, err
			}
			res["error"] = map[string]any{"code": ae.code, "message": ae.message}
		}
		out[i] = res
	}
	return http.StatusCreated, out, nil
}

// registerAdmin is POST /v1/admins/: one admin; 201 without a body.
func (a *API) registerAdmin(r *http.Request, app store.App) (int, any, error) {
	var u userIn
	if err := decode(r, &u); err != nil {
		return 0, nil, err
	}
	if err := a.registerOne(r, app, u, true); err != nil {
		return 0, nil, err
	}
	return http.StatusCreated, nil, nil
}

// listUsers is GET /v1/users/ and GET /v1/admins: a page of users.
func (a *API) listUsers(admins bool) handlerFunc {
	return func(r *http.Request, app store.App) (int, any, error) {
		start, count, err := page(r, batchMax)
		if err != nil {
			return 0, nil, err
		}
		users, total, err := a.st.ListUsers(r.Context(), app.AppKey, admins, start, count)
		if err != nil {
			return 0, nil, err
		}
		items := make([]map[string]any, len(users))
		for i, u := range users {
			items[i] = a.userOut(u.UserInfo)
		}
		return http.StatusOK, map[string]any{"total": total, "start": start, "count": len(items), "users": items}, nil
	}
}

// pathUser returns the user named in the path: 899003 for a name that
// breaks the username rule, 899002 for one that does not exist.
func (a *API) pathUser(r *http.Request, app store.App) (store.User, error) {
	return a.user(r, app, r.PathValue("username"))
}

func (a *API) user(r *http.Request, app store.App, name string) (store.User, error) {
	if !jmsg.ValidUsername(name) {
		return store.User{}, badParam()
	}
	u, err := a.st.UserByName(r.Context(), app.AppKey, name)
	if errors.Is(err, store.ErrNotFound) {
		return u, fail(jmsg.RestUserNotExist)
	}
	return u, err
}

func (a *API) getUser(r *http.Request, app store.App) (int, any, error) {
	u, err := a.pathUser(r, app)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, a.userOut(u.UserInfo), nil
}

// updateUser is PUT /v1/users/{username}: any subset of the profile.
func (a *API) updateUser(r *http.Request, app store.App) (int, any, error) {
	u, err := a.pathUser(r, app)
	if err != nil {
		return 0, nil, err
	}
	var in userIn
	if err := decode(r, &in); err != nil {
		return 0, nil, err
	}
	info := u.UserInfo
	if !in.apply(&info) {
		return 0, nil, badParam()
	}
	if _, err := a.eng.UpdateUserProfile(r.Context(), app.AppKey, u.UID, info); err != nil {
		if server.IsParamInvalid(err) {
			return 0, nil, badParam()
		}
		return 0, nil, err
	}
	return http.StatusNoContent, nil, nil
}

// deleteUser is DELETE /v1/users/{username}: 204.
func (a *API) deleteUser(r *http.Request, app store.App) (int, any, error) {
	u, err := a.pathUser(r, app)
	if err != nil {
		return 0, nil, err
	}
	if err := a.eng.DeleteUser(r.Context(), app.AppKey, u.UID, u.Username); err != nil {
		return 0, nil, err
	}
	return http.StatusNoContent, nil, nil
}

// deleteBatchMax is the most users one batch delete takes.
const deleteBatchMax = 100

// deleteUsers is DELETE /v1/users/ with up to 100 usernames: 200 without
// a body (JMessage prints "200 NO CONTENT"). Every name must exist, else
// nothing is deleted and 899002 names the unknown ones ("No such user:
// u1,u2", errors.md e.1, as userstat).
func (a *API) deleteUsers(r *http.Request, app store.App) (int, any, error) {
	names, err := usernames(r, deleteBatchMax)
	if err != nil {
		return 0, nil, err
	}
	users := make([]store.User, 0, len(names))
	var missing []string
	for _, name := range names {
		u, err := a.user(r, app, name)
		switch {
		case apiCode(err) == jmsg.RestUserNotExist:
			missing = append(missing, name)
		case err != nil:
			return 0, nil, err
		}
		users = append(users, u)
	}
	if len(missing) > 0 {
		return 0, nil, failf(jmsg.RestUserNotExist, "No such user: "+strings.Join(missing, ","))
	}
	for _, u := range users {
		if err := a.eng.DeleteUser(r.Context(), app.AppKey, u.UID, u.Username); err != nil && !errors.Is(err, store.ErrNotFound) {
			return 0, nil, err
		}
	}
	return http.StatusOK, nil, nil
}

// setPassword is PUT /v1/users/{username}/password {"new_password"}.
func (a *API) setPassword(r *http.Request, app store.App) (int, any, error) {
	u, err := a.pathUser(r, app)
	if err != nil {
		return 0, nil, err
	}
	var in struct {
		NewPassword *string `json:"new_password"`
	}
	if err := decode(r, &in); err != nil {
		return 0, nil, err
	}
	if in.NewPassword == nil || !jmsg.ValidPassword(*in.NewPassword) {
		return 0, nil, badParam()
	}
	if err := a.eng.SetUserPassword(r.Context(), app.AppKey, u.UID, *in.NewPassword); err != nil {
		return 0, nil, err
	}
	return http.StatusNoContent, nil, nil
}

// forbid is PUT /v1/users/{username}/forbidden?disable=true|false.
func (a *API) forbid(r *http.Request, app store.App) (int, any, error) {
	u, err := a.pathUser(r, app)
	if err != nil {
		return 0, nil, err
	}
	var disable bool
	switch r.URL.Query().Get("disable") {
	case "true":
		disable = true
	case "false":
	default:
		return 0, nil, badParam()
	}
	if err := a.eng.SetUserDisabled(r.Context(), app.AppKey, u.UID, disable); err != nil {
		return 0, nil, err
	}
	return http.StatusNoContent, nil, nil
}

// devicesOut renders a user's device states.
func devicesOut(ds []server.DeviceStatus) []map[string]any {
	out := make([]map[string]any, len(ds))
	for i, d := range ds {
		out[i] = map[string]any{"login": d.Login, "online": d.Online, "platform": d.Platform}
	}
	return out
}

// userStat is GET /v1/users/{username}/userstat: the single-device
// model, any platform's state.
func (a *API) userStat(r *http.Request, app store.App) (int, any, error) {
	u, err := a.pathUser(r, app)
	if err != nil {
		return 0, nil, err
	}
	ds, err := a.eng.DeviceStatuses(r.Context(), app.AppKey, u.UID)
	if err != nil {
		return 0, nil, err
	}
	login, online := false, false
	for _, d := range ds {
		login, online = login || d.Login, online || d.Online
	}
	return http.StatusOK, map[string]any{"login": login, "online": online}, nil
}

// usernames reads a body of 1–max usernames, each following the
// username rule (899003 otherwise, before any is looked up).
func usernames(r *http.Request, max int) ([]string, error) {
	var names []string
	if err := decode(r, &names); err != nil {
		return nil, err
	}
	if len(names) == 0 || len(names) > max {
		return nil, badParam()
	}
	for _, name := range names {
		if !jmsg.ValidUsername(name) {
			return nil, badParam()
		}
	}
	return names, nil
}

// userStats is POST /v1/users/userstat: every name must exist; 899002
// names the unknown ones ("No such user: u1,u2", errors.md e.1).
func (a *API) userStats(r *http.Request, app store.App) (int, any, error) {
	names, err := usernames(r, batchMax)
	if err != nil {
		return 0, nil, err
	}
	users := make([]store.User, len(names))
	var missing []string
	for i, name := range names {
		u, err := a.user(r, app, name)
		var ae *apiError
		switch {
		case errors.As(err, &ae) && ae.code == jmsg.RestUserNotExist:
			missing = append(missing, name)
		case err != nil:
			return 0, nil, err
		}
		users[i] = u
	}
	if len(missing) > 0 {
		return 0, nil, failf(jmsg.RestUserNotExist, "No such user: "+strings.Join(missing, ","))
	}
	out := make([]map[string]any, 0, len(names))
	for i, name := range names {
		ds, err := a.eng.DeviceStatuses(r.Context(), app.AppKey, users[i].UID)
		if err != nil {
			return 0, nil, err
		}
		out = append(out, map[string]any{"username": name, "devices": devicesOut(ds)})
	}
	return http.StatusOK, out, nil
}

// userStatsV2 is POST /v2/users/statuser: unknown names are reported per
// item (statuscode 1, statusmsg "no_exist"), not as a failure; the body
// follows v1's rules, so a malformed name is 899003 as in v1.
func (a *API) userStatsV2(r *http.Request, app store.App) (int, any, error) {
	names, err := usernames(r, batchMax)
	if err != nil {
		return 0, nil, err
	}
	out := make([]map[string]any, 0, len(names))
	for _, name := range names {
		item := map[string]any{"username": name, "devices": []map[string]any{}, "statuscode": 0}
		u, err := a.user(r, app, name)
		var ae *apiError
		switch {
		case errors.As(err, &ae):
			item["statuscode"], item["statusmsg"] = 1, "no_exist"
		case err != nil:
			return 0, nil, err
		default:
			ds, err := a.eng.DeviceStatuses(r.Context(), app.AppKey, u.UID)
			if err != nil {
				return 0, nil, err
			}
			item["devices"] = devicesOut(ds)
		}
		out = append(out, item)
	}
	return http.StatusOK, out, nil
}
