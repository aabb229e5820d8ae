package server

import (
	"context"
	"sync"

	"github.com/jmsg-im/jmsg/server/store"
)

// userCache maps (app, username) to uid for the hot path: every send names
// its target by username. Usernames never change; a user that is deleted
// must be forgotten (forget). It holds at most max entries and starts over
// when full. Safe for concurrent use.
type userCache struct {
	st  store.Users
	max int

	mu sync.RWMutex // guards m
	m  map[string]int64
}

func newUserCache(st store.Users, max int) *userCache {
	return &userCache{st: st, max: max, m: make(map[string]int64)}
}

// uid returns the uid of username in appKey; store.ErrNotFound if none.
// Unknown names are not cached, so a user registered later is found.
func (c *userCache) uid(ctx context.Context, appKey, username string) (int64, error) {
	key := appKey + "\x00" + username
	c.mu.RLock()
	uid, ok := c.m[key]
	c.mu.RUnlock()
	if ok {
		return uid, nil
	}
	u, err := c.st.UserByName(ctx, appKey, username)
	if err != nil {
		return 0, err
	}
	c.mu.Lock()
	if len(c.m) >= c.max {
		clear(c.m)
	}
	c.m[key] = u.UID
	c.mu.Unlock()
	return u.UID, nil
}

// forget drops a user (deleted).
func (c *userCache) forget(appKey, username string) {
	c.mu.Lock()
	delete(c.m, appKey+"\x00"+username)
	c.mu.Unlock()
}
