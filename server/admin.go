package server

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/jmsg-im/jmsg"
	"github.com/jmsg-im/jmsg/server/store"
	"github.com/jmsg-im/jmsg/wire"
)

// The engine's operations for app back-ends (the REST API): the same
// rules and effects on online clients as the client protocol's. Errors
// are *jmsg.Error with the client protocol's codes, or store.ErrExists /
// store.ErrNotFound; the REST layer maps them to its own codes.

// RegisterUser creates a user with password (hashed as a client
// registration's is); admin makes an admin account. It returns
// store.ErrExists when the username is taken.
func (s *Server) RegisterUser(ctx context.Context, appKey string, info jmsg.UserInfo, password string, admin bool) (jmsg.UserInfo, error) {
	if !jmsg.ValidUsername(info.Username) {
		return info, paramInvalid("username")
	}
	if !jmsg.ValidPassword(password) {
		return info, paramInvalid("password")
	}
	if field := info.ProfileError(); field != "" {
		return info, paramInvalid(field)
	}
	hash, err := hashPassword(password, s.cfg.BcryptCost)
	if err != nil {
		return info, err
	}
	info.UID, info.CTime, info.MTime = 0, 0, 0
	return s.store.CreateUser(ctx, appKey, store.User{UserInfo: info, PasswordHash: hash, Admin: admin})
}

// SetUserPassword replaces uid's password. Every token of the user is
// revoked and every online session gets event 2 (password changed on the
// server) and is closed.
func (s *Server) SetUserPassword(ctx context.Context, appKey string, uid int64, password string) error {
	if !jmsg.ValidPassword(password) {
		return paramInvalid("password")
	}
	hash, err := hashPassword(password, s.cfg.BcryptCost)
	if err != nil {
		return err
	}
	if err := s.store.SetPassword(ctx, appKey, uid, hash); err != nil {
		return err
	}
	s.kickAll(uid, wire.EventPush{EventType: wire.EventServerAlterPassword, CTimeMs: time.Now().UnixMilli()})
	return nil
}

// SetUserDisabled disables or enables uid. A disabled user cannot log in
// (801006); their online sessions get event 1 with extra 1 and are closed.
func (s *Server) SetUserDisabled(ctx context.Context, appKey string, uid int64, disabled bool) error {
	if err := s.store.SetDisabled(ctx, appKey, uid, disabled); err != nil {
		return err
	}
	if disabled {
		s.kickAll(uid, wire.EventPush{EventType: wire.EventLoginKicked, Extra: wire.KickedUserDisabled, CTimeMs: time.Now().UnixMilli()})
	}
	return nil
}

// DeleteUser removes a user: it leaves every group (ownership passes on,
// a group left empty is dissolved, with the usual events), its online
// sessions get event 1 with extra 2 and are closed, and its username is
// freed. Messages it sent stay in history.
func (s *Server) DeleteUser(ctx context.Context, appKey string, uid int64, username string) error {
	groups, err := s.store.UserGroups(ctx, appKey, uid)
	if err != nil {
		return err
	}
	for _, g := range groups {
		if g.Dissolved {
			continue
		}
		_, err := s.Do(ctx, appKey, username, wire.OpExitGroup, wire.GroupReq{GID: g.GID}, ActOptions{})
		if code := jmsg.CodeOf(err); err != nil && code != jmsg.ServerRequestUserNotInGroup && code != jmsg.ServerGroupIDNotExist {
			return err
		}
	}
	if err := s.store.DeleteUser(ctx, appKey, uid); err != nil {
		return err
	}
	if err := s.dropUserSocial(ctx, appKey, uid); err != nil {
		return err
	}
	s.users.forget(appKey, username)
	s.kickAll(uid, wire.EventPush{EventType: wire.EventLoginKicked, Extra: wire.KickedUserDeleted, CTimeMs: time.Now().UnixMilli()})
	return nil
}

// UpdateUserProfile replaces uid's profile fields (not the username).
func (s *Server) UpdateUserProfile(ctx context.Context, appKey string, uid int64, info jmsg.UserInfo) (jmsg.UserInfo, error) {
	if field := info.ProfileError(); field != "" {
		return info, paramInvalid(field)
	}
	return s.store.UpdateProfile(ctx, appKey, uid, info)
}

// kickAll ends every online session of uid with ev.
func (s *Server) kickAll(uid int64, ev wire.EventPush) {
	for _, c := range s.hub.sessions(nil, uid) {
		c.kickWith(ev)
	}
}

// DeviceStatus is a user's state on one platform: Login while the user
// holds a session there that did not log out (a valid token and a device
// record), Online while a connection of that session is up.
type DeviceStatus struct {
	Platform string
	Login    bool
	Online   bool
}

// DeviceStatuses returns uid's state per platform it ever logged in on,
// in platform order.
func (s *Server) DeviceStatuses(ctx context.Context, appKey string, uid int64) ([]DeviceStatus, error) {
	devs, err := s.devices.list(ctx, appKey, uid)
	if err != nil {
		return nil, err
	}
	tokens, err := s.store.HasTokens(ctx, appKey, uid, time.Now().UnixMilli())
	if err != nil {
		return nil, err
	}
	out := make([]DeviceStatus, 0, len(devs))
	for _, d := range devs {
		online := platformOnline(s.hub, uid, d.Platform)
		out = append(out, DeviceStatus{Platform: d.Platform, Online: online, Login: online || tokens})
	}
	slices.SortFunc(out, func(a, b DeviceStatus) int { return strings.Compare(a.Platform, b.Platform) })
	return out, nil
}

// IsParamInvalid reports whether err is a rule broken by a request's
// parameter (898003 with the field named), which the REST API answers
// with 899003.
func IsParamInvalid(err error) bool {
	var je *jmsg.Error
	return errors.As(err, &je) && je.Code == jmsg.HttpPrameterInvalid
}
