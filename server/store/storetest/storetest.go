// Package storetest is the conformance suite every store.Store
// implementation must pass. An implementation's test calls Run with a
// function that opens a fresh, empty store.
package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/jmsg-im/jmsg"
	"github.com/jmsg-im/jmsg/server/store"
)

// Run runs the suite. open returns a new empty store for each subtest; the
// suite closes it.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s store.Store)
	}{
		{"Apps", testApps},
		{"CreateUser", testCreateUser},
		{"UsersByID", testUsersByID},
		{"UpdateProfile", testUpdateProfile},
		{"SetPassword", testSetPassword},
		{"Devices", testDevices},
		{"Tokens", testTokens},
		{"AppendSequence", testAppendSequence},
		{"AppendChangeKeys", testAppendChangeKeys},
		{"AppendToSelf", testAppendToSelf},
		{"AppendIdempotent", testAppendIdempotent},
		{"AppendIdempotentInBatch", testAppendIdempotentInBatch},
		{"AppendWithoutClientID", testAppendWithoutClientID},
		{"AppendBatchOrder", testAppendBatchOrder},
		{"Changes", testChanges},
		{"IsMember", testIsMember},
		{"History", testHistory},
		{"AppIsolation", testAppIsolation},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := open(t)
			t.Cleanup(func() {
				if err := s.Close(); err != nil {
					t.Errorf("Close() = %v", err)
				}
			})
			tc.fn(t, s)
		})
	}
}

// Fixed app keys; every key is 24 ASCII letters and digits.
const (
	appA = "aaaaaaaaaaaaaaaaaaaaaaa1"
	appB = "bbbbbbbbbbbbbbbbbbbbbbb2"
)

func ctx(t testing.TB) context.Context { return t.Context() }

func mustCreateApp(t testing.TB, s store.Store, key string) {
	t.Helper()
	if err := s.CreateApp(ctx(t), store.App{AppKey: key, MasterSecret: "s" + key[1:], Name: "app " + key, CTimeMs: 1}); err != nil {
		t.Fatalf("CreateApp(%q) = %v", key, err)
	}
}

// mustCreateUser registers username in app and returns its uid.
func mustCreateUser(t testing.TB, s store.Store, app, username string) int64 {
	t.Helper()
	info, err := s.CreateUser(ctx(t), app, store.User{UserInfo: jmsg.UserInfo{Username: username}, PasswordHash: []byte("hash-" + username)})
	if err != nil {
		t.Fatalf("CreateUser(%q, %q) = %v", app, username, err)
	}
	if info.UID == 0 {
		t.Fatalf("CreateUser(%q, %q) returned uid 0", app, username)
	}
	return info.UID
}

func mustUser(t testing.TB, s store.Store, app, username string) store.User {
	t.Helper()
	u, err := s.UserByName(ctx(t), app, username)
	if err != nil {
		t.Fatalf("UserByName(%q, %q) = %v", app, username, err)
	}
	return u
}

func msg(app string, from, to int64, cid string, ms int64) store.NewMessage {
	return store.NewMessage{
		AppKey: app, SenderUID: from, TargetUID: to, ClientMsgID: cid, CTimeMs: ms,
		Content: []byte(fmt.Sprintf(`{"version":1,"msg_type":"text","msg_body":{"text":%q}}`, cid)),
	}
}

func mustAppend(t testing.TB, s store.Store, msgs ...store.NewMessage) []store.Appended {
	t.Helper()
	res, err := s.Append(ctx(t), msgs)
	if err != nil {
		t.Fatalf("Append(%d messages) = %v", len(msgs), err)
	}
	if len(res) != len(msgs) {
		t.Fatalf("Append(%d messages) returned %d results", len(msgs), len(res))
	}
	return res
}

func mustHistory(t testing.TB, s store.Store, app string, conv, after, before int64, limit int) ([]store.StoredMessage, bool) {
	t.Helper()
	msgs, more, err := s.History(ctx(t), app, conv, after, before, limit)
	if err != nil {
		t.Fatalf("History(%q, conv %d, after %d, before %d, limit %d) = %v", app, conv, after, before, limit, err)
	}
	return msgs, more
}

func mustChanges(t testing.TB, s store.Store, app string, uid, since int64, limit int) ([]store.ConvChange, bool) {
	t.Helper()
	ch, more, err := s.Changes(ctx(t), app, uid, since, limit)
	if err != nil {
		t.Fatalf("Changes(%q, uid %d, since %d, limit %d) = %v", app, uid, since, limit, err)
	}
	return ch, more
}

func seqs(msgs []store.StoredMessage) []int64 {
	out := make([]int64, len(msgs))
	for i, m := range msgs {
		out[i] = m.Seq
	}
	return out
}

