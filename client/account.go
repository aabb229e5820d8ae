package client

import (
	"context"
	"errors"

	"github.com/jmsg-im/jmsg"
	"github.com/jmsg-im/jmsg/client/internal/localstore"
	"github.com/jmsg-im/jmsg/wire"
)

// connect dials jmsgd and opens the protocol session for the client's app.
func (c *Client) connect(ctx context.Context, onPush func(*wire.Frame)) (*transport, error) {
	ctx, cancel := c.withTimeout(ctx)
	defer cancel()
	tr, err := dial(ctx, c.endpoint, onPush, &c.requests)
	if err != nil {
		return nil, errNetwork(err)
	}
	var resp wire.InitResp
	if err := tr.call(ctx, wire.OpInit, wire.InitReq{AppKey: c.cfg.AppKey, Version: wire.Version, Platform: c.cfg.Platform}, &resp); err != nil {
		tr.close()
		return nil, err
	}
	return tr, nil
}

// connectAndLogin dials, inits and logs in.
func (c *Client) connectAndLogin(ctx context.Context, req wire.LoginReq, onPush func(*wire.Frame)) (*transport, wire.LoginResp, error) {
	var resp wire.LoginResp
	tr, err := c.connect(ctx, onPush)
	if err != nil {
		return nil, resp, err
	}
	lctx, cancel := c.withTimeout(ctx)
	defer cancel()
	if err := tr.call(lctx, wire.OpLogin, req, &resp); err != nil {
		tr.close()
		return nil, resp, err
	}
	if resp.User.Username == "" {
		tr.close()
		return nil, resp, jmsg.Errorf(jmsg.SDKNetworkResultUnexpected, "login response without user")
	}
	return tr, resp, nil
}

// Register creates a user on the server. info may be nil; its Username is
// ignored. It works whether or not a user is logged in.
//
// Errors: 861101 (nil context), 863001 (username breaks the rule), 863002
// (password breaks the rule), 898001 (user exists), 898003 (a profile
// field breaks its rule), 860016 (network).
func (c *Client) Register(ctx context.Context, username, password string, info *jmsg.UserInfo) error {
	if err := checkCtx(ctx); err != nil {
		return err
	}
	if !jmsg.ValidUsername(username) {
		return jmsg.E(jmsg.SDKParamUsernameInvalid)
	}
	if !jmsg.ValidPassword(password) {
		return jmsg.E(jmsg.SDKParamPasswordInvalid)
	}
	req := wire.RegisterReq{Password: password}
	if info != nil {
		req.UserInfo = *info
	}
	req.Username = username
	if s, err := c.session(); err == nil {
		return s.call(ctx, wire.OpRegister, req, nil)
	}
	tr, err := c.connect(ctx, func(*wire.Frame) {})
	if err != nil {
		return err
	}
	defer tr.close()
	rctx, cancel := c.withTimeout(ctx)
	defer cancel()
	return tr.call(rctx, wire.OpRegister, req, nil)
}

// Login logs username in, opens (and migrates) the user's local database,
// and starts receiving: offline messages arrive as OfflineMessages events,
// online ones as MessageReceived. Another session of the same user on the
// same platform is kicked.
//
// Errors: 861101, 863001, 863002, 863006 (already logged in or a login or
// logout is under way), 861004 (the local database cannot be opened or
// migrated), 869999 (the data directory cannot be created), 801003 (no
// such user), 801004 (wrong password), 860021 (the server's answer lacks
// the user), 860016.
func (c *Client) Login(ctx context.Context, username, password string) error {
	if err := checkCtx(ctx); err != nil {
		return err
	}
	if !jmsg.ValidUsername(username) {
		return jmsg.E(jmsg.SDKParamUsernameInvalid)
	}
	if !jmsg.ValidPassword(password) {
		return jmsg.E(jmsg.SDKParamPasswordInvalid)
	}
	return c.login(ctx, wire.LoginReq{Username: username, Password: password})
}

