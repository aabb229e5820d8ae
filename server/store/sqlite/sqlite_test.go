package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jmsg-im/jmsg"
	"github.com/jmsg-im/jmsg/server/store"
	"github.com/jmsg-im/jmsg/server/store/storetest"
)

func openTemp(t testing.TB) (*Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "jmsg.db")
	s, err := Open(t.Context(), path)
	if err != nil {
		t.Fatalf("Open(%s) = %v", path, err)
	}
	return s, path
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		s, _ := openTemp(t)
		return s
	})
}

const testApp = "aaaaaaaaaaaaaaaaaaaaaaa1"

func TestReopen(t *testing.T) {
	ctx := t.Context()
	s, path := openTemp(t)
	if err := s.CreateApp(ctx, store.App{AppKey: testApp, MasterSecret: testApp, CTimeMs: 1}); err != nil {
		t.Fatal(err)
	}
	var uids []int64
	for _, name := range []string{"alice", "bobby"} {
		u, err := s.CreateUser(ctx, testApp, store.User{UserInfo: jmsg.UserInfo{Username: name}, PasswordHash: []byte("h")})
		if err != nil {
			t.Fatal(err)
		}
		uids = append(uids, u.UID)
	}
	res, err := s.Append(ctx, []store.NewMessage{
		{AppKey: testApp, SenderUID: uids[0], TargetUID: uids[1], ClientMsgID: "c1", CTimeMs: 5, Content: []byte(`{"n":1}`)},
		{AppKey: testApp, SenderUID: uids[1], TargetUID: uids[0], ClientMsgID: "c2", CTimeMs: 6, Content: []byte(`{"n":2}`)},
	})
	if err != nil {
		t.Fatal(err)
	}
	_, before, _, err := s.Changes(ctx, testApp, uids[0], store.Cursor{}, 10)
	if err != nil {
		t.Fatal(err)
	}
	lsnBefore := before.LSN
	if err := s.Close(); err != nil {
		t.Fatalf("Close() = %v", err)
	}

	s, err = Open(ctx, path)
	if err != nil {
		t.Fatalf("reopening %s: %v", path, err)
	}
	defer s.Close()
	if _, err := s.App(ctx, testApp); err != nil {
		t.Errorf("App() after reopen = %v", err)
	}
	u, err := s.UserByName(ctx, testApp, "bobby")
	if err != nil || u.UID != uids[1] {
		t.Errorf("UserByName(bobby) after reopen = %+v, %v; want uid %d", u, err, uids[1])
	}
	ch, cur, _, err := s.Changes(ctx, testApp, uids[1], store.Cursor{}, 10)
	if err != nil || len(ch) != 1 || ch[0].LastSeq != 2 || cur.LSN != lsnBefore || cur.LSN == 0 {
		t.Errorf("Changes(bobby) after reopen = %+v, cursor %+v, %v; want the conversation at seq 2, cursor %d", ch, cur, err, lsnBefore)
	}
	msgs, _, err := s.History(ctx, testApp, res[0].ConvID, 0, 0, 10)
	if err != nil || len(msgs) != 2 || string(msgs[1].Content) != `{"n":2}` {
		t.Errorf("History() after reopen = %+v, %v; want both messages", msgs, err)
	}
	// Numbering goes on where it stopped; a retry is still recognised.
	more, err := s.Append(ctx, []store.NewMessage{
		{AppKey: testApp, SenderUID: uids[0], TargetUID: uids[1], ClientMsgID: "c1", CTimeMs: 7, Content: []byte(`{}`)},
		{AppKey: testApp, SenderUID: uids[0], TargetUID: uids[1], ClientMsgID: "c3", CTimeMs: 8, Content: []byte(`{}`)},
	})
	if err != nil || !more[0].Duplicate || more[0].MsgID != res[0].MsgID || more[1].Seq != 3 {
		t.Errorf("Append() after reopen = %+v, %v; want the retry recognised and seq 3", more, err)
	}
	// The LSN goes on too: a client's cursor from before the restart sees
	// the new change.
	ch, _, _, err = s.Changes(ctx, testApp, uids[0], store.Cursor{LSN: lsnBefore}, 10)
	if err != nil || len(ch) != 1 || ch[0].LastSeq != 3 || ch[0].LSN <= lsnBefore {
		t.Errorf("Changes(alice, %d) after reopen and a message = %+v, %v; want the conversation at seq 3 with a later LSN", lsnBefore, ch, err)
	}
}

