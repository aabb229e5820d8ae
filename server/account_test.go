package server

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/jmsg-im/jmsg"
	"github.com/jmsg-im/jmsg/wire"
)

func TestInit(t *testing.T) {
	ts := newTestServer(t, Config{})
	tests := []struct {
		name     string
		req      any
		wantCode int
	}{
		{"ok", wire.InitReq{AppKey: ts.appKey, Version: wire.Version}, 0},
		{"ok web", wire.InitReq{AppKey: ts.appKey, Version: wire.Version, Platform: wire.PlatformWeb}, 0},
		{"version 0", wire.InitReq{AppKey: ts.appKey}, jmsg.ServerInvalidRequest},
		{"version 2", wire.InitReq{AppKey: ts.appKey, Version: 2}, jmsg.ServerInvalidRequest},
		{"unknown app key", wire.InitReq{AppKey: "unknownunknownunknown123", Version: wire.Version}, jmsg.TcpAppkeyNotRegistered},
		{"malformed app key", wire.InitReq{AppKey: "short", Version: wire.Version}, jmsg.TcpAppkeyNotRegistered},
		{"empty app key", wire.InitReq{Version: wire.Version}, jmsg.TcpAppkeyNotRegistered},
		{"bad platform", wire.InitReq{AppKey: ts.appKey, Version: wire.Version, Platform: "x"}, jmsg.ServerInvalidRequest},
		{"app key of the wrong type", map[string]any{"appkey": 5, "version": 1}, jmsg.ServerInvalidRequest},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := dial(t, ts, "client")
			if got := c.callCode(wire.OpInit, tc.req); got != tc.wantCode {
				t.Fatalf("init(%+v) code = %d, want %d", tc.req, got, tc.wantCode)
			}
			if tc.wantCode == 0 {
				// A second init is refused and the session stays usable.
				if got := c.callCode(wire.OpInit, tc.req); got != jmsg.ServerInvalidRequest {
					t.Errorf("second init code = %d, want %d", got, jmsg.ServerInvalidRequest)
				}
				if got := c.callCode(wire.OpPing, nil); got != 0 {
					t.Errorf("ping after init code = %d, want 0", got)
				}
				return
			}
			// A refused init leaves the connection before init; a good one
			// can follow.
			if got := c.callCode(wire.OpPing, nil); got != jmsg.ServerInvalidRequest {
				t.Errorf("ping after a refused init code = %d, want %d", got, jmsg.ServerInvalidRequest)
			}
			c.init(ts, "")
		})
	}
}