// LoginWithToken logs in with the token of an earlier login (Token), so
// that a program can keep a session without keeping the password. Errors
// as Login; an unknown or expired token is 801004.
func (c *Client) LoginWithToken(ctx context.Context, username, token string) error {
	if err := checkCtx(ctx); err != nil {
		return err
	}
	if !jmsg.ValidUsername(username) {
		return jmsg.E(jmsg.SDKParamUsernameInvalid)
	}
	if token == "" {
		return jmsg.E(jmsg.SDKParamPasswordInvalid)
	}
	return c.login(ctx, wire.LoginReq{Username: username, Token: token})
}

func (c *Client) login(ctx context.Context, req wire.LoginReq) error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return jmsg.Errorf(jmsg.SDKParamInternalInvalid, "client is closed")
	}
	if c.state != loggedOut {
		c.mu.Unlock()
		return jmsg.E(jmsg.SDKUserInvalidState)
	}
	c.state = loggingIn
	c.mu.Unlock()
	s, err := c.startSession(ctx, req)
	c.mu.Lock()
	if err != nil {
		c.state = loggedOut
		c.mu.Unlock()
		return err
	}
	if c.closed { // Close ran while logging in
		c.state = loggedOut
		c.mu.Unlock()
		s.stop()
		return jmsg.Errorf(jmsg.SDKParamInternalInvalid, "client is closed")
	}
	c.sess, c.state = s, loggedIn
	c.mu.Unlock()
	return nil
}

func (c *Client) startSession(ctx context.Context, req wire.LoginReq) (*session, error) {
	if err := c.ensureDir(req.Username); err != nil {
		return nil, jmsg.Wrap(jmsg.SDKUnknownError, err) // an I/O failure outside the database
	}
	db, err := localstore.Open(ctx, c.DatabasePath(req.Username))
	if err != nil {
		return nil, jmsg.Wrap(jmsg.SDKDBMigrateFailed, err)
	}
	sctx, cancel := context.WithCancel(context.Background())
	s := &session{c: c, db: db, username: req.Username, ctx: sctx, cancel: cancel, done: make(chan struct{}), outbox: newOutbox()}
	s.noteOffline(ctx) // before this session stores anything
	tr, resp, err := c.connectAndLogin(ctx, req, s.onPush)
	if err != nil {
		cancel()
		db.Close()
		return nil, err
	}
	s.me, s.token = resp.User, resp.Token
	s.recheck.connected(resp.ServerTime)
	if s.token == "" {
		s.token = req.Token
	}
	s.start(tr)
	return s, nil
}

// Logout ends the session on the server and locally. Errors: 861101,
// 863004 (not logged in), 863006 (a login is under way).
func (c *Client) Logout(ctx context.Context) error {
	if err := checkCtx(ctx); err != nil {
		return err
	}
	c.mu.Lock()
	switch c.state {
	case loggedOut:
		c.mu.Unlock()
		return jmsg.E(jmsg.SDKUserNotLogin)
	case loggingIn, loggingOut:
		c.mu.Unlock()
		return jmsg.E(jmsg.SDKUserInvalidState)
	}
	s := c.sess
	c.state = loggingOut
	c.mu.Unlock()
	err := s.call(ctx, wire.OpLogout, struct{}{}, nil)
	s.stop()
	c.mu.Lock()
	c.sess, c.state = nil, loggedOut
	c.mu.Unlock()
	var je *jmsg.Error
	if err != nil && errors.As(err, &je) && je.Code == jmsg.SDKNetworkOtherError {
		return nil // logged out locally; the server ends the session with the connection
	}
	return err
}