func testApps(t *testing.T, s store.Store) {
	apps := []store.App{
		{AppKey: "zzzzzzzzzzzzzzzzzzzzzzz1", MasterSecret: "111111111111111111111111", Name: "first", CTimeMs: 1000},
		{AppKey: "aaaaaaaaaaaaaaaaaaaaaaa2", MasterSecret: "222222222222222222222222", Name: "second", CTimeMs: 2000},
		{AppKey: "mmmmmmmmmmmmmmmmmmmmmmm3", MasterSecret: "333333333333333333333333", Name: "", CTimeMs: 3000},
	}
	got, err := s.ListApps(ctx(t))
	if err != nil || len(got) != 0 {
		t.Fatalf("ListApps() on an empty store = %v, %v; want none", got, err)
	}
	for _, a := range apps {
		if err := s.CreateApp(ctx(t), a); err != nil {
			t.Fatalf("CreateApp(%+v) = %v", a, err)
		}
	}
	for _, a := range apps {
		got, err := s.App(ctx(t), a.AppKey)
		if err != nil || got != a {
			t.Errorf("App(%q) = %+v, %v; want %+v", a.AppKey, got, err, a)
		}
	}
	list, err := s.ListApps(ctx(t))
	if err != nil || !slices.Equal(list, apps) {
		t.Errorf("ListApps() = %+v, %v; want %+v (oldest first)", list, err, apps)
	}
	dup := apps[1]
	dup.MasterSecret, dup.Name = "999999999999999999999999", "impostor"
	if err := s.CreateApp(ctx(t), dup); !errors.Is(err, store.ErrExists) {
		t.Errorf("CreateApp(existing key) = %v, want ErrExists", err)
	}
	if got, _ := s.App(ctx(t), dup.AppKey); got != apps[1] {
		t.Errorf("App(%q) after a refused CreateApp = %+v, want %+v", dup.AppKey, got, apps[1])
	}
	if _, err := s.App(ctx(t), "nnnnnnnnnnnnnnnnnnnnnnnn"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("App(unknown) = %v, want ErrNotFound", err)
	}
}

func testCreateUser(t *testing.T, s store.Store) {
	mustCreateApp(t, s, appA)
	in := store.User{
		UserInfo: jmsg.UserInfo{
			Username: "Alice.1", Nickname: "爱丽丝", Avatar: "media/a", Gender: jmsg.GenderFemale, Birthday: "1990-02-03",
			Signature: "line1\nline2", Region: "r", Address: "a", Extras: map[string]string{"k": "v"},
		},
		PasswordHash: []byte("$2a$04$hash"),
	}
	info, err := s.CreateUser(ctx(t), appA, in)
	if err != nil {
		t.Fatalf("CreateUser() = %v", err)
	}
	if info.UID == 0 || info.CTime == 0 || info.MTime == 0 {
		t.Errorf("CreateUser() = %+v, want UID, CTime and MTime set", info)
	}
	want := in.UserInfo
	want.UID, want.CTime, want.MTime = info.UID, info.CTime, info.MTime
	if fmt.Sprint(info) != fmt.Sprint(want) {
		t.Errorf("CreateUser() = %+v, want %+v", info, want)
	}
	u := mustUser(t, s, appA, "Alice.1")
	if fmt.Sprint(u.UserInfo) != fmt.Sprint(want) || !bytes.Equal(u.PasswordHash, in.PasswordHash) || u.SyncKey != 0 {
		t.Errorf("UserByName() = %+v, want %+v with the hash and sync key 0", u, want)
	}
	if _, err := s.CreateUser(ctx(t), appA, store.User{UserInfo: jmsg.UserInfo{Username: "Alice.1"}, PasswordHash: []byte("x")}); !errors.Is(err, store.ErrExists) {
		t.Errorf("CreateUser(taken name) = %v, want ErrExists", err)
	}
	if got := mustUser(t, s, appA, "Alice.1"); !bytes.Equal(got.PasswordHash, in.PasswordHash) {
		t.Errorf("a refused CreateUser changed the password hash to %q", got.PasswordHash)
	}
	// Usernames are case-sensitive.
	if _, err := s.UserByName(ctx(t), appA, "alice.1"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("UserByName(other case) = %v, want ErrNotFound", err)
	}
	if uid := mustCreateUser(t, s, appA, "alice.1"); uid == info.UID {
		t.Errorf("CreateUser(other case) reused uid %d", uid)
	}
	if _, err := s.UserByName(ctx(t), appA, "nobody"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("UserByName(unknown) = %v, want ErrNotFound", err)
	}
}

func testUsersByID(t *testing.T, s store.Store) {
	mustCreateApp(t, s, appA)
	a := mustCreateUser(t, s, appA, "alice")
	b := mustCreateUser(t, s, appA, "bobby")
	tests := []struct {
		uids []int64
		want map[int64]string
	}{
		{nil, map[int64]string{}},
		{[]int64{a}, map[int64]string{a: "alice"}},
		{[]int64{b, a}, map[int64]string{a: "alice", b: "bobby"}},
		{[]int64{a, 987654321, b, a}, map[int64]string{a: "alice", b: "bobby"}},
	}
	for _, tc := range tests {
		got, err := s.UsersByID(ctx(t), appA, tc.uids)
		if err != nil {
			t.Errorf("UsersByID(%v) = %v", tc.uids, err)
			continue
		}
		names := map[int64]string{}
		for uid, u := range got {
			names[uid] = u.Username
			if u.UID != uid {
				t.Errorf("UsersByID(%v)[%d].UID = %d", tc.uids, uid, u.UID)
			}
		}
		if fmt.Sprint(names) != fmt.Sprint(tc.want) {
			t.Errorf("UsersByID(%v) = %v, want %v", tc.uids, names, tc.want)
		}
	}
	many := []int64{a}
	for i := range 1200 {
		many = append(many, int64(1_000_000+i))
	}
	many = append(many, b)
	got, err := s.UsersByID(ctx(t), appA, many)
	if err != nil || len(got) != 2 || got[a].Username != "alice" || got[b].Username != "bobby" {
		t.Errorf("UsersByID(1202 uids) = %v, %v; want alice and bobby", got, err)
	}
}

