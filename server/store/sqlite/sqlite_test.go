package sqlite

import (
	"context"
	"database/sql"
	"errors"
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
	if err != nil || u.UID != uids[1] || u.SyncKey != 2 {
		t.Errorf("UserByName(bobby) after reopen = %+v, %v; want uid %d, sync key 2", u, err, uids[1])
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
	if err != nil || !more[0].Duplicate || more[0].MsgID != res[0].MsgID || more[1].Seq != 3 || more[1].Keys[uids[0]] != 3 {
		t.Errorf("Append() after reopen = %+v, %v; want the retry recognised and seq 3, key 3", more, err)
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

func TestOpenMigratesOldSchema(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "old.db")
	// Build a database of schema 1 with data in it, as the first jmsgd did.
	db := rawDB(t, path)
	if _, err := db.ExecContext(ctx, migrations[0]); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`PRAGMA user_version = 1`,
		`INSERT INTO apps VALUES ('` + testApp + `', 's', 'old', 1)`,
		`INSERT INTO users (uid, app_key, username, password, ctime, mtime, sync_key) VALUES (1, '` + testApp + `', 'alice', x'00', 1, 1, 1), (2, '` + testApp + `', 'bobby', x'00', 1, 1, 1)`,
		`INSERT INTO conversations (conv_id, app_key, type, key, last_seq) VALUES (1, '` + testApp + `', 1, 's:1:2', 1)`,
		`INSERT INTO conv_members (conv_id, uid, peer_uid, change_key) VALUES (1, 1, 2, 1), (1, 2, 1, 1)`,
		`INSERT INTO messages (msg_id, conv_id, seq, sender_uid, cid, ctime, content) VALUES (10, 1, 1, 1, 'old-cid', 5, '{}')`,
	} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	db.Close()

	s, err := Open(ctx, path)
	if err != nil {
		t.Fatalf("Open(schema 1 database) = %v", err)
	}
	defer s.Close()
	if v := userVersionOf(t, s.r); v != len(migrations) {
		t.Errorf("schema version after Open = %d, want %d", v, len(migrations))
	}
	msgs, _, err := s.History(ctx, testApp, 1, 0, 0, 10)
	if err != nil || len(msgs) != 1 || msgs[0].MsgID != 10 || msgs[0].ClientMsgID != "old-cid" {
		t.Errorf("History() after migration = %+v, %v; want the old message", msgs, err)
	}
	res, err := s.Append(ctx, []store.NewMessage{
		{AppKey: testApp, SenderUID: 1, TargetUID: 2, ClientMsgID: "old-cid", CTimeMs: 6, Content: []byte(`{}`)},
		{AppKey: testApp, SenderUID: 1, TargetUID: 2, CTimeMs: 7, Content: []byte(`{}`)},
		{AppKey: testApp, SenderUID: 1, TargetUID: 2, CTimeMs: 8, Content: []byte(`{}`)},
	})
	if err != nil || !res[0].Duplicate || res[0].MsgID != 10 || res[1].Seq != 2 || res[2].Seq != 3 || res[2].Keys[1] != 3 {
		t.Errorf("Append() after migration = %+v, %v; want the old cid recognised, then seq 2 and 3", res, err)
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
	// The second message names a user that does not exist: the batch fails
	// as a whole and the first message is not kept.
	_, err := s.Append(ctx, []store.NewMessage{
		{AppKey: testApp, SenderUID: a.UID, TargetUID: b.UID, ClientMsgID: "ok", CTimeMs: 1, Content: []byte(`{}`)},
		{AppKey: testApp, SenderUID: a.UID, TargetUID: 999999, ClientMsgID: "bad", CTimeMs: 2, Content: []byte(`{}`)},
	})
	if err == nil {
		t.Fatal("Append(batch with an unknown target) succeeded, want an error")
	}
	if u, _ := s.UserByName(ctx, testApp, "alice"); u.SyncKey != 0 {
		t.Errorf("alice.SyncKey after a failed batch = %d, want 0", u.SyncKey)
	}
	if ch, _, _ := s.Changes(ctx, testApp, b.UID, 0, 10); len(ch) != 0 {
		t.Errorf("Changes(bobby) after a failed batch = %+v, want none", ch)
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