func TestOpenRefusesNewerSchema(t *testing.T) {
	s, path := openTemp(t)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	setUserVersion(t, path, len(migrations)+1)
	s, err := Open(t.Context(), path)
	if err == nil {
		s.Close()
		t.Fatalf("Open(database of schema %d) succeeded, want it refused", len(migrations)+1)
	}
	if !strings.Contains(err.Error(), "newer") {
		t.Errorf("Open(newer schema) = %v, want an error saying the schema is newer", err)
	}
	// The refusal left the database alone.
	if v := userVersion(t, path); v != len(migrations)+1 {
		t.Errorf("schema version after a refused Open = %d, want %d", v, len(migrations)+1)
	}
}

// TestOpenMigratesEverySchema builds, for every migration N, a database
// of schema N-1 as an older jmsgd left it, and checks that Open brings it
// to the newest schema and that it works. (With one migration, the only
// older database is the empty one.)
func TestOpenMigratesEverySchema(t *testing.T) {
	for n := 1; n <= len(migrations); n++ {
		t.Run("from "+itoa(n-1), func(t *testing.T) {
			ctx := t.Context()
			path := filepath.Join(t.TempDir(), "old.db")
			db := rawDB(t, path)
			for v := range n - 1 {
				if _, err := db.ExecContext(ctx, migrations[v]); err != nil {
					t.Fatalf("migration %d: %v", v+1, err)
				}
			}
			if _, err := db.ExecContext(ctx, `PRAGMA user_version = `+itoa(n-1)); err != nil {
				t.Fatal(err)
			}
			db.Close()

			s, err := Open(ctx, path)
			if err != nil {
				t.Fatalf("Open(schema %d database) = %v", n-1, err)
			}
			defer s.Close()
			if v := userVersionOf(t, s.r); v != len(migrations) {
				t.Errorf("schema version after Open = %d, want %d", v, len(migrations))
			}
			if err := s.CreateApp(ctx, store.App{AppKey: testApp, MasterSecret: testApp, CTimeMs: 1}); err != nil {
				t.Fatal(err)
			}
			a, err := s.CreateUser(ctx, testApp, store.User{UserInfo: jmsg.UserInfo{Username: "alice"}, PasswordHash: []byte("h")})
			if err != nil {
				t.Fatal(err)
			}
			b, err := s.CreateUser(ctx, testApp, store.User{UserInfo: jmsg.UserInfo{Username: "bobby"}, PasswordHash: []byte("h")})
			if err != nil {
				t.Fatal(err)
			}
			res, err := s.Append(ctx, []store.NewMessage{
				{AppKey: testApp, SenderUID: a.UID, TargetUID: b.UID, ClientMsgID: "c1", CTimeMs: 1, Content: []byte(`{}`)},
				{AppKey: testApp, SenderUID: a.UID, TargetUID: b.UID, ClientMsgID: "c1", CTimeMs: 2, Content: []byte(`{}`)},
				{AppKey: testApp, SenderUID: a.UID, TargetUID: b.UID, CTimeMs: 3, Content: []byte(`{}`)},
				{AppKey: testApp, SenderUID: a.UID, TargetUID: b.UID, CTimeMs: 4, Content: []byte(`{}`)},
			})
			if err != nil || res[0].Duplicate || !res[1].Duplicate || res[2].Seq != 2 || res[3].Seq != 3 {
				t.Fatalf("Append() after migration = %+v, %v; want cid c1 once, then seq 2 and 3 without cid", res, err)
			}
			ch, cur, more, err := s.Changes(ctx, testApp, b.UID, store.Cursor{}, 10)
			if err != nil || len(ch) != 1 || more || ch[0].LastSeq != 3 || cur != (store.Cursor{LSN: ch[0].LSN}) || cur.LSN == 0 {
				t.Errorf("Changes() after migration = %+v, %+v, %v, %v; want the conversation at seq 3", ch, cur, more, err)
			}
			if err := s.SetDelivered(ctx, testApp, []store.Delivery{{UID: b.UID, ConvID: res[0].ConvID, Seq: 2}}); err != nil {
				t.Fatal(err)
			}
			if seq, err := s.Delivered(ctx, testApp, res[0].ConvID, b.UID); err != nil || seq != 2 {
				t.Errorf("Delivered() after migration = %d, %v; want 2", seq, err)
			}
		})
	}
}

// TestMigrationsApplyOnce checks that reopening a database of the newest
// schema runs no migration again (they would fail: tables exist).
func TestMigrationsApplyOnce(t *testing.T) {
	s, path := openTemp(t)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		s, err := Open(t.Context(), path)
		if err != nil {
			t.Fatalf("reopening a database of the newest schema: %v", err)
		}
		s.Close()
	}
	if v := userVersion(t, path); v != len(migrations) {
		t.Errorf("schema version = %d, want %d", v, len(migrations))
	}
}

