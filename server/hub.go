package server

import (
	"sync"
)

// hub knows which sessions are online: every logged-in connection, by user
// and by (user, platform). One session per platform per user: binding a
// second connection on the same platform returns the first so the caller can
// kick it.
type hub struct {
	mu       sync.Mutex          // guards the two maps
	users    map[int64][]*conn   // uid → its sessions
	platform map[deviceKey]*conn // (uid, platform) → its session
}

type deviceKey struct {
	uid      int64
	platform string
}

func newHub() *hub {
	return &hub{users: map[int64][]*conn{}, platform: map[deviceKey]*conn{}}
}

// bind registers c as the session of uid on platform and returns the
// session it replaces, if any. The replaced session is unbound.
func (h *hub) bind(c *conn, uid int64, platform string) (old *conn) {
	h.mu.Lock()
	defer h.mu.Unlock()
	k := deviceKey{uid, platform}
	old = h.platform[k]
	if old != nil {
		h.removeLocked(old, uid)
	}
	h.platform[k] = c
	h.users[uid] = append(h.users[uid], c)
	return old
}

// unbind removes c if it is still bound as uid's session on platform.
func (h *hub) unbind(c *conn, uid int64, platform string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	k := deviceKey{uid, platform}
	if h.platform[k] == c {
		delete(h.platform, k)
	}
	h.removeLocked(c, uid)
}

func (h *hub) removeLocked(c *conn, uid int64) {
	list := h.users[uid]
	for i, x := range list {
		if x == c {
			list = append(list[:i:i], list[i+1:]...)
			break
		}
	}
	if len(list) == 0 {
		delete(h.users, uid)
	} else {
		h.users[uid] = list
	}
}

// sessions appends uid's online sessions to dst.
func (h *hub) sessions(dst []*conn, uid int64) []*conn {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append(dst, h.users[uid]...)
}

// count returns the number of bound sessions.
func (h *hub) count() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.platform)
}
