package server

import (
	"errors"
	"slices"
	"time"

	"github.com/jmsg-im/jmsg"
	"github.com/jmsg-im/jmsg/server/store"
	"github.com/jmsg-im/jmsg/wire"
)

func handleInit(c *conn, f *wire.Frame) (any, error) {
	var req wire.InitReq
	if err := wire.DecodeData(f, &req); err != nil {
		return nil, err
	}
	if c.appKey != "" {
		return nil, jmsg.Errorf(jmsg.ServerInvalidRequest, "init was already done")
	}
	if req.Version != wire.Version {
		return nil, jmsg.WithMessage(jmsg.ServerInvalidRequest, "unsupported protocol version")
	}
	if !jmsg.ValidAppKey(req.AppKey) {
		return nil, jmsg.E(jmsg.TcpAppkeyNotRegistered)
	}
	if _, err := c.s.store.App(c.ctx, req.AppKey); errors.Is(err, store.ErrNotFound) {
		return nil, jmsg.E(jmsg.TcpAppkeyNotRegistered)
	} else if err != nil {
		return nil, err
	}
	switch req.Platform {
	case "":
		req.Platform = wire.PlatformWindows
	case wire.PlatformAndroid, wire.PlatformIOS, wire.PlatformWeb, wire.PlatformWindows:
	default:
		return nil, jmsg.WithMessage(jmsg.ServerInvalidRequest, "unknown platform")
	}
	c.appKey, c.platform = req.AppKey, req.Platform
	return wire.InitResp{Version: wire.Version, ServerTime: time.Now().UnixMilli(), MaxFrame: c.s.cfg.MaxFrameBytes}, nil
}

func handlePing(c *conn, f *wire.Frame) (any, error) { return nil, nil }

// paramInvalid is the SDK-service code for a field that breaks its rule.
// The message stays JMessage's exact text; the field is kept as the cause
// for the server's log.
func paramInvalid(field string) error {
	return jmsg.Errorf(jmsg.HttpPrameterInvalid, "invalid %s", field)
}

func handleRegister(c *conn, f *wire.Frame) (any, error) {
	var req wire.RegisterReq
	if err := wire.DecodeData(f, &req); err != nil {
		return nil, err
	}
	if !jmsg.ValidUsername(req.Username) {
		return nil, paramInvalid("username")
	}
	if !jmsg.ValidPassword(req.Password) {
		return nil, paramInvalid("password")
	}
	if field := req.ProfileError(); field != "" {
		return nil, paramInvalid(field)
	}
	hash, err := hashPassword(req.Password, c.s.cfg.BcryptCost)
	if err != nil {
		return nil, err
	}
	info := req.UserInfo
	info.UID, info.CTime, info.MTime = 0, 0, 0
	_, err = c.s.store.CreateUser(c.ctx, c.appKey, store.User{UserInfo: info, PasswordHash: hash})
	if errors.Is(err, store.ErrExists) {
		return nil, jmsg.E(jmsg.HttpUserExist)
	}
	return nil, err
}

func handleLogin(c *conn, f *wire.Frame) (any, error) {
	var req wire.LoginReq
	if err := wire.DecodeData(f, &req); err != nil {
		return nil, err
	}
	if c.kicked.Load() {
		return nil, jmsg.E(jmsg.TcpUserOfflineState) // the connection is closing
	}
	if c.uid != 0 {
		return nil, jmsg.WithMessage(jmsg.ServerInvalidRequest, "already logged in on this connection")
	}
	if !jmsg.ValidUsername(req.Username) {
		return nil, jmsg.E(jmsg.TcpUserNotRegistered)
	}
	limitKey := c.appKey + "/" + req.Username
	if c.s.loginLimit.exceeded(limitKey, time.Now()) {
		return nil, jmsg.E(jmsg.ServerFrequencyLimit)
	}
	u, err := c.s.store.UserByName(c.ctx, c.appKey, req.Username)
	if errors.Is(err, store.ErrNotFound) {
		return nil, jmsg.E(jmsg.TcpUserNotRegistered)
	} else if err != nil {
		return nil, err
	}
	now := time.Now().UnixMilli()
	var token string
	var tokenHash []byte
	if req.Token != "" {
		tokenHash = hashToken(req.Token)
		uid, err := c.s.store.TokenUser(c.ctx, c.appKey, tokenHash, now)
		if errors.Is(err, store.ErrNotFound) || uid != u.UID {
			c.s.loginLimit.allow(limitKey, time.Now())
			return nil, jmsg.E(jmsg.TcpUserPasswordError)
		} else if err != nil {
			return nil, err
		}
	} else {
		if !checkPassword(u.PasswordHash, req.Password) {
			c.s.loginLimit.allow(limitKey, time.Now())
			return nil, jmsg.E(jmsg.TcpUserPasswordError)
		}
		token = newToken()
		tokenHash = hashToken(token)
		if err := c.s.store.PutToken(c.ctx, c.appKey, u.UID, tokenHash, now+tokenTTL.Milliseconds()); err != nil {
			return nil, err
		}
	}
	if u.Disabled {
		return nil, jmsg.E(jmsg.TcpUserDisabled)
	}
	devs, err := c.s.devices.list(c.ctx, c.appKey, u.UID)
	if err != nil {
		return nil, err
	}
	c.s.devices.touch(c.appKey, u.UID, c.platform, now)
	c.uid, c.username, c.tokenHash = u.UID, u.Username, tokenHash
	old := c.s.hub.bind(c, u.UID, c.platform)
	resp := wire.LoginResp{User: u.UserInfo, ServerTime: now, Token: token}
	for _, d := range devs {
		resp.Devices = append(resp.Devices, wire.Device{
			Platform: d.Platform, MTime: d.MTimeMs,
			Online: d.Platform != c.platform && platformOnline(c.s.hub, u.UID, d.Platform),
			Kicked: d.Platform == c.platform && old != nil,
		})
	}
	if old != nil {
		old.kick()
	}
	return resp, nil
}

