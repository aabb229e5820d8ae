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
		{"AppendLSN", testAppendLSN},
		{"AppendToSelf", testAppendToSelf},
		{"AppendIdempotent", testAppendIdempotent},
		{"AppendIdempotentInBatch", testAppendIdempotentInBatch},
		{"AppendWithoutClientID", testAppendWithoutClientID},
		{"AppendBatchOrder", testAppendBatchOrder},
		{"Changes", testChanges},
		{"Retention", testRetention},
		{"ChangesCursor", testChangesCursor},
		{"ChangesTieGroup", testChangesTieGroup},
		{"Delivered", testDelivered},
		{"IsMember", testIsMember},
		{"History", testHistory},
		{"AppIsolation", testAppIsolation},
	}
	tests = append(tests, groupTests...)
	tests = append(tests, mediaTests...)
	tests = append(tests, moderationTests...)
	tests = append(tests, socialTests...)
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

func mustChanges(t testing.TB, s store.Store, app string, uid int64, since store.Cursor, limit int) ([]store.ConvChange, store.Cursor, bool) {
	t.Helper()
	ch, next, more, err := s.Changes(ctx(t), app, uid, since, limit)
	if err != nil {
		t.Fatalf("Changes(%q, uid %d, since %+v, limit %d) = %v", app, uid, since, limit, err)
	}
	if len(ch) > limit {
		t.Fatalf("Changes(%q, uid %d, since %+v, limit %d) returned %d changes", app, uid, since, limit, len(ch))
	}
	return ch, next, more
}