func TestRegister(t *testing.T) {
	ts := newTestServer(t, Config{})
	c := dial(t, ts, "client")
	c.init(ts, wire.PlatformAndroid)
	reg := func(u jmsg.UserInfo, pw string) wire.RegisterReq { return wire.RegisterReq{UserInfo: u, Password: pw} }
	tests := []struct {
		name     string
		req      any
		wantCode int
	}{
		{"ok", reg(jmsg.UserInfo{Username: "alice"}, password), 0},
		{"ok with profile", reg(jmsg.UserInfo{Username: "bob.b@x-y_z", Nickname: "Bob", Gender: 1, Birthday: "1999-12-31", Extras: map[string]string{"k": "v"}}, password), 0},
		{"duplicate", reg(jmsg.UserInfo{Username: "alice"}, "other-pw"), jmsg.HttpUserExist},
		{"other case is another user", reg(jmsg.UserInfo{Username: "Alice"}, password), 0},
		{"username too short", reg(jmsg.UserInfo{Username: "abc"}, password), jmsg.HttpPrameterInvalid},
		{"username with a space", reg(jmsg.UserInfo{Username: "al ice"}, password), jmsg.HttpPrameterInvalid},
		{"username starting with _", reg(jmsg.UserInfo{Username: "_alice"}, password), jmsg.HttpPrameterInvalid},
		{"username too long", reg(jmsg.UserInfo{Username: strings.Repeat("a", 129)}, password), jmsg.HttpPrameterInvalid},
		{"no username", reg(jmsg.UserInfo{}, password), jmsg.HttpPrameterInvalid},
		{"password too short", reg(jmsg.UserInfo{Username: "carol"}, "abc"), jmsg.HttpPrameterInvalid},
		{"password too long", reg(jmsg.UserInfo{Username: "carol"}, strings.Repeat("p", 129)), jmsg.HttpPrameterInvalid},
		{"nickname with a newline", reg(jmsg.UserInfo{Username: "carol", Nickname: "a\nb"}, password), jmsg.HttpPrameterInvalid},
		{"gender 7", reg(jmsg.UserInfo{Username: "carol", Gender: 7}, password), jmsg.HttpPrameterInvalid},
		{"bad birthday", reg(jmsg.UserInfo{Username: "carol", Birthday: "1999-13-01"}, password), jmsg.HttpPrameterInvalid},
		{"username of the wrong type", map[string]any{"username": 5, "password": password}, jmsg.ServerInvalidRequest},
	}
	for _, tc := range tests {
		if got := c.callCode(wire.OpRegister, tc.req); got != tc.wantCode {
			t.Errorf("%s: register(%+v) code = %d, want %d", tc.name, tc.req, got, tc.wantCode)
		}
	}
	// The refused registrations left nothing behind: carol is still free.
	c.mustCall(wire.OpRegister, reg(jmsg.UserInfo{Username: "carol"}, password), nil)
	// The duplicate did not change alice's password.
	if got := c.callCode(wire.OpLogin, wire.LoginReq{Username: "alice", Password: "other-pw"}); got != jmsg.TcpUserPasswordError {
		t.Errorf("login with the refused duplicate's password code = %d, want %d", got, jmsg.TcpUserPasswordError)
	}
	_, resp := login(t, ts, "bob.b@x-y_z", wire.PlatformIOS)
	if resp.User.Nickname != "Bob" || resp.User.Birthday != "1999-12-31" || resp.User.Extras["k"] != "v" {
		t.Errorf("login returned profile %+v, want the registered one", resp.User)
	}
}

func TestLogin(t *testing.T) {
	ts := newTestServer(t, Config{})
	register(t, ts, "alice")
	tests := []struct {
		name     string
		req      any
		wantCode int
	}{
		{"unknown user", wire.LoginReq{Username: "nobody", Password: password}, jmsg.TcpUserNotRegistered},
		{"invalid username", wire.LoginReq{Username: "a b", Password: password}, jmsg.TcpUserNotRegistered},
		{"other case", wire.LoginReq{Username: "ALICE", Password: password}, jmsg.TcpUserNotRegistered},
		{"wrong password", wire.LoginReq{Username: "alice", Password: "wrong-pw"}, jmsg.TcpUserPasswordError},
		{"empty password", wire.LoginReq{Username: "alice"}, jmsg.TcpUserPasswordError},
		{"password of the wrong type", map[string]any{"username": "alice", "password": 5}, jmsg.ServerInvalidRequest},
		{"ok", wire.LoginReq{Username: "alice", Password: password}, 0},
	}
	c := dial(t, ts, "client")
	c.init(ts, "")
	for _, tc := range tests {
		if got := c.callCode(wire.OpLogin, tc.req); got != tc.wantCode {
			t.Errorf("%s: login(%+v) code = %d, want %d", tc.name, tc.req, got, tc.wantCode)
		}
	}
	var info jmsg.UserInfo
	c.mustCall(wire.OpMyInfo, nil, &info)
	if info.Username != "alice" || info.UID == 0 {
		t.Errorf("my_info after login = %+v, want alice", info)
	}
	if got := c.callCode(wire.OpLogin, wire.LoginReq{Username: "alice", Password: password}); got != jmsg.ServerInvalidRequest {
		t.Errorf("second login on one connection code = %d, want %d", got, jmsg.ServerInvalidRequest)
	}
}

