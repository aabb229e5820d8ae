package sqlite

import (
	"errors"
	"path/filepath"
	"testing"

	"github.com/jmsg-im/jmsg"
	"github.com/jmsg-im/jmsg/server/store"
)

// TestMigrationKeepsConversations checks that migration 2 (groups) keeps
// the conversations of a schema 1 database as they were: members who never
// left, their changes and windows.
func TestMigrationKeepsConversations(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "v1.db")
	db := rawDB(t, path)
	for _, q := range []string{
		migrations[0],
		`PRAGMA user_version = 1`,
		`INSERT INTO apps (app_key, master_secret, ctime) VALUES ('` + testApp + `', '` + testApp + `', 1)`,
		`INSERT INTO users (uid, app_key, username, password, ctime, mtime) VALUES (1, '` + testApp + `', 'alice', x'00', 1, 1), (2, '` + testApp + `', 'bobby', x'00', 1, 1)`,
		`UPDATE counters SET value = 7 WHERE name = 'lsn'`,
		`INSERT INTO conversations (conv_id, app_key, type, key, last_seq, change_lsn) VALUES (1, '` + testApp + `', 1, 's:1:2', 2, 7)`,
		`INSERT INTO conv_members (conv_id, uid, peer_uid, delivered_seq) VALUES (1, 1, 2, 2), (1, 2, 1, 1)`,
		`INSERT INTO messages (conv_id, seq, sender_uid, cid, ctime, content) VALUES (1, 1, 1, 'c1', 1, '{}'), (1, 2, 2, 'c2', 2, '{}')`,
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
	for _, uid := range []int64{1, 2} {
		join, left, ok, err := s.MemberWindow(ctx, testApp, 1, uid)
		if err != nil || !ok || join != 0 || left != 0 {
			t.Errorf("MemberWindow(uid %d) after migration = (%d, %d, %v, %v), want (0, 0) of a member", uid, join, left, ok, err)
		}
		ch, cur, _, err := s.Changes(ctx, testApp, uid, store.Cursor{}, 10)
		if err != nil || len(ch) != 1 || ch[0].LastSeq != 2 || ch[0].LSN != 7 || ch[0].PeerUID != 3-uid || cur.LSN != 7 {
			t.Errorf("Changes(uid %d) after migration = %+v, %+v, %v; want conv 1 at seq 2, LSN 7", uid, ch, cur, err)
		}
	}
	if seq, _ := s.Delivered(ctx, testApp, 1, 1); seq != 2 {
		t.Errorf("Delivered(alice) after migration = %d, want 2", seq)
	}
	// Groups work beside the old conversation; the LSN goes on.
	g, ev, err := s.CreateGroup(ctx, store.Group{AppKey: testApp, Name: "g", Type: 1, MaxMembers: 500, OwnerUID: 1},
		[]store.GroupMember{{UID: 1, Role: 1}, {UID: 2}}, func(g store.Group) store.NewMessage {
			return store.NewMessage{AppKey: testApp, SenderUID: 1, CTimeMs: 3, Content: []byte(`{}`)}
		})
	if err != nil || g.ConvID == 1 || ev.Seq != 1 {
		t.Fatalf("CreateGroup() after migration = %+v, %+v, %v", g, ev, err)
	}
	ch, _, _, err := s.Changes(ctx, testApp, 2, store.Cursor{LSN: 7}, 10)
	if err != nil || len(ch) != 1 || ch[0].ConvID != g.ConvID || ch[0].Type != jmsg.ConversationGroup || ch[0].LSN != 8 {
		t.Errorf("Changes(bobby, since 7) = %+v, %v; want the group at LSN 8", ch, err)
	}
}

// TestCreateGroupIsAtomic checks that a group whose members cannot be
// stored is not created at all: no group, conversation, message or LSN.
func TestCreateGroupIsAtomic(t *testing.T) {
	ctx := t.Context()
	s, _ := openTemp(t)
	defer s.Close()
	if err := s.CreateApp(ctx, store.App{AppKey: testApp, MasterSecret: testApp, CTimeMs: 1}); err != nil {
		t.Fatal(err)
	}
	a, _ := s.CreateUser(ctx, testApp, store.User{UserInfo: jmsg.UserInfo{Username: "alice"}, PasswordHash: []byte("h")})
	_, before, _, err := s.Changes(ctx, testApp, a.UID, store.Cursor{}, 10)
	if err != nil {
		t.Fatal(err)
	}
	event := func(g store.Group) store.NewMessage {
		return store.NewMessage{AppKey: testApp, SenderUID: a.UID, CTimeMs: 1, Content: []byte(`{}`)}
	}
	for _, members := range [][]store.GroupMember{
		{{UID: a.UID, Role: 1}, {UID: 999999}},         // no such user
		{{UID: a.UID, Role: 1}, {UID: a.UID, Role: 0}}, // twice
	} {
		if _, _, err := s.CreateGroup(ctx, store.Group{AppKey: testApp, Name: "g", Type: 2, MaxMembers: 500, OwnerUID: a.UID}, members, event); err == nil {
			t.Errorf("CreateGroup(members %+v) succeeded", members)
		}
	}
	if gs, total, err := s.PublicGroups(ctx, testApp, 0, 10); err != nil || len(gs) != 0 || total != 0 {
		t.Errorf("PublicGroups() after failed creations = %+v, %d, %v; want none", gs, total, err)
	}
	if gs, err := s.UserGroups(ctx, testApp, a.UID); err != nil || len(gs) != 0 {
		t.Errorf("UserGroups(alice) after failed creations = %+v, %v; want none", gs, err)
	}
	if ch, cur, _, err := s.Changes(ctx, testApp, a.UID, store.Cursor{}, 10); err != nil || len(ch) != 0 || cur != before {
		t.Errorf("Changes(alice) after failed creations = %+v, %+v, %v; want none, cursor %+v", ch, cur, err, before)
	}
	var n int
	if err := s.r.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM groups) + (SELECT count(*) FROM conversations) + (SELECT count(*) FROM messages)`).Scan(&n); err != nil || n != 0 {
		t.Errorf("rows left by failed creations: %d (%v), want none", n, err)
	}
	g, ev, err := s.CreateGroup(ctx, store.Group{AppKey: testApp, Name: "g", Type: 2, MaxMembers: 500, OwnerUID: a.UID},
		[]store.GroupMember{{UID: a.UID, Role: 1}}, event)
	if err != nil || ev.Seq != 1 || ev.ConvID != g.ConvID {
		t.Errorf("CreateGroup() after failures = %+v, %+v, %v", g, ev, err)
	}
	if _, err := s.Group(ctx, testApp, g.GID); err != nil {
		t.Errorf("Group() = %v", err)
	}
	if _, err := s.Group(ctx, testApp, g.GID+1); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Group(next gid) = %v, want ErrNotFound", err)
	}
}