// lsn returns the cursor an up-to-date client of uid holds now: the one
// Changes returns once nothing more remains.
func lsn(t testing.TB, s store.Store, app string, uid int64) store.Cursor {
	t.Helper()
	since := store.Cursor{}
	for range 10000 {
		_, next, more := mustChanges(t, s, app, uid, since, 1000)
		if !more {
			if next.ConvID != 0 {
				t.Fatalf("Changes(uid %d) without more returned cursor %+v, want conversation 0", uid, next)
			}
			return next
		}
		since = next
	}
	t.Fatalf("Changes(uid %d) never ends", uid)
	return since
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
	if fmt.Sprint(u.UserInfo) != fmt.Sprint(want) || !bytes.Equal(u.PasswordHash, in.PasswordHash) {
		t.Errorf("UserByName() = %+v, want %+v with the hash", u, want)
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
	if err := s.PutToken(ctx(t), appA, uid, []byte("token-before"), 1<<62); err != nil {
		t.Fatal(err)
	}
	if err := s.SetPassword(ctx(t), appA, uid, []byte("new-hash")); err != nil {
		t.Fatalf("SetPassword() = %v", err)
	}
	if _, err := s.TokenUser(ctx(t), appA, []byte("token-before"), 1); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("TokenUser(token issued before SetPassword) = %v, want ErrNotFound", err)
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
		if err := s.TouchDevices(ctx(t), appA, []store.DeviceLogin{{UID: uid, Platform: platform, MTimeMs: ms}}); err != nil {
			t.Fatalf("TouchDevices(%d, %q, %d) = %v", uid, platform, ms, err)
		}
	}
	touch(a, "a", 100)
	touch(a, "w", 200)
	touch(a, "a", 300)
	// Several logins in one call, one of them of a uid that is no user.
	if err := s.TouchDevices(ctx(t), appA, []store.DeviceLogin{{UID: b, Platform: "i", MTimeMs: 350}, {UID: 987654321, Platform: "i", MTimeMs: 1}, {UID: b, Platform: "i", MTimeMs: 400}}); err != nil {
		t.Fatalf("TouchDevices(batch) = %v", err)
	}
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

// changeOf returns uid's change of conversation conv as Changes reports it
// from the beginning; ok is false if it is not listed.
func changeOf(t testing.TB, s store.Store, app string, uid, conv int64) (store.ConvChange, bool) {
	t.Helper()
	ch, _, more := mustChanges(t, s, app, uid, store.Cursor{}, 1000)
	if more {
		t.Fatalf("Changes(uid %d) has more than 1000 conversations", uid)
	}
	for _, c := range ch {
		if c.ConvID == conv {
			return c, true
		}
	}
	return store.ConvChange{}, false
}

// testAppendLSN checks that every Append takes an LSN larger than every
// earlier one, that the conversations it changes carry it for both members,
// and that the cursor of a caught-up client is the newest LSN, whoever the
// change belonged to.
func testAppendLSN(t *testing.T, s store.Store) {
	mustCreateApp(t, s, appA)
	a := mustCreateUser(t, s, appA, "alice")
	b := mustCreateUser(t, s, appA, "bobby")
	c := mustCreateUser(t, s, appA, "carol")
	d := mustCreateUser(t, s, appA, "david")
	prev := lsn(t, s, appA, a).LSN
	sends := [][2]int64{{a, b}, {a, b}, {b, a}, {a, c}, {c, b}, {b, c}, {a, b}, {d, d}}
	for i, p := range sends {
		r := mustAppend(t, s, msg(appA, p[0], p[1], fmt.Sprintf("k%d", i), 1))[0]
		ca, ok := changeOf(t, s, appA, p[0], r.ConvID)
		if !ok {
			t.Fatalf("Append(#%d %d→%d): sender's Changes() lacks conv %d", i, p[0], p[1], r.ConvID)
		}
		cb, ok := changeOf(t, s, appA, p[1], r.ConvID)
		if !ok {
			t.Fatalf("Append(#%d %d→%d): target's Changes() lacks conv %d", i, p[0], p[1], r.ConvID)
		}
		if ca.LSN <= prev || ca.LSN != cb.LSN || ca.LastSeq != r.Seq || cb.LastSeq != r.Seq {
			t.Errorf("Append(#%d %d→%d): changes %+v and %+v, want one LSN after %d and last seq %d", i, p[0], p[1], ca, cb, prev, r.Seq)
		}
		if ca.PeerUID != p[1] || cb.PeerUID != p[0] {
			t.Errorf("Append(#%d %d→%d): peers %d and %d, want each the other", i, p[0], p[1], ca.PeerUID, cb.PeerUID)
		}
		// Every user's caught-up cursor is the newest LSN, involved or not.
		for _, uid := range []int64{a, b, c, d} {
			if cur := lsn(t, s, appA, uid); cur != (store.Cursor{LSN: ca.LSN}) {
				t.Errorf("after Append(#%d), uid %d's cursor = %+v, want {%d 0}", i, uid, cur, ca.LSN)
			}
		}
		prev = ca.LSN
	}

	// One Append is one LSN: a conversation changed twice in it is listed
	// once, with its last message.
	before := lsn(t, s, appA, a)
	res := mustAppend(t, s,
		msg(appA, a, b, "batch1", 1),
		msg(appA, c, a, "batch2", 1),
		msg(appA, b, a, "batch3", 1),
		msg(appA, b, c, "batch4", 1),
	)
	ch, next, more := mustChanges(t, s, appA, a, before, 10)
	if len(ch) != 2 || more || ch[0].LSN != ch[1].LSN || ch[0].LSN <= before.LSN || next != (store.Cursor{LSN: ch[0].LSN}) {
		t.Fatalf("Changes(alice) after a batch = %+v, next %+v, more %v; want 2 conversations of one new LSN", ch, next, more)
	}
	if ch[0].ConvID >= ch[1].ConvID {
		t.Errorf("Changes(alice) of one LSN = conv %d then %d, want conversation id order", ch[0].ConvID, ch[1].ConvID)
	}
	want := map[int64]int64{res[0].ConvID: res[2].Seq, res[1].ConvID: res[1].Seq}
	for _, c := range ch {
		if want[c.ConvID] != c.LastSeq {
			t.Errorf("Changes(alice) after a batch: conv %d last seq %d, want %d", c.ConvID, c.LastSeq, want[c.ConvID])
		}
	}
	if cb, _ := changeOf(t, s, appA, c, res[3].ConvID); cb.LSN != ch[0].LSN {
		t.Errorf("carol's change of the batch = %+v, want LSN %d", cb, ch[0].LSN)
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
	ch, next, more := mustChanges(t, s, appA, a, store.Cursor{}, 10)
	if len(ch) != 1 || more || ch[0].ConvID != r1.ConvID || ch[0].PeerUID != a || ch[0].LastSeq != 2 || next != (store.Cursor{LSN: ch[0].LSN}) {
		t.Errorf("Changes(self conversation) = %+v, next %+v, more %v; want one conversation with peer %d, last seq 2", ch, next, more, a)
	}
	if ok, err := isMember(s, ctx(t), appA, r1.ConvID, a); err != nil || !ok {
		t.Errorf("IsMember(self conversation) = %v, %v; want true", ok, err)
	}
}

func testAppendIdempotent(t *testing.T, s store.Store) {
	mustCreateApp(t, s, appA)
	a := mustCreateUser(t, s, appA, "alice")
	b := mustCreateUser(t, s, appA, "bobby")
	orig := mustAppend(t, s, msg(appA, a, b, "same", 1000))[0]
	curA, curB := lsn(t, s, appA, a), lsn(t, s, appA, b)
	retry := msg(appA, a, b, "same", 2000)
	retry.Content = []byte(`{"different":true}`)
	dup := mustAppend(t, s, retry)[0]
	if !dup.Duplicate {
		t.Fatalf("Append(same sender, same cid) = %+v, want Duplicate", dup)
	}
	if dup.MsgID != orig.MsgID || dup.ConvID != orig.ConvID || dup.Seq != orig.Seq || dup.CTimeMs != orig.CTimeMs || !bytes.Equal(dup.Content, orig.Content) {
		t.Errorf("duplicate = %+v, want the original %+v", dup, orig)
	}
	// Nothing new stored: no message, no sequence number, no change.
	msgs, _ := mustHistory(t, s, appA, orig.ConvID, 0, 0, 10)
	if len(msgs) != 1 {
		t.Errorf("History() after a duplicate has %d messages, want 1", len(msgs))
	}
	for name, cur := range map[string]store.Cursor{"alice": curA, "bobby": curB} {
		uid := mustUser(t, s, appA, name).UID
		if ch, _, _ := mustChanges(t, s, appA, uid, cur, 10); len(ch) != 0 {
			t.Errorf("Changes(%s) after a duplicate = %+v, want none", name, ch)
		}
	}
	next := mustAppend(t, s, msg(appA, a, b, "next", 3000))[0]
	if next.Seq != 2 || next.Duplicate {
		t.Errorf("Append after a duplicate = %+v, want a new message with seq 2", next)
	}
	if ch, _, _ := mustChanges(t, s, appA, a, curA, 10); len(ch) != 1 || ch[0].LastSeq != 2 {
		t.Errorf("Changes(alice) after the next message = %+v, want the conversation at seq 2", ch)
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
	if ch, _, _ := mustChanges(t, s, appA, c, store.Cursor{}, 10); len(ch) != 0 {
		t.Errorf("Changes(carol) after a duplicate addressed to her = %+v, want none", ch)
	}
	if ok, _ := isMember(s, ctx(t), appA, orig.ConvID, c); ok {
		t.Errorf("a duplicate addressed to carol made her a member of conv %d", orig.ConvID)
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
	if res[2].Seq != 2 || res[2].Duplicate {
		t.Errorf("batch[2] (y) = %+v, want a new message with seq 2", res[2])
	}
	if ch, _, _ := mustChanges(t, s, appA, b, store.Cursor{}, 10); len(ch) != 1 || ch[0].LastSeq != 2 {
		t.Errorf("Changes(bobby) = %+v, want the conversation at seq 2", ch)
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
	convsOf := map[int64]map[int64]bool{} // uid → its conversations
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
		for _, uid := range []int64{m.SenderUID, m.TargetUID} {
			if convsOf[uid] == nil {
				convsOf[uid] = map[int64]bool{}
			}
			convsOf[uid][r.ConvID] = true
		}
		if r.MsgID <= lastID {
			t.Errorf("batch[%d] msg_id %d not after %d", i, r.MsgID, lastID)
		}
		lastID = r.MsgID
	}
	// Every member sees each of its conversations once, at its last
	// message, all with the batch's one LSN.
	var batchLSN int64
	for uid, convs := range convsOf {
		ch, next, more := mustChanges(t, s, appA, uid, store.Cursor{}, 100)
		if len(ch) != len(convs) || more {
			t.Errorf("Changes(uid %d) = %d conversations (more %v), want %d", uid, len(ch), more, len(convs))
		}
		for _, c := range ch {
			if batchLSN == 0 {
				batchLSN = c.LSN
			}
			if !convs[c.ConvID] || c.LastSeq != lastSeq[c.ConvID] || c.LSN != batchLSN {
				t.Errorf("Changes(uid %d) has %+v, want one of %v at last seq %d and LSN %d", uid, c, convs, lastSeq[c.ConvID], batchLSN)
			}
		}
		if next != (store.Cursor{LSN: batchLSN}) {
			t.Errorf("Changes(uid %d) next = %+v, want {%d 0}", uid, next, batchLSN)
		}
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
	if ch, next, more := mustChanges(t, s, appA, a, store.Cursor{}, 10); len(ch) != 0 || more || next.ConvID != 0 || next.LSN < 0 {
		t.Errorf("Changes() of a new user = %+v, next %+v, more %v; want none", ch, next, more)
	}
	// L[i] is the LSN of the i-th Append: 1 ab, 2 ac, 3 ab, 4 ad, 5 ac,
	// 6 bc (not alice's).
	L := make([]int64, 7)
	add := func(i int, from, to int64) int64 {
		t.Helper()
		r := mustAppend(t, s, msg(appA, from, to, fmt.Sprint(i), int64(i)))[0]
		L[i] = lsn(t, s, appA, a).LSN
		if L[i] <= L[i-1] {
			t.Fatalf("LSN of Append #%d = %d, not after %d", i, L[i], L[i-1])
		}
		return r.ConvID
	}
	ab := add(1, a, b)
	ac := add(2, c, a)
	add(3, b, a)
	ad := add(4, a, d)
	add(5, a, c)
	add(6, b, c)

	all := []store.ConvChange{
		{ConvID: ab, Type: jmsg.ConversationSingle, PeerUID: b, FirstSeq: 1, LastSeq: 2, LSN: L[3]},
		{ConvID: ad, Type: jmsg.ConversationSingle, PeerUID: d, FirstSeq: 1, LastSeq: 1, LSN: L[4]},
		{ConvID: ac, Type: jmsg.ConversationSingle, PeerUID: c, FirstSeq: 1, LastSeq: 2, LSN: L[5]},
	}
	end := store.Cursor{LSN: L[6]} // nothing more: the newest LSN
	tests := []struct {
		since    store.Cursor
		limit    int
		want     []store.ConvChange
		wantNext store.Cursor
		wantMore bool
	}{
		{store.Cursor{}, 10, all, end, false},
		{store.Cursor{}, 3, all, end, false},
		{store.Cursor{}, 2, all[:2], store.Cursor{LSN: L[4], ConvID: ad}, true},
		{store.Cursor{}, 1, all[:1], store.Cursor{LSN: L[3], ConvID: ab}, true},
		{store.Cursor{LSN: L[3], ConvID: ab}, 1, all[1:2], store.Cursor{LSN: L[4], ConvID: ad}, true},
		{store.Cursor{LSN: L[3]}, 1, all[1:2], store.Cursor{LSN: L[4], ConvID: ad}, true},
		{store.Cursor{LSN: L[4], ConvID: ad}, 1, all[2:], end, false},
		{store.Cursor{LSN: L[1]}, 10, all, end, false},
		{store.Cursor{LSN: L[2]}, 10, all, end, false},
		{store.Cursor{LSN: L[3]}, 10, all[1:], end, false},
		{store.Cursor{LSN: L[4]}, 10, all[2:], end, false},
		{store.Cursor{LSN: L[5]}, 10, nil, end, false},
		{store.Cursor{LSN: L[5], ConvID: ac}, 10, nil, end, false},
		{end, 10, nil, end, false},
		// A cursor beyond the newest LSN (another server's, say) is kept.
		{store.Cursor{LSN: L[6] + 100}, 10, nil, store.Cursor{LSN: L[6] + 100}, false},
	}
	for _, tc := range tests {
		got, next, more := mustChanges(t, s, appA, a, tc.since, tc.limit)
		if !slices.Equal(got, tc.want) || next != tc.wantNext || more != tc.wantMore {
			t.Errorf("Changes(alice, since %+v, limit %d) = %+v, next %+v, more %v; want %+v, next %+v, more %v",
				tc.since, tc.limit, got, next, more, tc.want, tc.wantNext, tc.wantMore)
		}
	}
	// A page of nothing (or less) lists nothing and does not move on.
	for _, limit := range []int{0, -1, -5} {
		ch, next, more, err := s.Changes(ctx(t), appA, a, store.Cursor{}, limit)
		if err != nil || len(ch) != 0 || !more || next != (store.Cursor{}) {
			t.Errorf("Changes(alice, limit %d) = %+v, next %+v, more %v, %v; want nothing, more, the same cursor", limit, ch, next, more, err)
		}
	}
	// Paging with the returned cursor visits everything once.
	var paged []store.ConvChange
	since := store.Cursor{}
	for i := 0; ; i++ {
		if i > 10 {
			t.Fatalf("paging Changes(alice) by 1 does not end")
		}
		page, next, more := mustChanges(t, s, appA, a, since, 1)
		paged = append(paged, page...)
		since = next
		if !more {
			break
		}
	}
	if !slices.Equal(paged, all) || since != end {
		t.Errorf("paging Changes(alice) by 1 = %+v ending at %+v, want %+v ending at %+v", paged, since, all, end)
	}
	// Each member of a conversation sees it, with the other as peer and the
	// same LSN.
	got, _, _ := mustChanges(t, s, appA, d, store.Cursor{}, 10)
	if want := []store.ConvChange{{ConvID: ad, Type: jmsg.ConversationSingle, PeerUID: a, FirstSeq: 1, LastSeq: 1, LSN: L[4]}}; !slices.Equal(got, want) {
		t.Errorf("Changes(david) = %+v, want %+v", got, want)
	}
	got, _, _ = mustChanges(t, s, appA, b, store.Cursor{}, 10)
	bc := mustAppend(t, s, msg(appA, b, c, "bc again", 7))[0].ConvID
	want := []store.ConvChange{
		{ConvID: ab, Type: jmsg.ConversationSingle, PeerUID: a, FirstSeq: 1, LastSeq: 2, LSN: L[3]},
		{ConvID: bc, Type: jmsg.ConversationSingle, PeerUID: c, FirstSeq: 1, LastSeq: 1, LSN: L[6]},
	}
	if !slices.Equal(got, want) {
		t.Errorf("Changes(bobby) = %+v, want %+v", got, want)
	}
}

// testChangesCursor follows one client's cursor as changes come in: it
// only ever moves forward, and from it Changes lists only what changed
// later.
func testChangesCursor(t *testing.T, s store.Store) {
	mustCreateApp(t, s, appA)
	a := mustCreateUser(t, s, appA, "alice")
	b := mustCreateUser(t, s, appA, "bobby")
	c := mustCreateUser(t, s, appA, "carol")
	cur := lsn(t, s, appA, a)

	ab := mustAppend(t, s, msg(appA, a, b, "1", 1))[0]
	ch, next, more := mustChanges(t, s, appA, a, cur, 10)
	if len(ch) != 1 || ch[0].ConvID != ab.ConvID || more || ch[0].LSN <= cur.LSN || next != (store.Cursor{LSN: ch[0].LSN}) {
		t.Fatalf("Changes(alice, %+v) after her first message = %+v, next %+v, more %v; want conv %d and a cursor at its LSN", cur, ch, next, more, ab.ConvID)
	}
	cur = next
	if ch, next, more := mustChanges(t, s, appA, a, cur, 10); len(ch) != 0 || more || next != cur {
		t.Errorf("Changes(alice, %+v) with nothing new = %+v, next %+v, more %v; want none and the same cursor", cur, ch, next, more)
	}

	// A change of someone else moves the cursor on, listing nothing.
	bc := mustAppend(t, s, msg(appA, b, c, "2", 2))[0]
	ch, next, _ = mustChanges(t, s, appA, a, cur, 10)
	if len(ch) != 0 || next.LSN <= cur.LSN || next.ConvID != 0 {
		t.Errorf("Changes(alice, %+v) after bobby→carol = %+v, next %+v; want none and a later cursor", cur, ch, next)
	}
	cur = next
	if ch, _, _ := mustChanges(t, s, appA, c, store.Cursor{}, 10); len(ch) != 1 || ch[0].ConvID != bc.ConvID {
		t.Errorf("Changes(carol) = %+v, want conv %d", ch, bc.ConvID)
	}

	// A conversation that changes again moves to the end of the order; it
	// is listed once.
	ac := mustAppend(t, s, msg(appA, c, a, "3", 3))[0]
	ab2 := mustAppend(t, s, msg(appA, b, a, "4", 4))[0]
	if ab2.ConvID != ab.ConvID || ab2.Seq != 2 {
		t.Fatalf("bobby's reply = %+v, want conv %d seq 2", ab2, ab.ConvID)
	}
	for _, since := range []store.Cursor{cur, {}} {
		ch, next, more := mustChanges(t, s, appA, a, since, 10)
		if len(ch) != 2 || more || ch[0].ConvID != ac.ConvID || ch[1].ConvID != ab.ConvID || ch[1].LastSeq != 2 ||
			ch[0].LSN >= ch[1].LSN || next != (store.Cursor{LSN: ch[1].LSN}) {
			t.Errorf("Changes(alice, %+v) = %+v, next %+v, more %v; want conv %d then conv %d at seq 2", since, ch, next, more, ac.ConvID, ab.ConvID)
		}
	}
	// bobby, following his own cursor, sees the same change.
	chA, _ := changeOf(t, s, appA, a, ab.ConvID)
	chB, _ := changeOf(t, s, appA, b, ab.ConvID)
	if chA.LSN != chB.LSN || chA.LastSeq != chB.LastSeq || chB.PeerUID != a {
		t.Errorf("alice's change %+v and bobby's %+v of one conversation differ", chA, chB)
	}
	// A cursor taken between the two changes lists only the later one.
	ch, _, _ = mustChanges(t, s, appA, a, store.Cursor{LSN: chA.LSN - 1}, 10)
	if len(ch) != 1 || ch[0].ConvID != ab.ConvID {
		t.Errorf("Changes(alice, just before bobby's reply) = %+v, want conv %d only", ch, ab.ConvID)
	}
}

// testChangesTieGroup pages through conversations changed by one Append,
// which share one LSN, with pages smaller than the group.
func testChangesTieGroup(t *testing.T, s store.Store) {
	mustCreateApp(t, s, appA)
	hub := mustCreateUser(t, s, appA, "hub00")
	early := mustCreateUser(t, s, appA, "early")
	late := mustCreateUser(t, s, appA, "late0")
	const n = 250
	peers := make([]int64, n)
	for i := range peers {
		peers[i] = mustCreateUser(t, s, appA, fmt.Sprintf("peer%03d", i))
	}
	earlyConv := mustAppend(t, s, msg(appA, hub, early, "early", 1))[0].ConvID
	var batch []store.NewMessage
	for i, p := range peers {
		if i%2 == 0 {
			batch = append(batch, msg(appA, hub, p, fmt.Sprintf("t%03d", i), 2))
		} else {
			batch = append(batch, msg(appA, p, hub, fmt.Sprintf("t%03d", i), 2))
		}
	}
	res := mustAppend(t, s, batch...)
	lateConv := mustAppend(t, s, msg(appA, late, hub, "late", 3))[0].ConvID
	inBatch := map[int64]bool{}
	for _, r := range res {
		inBatch[r.ConvID] = true
	}
	if len(inBatch) != n {
		t.Fatalf("the batch made %d conversations, want %d", len(inBatch), n)
	}
	end := lsn(t, s, appA, hub)

	for _, limit := range []int{100, 1, 7, 125, 250, 251, 252, 253} {
		var all []store.ConvChange
		since := store.Cursor{}
		pages := 0
		for {
			pages++
			if pages > n+5 {
				t.Fatalf("limit %d: paging does not end after %d pages (cursor %+v)", limit, pages, since)
			}
			ch, next, more := mustChanges(t, s, appA, hub, since, limit)
			all = append(all, ch...)
			if !more {
				if next != end {
					t.Errorf("limit %d: last page's cursor = %+v, want %+v", limit, next, end)
				}
				break
			}
			if len(ch) == 0 {
				t.Fatalf("limit %d: page %d from %+v is empty but says more", limit, pages, since)
			}
			if last := ch[len(ch)-1]; next != (store.Cursor{LSN: last.LSN, ConvID: last.ConvID}) {
				t.Fatalf("limit %d: page %d cursor = %+v, want its last conversation %+v", limit, pages, next, last)
			}
			since = next
		}
		if wantPages := (n + 2 + limit - 1) / limit; pages != wantPages {
			t.Errorf("limit %d: %d pages, want %d", limit, pages, wantPages)
		}
		if len(all) != n+2 {
			t.Errorf("limit %d: paging listed %d conversations, want %d", limit, len(all), n+2)
		}
		seen := map[int64]bool{}
		for i, c := range all {
			if seen[c.ConvID] {
				t.Errorf("limit %d: conv %d listed twice", limit, c.ConvID)
			}
			seen[c.ConvID] = true
			if i > 0 {
				p := all[i-1]
				if c.LSN < p.LSN || (c.LSN == p.LSN && c.ConvID <= p.ConvID) {
					t.Errorf("limit %d: %+v listed after %+v, want (LSN, conversation) order", limit, c, p)
				}
			}
		}
		if len(all) == n+2 {
			if all[0].ConvID != earlyConv || all[n+1].ConvID != lateConv {
				t.Errorf("limit %d: first %d and last %d, want early %d and late %d", limit, all[0].ConvID, all[n+1].ConvID, earlyConv, lateConv)
			}
			for _, c := range all[1 : n+1] {
				if !inBatch[c.ConvID] || c.LSN != all[1].LSN || c.LastSeq != 1 {
					t.Errorf("limit %d: %+v in the batch's place, want a batch conversation at LSN %d", limit, c, all[1].LSN)
				}
			}
		}
	}
	// Each peer sees its one conversation, of the batch's LSN.
	batchLSN, _ := changeOf(t, s, appA, hub, res[0].ConvID)
	for _, i := range []int{0, 1, n / 2, n - 1} {
		ch, _, _ := mustChanges(t, s, appA, peers[i], store.Cursor{}, 10)
		if len(ch) != 1 || ch[0].ConvID != res[i].ConvID || ch[0].PeerUID != hub || ch[0].LSN != batchLSN.LSN {
			t.Errorf("Changes(peer %d) = %+v, want conv %d with the hub at LSN %d", i, ch, res[i].ConvID, batchLSN.LSN)
		}
	}
}

// testDelivered checks delivered positions: raised, never lowered, never
// past the conversation's newest message, and only for members.
func testDelivered(t *testing.T, s store.Store) {
	mustCreateApp(t, s, appA)
	a := mustCreateUser(t, s, appA, "alice")
	b := mustCreateUser(t, s, appA, "bobby")
	c := mustCreateUser(t, s, appA, "carol")
	var ab, ac int64
	for i := range 5 {
		ab = mustAppend(t, s, msg(appA, a, b, fmt.Sprintf("ab%d", i), 1))[0].ConvID
	}
	ac = mustAppend(t, s, msg(appA, a, c, "ac", 1))[0].ConvID
	delivered := func(conv, uid int64) int64 {
		t.Helper()
		seq, err := s.Delivered(ctx(t), appA, conv, uid)
		if err != nil {
			t.Fatalf("Delivered(conv %d, uid %d) = %v", conv, uid, err)
		}
		return seq
	}
	set := func(ds ...store.Delivery) {
		t.Helper()
		if err := s.SetDelivered(ctx(t), appA, ds); err != nil {
			t.Fatalf("SetDelivered(%+v) = %v", ds, err)
		}
	}
	if got := delivered(ab, a); got != 0 {
		t.Errorf("Delivered() of a new conversation = %d, want 0", got)
	}
	set()
	steps := []struct {
		name   string
		ds     []store.Delivery
		wantA  int64 // alice in ab
		wantB  int64 // bobby in ab
		wantAC int64 // alice in ac
	}{
		{"raise", []store.Delivery{{UID: a, ConvID: ab, Seq: 3}}, 3, 0, 0},
		{"never lowered", []store.Delivery{{UID: a, ConvID: ab, Seq: 2}}, 3, 0, 0},
		{"same again", []store.Delivery{{UID: a, ConvID: ab, Seq: 3}}, 3, 0, 0},
		{"capped at last seq", []store.Delivery{{UID: a, ConvID: ab, Seq: 99}}, 5, 0, 0},
		{"per member", []store.Delivery{{UID: b, ConvID: ab, Seq: 4}}, 5, 4, 0},
		{"several, any order", []store.Delivery{{UID: b, ConvID: ab, Seq: 5}, {UID: a, ConvID: ac, Seq: 1}, {UID: b, ConvID: ab, Seq: 4}}, 5, 5, 1},
		{"non-member ignored", []store.Delivery{{UID: c, ConvID: ab, Seq: 2}, {UID: b, ConvID: ac, Seq: 1}}, 5, 5, 1},
		{"unknown conversation ignored", []store.Delivery{{UID: a, ConvID: ab + ac + 1000, Seq: 1}}, 5, 5, 1},
	}
	for _, st := range steps {
		set(st.ds...)
		if a1, b1, ac1 := delivered(ab, a), delivered(ab, b), delivered(ac, a); a1 != st.wantA || b1 != st.wantB || ac1 != st.wantAC {
			t.Errorf("%s: delivered (alice ab %d, bobby ab %d, alice ac %d), want (%d, %d, %d)", st.name, a1, b1, ac1, st.wantA, st.wantB, st.wantAC)
		}
	}
	if got := delivered(ab, c); got != 0 {
		t.Errorf("Delivered(carol in alice–bobby) = %d, want 0", got)
	}
	if ok, _ := isMember(s, ctx(t), appA, ab, c); ok {
		t.Errorf("SetDelivered made carol a member of conv %d", ab)
	}
	if got := delivered(ab+ac+1000, a); got != 0 {
		t.Errorf("Delivered(unknown conversation) = %d, want 0", got)
	}
	// The cap is the last seq at the time: a capped position is raised
	// again once there is more.
	for i := range 3 {
		mustAppend(t, s, msg(appA, b, a, fmt.Sprintf("ba%d", i), 1))
	}
	if got := delivered(ab, a); got != 5 {
		t.Errorf("Delivered(alice) after new messages = %d, want still 5", got)
	}
	set(store.Delivery{UID: a, ConvID: ab, Seq: 7})
	if got := delivered(ab, a); got != 7 {
		t.Errorf("Delivered(alice) = %d, want 7", got)
	}
	set(store.Delivery{UID: a, ConvID: ab, Seq: 99})
	if got := delivered(ab, a); got != 8 {
		t.Errorf("Delivered(alice) = %d, want 8 (capped)", got)
	}
	// Delivered positions are not messages: the history is unchanged.
	if msgs, _ := mustHistory(t, s, appA, ab, 0, 0, 100); len(msgs) != 8 {
		t.Errorf("History() = %d messages, want 8", len(msgs))
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
		got, err := isMember(s, ctx(t), appA, tc.conv, tc.uid)
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
	for _, limit := range []int{0, -1, -5} {
		for _, before := range []int64{0, 5} {
			got, more, err := s.History(ctx(t), appA, conv, 0, before, limit)
			if err != nil || len(got) != 0 || !more {
				t.Errorf("History(before %d, limit %d) = %d messages, more %v, %v; want none and more", before, limit, len(got), more, err)
			}
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
	if err := s.TouchDevices(ctx(t), appA, []store.DeviceLogin{{UID: aliceA, Platform: "a", MTimeMs: 100}}); err != nil {
		t.Fatal(err)
	}
	_ = s.TouchDevices(ctx(t), appB, []store.DeviceLogin{{UID: aliceA, Platform: "w", MTimeMs: 200}}) // may fail or do nothing, never record
	if d, err := s.Devices(ctx(t), appB, aliceA); err != nil || len(d) != 0 {
		t.Errorf("Devices(B, A's uid) = %v, %v; want none", d, err)
	}
	if d, err := s.Devices(ctx(t), appA, aliceA); err != nil || !slices.Equal(d, []store.Device{{Platform: "a", MTimeMs: 100}}) {
		t.Errorf("Devices(A, alice) = %v, %v; want only [{a 100}]", d, err)
	}

	ra := mustAppend(t, s, msg(appA, aliceA, bobA, "same-cid", 1))[0]
	rb := mustAppend(t, s, msg(appB, aliceB, bobB, "same-cid", 2))[0]
	if rb.Duplicate || rb.ConvID == ra.ConvID || rb.MsgID == ra.MsgID || rb.Seq != 1 {
		t.Errorf("Append in B = %+v, want a new conversation and message with seq 1 (A's is %+v)", rb, ra)
	}
	if ch, _, _ := mustChanges(t, s, appB, aliceA, store.Cursor{}, 10); len(ch) != 0 {
		t.Errorf("Changes(B, A's alice) = %+v, want none", ch)
	}
	if ch, _, _ := mustChanges(t, s, appA, aliceB, store.Cursor{}, 10); len(ch) != 0 {
		t.Errorf("Changes(A, B's alice) = %+v, want none", ch)
	}
	if ch, _, _ := mustChanges(t, s, appB, aliceB, store.Cursor{}, 10); len(ch) != 1 || ch[0].ConvID != rb.ConvID || ch[0].PeerUID != bobB {
		t.Errorf("Changes(B, B's alice) = %+v, want only conv %d with B's bobby", ch, rb.ConvID)
	}
	if ch, _, _ := mustChanges(t, s, appA, aliceA, store.Cursor{}, 10); len(ch) != 1 || ch[0].ConvID != ra.ConvID {
		t.Errorf("Changes(A, A's alice) = %+v, want only conv %d", ch, ra.ConvID)
	}
	// Delivered positions: another app's conversation is neither written
	// nor read.
	if err := s.SetDelivered(ctx(t), appB, []store.Delivery{{UID: aliceA, ConvID: ra.ConvID, Seq: 1}, {UID: aliceB, ConvID: ra.ConvID, Seq: 1}}); err != nil {
		t.Errorf("SetDelivered(B, A's conversation) = %v", err)
	}
	if seq, err := s.Delivered(ctx(t), appA, ra.ConvID, aliceA); err != nil || seq != 0 {
		t.Errorf("Delivered(A, alice) after SetDelivered through B = %d, %v; want 0", seq, err)
	}
	if err := s.SetDelivered(ctx(t), appA, []store.Delivery{{UID: aliceA, ConvID: ra.ConvID, Seq: 1}, {UID: aliceB, ConvID: rb.ConvID, Seq: 1}}); err != nil {
		t.Errorf("SetDelivered(A) = %v", err)
	}
	if seq, err := s.Delivered(ctx(t), appA, ra.ConvID, aliceA); err != nil || seq != 1 {
		t.Errorf("Delivered(A, alice) = %d, %v; want 1", seq, err)
	}
	if seq, err := s.Delivered(ctx(t), appB, ra.ConvID, aliceA); err != nil || seq != 0 {
		t.Errorf("Delivered(B, A's conversation) = %d, %v; want 0", seq, err)
	}
	if seq, err := s.Delivered(ctx(t), appB, rb.ConvID, aliceB); err != nil || seq != 0 {
		t.Errorf("Delivered(B, B's alice) after SetDelivered through A = %d, %v; want 0", seq, err)
	}
	if ok, err := isMember(s, ctx(t), appB, ra.ConvID, aliceA); err != nil || ok {
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

	// DeleteTokens revokes one token of a user, or all of them.
	valid := func(hash string) bool {
		t.Helper()
		_, err := s.TokenUser(ctx(t), appA, []byte(hash), 0)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("TokenUser(%q) = %v", hash, err)
		}
		return err == nil
	}
	put(a, "ta3", 3000)
	put(b, "tb2", 3000)
	del := func(app string, uid int64, hash []byte) {
		t.Helper()
		if err := s.DeleteTokens(ctx(t), app, uid, hash); err != nil {
			t.Fatalf("DeleteTokens(%q, %d, %q) = %v", app, uid, hash, err)
		}
	}
	steps := []struct {
		name  string
		app   string
		uid   int64
		hash  []byte
		valid map[string]bool
	}{
		{"one token", appA, a, []byte("ta1"), map[string]bool{"ta1": false, "ta2": true, "ta3": true, "tb1": true, "tb2": true}},
		{"another user's token", appA, b, []byte("ta2"), map[string]bool{"ta2": true, "ta3": true, "tb1": true, "tb2": true}},
		{"unknown token", appA, a, []byte("nope"), map[string]bool{"ta2": true, "ta3": true, "tb1": true, "tb2": true}},
		{"through another app", appB, a, nil, map[string]bool{"ta2": true, "ta3": true, "tb1": true, "tb2": true}},
		{"unknown user", appA, 987654321, nil, map[string]bool{"ta2": true, "ta3": true, "tb1": true, "tb2": true}},
		{"all of a user's", appA, a, nil, map[string]bool{"ta2": false, "ta3": false, "tb1": true, "tb2": true}},
		{"all again", appA, a, nil, map[string]bool{"ta2": false, "ta3": false, "tb1": true, "tb2": true}},
	}
	for _, st := range steps {
		del(st.app, st.uid, st.hash)
		for hash, want := range st.valid {
			if got := valid(hash); got != want {
				t.Errorf("%s: token %q valid = %v, want %v", st.name, hash, got, want)
			}
		}
	}
	// B's alice keeps hers; a revoked user can get a new token.
	if err := s.PutToken(ctx(t), appB, other, []byte("tother"), 3000); err != nil {
		t.Fatal(err)
	}
	del(appA, a, nil)
	if uid, err := s.TokenUser(ctx(t), appB, []byte("tother"), 0); err != nil || uid != other {
		t.Errorf("TokenUser(B's alice) after revoking A's alice = %d, %v; want %d", uid, err, other)
	}
	put(a, "ta4", 3000)
	if !valid("ta4") {
		t.Errorf("a token issued after DeleteTokens is not valid")
	}
}

// isMember reports whether uid may read convID now (joined and not left).
func isMember(s store.Store, ctx context.Context, appKey string, convID, uid int64) (bool, error) {
	_, left, ok, err := s.MemberWindow(ctx, appKey, convID, uid)
	return ok && left == 0, err
}