// TestSessionState checks which requests need init and login.
func TestSessionState(t *testing.T) {
	ts := newTestServer(t, Config{})
	register(t, ts, "alice")
	register(t, ts, "bobby")
	loginOnly := []struct {
		op   string
		data any
	}{
		{wire.OpLogout, nil},
		{wire.OpMyInfo, nil},
		{wire.OpUserInfo, wire.UserInfoReq{Usernames: []string{"alice"}}},
		{wire.OpUpdateMyInfo, wire.UpdateMyInfoReq{Fields: []string{"nickname"}}},
		{wire.OpUpdatePassword, wire.UpdatePasswordReq{Old: password, New: "new-pw"}},
		{wire.OpSend, textSend("bobby", "c1", "hi")},
		{wire.OpAck, wire.AckReq{Positions: []wire.Position{{ConvID: 1, Seq: 1}}}},
		{wire.OpSync, wire.SyncReq{}},
		{wire.OpHistory, wire.HistoryReq{ConvID: 1}},
	}
	c := dial(t, ts, "alice")
	t.Run("before init", func(t *testing.T) {
		for _, op := range []string{wire.OpPing, wire.OpRegister, wire.OpLogin} {
			if got := c.callCode(op, map[string]any{}); got != jmsg.ServerInvalidRequest {
				t.Errorf("%s before init code = %d, want %d", op, got, jmsg.ServerInvalidRequest)
			}
		}
		for _, r := range loginOnly {
			if got := c.callCode(r.op, r.data); got != jmsg.ServerInvalidRequest {
				t.Errorf("%s before init code = %d, want %d", r.op, got, jmsg.ServerInvalidRequest)
			}
		}
	})
	c.init(ts, "")
	t.Run("before login", func(t *testing.T) {
		if got := c.callCode(wire.OpPing, nil); got != 0 {
			t.Errorf("ping before login code = %d, want 0", got)
		}
		for _, r := range loginOnly {
			if got := c.callCode(r.op, r.data); got != jmsg.TcpUserLogoutState {
				t.Errorf("%s before login code = %d, want %d", r.op, got, jmsg.TcpUserLogoutState)
			}
		}
	})
	c.mustCall(wire.OpLogin, wire.LoginReq{Username: "alice", Password: password}, nil)
	c.mustCall(wire.OpMyInfo, nil, nil)
	c.mustCall(wire.OpLogout, nil, nil)
	t.Run("after logout", func(t *testing.T) {
		for _, r := range loginOnly {
			if got := c.callCode(r.op, r.data); got != jmsg.TcpUserLogoutState {
				t.Errorf("%s after logout code = %d, want %d", r.op, got, jmsg.TcpUserLogoutState)
			}
		}
	})
	// A logged-out session gets no pushes; logging in again works.
	bob, _ := login(t, ts, "bobby", "")
	bob.send("alice", "while-out", "you are out")
	// The committer publishes a message before it commits the next one, so
	// once this second send is answered the first is published.
	bob.send("alice", "while-out-2", "still out")
	c.mustCall(wire.OpLogin, wire.LoginReq{Username: "alice", Password: password}, nil)
	for _, f := range c.stash {
		t.Errorf("logged-out session got %s %s", f.Op, f.Data)
	}
	bob.send("alice", "back", "you are back")
	if _, _, text := msgText(t, c.nextMsg().Message.Content); text != "you are back" {
		t.Errorf("push after logging in again = %q, want %q", text, "you are back")
	}
}