func testUpdateProfile(t *testing.T, s store.Store) {
	mustCreateApp(t, s, appA)
	uid := mustCreateUser(t, s, appA, "alice")
	before := mustUser(t, s, appA, "alice")
	upd := jmsg.UserInfo{
		Username: "mallory", Nickname: "Al", Gender: jmsg.GenderMale, Birthday: "2000-01-01",
		Signature: "sig", Region: "north", Address: "street", Avatar: "media/x", Extras: map[string]string{"a": "b"},
	}
	got, err := s.UpdateProfile(ctx(t), appA, uid, upd)
	if err != nil {
		t.Fatalf("UpdateProfile() = %v", err)
	}
	want := upd
	want.UID, want.Username, want.CTime, want.MTime = uid, "alice", before.CTime, got.MTime
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("UpdateProfile() = %+v, want %+v (username unchanged)", got, want)
	}
	if got.MTime < before.MTime {
		t.Errorf("UpdateProfile() MTime %d < previous %d", got.MTime, before.MTime)
	}
	u := mustUser(t, s, appA, "alice")
	if fmt.Sprint(u.UserInfo) != fmt.Sprint(want) || !bytes.Equal(u.PasswordHash, before.PasswordHash) {
		t.Errorf("UserByName() after UpdateProfile = %+v, want %+v and the hash unchanged", u, want)
	}
	if _, err := s.UserByName(ctx(t), appA, "mallory"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("UpdateProfile renamed the user: UserByName(mallory) = %v", err)
	}
	// Clearing fields.
	got, err = s.UpdateProfile(ctx(t), appA, uid, jmsg.UserInfo{})
	if err != nil || got.Nickname != "" || got.Extras != nil || got.Gender != 0 || got.Username != "alice" {
		t.Errorf("UpdateProfile(empty) = %+v, %v; want cleared fields", got, err)
	}
	if _, err := s.UpdateProfile(ctx(t), appA, 987654321, upd); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("UpdateProfile(unknown uid) = %v, want ErrNotFound", err)
	}
}

func testSetPassword(t *testing.T, s store.Store) {
	mustCreateApp(t, s, appA)
	uid := mustCreateUser(t, s, appA, "alice")
	if err := s.SetPassword(ctx(t), appA, uid, []byte("new-hash")); err != nil {
		t.Fatalf("SetPassword() = %v", err)
	}
	if u := mustUser(t, s, appA, "alice"); string(u.PasswordHash) != "new-hash" {
		t.Errorf("PasswordHash after SetPassword = %q, want %q", u.PasswordHash, "new-hash")
	}
	if err := s.SetPassword(ctx(t), appA, 987654321, []byte("x")); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("SetPassword(unknown uid) = %v, want ErrNotFound", err)
	}
}