func platformOnline(h *hub, uid int64, platform string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.platform[deviceKey{uid, platform}] != nil
}

// handleLogout ends the session and revokes the token it logged in with
// (or was issued), so that token cannot log in again.
func handleLogout(c *conn, f *wire.Frame) (any, error) {
	if err := c.s.store.DeleteTokens(c.ctx, c.appKey, c.uid, c.tokenHash); err != nil {
		return nil, err
	}
	c.s.hub.unbind(c, c.uid, c.platform)
	c.uid, c.username, c.tokenHash = 0, "", nil
	return nil, nil
}

func handleMyInfo(c *conn, f *wire.Frame) (any, error) {
	u, err := c.s.store.UserByName(c.ctx, c.appKey, c.username)
	if err != nil {
		return nil, err
	}
	return u.UserInfo, nil
}

func handleUserInfo(c *conn, f *wire.Frame) (any, error) {
	var req wire.UserInfoReq
	if err := wire.DecodeData(f, &req); err != nil {
		return nil, err
	}
	if len(req.Usernames) == 0 {
		return nil, paramInvalid("usernames")
	}
	if len(req.Usernames) > jmsg.BatchUsernamesMax {
		return nil, jmsg.E(jmsg.SDKUserNumberOverflow)
	}
	resp := wire.UserInfoResp{Users: make([]jmsg.UserInfo, 0, len(req.Usernames))}
	var missing []string
	for _, name := range req.Usernames {
		if !jmsg.ValidUsername(name) {
			missing = append(missing, name)
			continue
		}
		u, err := c.s.store.UserByName(c.ctx, c.appKey, name)
		if errors.Is(err, store.ErrNotFound) {
			missing = append(missing, name)
			continue
		} else if err != nil {
			return nil, err
		}
		resp.Users = append(resp.Users, u.UserInfo)
	}
	if len(missing) > 0 {
		return nil, jmsg.WithMessage(jmsg.HttpUserNotExist, noSuchUser(missing))
	}
	return resp, nil
}

// noSuchUser is 898002's message naming the missing users.
func noSuchUser(names []string) string {
	msg := jmsg.MessageOf(jmsg.HttpUserNotExist) + ": "
	for i, n := range names {
		if i > 0 {
			msg += ","
		}
		msg += n
	}
	return msg
}

// profileFields are the names UpdateMyInfoReq.Fields may hold.
var profileFields = []string{"nickname", "avatar", "gender", "birthday", "signature", "region", "address", "extras"}

func handleUpdateMyInfo(c *conn, f *wire.Frame) (any, error) {
	var req wire.UpdateMyInfoReq
	if err := wire.DecodeData(f, &req); err != nil {
		return nil, err
	}
	if len(req.Fields) == 0 {
		return nil, paramInvalid("fields")
	}
	u, err := c.s.store.UserByName(c.ctx, c.appKey, c.username)
	if err != nil {
		return nil, err
	}
	info := u.UserInfo
	for _, field := range req.Fields {
		if !slices.Contains(profileFields, field) {
			return nil, paramInvalid(field)
		}
		in := req.Info
		switch field {
		case "nickname":
			info.Nickname = in.Nickname
		case "avatar":
			if err := c.checkAvatar(in.Avatar); err != nil {
				return nil, err
			}
			info.Avatar = in.Avatar
		case "gender":
			info.Gender = in.Gender
		case "birthday":
			info.Birthday = in.Birthday
		case "signature":
			info.Signature = in.Signature
		case "region":
			info.Region = in.Region
		case "address":
			info.Address = in.Address
		case "extras":
			info.Extras = in.Extras
		}
	}
	if field := info.ProfileError(); field != "" {
		return nil, paramInvalid(field)
	}
	return c.s.store.UpdateProfile(c.ctx, c.appKey, c.uid, info)
}

func handleUpdatePassword(c *conn, f *wire.Frame) (any, error) {
	var req wire.UpdatePasswordReq
	if err := wire.DecodeData(f, &req); err != nil {
		return nil, err
	}
	if !jmsg.ValidPassword(req.New) {
		return nil, paramInvalid("new_password")
	}
	u, err := c.s.store.UserByName(c.ctx, c.appKey, c.username)
	if err != nil {
		return nil, err
	}
	if !checkPassword(u.PasswordHash, req.Old) {
		return nil, jmsg.E(jmsg.HttpPasswordError)
	}
	hash, err := hashPassword(req.New, c.s.cfg.BcryptCost)
	if err != nil {
		return nil, err
	}
	// Every token issued before is revoked with the change; this session
	// gets a new one.
	if err := c.s.store.SetPassword(c.ctx, c.appKey, c.uid, hash); err != nil {
		return nil, err
	}
	token := newToken()
	c.tokenHash = hashToken(token)
	if err := c.s.store.PutToken(c.ctx, c.appKey, c.uid, c.tokenHash, time.Now().Add(tokenTTL).UnixMilli()); err != nil {
		return nil, err
	}
	return wire.UpdatePasswordResp{Token: token}, nil
}