func TestProfile(t *testing.T) {
	ts := newTestServer(t, Config{})
	register(t, ts, "alice")
	register(t, ts, "bobby")
	c, _ := login(t, ts, "alice", "")
	var info jmsg.UserInfo
	c.mustCall(wire.OpUpdateMyInfo, wire.UpdateMyInfoReq{
		Fields: []string{"nickname", "gender"},
		Info:   jmsg.UserInfo{Username: "mallory", Nickname: "Al", Gender: 2, Signature: "not listed"},
	}, &info)
	if info.Username != "alice" || info.Nickname != "Al" || info.Gender != 2 || info.Signature != "" {
		t.Errorf("update_my_info = %+v, want nickname and gender changed only", info)
	}
	tests := []struct {
		name     string
		req      wire.UpdateMyInfoReq
		wantCode int
	}{
		{"no fields", wire.UpdateMyInfoReq{}, jmsg.HttpPrameterInvalid},
		{"unknown field", wire.UpdateMyInfoReq{Fields: []string{"username"}}, jmsg.HttpPrameterInvalid},
		{"bad value", wire.UpdateMyInfoReq{Fields: []string{"gender"}, Info: jmsg.UserInfo{Gender: 9}}, jmsg.HttpPrameterInvalid},
	}
	for _, tc := range tests {
		if got := c.callCode(wire.OpUpdateMyInfo, tc.req); got != tc.wantCode {
			t.Errorf("%s: update_my_info code = %d, want %d", tc.name, got, tc.wantCode)
		}
	}
	var users wire.UserInfoResp
	c.mustCall(wire.OpUserInfo, wire.UserInfoReq{Usernames: []string{"bobby", "alice"}}, &users)
	if len(users.Users) != 2 || users.Users[0].Username != "bobby" || users.Users[1].Nickname != "Al" {
		t.Errorf("user_info = %+v, want bobby then alice (nickname Al)", users.Users)
	}
	f := c.call(wire.OpUserInfo, wire.UserInfoReq{Usernames: []string{"alice", "ghost"}})
	if f.Code != jmsg.HttpUserNotExist || !strings.Contains(f.Message, "ghost") {
		t.Errorf("user_info(ghost) = %d %q, want %d naming ghost", f.Code, f.Message, jmsg.HttpUserNotExist)
	}

	if got := c.callCode(wire.OpUpdatePassword, wire.UpdatePasswordReq{Old: "wrong-pw", New: "new-pw"}); got != jmsg.HttpPasswordError {
		t.Errorf("update_password(wrong old) code = %d, want %d", got, jmsg.HttpPasswordError)
	}
	for _, req := range []wire.UpdatePasswordReq{{Old: password, New: "abc"}, {Old: password, New: strings.Repeat("p", 129)}} {
		if got := c.callCode(wire.OpUpdatePassword, req); got != jmsg.HttpPrameterInvalid {
			t.Errorf("update_password(new %q) code = %d, want %d", req.New, got, jmsg.HttpPrameterInvalid)
		}
	}
	var pw wire.UpdatePasswordResp
	c.mustCall(wire.OpUpdatePassword, wire.UpdatePasswordReq{Old: password, New: "new-pw"}, &pw)
	if pw.Token == "" {
		t.Errorf("update_password = %+v, want a new token", pw)
	}
	other := dial(t, ts, "other")
	other.init(ts, wire.PlatformIOS)
	if got := other.callCode(wire.OpLogin, wire.LoginReq{Username: "alice", Password: password}); got != jmsg.TcpUserPasswordError {
		t.Errorf("login with the old password code = %d, want %d", got, jmsg.TcpUserPasswordError)
	}
	var resp wire.LoginResp
	other.mustCall(wire.OpLogin, wire.LoginReq{Username: "alice", Password: "new-pw"}, &resp)
	if resp.User.Nickname != "Al" {
		t.Errorf("login after profile update = %+v", resp.User)
	}
}

// tokenLogin logs in on a new connection with a token and returns the
// response code.
func tokenLogin(t testing.TB, ts *testServer, username, token, platform string) (*rawClient, int) {
	t.Helper()
	c := dial(t, ts, username+" token/"+platform)
	c.init(ts, platform)
	f := c.call(wire.OpLogin, wire.LoginReq{Username: username, Token: token})
	if f.Code == 0 {
		var resp wire.LoginResp
		json.Unmarshal(f.Data, &resp)
		if resp.User.Username != username || resp.Token != "" {
			t.Errorf("token login(%s) = %+v, want the user and no new token", username, resp)
		}
	}
	return c, f.Code
}