func testDevices(t *testing.T, s store.Store) {
	mustCreateApp(t, s, appA)
	a := mustCreateUser(t, s, appA, "alice")
	b := mustCreateUser(t, s, appA, "bobby")
	devices := func(uid int64) []store.Device {
		t.Helper()
		d, err := s.Devices(ctx(t), appA, uid)
		if err != nil {
			t.Fatalf("Devices(%d) = %v", uid, err)
		}
		slices.SortFunc(d, func(x, y store.Device) int { return cmpString(x.Platform, y.Platform) })
		return d
	}
	if d := devices(a); len(d) != 0 {
		t.Errorf("Devices() of a new user = %v, want none", d)
	}
	touch := func(uid int64, platform string, ms int64) {
		t.Helper()
		if err := s.TouchDevice(ctx(t), appA, uid, platform, ms); err != nil {
			t.Fatalf("TouchDevice(%d, %q, %d) = %v", uid, platform, ms, err)
		}
	}
	touch(a, "a", 100)
	touch(a, "w", 200)
	touch(a, "a", 300)
	touch(b, "i", 400)
	want := []store.Device{{Platform: "a", MTimeMs: 300}, {Platform: "w", MTimeMs: 200}}
	if d := devices(a); !slices.Equal(d, want) {
		t.Errorf("Devices(alice) = %v, want %v", d, want)
	}
	if d := devices(b); !slices.Equal(d, []store.Device{{Platform: "i", MTimeMs: 400}}) {
		t.Errorf("Devices(bobby) = %v, want [{i 400}]", d)
	}
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func testAppendSequence(t *testing.T, s store.Store) {
	mustCreateApp(t, s, appA)
	a := mustCreateUser(t, s, appA, "alice")
	b := mustCreateUser(t, s, appA, "bobby")
	c := mustCreateUser(t, s, appA, "carol")
	tests := []struct {
		from, to int64
		wantSeq  int64
		conv     string // which conversation: same letter, same conversation
	}{
		{a, b, 1, "ab"},
		{b, a, 2, "ab"},
		{a, b, 3, "ab"},
		{a, c, 1, "ac"},
		{c, a, 2, "ac"},
		{b, a, 4, "ab"},
		{c, b, 1, "bc"},
	}
	convs := map[string]int64{}
	msgIDs := map[int64]bool{}
	for i, tc := range tests {
		cid := fmt.Sprintf("m%d", i)
		r := mustAppend(t, s, msg(appA, tc.from, tc.to, cid, int64(1000+i)))[0]
		if r.Duplicate {
			t.Errorf("Append(%s) is a duplicate", cid)
		}
		if r.Seq != tc.wantSeq {
			t.Errorf("Append(%s: %d→%d) seq = %d, want %d", cid, tc.from, tc.to, r.Seq, tc.wantSeq)
		}
		if r.CTimeMs != int64(1000+i) || !bytes.Contains(r.Content, []byte(cid)) {
			t.Errorf("Append(%s) = ctime %d content %s, want the message's own", cid, r.CTimeMs, r.Content)
		}
		if msgIDs[r.MsgID] || r.MsgID == 0 {
			t.Errorf("Append(%s) msg_id %d is zero or reused", cid, r.MsgID)
		}
		msgIDs[r.MsgID] = true
		if id, ok := convs[tc.conv]; ok && id != r.ConvID {
			t.Errorf("Append(%s: %d→%d) conv %d, want %d (the same conversation both ways)", cid, tc.from, tc.to, r.ConvID, id)
		}
		convs[tc.conv] = r.ConvID
	}
	if convs["ab"] == convs["ac"] || convs["ab"] == convs["bc"] || convs["ac"] == convs["bc"] {
		t.Errorf("different pairs share a conversation: %v", convs)
	}
}

func testAppendChangeKeys(t *testing.T, s store.Store) {
	mustCreateApp(t, s, appA)
	a := mustCreateUser(t, s, appA, "alice")
	b := mustCreateUser(t, s, appA, "bobby")
	c := mustCreateUser(t, s, appA, "carol")
	want := map[int64]int64{}
	sends := [][2]int64{{a, b}, {a, b}, {b, a}, {a, c}, {c, b}, {b, c}, {a, b}}
	for i, p := range sends {
		r := mustAppend(t, s, msg(appA, p[0], p[1], fmt.Sprintf("k%d", i), 1))[0]
		want[p[0]]++
		want[p[1]]++
		if len(r.Keys) != 2 || r.Keys[p[0]] != want[p[0]] || r.Keys[p[1]] != want[p[1]] {
			t.Errorf("Append(#%d %d→%d) keys = %v, want {%d:%d %d:%d}", i, p[0], p[1], r.Keys, p[0], want[p[0]], p[1], want[p[1]])
		}
	}
	for name, uid := range map[string]int64{"alice": a, "bobby": b, "carol": c} {
		if u := mustUser(t, s, appA, name); u.SyncKey != want[uid] {
			t.Errorf("UserByName(%s).SyncKey = %d, want %d", name, u.SyncKey, want[uid])
		}
	}
}

func testAppendToSelf(t *testing.T, s store.Store) {
	mustCreateApp(t, s, appA)
	a := mustCreateUser(t, s, appA, "alice")
	r1 := mustAppend(t, s, msg(appA, a, a, "note1", 1))[0]
	r2 := mustAppend(t, s, msg(appA, a, a, "note2", 2))[0]
	if r1.Seq != 1 || r2.Seq != 2 || r1.ConvID != r2.ConvID {
		t.Errorf("Append(to self) twice = (conv %d seq %d), (conv %d seq %d); want one conversation, seq 1 and 2", r1.ConvID, r1.Seq, r2.ConvID, r2.Seq)
	}
	if len(r2.Keys) != 1 || r2.Keys[a] != 2 {
		t.Errorf("Append(to self) keys = %v, want {%d:2}: one change per message", r2.Keys, a)
	}
	ch, _ := mustChanges(t, s, appA, a, 0, 10)
	if len(ch) != 1 || ch[0].PeerUID != a || ch[0].LastSeq != 2 {
		t.Errorf("Changes(self conversation) = %+v, want one conversation with peer %d, last seq 2", ch, a)
	}
}

func testAppendIdempotent(t *testing.T, s store.Store) {
	mustCreateApp(t, s, appA)
	a := mustCreateUser(t, s, appA, "alice")
	b := mustCreateUser(t, s, appA, "bobby")
	orig := mustAppend(t, s, msg(appA, a, b, "same", 1000))[0]
	retry := msg(appA, a, b, "same", 2000)
	retry.Content = []byte(`{"different":true}`)
	dup := mustAppend(t, s, retry)[0]
	if !dup.Duplicate {
		t.Fatalf("Append(same sender, same cid) = %+v, want Duplicate", dup)
	}
	if dup.MsgID != orig.MsgID || dup.ConvID != orig.ConvID || dup.Seq != orig.Seq || dup.CTimeMs != orig.CTimeMs || !bytes.Equal(dup.Content, orig.Content) {
		t.Errorf("duplicate = %+v, want the original %+v", dup, orig)
	}
	if len(dup.Keys) != 0 {
		t.Errorf("duplicate Keys = %v, want none", dup.Keys)
	}
	// Nothing new stored: no message, no sequence number, no change key.
	msgs, _ := mustHistory(t, s, appA, orig.ConvID, 0, 0, 10)
	if len(msgs) != 1 {
		t.Errorf("History() after a duplicate has %d messages, want 1", len(msgs))
	}
	for name, want := range map[string]int64{"alice": 1, "bobby": 1} {
		if u := mustUser(t, s, appA, name); u.SyncKey != want {
			t.Errorf("%s.SyncKey after a duplicate = %d, want %d", name, u.SyncKey, want)
		}
	}
	next := mustAppend(t, s, msg(appA, a, b, "next", 3000))[0]
	if next.Seq != 2 || next.Keys[a] != 2 {
		t.Errorf("Append after a duplicate = seq %d keys %v, want seq 2 and alice's key 2", next.Seq, next.Keys)
	}
	// The client id is per sender: bobby may use the same one.
	other := mustAppend(t, s, msg(appA, b, a, "same", 4000))[0]
	if other.Duplicate || other.MsgID == orig.MsgID || other.Seq != 3 {
		t.Errorf("Append(other sender, same cid) = %+v, want a new message with seq 3", other)
	}
	// A retry to another peer is still the original message.
	c := mustCreateUser(t, s, appA, "carol")
	if r := mustAppend(t, s, msg(appA, a, c, "same", 5000))[0]; !r.Duplicate || r.MsgID != orig.MsgID {
		t.Errorf("Append(same cid to another peer) = %+v, want the original %d", r, orig.MsgID)
	}
	if ch, _ := mustChanges(t, s, appA, c, 0, 10); len(ch) != 0 {
		t.Errorf("Changes(carol) after a duplicate addressed to her = %+v, want none", ch)
	}
}

func testAppendIdempotentInBatch(t *testing.T, s store.Store) {
	mustCreateApp(t, s, appA)
	a := mustCreateUser(t, s, appA, "alice")
	b := mustCreateUser(t, s, appA, "bobby")
	res := mustAppend(t, s,
		msg(appA, a, b, "x", 1),
		msg(appA, a, b, "x", 2),
		msg(appA, a, b, "y", 3),
		msg(appA, a, b, "x", 4),
	)
	if res[0].Duplicate || res[2].Duplicate {
		t.Errorf("first uses of x and y are duplicates: %+v", res)
	}
	for _, i := range []int{1, 3} {
		if !res[i].Duplicate || res[i].MsgID != res[0].MsgID || res[i].Seq != 1 || res[i].CTimeMs != 1 {
			t.Errorf("batch[%d] (x again) = %+v, want a duplicate of %+v", i, res[i], res[0])
		}
	}
	if res[2].Seq != 2 || res[2].Keys[a] != 2 || res[2].Keys[b] != 2 {
		t.Errorf("batch[2] (y) = %+v, want seq 2 and keys 2", res[2])
	}
	msgs, _ := mustHistory(t, s, appA, res[0].ConvID, 0, 0, 10)
	if got := seqs(msgs); !slices.Equal(got, []int64{1, 2}) {
		t.Errorf("History() = seqs %v, want [1 2]", got)
	}
}

func testAppendWithoutClientID(t *testing.T, s store.Store) {
	mustCreateApp(t, s, appA)
	a := mustCreateUser(t, s, appA, "alice")
	b := mustCreateUser(t, s, appA, "bobby")
	// An empty client id asks for no idempotency: every message is new.
	first := mustAppend(t, s, msg(appA, a, b, "", 1))[0]
	res := mustAppend(t, s, msg(appA, a, b, "", 2), msg(appA, a, b, "", 3))
	for i, r := range append([]store.Appended{first}, res...) {
		if r.Duplicate || r.Seq != int64(i+1) {
			t.Errorf("Append(no cid) #%d = %+v, want a new message with seq %d", i, r, i+1)
		}
	}
	msgs, _ := mustHistory(t, s, appA, first.ConvID, 0, 0, 10)
	if len(msgs) != 3 {
		t.Errorf("History() has %d messages, want 3", len(msgs))
	}
}

func testAppendBatchOrder(t *testing.T, s store.Store) {
	mustCreateApp(t, s, appA)
	users := make([]int64, 5)
	for i := range users {
		users[i] = mustCreateUser(t, s, appA, fmt.Sprintf("user%d", i))
	}
	const n = 300
	var batch []store.NewMessage
	for i := range n {
		from, to := users[i%len(users)], users[(i*7+1)%len(users)]
		batch = append(batch, msg(appA, from, to, fmt.Sprintf("b%03d", i), int64(i)))
	}
	res := mustAppend(t, s, batch...)
	lastSeq := map[int64]int64{}
	lastKey := map[int64]int64{}
	lastID := int64(0)
	for i, r := range res {
		m := batch[i]
		if r.Duplicate || r.CTimeMs != m.CTimeMs || !bytes.Equal(r.Content, m.Content) {
			t.Fatalf("batch[%d] = %+v, want the new message %s", i, r, m.ClientMsgID)
		}
		if r.Seq != lastSeq[r.ConvID]+1 {
			t.Errorf("batch[%d] conv %d seq %d, want %d", i, r.ConvID, r.Seq, lastSeq[r.ConvID]+1)
		}
		lastSeq[r.ConvID] = r.Seq
		members := []int64{m.SenderUID, m.TargetUID}
		if m.SenderUID == m.TargetUID {
			members = members[:1]
		}
		for _, uid := range members {
			if r.Keys[uid] != lastKey[uid]+1 {
				t.Errorf("batch[%d] key of %d = %d, want %d", i, uid, r.Keys[uid], lastKey[uid]+1)
			}
			lastKey[uid] = r.Keys[uid]
		}
		if r.MsgID <= lastID {
			t.Errorf("batch[%d] msg_id %d not after %d", i, r.MsgID, lastID)
		}
		lastID = r.MsgID
	}
	// History holds every conversation's messages in batch order.
	for conv, last := range lastSeq {
		msgs, more := mustHistory(t, s, appA, conv, 0, 0, n)
		if int64(len(msgs)) != last || more {
			t.Errorf("History(conv %d) = %d messages (more %v), want %d", conv, len(msgs), more, last)
		}
		prev := ""
		for _, m := range msgs {
			if m.ClientMsgID <= prev {
				t.Errorf("History(conv %d): %s after %s, want batch order", conv, m.ClientMsgID, prev)
			}
			prev = m.ClientMsgID
		}
	}
}

func testChanges(t *testing.T, s store.Store) {
	mustCreateApp(t, s, appA)
	a := mustCreateUser(t, s, appA, "alice")
	b := mustCreateUser(t, s, appA, "bobby")
	c := mustCreateUser(t, s, appA, "carol")
	d := mustCreateUser(t, s, appA, "david")
	if ch, more := mustChanges(t, s, appA, a, 0, 10); len(ch) != 0 || more {
		t.Errorf("Changes() of a new user = %+v, %v; want none", ch, more)
	}
	// alice's keys: 1 ab, 2 ac, 3 ab, 4 ad, 5 ac.
	ab := mustAppend(t, s, msg(appA, a, b, "1", 1))[0].ConvID
	ac := mustAppend(t, s, msg(appA, c, a, "2", 2))[0].ConvID
	mustAppend(t, s, msg(appA, b, a, "3", 3))
	ad := mustAppend(t, s, msg(appA, a, d, "4", 4))[0].ConvID
	mustAppend(t, s, msg(appA, a, c, "5", 5))
	mustAppend(t, s, msg(appA, b, c, "not alice's", 6))

	all := []store.ConvChange{
		{ConvID: ab, Type: jmsg.ConversationSingle, PeerUID: b, LastSeq: 2, Key: 3},
		{ConvID: ad, Type: jmsg.ConversationSingle, PeerUID: d, LastSeq: 1, Key: 4},
		{ConvID: ac, Type: jmsg.ConversationSingle, PeerUID: c, LastSeq: 2, Key: 5},
	}
	tests := []struct {
		since    int64
		limit    int
		want     []store.ConvChange
		wantMore bool
	}{
		{0, 10, all, false},
		{0, 3, all, false},
		{0, 2, all[:2], true},
		{0, 1, all[:1], true},
		{3, 1, all[1:2], true},
		{4, 1, all[2:], false},
		{2, 10, all, false},
		{3, 10, all[1:], false},
		{5, 10, nil, false},
		{99, 10, nil, false},
	}
	for _, tc := range tests {
		got, more := mustChanges(t, s, appA, a, tc.since, tc.limit)
		if !slices.Equal(got, tc.want) || more != tc.wantMore {
			t.Errorf("Changes(alice, since %d, limit %d) = %+v, more %v; want %+v, more %v", tc.since, tc.limit, got, more, tc.want, tc.wantMore)
		}
	}
	// Paging with since = the last key of a page visits everything once.
	var paged []store.ConvChange
	since := int64(0)
	for range 10 {
		page, more := mustChanges(t, s, appA, a, since, 1)
		paged = append(paged, page...)
		if len(page) > 0 {
			since = page[len(page)-1].Key
		}
		if !more {
			break
		}
	}
	if !slices.Equal(paged, all) {
		t.Errorf("paging Changes(alice) by 1 = %+v, want %+v", paged, all)
	}
	// The peer sees the same conversation with alice as peer.
	got, _ := mustChanges(t, s, appA, d, 0, 10)
	if len(got) != 1 || got[0].ConvID != ad || got[0].PeerUID != a || got[0].Key != 1 {
		t.Errorf("Changes(david) = %+v, want conv %d with peer alice at key 1", got, ad)
	}
}

func testIsMember(t *testing.T, s store.Store) {
	mustCreateApp(t, s, appA)
	a := mustCreateUser(t, s, appA, "alice")
	b := mustCreateUser(t, s, appA, "bobby")
	c := mustCreateUser(t, s, appA, "carol")
	conv := mustAppend(t, s, msg(appA, a, b, "1", 1))[0].ConvID
	tests := []struct {
		conv, uid int64
		want      bool
	}{
		{conv, a, true},
		{conv, b, true},
		{conv, c, false},
		{conv + 1000, a, false},
		{0, a, false},
	}
	for _, tc := range tests {
		got, err := s.IsMember(ctx(t), appA, tc.conv, tc.uid)
		if err != nil || got != tc.want {
			t.Errorf("IsMember(conv %d, uid %d) = %v, %v; want %v", tc.conv, tc.uid, got, err, tc.want)
		}
	}
}

func testHistory(t *testing.T, s store.Store) {
	mustCreateApp(t, s, appA)
	a := mustCreateUser(t, s, appA, "alice")
	b := mustCreateUser(t, s, appA, "bobby")
	var conv int64
	var sent []store.Appended
	for i := range 10 {
		from, to := a, b
		if i%3 == 2 {
			from, to = b, a
		}
		r := mustAppend(t, s, msg(appA, from, to, fmt.Sprintf("h%d", i+1), int64(100+i)))[0]
		conv = r.ConvID
		sent = append(sent, r)
	}
	mustAppend(t, s, msg(appA, a, mustCreateUser(t, s, appA, "carol"), "elsewhere", 1))
	tests := []struct {
		after, before int64
		limit         int
		want          []int64
		wantMore      bool
	}{
		{0, 0, 100, []int64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, false},
		{0, 0, 10, []int64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, false},
		{0, 0, 3, []int64{1, 2, 3}, true},
		{3, 0, 3, []int64{4, 5, 6}, true},
		{7, 0, 3, []int64{8, 9, 10}, false},
		{9, 0, 5, []int64{10}, false},
		{10, 0, 5, nil, false},
		{0, 11, 3, []int64{10, 9, 8}, true},
		{0, 5, 10, []int64{4, 3, 2, 1}, false},
		{0, 4, 3, []int64{3, 2, 1}, false},
		{0, 2, 1, []int64{1}, false},
		{0, 1, 5, nil, false},
	}
	for _, tc := range tests {
		got, more := mustHistory(t, s, appA, conv, tc.after, tc.before, tc.limit)
		if !slices.Equal(seqs(got), tc.want) || more != tc.wantMore {
			t.Errorf("History(after %d, before %d, limit %d) = seqs %v, more %v; want %v, more %v",
				tc.after, tc.before, tc.limit, seqs(got), more, tc.want, tc.wantMore)
		}
	}
	msgs, _ := mustHistory(t, s, appA, conv, 0, 0, 100)
	for i, m := range msgs {
		w := sent[i]
		wantSender := a
		if i%3 == 2 {
			wantSender = b
		}
		if m.MsgID != w.MsgID || m.ConvID != conv || m.SenderUID != wantSender || m.ClientMsgID != fmt.Sprintf("h%d", i+1) ||
			m.CTimeMs != int64(100+i) || !bytes.Equal(m.Content, w.Content) {
			t.Errorf("History()[%d] = %+v, want msg %d from %d with cid h%d, ctime %d, content %s",
				i, m, w.MsgID, wantSender, i+1, 100+i, w.Content)
		}
	}
	if got, more := mustHistory(t, s, appA, conv+1000, 0, 0, 10); len(got) != 0 || more {
		t.Errorf("History(unknown conversation) = %d messages, more %v; want none", len(got), more)
	}
}

func testAppIsolation(t *testing.T, s store.Store) {
	mustCreateApp(t, s, appA)
	mustCreateApp(t, s, appB)
	aliceA := mustCreateUser(t, s, appA, "alice")
	bobA := mustCreateUser(t, s, appA, "bobby")
	aliceB := mustCreateUser(t, s, appB, "alice")
	bobB := mustCreateUser(t, s, appB, "bobby")
	if aliceA == aliceB || bobA == bobB {
		t.Fatalf("the same username in two apps has one uid: alice %d/%d, bobby %d/%d", aliceA, aliceB, bobA, bobB)
	}
	if u := mustUser(t, s, appB, "alice"); u.UID != aliceB {
		t.Errorf("UserByName(B, alice).UID = %d, want B's %d", u.UID, aliceB)
	}
	if _, err := s.UserByName(ctx(t), "cccccccccccccccccccccccc", "alice"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("UserByName(unknown app, alice) = %v, want ErrNotFound", err)
	}
	if _, err := s.UpdateProfile(ctx(t), appA, aliceB, jmsg.UserInfo{Nickname: "hijack"}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("UpdateProfile(A, B's uid) = %v, want ErrNotFound", err)
	}
	if u := mustUser(t, s, appB, "alice"); u.Nickname != "" {
		t.Errorf("B's alice nickname = %q after an update through app A", u.Nickname)
	}
	if err := s.SetPassword(ctx(t), appB, aliceA, []byte("hijack")); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("SetPassword(B, A's uid) = %v, want ErrNotFound", err)
	}
	if u := mustUser(t, s, appA, "alice"); string(u.PasswordHash) == "hijack" {
		t.Errorf("A's alice password changed through app B")
	}
	if m, err := s.UsersByID(ctx(t), appB, []int64{aliceA, bobA}); err != nil || len(m) != 0 {
		t.Errorf("UsersByID(B, A's uids) = %v, %v; want none", m, err)
	}
	if err := s.TouchDevice(ctx(t), appA, aliceA, "a", 100); err != nil {
		t.Fatal(err)
	}
	_ = s.TouchDevice(ctx(t), appB, aliceA, "w", 200) // may fail or do nothing, never record
	if d, err := s.Devices(ctx(t), appB, aliceA); err != nil || len(d) != 0 {
		t.Errorf("Devices(B, A's uid) = %v, %v; want none", d, err)
	}
	if d, err := s.Devices(ctx(t), appA, aliceA); err != nil || !slices.Equal(d, []store.Device{{Platform: "a", MTimeMs: 100}}) {
		t.Errorf("Devices(A, alice) = %v, %v; want only [{a 100}]", d, err)
	}

	ra := mustAppend(t, s, msg(appA, aliceA, bobA, "same-cid", 1))[0]
	rb := mustAppend(t, s, msg(appB, aliceB, bobB, "same-cid", 2))[0]
	if rb.Duplicate || rb.ConvID == ra.ConvID || rb.MsgID == ra.MsgID || rb.Seq != 1 || rb.Keys[aliceB] != 1 {
		t.Errorf("Append in B = %+v, want a new conversation and message with seq 1 and key 1 (A's is %+v)", rb, ra)
	}
	if ch, _ := mustChanges(t, s, appB, aliceA, 0, 10); len(ch) != 0 {
		t.Errorf("Changes(B, A's alice) = %+v, want none", ch)
	}
	if ch, _ := mustChanges(t, s, appB, aliceB, 0, 10); len(ch) != 1 || ch[0].ConvID != rb.ConvID {
		t.Errorf("Changes(B, B's alice) = %+v, want only conv %d", ch, rb.ConvID)
	}
	if ok, err := s.IsMember(ctx(t), appB, ra.ConvID, aliceA); err != nil || ok {
		t.Errorf("IsMember(B, A's conversation, A's alice) = %v, %v; want false", ok, err)
	}
	if msgs, _ := mustHistory(t, s, appB, ra.ConvID, 0, 0, 10); len(msgs) != 0 {
		t.Errorf("History(B, A's conversation) = %d messages, want none", len(msgs))
	}
	if msgs, _ := mustHistory(t, s, appB, ra.ConvID, 0, 99, 10); len(msgs) != 0 {
		t.Errorf("History(B, A's conversation, before 99) = %d messages, want none", len(msgs))
	}
	if msgs, _ := mustHistory(t, s, appA, ra.ConvID, 0, 0, 10); len(msgs) != 1 {
		t.Errorf("History(A, A's conversation) = %d messages, want 1", len(msgs))
	}
}