// Token returns the login token of the current session ("" when logged
// out), for LoginWithToken.
func (c *Client) Token() string {
	s, err := c.session()
	if err != nil {
		return ""
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.token
}

// MyInfo returns the logged-in user's profile as of login or the last
// update, or nil when logged out.
func (c *Client) MyInfo() *jmsg.UserInfo {
	s, err := c.session()
	if err != nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	me := s.me
	return &me
}

// UserInfo returns the profiles of users of the app, in order. Errors:
// 861101, 863001 (an invalid username), 863004, 863005 (more than 500),
// 898002 (some user does not exist; the message names them).
func (c *Client) UserInfo(ctx context.Context, usernames ...string) ([]jmsg.UserInfo, error) {
	if err := checkCtx(ctx); err != nil {
		return nil, err
	}
	if len(usernames) == 0 {
		return nil, jmsg.Errorf(jmsg.SDKParamInternalInvalid, "no usernames")
	}
	if len(usernames) > jmsg.BatchUsernamesMax {
		return nil, jmsg.E(jmsg.SDKUserNumberOverflow)
	}
	for _, u := range usernames {
		if !jmsg.ValidUsername(u) {
			return nil, jmsg.E(jmsg.SDKParamUsernameInvalid)
		}
	}
	s, err := c.session()
	if err != nil {
		return nil, err
	}
	var resp wire.UserInfoResp
	if err := s.call(ctx, wire.OpUserInfo, wire.UserInfoReq{Usernames: usernames}, &resp); err != nil {
		return nil, err
	}
	if len(resp.Users) != len(usernames) {
		return nil, jmsg.Errorf(jmsg.SDKNetworkResultUnexpected, "asked for %d users, got %d", len(usernames), len(resp.Users))
	}
	return resp.Users, nil
}

// UserField names a profile field for UpdateMyInfo.
type UserField string

// Profile fields.
const (
	FieldNickname  UserField = "nickname"
	FieldAvatar    UserField = "avatar"
	FieldGender    UserField = "gender"
	FieldBirthday  UserField = "birthday"
	FieldSignature UserField = "signature"
	FieldRegion    UserField = "region"
	FieldAddress   UserField = "address"
	FieldExtras    UserField = "extras"
)

// UpdateMyInfo sets the listed fields of the current user's profile to the
// values in info; other fields keep their value. Errors: 861101 (no fields),
// 863004, 898003 (a value breaks its rule).
func (c *Client) UpdateMyInfo(ctx context.Context, info jmsg.UserInfo, fields ...UserField) error {
	if err := checkCtx(ctx); err != nil {
		return err
	}
	if len(fields) == 0 {
		return jmsg.Errorf(jmsg.SDKParamInternalInvalid, "no fields")
	}
	s, err := c.session()
	if err != nil {
		return err
	}
	req := wire.UpdateMyInfoReq{Info: info}
	for _, f := range fields {
		req.Fields = append(req.Fields, string(f))
	}
	var me jmsg.UserInfo
	if err := s.call(ctx, wire.OpUpdateMyInfo, req, &me); err != nil {
		return err
	}
	s.mu.Lock()
	s.me = me
	s.mu.Unlock()
	return nil
}

// UpdatePassword changes the current user's password. Every login token
// issued before is revoked (other sessions cannot reconnect with theirs);
// this session gets a new one (see Token). Errors: 861101, 863002 (new
// password breaks the rule), 863004, 898004 (old password wrong).
func (c *Client) UpdatePassword(ctx context.Context, oldPassword, newPassword string) error {
	if err := checkCtx(ctx); err != nil {
		return err
	}
	if !jmsg.ValidPassword(newPassword) {
		return jmsg.E(jmsg.SDKParamPasswordInvalid)
	}
	s, err := c.session()
	if err != nil {
		return err
	}
	var resp wire.UpdatePasswordResp
	if err := s.call(ctx, wire.OpUpdatePassword, wire.UpdatePasswordReq{Old: oldPassword, New: newPassword}, &resp); err != nil {
		return err
	}
	if resp.Token == "" {
		return jmsg.Errorf(jmsg.SDKNetworkResultUnexpected, "update_password response without token")
	}
	s.mu.Lock()
	s.token = resp.Token // the server revoked every earlier token
	s.mu.Unlock()
	return nil
}