// TestTokens checks login tokens: issued on password login, accepted for
// their user only, revoked by the logout of the session that holds them
// and all revoked by a password change, which issues a new one.
func TestTokens(t *testing.T) {
	ts := newTestServer(t, Config{})
	register(t, ts, "alice")
	register(t, ts, "bobby")
	a1, resp := login(t, ts, "alice", wire.PlatformAndroid)
	t1 := resp.Token
	if t1 == "" {
		t.Fatalf("password login = %+v, want a token", resp)
	}
	_, bobResp := login(t, ts, "bobby", wire.PlatformAndroid)

	for _, tc := range []struct {
		name, username, token string
		want                  int
	}{
		{"another user's token", "alice", bobResp.Token, jmsg.TcpUserPasswordError},
		{"made-up token", "alice", "not-a-token", jmsg.TcpUserPasswordError},
		{"token for an unknown user", "nobody", t1, jmsg.TcpUserNotRegistered},
	} {
		if _, got := tokenLogin(t, ts, tc.username, tc.token, wire.PlatformWeb); got != tc.want {
			t.Errorf("%s: token login code = %d, want %d", tc.name, got, tc.want)
		}
	}
	// The token logs in elsewhere, any number of times.
	a2, code := tokenLogin(t, ts, "alice", t1, wire.PlatformIOS)
	if code != 0 {
		t.Fatalf("token login = %d, want success", code)
	}
	if _, code := tokenLogin(t, ts, "alice", t1, wire.PlatformWeb); code != 0 {
		t.Fatalf("second token login = %d, want success", code)
	}
	// Logging out revokes the token the session logged in with; the
	// sessions already logged in with it stay.
	a2.mustCall(wire.OpLogout, nil, nil)
	if _, code := tokenLogin(t, ts, "alice", t1, wire.PlatformWindows); code != jmsg.TcpUserPasswordError {
		t.Errorf("token login after logout = %d, want %d", code, jmsg.TcpUserPasswordError)
	}
	if got := a1.callCode(wire.OpMyInfo, nil); got != 0 {
		t.Errorf("my_info on the session that got the token = %d, want 0", got)
	}
	// bobby's token is not affected.
	if _, code := tokenLogin(t, ts, "bobby", bobResp.Token, wire.PlatformIOS); code != 0 {
		t.Errorf("bobby's token login after alice's logout = %d, want success", code)
	}
	// A password session's logout revokes the token it was issued.
	a3, resp := login(t, ts, "alice", wire.PlatformWindows)
	a3.mustCall(wire.OpLogout, nil, nil)
	if _, code := tokenLogin(t, ts, "alice", resp.Token, wire.PlatformWindows); code != jmsg.TcpUserPasswordError {
		t.Errorf("token login with a logged-out password session's token = %d, want %d", code, jmsg.TcpUserPasswordError)
	}

	// A password change revokes every token of the user, this session's
	// included, and issues a new one.
	_, r4 := login(t, ts, "alice", wire.PlatformWeb)
	_, r5 := login(t, ts, "alice", wire.PlatformIOS)
	var pw wire.UpdatePasswordResp
	a1.mustCall(wire.OpUpdatePassword, wire.UpdatePasswordReq{Old: password, New: "new-pw"}, &pw)
	if pw.Token == "" || pw.Token == r4.Token || pw.Token == r5.Token {
		t.Fatalf("update_password = %+v, want a new token", pw)
	}
	for _, old := range []string{r4.Token, r5.Token} {
		if _, code := tokenLogin(t, ts, "alice", old, wire.PlatformWindows); code != jmsg.TcpUserPasswordError {
			t.Errorf("token login with a token from before the password change = %d, want %d", code, jmsg.TcpUserPasswordError)
		}
	}
	if _, code := tokenLogin(t, ts, "bobby", bobResp.Token, wire.PlatformWindows); code != 0 {
		t.Errorf("bobby's token after alice's password change = %d, want success", code)
	}
	a6, code := tokenLogin(t, ts, "alice", pw.Token, wire.PlatformWindows)
	if code != 0 {
		t.Fatalf("token login with the new token = %d, want success", code)
	}
	// The session that changed the password now holds the new token: its
	// logout revokes it.
	a1.mustCall(wire.OpLogout, nil, nil)
	if _, code := tokenLogin(t, ts, "alice", pw.Token, wire.PlatformAndroid); code != jmsg.TcpUserPasswordError {
		t.Errorf("token login after the changing session's logout = %d, want %d", code, jmsg.TcpUserPasswordError)
	}
	if got := a6.callCode(wire.OpMyInfo, nil); got != 0 {
		t.Errorf("my_info on a session logged in with the revoked token = %d, want 0", got)
	}
	// Passwords: the old one is refused, the new one works.
	c := dial(t, ts, "password check")
	c.init(ts, wire.PlatformAndroid)
	if got := c.callCode(wire.OpLogin, wire.LoginReq{Username: "alice", Password: password}); got != jmsg.TcpUserPasswordError {
		t.Errorf("login with the old password = %d, want %d", got, jmsg.TcpUserPasswordError)
	}
	c.mustCall(wire.OpLogin, wire.LoginReq{Username: "alice", Password: "new-pw"}, nil)
}