// TestOpenSpecialPath checks that the data file is where the path says
// even when the path holds characters that mean something in a URI.
func TestOpenSpecialPath(t *testing.T) {
	ctx := t.Context()
	for _, dir := range []string{"a?b", "c#d", "e%3f", "f%", "g&mode=ro", "h i", "j?mode=memory#x"} {
		t.Run(dir, func(t *testing.T) {
			base := t.TempDir()
			full := filepath.Join(base, dir)
			if err := os.Mkdir(full, 0o755); err != nil {
				t.Skipf("cannot create a directory named %q here: %v", dir, err)
			}
			path := filepath.Join(full, "jmsg.db")
			s, err := Open(ctx, path)
			if err != nil {
				t.Fatalf("Open(%q) = %v", path, err)
			}
			if err := s.CreateApp(ctx, store.App{AppKey: testApp, MasterSecret: testApp, CTimeMs: 1}); err != nil {
				t.Fatal(err)
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			if _, err := os.Stat(path); err != nil {
				t.Errorf("database file not at %q: %v", path, err)
			}
			// Nothing was created beside it under a truncated name.
			entries, _ := os.ReadDir(base)
			if len(entries) != 1 || entries[0].Name() != dir {
				var names []string
				for _, e := range entries {
					names = append(names, e.Name())
				}
				t.Errorf("%s holds %q, want only %q", base, names, dir)
			}
			s, err = Open(ctx, path)
			if err != nil {
				t.Fatalf("reopening %q: %v", path, err)
			}
			defer s.Close()
			if _, err := s.App(ctx, testApp); err != nil {
				t.Errorf("App() after reopening %q = %v, want the app", path, err)
			}
		})
	}
}

func TestAppendIsAtomic(t *testing.T) {
	ctx := t.Context()
	s, _ := openTemp(t)
	defer s.Close()
	if err := s.CreateApp(ctx, store.App{AppKey: testApp, MasterSecret: testApp, CTimeMs: 1}); err != nil {
		t.Fatal(err)
	}
	a, _ := s.CreateUser(ctx, testApp, store.User{UserInfo: jmsg.UserInfo{Username: "alice"}, PasswordHash: []byte("h")})
	b, _ := s.CreateUser(ctx, testApp, store.User{UserInfo: jmsg.UserInfo{Username: "bobby"}, PasswordHash: []byte("h")})
	_, lsnBefore, _, err := s.Changes(ctx, testApp, a.UID, store.Cursor{}, 10)
	if err != nil {
		t.Fatal(err)
	}
	// The second message names a user that does not exist: the batch fails
	// as a whole, the first message is not kept and no LSN is taken.
	_, err = s.Append(ctx, []store.NewMessage{
		{AppKey: testApp, SenderUID: a.UID, TargetUID: b.UID, ClientMsgID: "ok", CTimeMs: 1, Content: []byte(`{}`)},
		{AppKey: testApp, SenderUID: a.UID, TargetUID: 999999, ClientMsgID: "bad", CTimeMs: 2, Content: []byte(`{}`)},
	})
	if err == nil {
		t.Fatal("Append(batch with an unknown target) succeeded, want an error")
	}
	if ch, cur, _, err := s.Changes(ctx, testApp, b.UID, store.Cursor{}, 10); err != nil || len(ch) != 0 || cur != lsnBefore {
		t.Errorf("Changes(bobby) after a failed batch = %+v, cursor %+v, %v; want none and the cursor unchanged at %+v", ch, cur, err, lsnBefore)
	}
	res, err := s.Append(ctx, []store.NewMessage{
		{AppKey: testApp, SenderUID: a.UID, TargetUID: b.UID, ClientMsgID: "ok", CTimeMs: 3, Content: []byte(`{}`)},
	})
	if err != nil || res[0].Duplicate || res[0].Seq != 1 {
		t.Errorf("Append(ok) after the failed batch = %+v, %v; want a new message with seq 1", res, err)
	}
}

func rawDB(t testing.TB, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	return db
}

func setUserVersion(t testing.TB, path string, v int) {
	t.Helper()
	db := rawDB(t, path)
	defer db.Close()
	if _, err := db.Exec(`PRAGMA user_version = ` + itoa(v)); err != nil {
		t.Fatal(err)
	}
}

func userVersion(t testing.TB, path string) int {
	t.Helper()
	db := rawDB(t, path)
	defer db.Close()
	return userVersionOf(t, db)
}

func userVersionOf(t testing.TB, db *sql.DB) int {
	t.Helper()
	var v int
	if err := db.QueryRowContext(context.Background(), `PRAGMA user_version`).Scan(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

func itoa(v int) string {
	if v == 0 {
		return "0"
	}
	var b []byte
	for ; v > 0; v /= 10 {
		b = append([]byte{byte('0' + v%10)}, b...)
	}
	return string(b)
}

var _ = errors.Is
