package rest

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/jmsg-im/jmsg/server/store/sqlite"
)

// TestCursorExpiry: a cursor is good until its expiry and refused after,
// and only as issued.
func TestCursorExpiry(t *testing.T) {
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "jmsg.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	a := New(nil, st, Config{})
	now := time.Now()
	c := reportCursor{App: "app", Scope: "app", FromMs: 1, ToMs: 2, PosMs: 3, PosID: 4, Count: 5, Total: 6, Expires: now.Add(cursorTTL).Unix()}
	s, err := a.encodeCursor(t.Context(), c)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		cursor string
		at     time.Time
		ok     bool
	}{
		{s, now, true},
		{s, now.Add(cursorTTL), true},
		{s, now.Add(cursorTTL + time.Second), false},
		{s[:len(s)-1], now, false},
		{"", now, false},
		{"e30.", now, false},
	} {
		got, ok, err := a.decodeCursor(t.Context(), tc.cursor, tc.at)
		if err != nil || ok != tc.ok || ok && got != c {
			t.Errorf("decodeCursor(%q, %v after issue) = %+v, %v, %v; want ok %v", tc.cursor, tc.at.Sub(now), got, ok, err, tc.ok)
		}
	}
}