func testTokens(t *testing.T, s store.Store) {
	mustCreateApp(t, s, appA)
	mustCreateApp(t, s, appB)
	a := mustCreateUser(t, s, appA, "alice")
	b := mustCreateUser(t, s, appA, "bobby")
	other := mustCreateUser(t, s, appB, "alice")
	put := func(uid int64, hash string, expires int64) {
		t.Helper()
		if err := s.PutToken(ctx(t), appA, uid, []byte(hash), expires); err != nil {
			t.Fatalf("PutToken(%d, %q) = %v", uid, hash, err)
		}
	}
	put(a, "ta1", 1000)
	put(a, "ta2", 2000)
	put(b, "tb1", 1000)
	if err := s.PutToken(ctx(t), appA, other, []byte("x"), 1000); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("PutToken(A, B's uid) = %v, want ErrNotFound", err)
	}
	if err := s.PutToken(ctx(t), appA, 987654321, []byte("y"), 1000); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("PutToken(unknown uid) = %v, want ErrNotFound", err)
	}
	tests := []struct {
		app     string
		hash    string
		now     int64
		wantUID int64 // 0: ErrNotFound
	}{
		{appA, "ta1", 999, a},
		{appA, "ta2", 999, a},
		{appA, "tb1", 0, b},
		{appA, "ta1", 1000, 0}, // expired
		{appA, "ta2", 1500, a},
		{appA, "nope", 0, 0},
		{appA, "x", 0, 0},
		{appB, "ta1", 0, 0}, // another app
	}
	for _, tc := range tests {
		uid, err := s.TokenUser(ctx(t), tc.app, []byte(tc.hash), tc.now)
		if tc.wantUID == 0 {
			if !errors.Is(err, store.ErrNotFound) {
				t.Errorf("TokenUser(%q, %q, %d) = %d, %v; want ErrNotFound", tc.app, tc.hash, tc.now, uid, err)
			}
			continue
		}
		if err != nil || uid != tc.wantUID {
			t.Errorf("TokenUser(%q, %q, %d) = %d, %v; want %d", tc.app, tc.hash, tc.now, uid, err, tc.wantUID)
		}
	}
}
