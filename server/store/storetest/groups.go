package storetest

import (
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/jmsg-im/jmsg"
	"github.com/jmsg-im/jmsg/server/store"
)

// groupTests are the suite's cases of store.Groups.
var groupTests = []struct {
	name string
	fn   func(t *testing.T, s store.Store)
}{
	{"CreateGroup", testCreateGroup},
	{"GroupLists", testGroupLists},
	{"GroupAddRemove", testGroupAddRemove},
	{"GroupUpdate", testGroupUpdate},
	{"GroupDissolve", testGroupDissolve},
	{"GroupApplications", testGroupApplications},
	{"GroupChangeAtomic", testGroupChangeAtomic},
	{"GroupAppIsolation", testGroupAppIsolation},
}

// event is an event message of a group change by from.
func event(app string, from int64, text string) store.NewMessage {
	return store.NewMessage{AppKey: app, SenderUID: from, CTimeMs: 1,
		Content: []byte(fmt.Sprintf(`{"version":1,"msg_type":"event","msg_body":{"text":%q}}`, text))}
}

// mustCreateGroup creates a group of app owned by owner with members (the
// owner among them) and returns it with its creation event.
func mustCreateGroup(t testing.TB, s store.Store, app string, typ int, owner int64, members ...store.GroupMember) (store.Group, store.Appended) {
	t.Helper()
	g := store.Group{AppKey: app, Name: "group", Desc: "desc", Avatar: "avatar", Type: typ, MaxMembers: 500, OwnerUID: owner}
	var seen store.Group
	got, a, err := s.CreateGroup(ctx(t), g, members, func(g store.Group) store.NewMessage {
		seen = g
		return event(app, owner, "created")
	})
	if err != nil {
		t.Fatalf("CreateGroup(%+v) = %v", g, err)
	}
	if got.GID <= 0 || got.ConvID <= 0 || seen.GID != got.GID || seen.ConvID != got.ConvID {
		t.Fatalf("CreateGroup() = %+v, event built for %+v; want the same gid and conversation set", got, seen)
	}
	return got, a
}

func mustGroup(t testing.TB, s store.Store, app string, gid int64) store.Group {
	t.Helper()
	g, err := s.Group(ctx(t), app, gid)
	if err != nil {
		t.Fatalf("Group(%q, %d) = %v", app, gid, err)
	}
	return g
}

func mustMembers(t testing.TB, s store.Store, app string, gid int64) []store.GroupMember {
	t.Helper()
	ms, err := s.GroupMembers(ctx(t), app, gid)
	if err != nil {
		t.Fatalf("GroupMembers(%q, %d) = %v", app, gid, err)
	}
	return ms
}

func memberUIDs(ms []store.GroupMember) []int64 {
	out := make([]int64, len(ms))
	for i, m := range ms {
		out[i] = m.UID
	}
	return out
}

func gids(gs []store.Group) []int64 {
	out := make([]int64, len(gs))
	for i, g := range gs {
		out[i] = g.GID
	}
	return out
}

func mustApply(t testing.TB, s store.Store, ch store.GroupChange) store.Appended {
	t.Helper()
	a, err := s.ApplyGroupChange(ctx(t), ch)
	if err != nil {
		t.Fatalf("ApplyGroupChange(%+v) = %v", ch, err)
	}
	return a
}

// window returns uid's MemberWindow of conv, failing if uid never belonged.
func window(t testing.TB, s store.Store, app string, conv, uid int64) (join, left int64) {
	t.Helper()
	join, left, ok, err := s.MemberWindow(ctx(t), app, conv, uid)
	if err != nil || !ok {
		t.Fatalf("MemberWindow(conv %d, uid %d) = %v, %v; want a window", conv, uid, ok, err)
	}
	return join, left
}

func testCreateGroup(t *testing.T, s store.Store) {
	mustCreateApp(t, s, appA)
	a := mustCreateUser(t, s, appA, "alice")
	b := mustCreateUser(t, s, appA, "bobby")
	c := mustCreateUser(t, s, appA, "carol")
	d := mustCreateUser(t, s, appA, "david")
	before := lsn(t, s, appA, d)

	// The owner is listed last and joined last: GroupMembers puts them
	// first, then the others by join time, then uid.
	g, ev := mustCreateGroup(t, s, appA, 1, c,
		store.GroupMember{UID: b, JoinTimeMs: 200},
		store.GroupMember{UID: a, JoinTimeMs: 100},
		store.GroupMember{UID: d, JoinTimeMs: 100},
		store.GroupMember{UID: c, Role: 1, JoinTimeMs: 300},
	)
	want := store.Group{GID: g.GID, AppKey: appA, ConvID: g.ConvID, Name: "group", Desc: "desc", Avatar: "avatar", Type: 1,
		MaxMembers: 500, OwnerUID: c, CTimeMs: g.CTimeMs, MTimeMs: g.MTimeMs}
	if g != want || g.CTimeMs <= 0 || g.MTimeMs < g.CTimeMs {
		t.Errorf("CreateGroup() = %+v, want %+v with creation and modification times", g, want)
	}
	if ev.ConvID != g.ConvID || ev.Seq != 1 || ev.MsgID <= 0 || ev.Duplicate || string(ev.Content) != string(event(appA, c, "created").Content) {
		t.Errorf("creation event = %+v, want message 1 of conv %d", ev, g.ConvID)
	}
	if got := mustGroup(t, s, appA, g.GID); got != g {
		t.Errorf("Group() = %+v, want %+v", got, g)
	}
	for _, gid := range []int64{g.GID + 1000, 0, -1} {
		if _, err := s.Group(ctx(t), appA, gid); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Group(%d) = %v, want ErrNotFound", gid, err)
		}
	}
	ms := mustMembers(t, s, appA, g.GID)
	wantMs := []store.GroupMember{{UID: c, Role: 1, JoinTimeMs: 300}, {UID: a, JoinTimeMs: 100}, {UID: d, JoinTimeMs: 100}, {UID: b, JoinTimeMs: 200}}
	if !slices.Equal(ms, wantMs) {
		t.Errorf("GroupMembers() = %+v, want %+v", ms, wantMs)
	}
	// Every member reads the conversation from its first message, and sees
	// it change with the creation's LSN.
	for _, uid := range []int64{a, b, c, d} {
		if join, left := window(t, s, appA, g.ConvID, uid); join != 0 || left != 0 {
			t.Errorf("MemberWindow(uid %d) = (%d, %d), want (0, 0)", uid, join, left)
		}
		ch, ok := changeOf(t, s, appA, uid, g.ConvID)
		if !ok || ch.Type != jmsg.ConversationGroup || ch.LastSeq != 1 || ch.PeerUID != 0 || ch.LSN <= before.LSN {
			t.Errorf("Changes(uid %d) lists %+v (%v), want the group conversation at seq 1 after LSN %d", uid, ch, ok, before.LSN)
		}
	}
	if msgs, _ := mustHistory(t, s, appA, g.ConvID, 0, 0, 10); !slices.Equal(seqs(msgs), []int64{1}) || msgs[0].MsgID != ev.MsgID || msgs[0].SenderUID != c {
		t.Errorf("History() = %+v, want the creation event", msgs)
	}
	e := mustCreateUser(t, s, appA, "erin1")
	if _, _, ok, err := s.MemberWindow(ctx(t), appA, g.ConvID, e); ok || err != nil {
		t.Errorf("MemberWindow(non-member) = %v, %v; want none", ok, err)
	}
	// A group of one, and a second group: new ids and conversations.
	g2, ev2 := mustCreateGroup(t, s, appA, 2, a, store.GroupMember{UID: a, Role: 1, JoinTimeMs: 5})
	if g2.GID == g.GID || g2.ConvID == g.ConvID || ev2.Seq != 1 || ev2.ConvID != g2.ConvID {
		t.Errorf("second group = %+v (event %+v), want new ids and seq 1 (first: %+v)", g2, ev2, g)
	}
	if ms := mustMembers(t, s, appA, g2.GID); !slices.Equal(ms, []store.GroupMember{{UID: a, Role: 1, JoinTimeMs: 5}}) {
		t.Errorf("GroupMembers(second) = %+v", ms)
	}
	// Appending to a group conversation goes on with its numbering.
	r := mustAppend(t, s, store.NewMessage{AppKey: appA, SenderUID: b, ConvID: g.ConvID, ClientMsgID: "g1", CTimeMs: 5, Content: []byte(`{}`)})[0]
	if r.ConvID != g.ConvID || r.Seq != 2 {
		t.Errorf("Append(to the group) = %+v, want conv %d seq 2", r, g.ConvID)
	}
	if ch, ok := changeOf(t, s, appA, d, g.ConvID); !ok || ch.LastSeq != 2 {
		t.Errorf("Changes(david) = %+v, want the group at seq 2", ch)
	}
}

func testGroupLists(t *testing.T, s store.Store) {
	mustCreateApp(t, s, appA)
	a := mustCreateUser(t, s, appA, "alice")
	b := mustCreateUser(t, s, appA, "bobby")
	c := mustCreateUser(t, s, appA, "carol")
	d := mustCreateUser(t, s, appA, "david")
	owner := func(uid int64) store.GroupMember { return store.GroupMember{UID: uid, Role: 1, JoinTimeMs: 1} }
	member := func(uid int64) store.GroupMember { return store.GroupMember{UID: uid, JoinTimeMs: 2} }
	g1, _ := mustCreateGroup(t, s, appA, 1, a, owner(a), member(b))
	g2, _ := mustCreateGroup(t, s, appA, 2, a, owner(a))
	g3, _ := mustCreateGroup(t, s, appA, 2, b, owner(b), member(a), member(c))
	g4, _ := mustCreateGroup(t, s, appA, 2, c, owner(c))
	g5, _ := mustCreateGroup(t, s, appA, 1, c, owner(c), member(b))

	for _, tc := range []struct {
		uid  int64
		want []int64
	}{
		{a, []int64{g1.GID, g2.GID, g3.GID}},
		{b, []int64{g1.GID, g3.GID, g5.GID}},
		{c, []int64{g3.GID, g4.GID, g5.GID}},
		{d, nil},
	} {
		gs, err := s.UserGroups(ctx(t), appA, tc.uid)
		if err != nil || !slices.Equal(gids(gs), tc.want) {
			t.Errorf("UserGroups(uid %d) = %v, %v; want %v", tc.uid, gids(gs), err, tc.want)
		}
		for _, g := range gs {
			if g != mustGroup(t, s, appA, g.GID) {
				t.Errorf("UserGroups(uid %d) lists %+v, want the whole group", tc.uid, g)
			}
		}
	}
	member2, owned, err := s.GroupCounts(ctx(t), appA, []int64{a, b, c, d})
	if err != nil {
		t.Fatalf("GroupCounts() = %v", err)
	}
	for _, tc := range []struct{ uid, member, owned int64 }{{a, 3, 2}, {b, 3, 1}, {c, 3, 2}, {d, 0, 0}} {
		if int64(member2[tc.uid]) != tc.member || int64(owned[tc.uid]) != tc.owned {
			t.Errorf("GroupCounts(uid %d) = member of %d, owner of %d; want %d and %d", tc.uid, member2[tc.uid], owned[tc.uid], tc.member, tc.owned)
		}
	}
	if m, o, err := s.GroupCounts(ctx(t), appA, nil); err != nil || len(m) != 0 || len(o) != 0 {
		t.Errorf("GroupCounts(none) = %v, %v, %v; want nothing", m, o, err)
	}

	public := []int64{g2.GID, g3.GID, g4.GID}
	for _, tc := range []struct {
		start, count int
		want         []int64
	}{
		{0, 10, public},
		{0, 3, public},
		{0, 2, public[:2]},
		{1, 1, public[1:2]},
		{2, 10, public[2:]},
		{3, 10, nil},
		{100, 10, nil},
	} {
		gs, total, err := s.PublicGroups(ctx(t), appA, tc.start, tc.count)
		if err != nil || !slices.Equal(gids(gs), tc.want) || total != 3 {
			t.Errorf("PublicGroups(%d, %d) = %v, total %d, %v; want %v, total 3", tc.start, tc.count, gids(gs), total, err, tc.want)
		}
		for _, g := range gs {
			if g.Type != 2 || g != mustGroup(t, s, appA, g.GID) {
				t.Errorf("PublicGroups lists %+v, want the whole public group", g)
			}
		}
	}
}

func testGroupAddRemove(t *testing.T, s store.Store) {
	mustCreateApp(t, s, appA)
	a := mustCreateUser(t, s, appA, "alice")
	b := mustCreateUser(t, s, appA, "bobby")
	c := mustCreateUser(t, s, appA, "carol")
	d := mustCreateUser(t, s, appA, "david")
	g, _ := mustCreateGroup(t, s, appA, 1, a, store.GroupMember{UID: a, Role: 1, JoinTimeMs: 1}, store.GroupMember{UID: b, JoinTimeMs: 1})
	mustAppend(t, s, store.NewMessage{AppKey: appA, SenderUID: a, ConvID: g.ConvID, CTimeMs: 2, Content: []byte(`{}`)}) // seq 2
	before := lsn(t, s, appA, c)

	// carol joins with the event at seq 3: she reads from it on.
	add := mustApply(t, s, store.GroupChange{AppKey: appA, GID: g.GID, Add: []store.GroupMember{{UID: c, JoinTimeMs: 10}},
		Event: event(appA, a, "add carol")})
	if add.ConvID != g.ConvID || add.Seq != 3 || add.MsgID <= 0 {
		t.Errorf("ApplyGroupChange(add) = %+v, want message 3 of conv %d", add, g.ConvID)
	}
	if join, left := window(t, s, appA, g.ConvID, c); join != 2 || left != 0 {
		t.Errorf("MemberWindow(carol) = (%d, %d), want (2, 0): from the event on", join, left)
	}
	ch, ok := changeOf(t, s, appA, c, g.ConvID)
	if !ok || ch.LastSeq != 3 || ch.LSN <= before.LSN || ch.Type != jmsg.ConversationGroup {
		t.Errorf("Changes(carol) = %+v (%v), want the group at seq 3 after LSN %d", ch, ok, before.LSN)
	}
	addLSN := ch.LSN
	if ch, _ := changeOf(t, s, appA, b, g.ConvID); ch.LastSeq != 3 || ch.LSN != addLSN {
		t.Errorf("Changes(bobby) = %+v, want the group at seq 3, LSN %d", ch, addLSN)
	}
	if ms := memberUIDs(mustMembers(t, s, appA, g.GID)); !slices.Equal(ms, []int64{a, b, c}) {
		t.Errorf("GroupMembers() after add = %v, want [%d %d %d]", ms, a, b, c)
	}
	if gs, _ := s.UserGroups(ctx(t), appA, c); !slices.Equal(gids(gs), []int64{g.GID}) {
		t.Errorf("UserGroups(carol) = %v, want [%d]", gids(gs), g.GID)
	}

	// bobby leaves with the event at seq 4: he may read up to it, and the
	// conversation changes for him no more.
	rm := mustApply(t, s, store.GroupChange{AppKey: appA, GID: g.GID, Remove: []int64{b}, Event: event(appA, a, "remove bobby")})
	if rm.Seq != 4 {
		t.Errorf("ApplyGroupChange(remove) = %+v, want seq 4", rm)
	}
	if join, left := window(t, s, appA, g.ConvID, b); join != 0 || left != 4 {
		t.Errorf("MemberWindow(bobby) after leaving = (%d, %d), want (0, 4)", join, left)
	}
	if ok, _ := isMember(s, ctx(t), appA, g.ConvID, b); ok {
		t.Errorf("IsMember(bobby) after leaving = true")
	}
	chB, ok := changeOf(t, s, appA, b, g.ConvID)
	if !ok || chB.LastSeq != 4 || chB.LSN <= addLSN {
		t.Errorf("Changes(bobby) after leaving = %+v (%v), want the group at seq 4 after LSN %d", chB, ok, addLSN)
	}
	curB := lsn(t, s, appA, b)
	if ms := memberUIDs(mustMembers(t, s, appA, g.GID)); !slices.Equal(ms, []int64{a, c}) {
		t.Errorf("GroupMembers() after remove = %v, want [%d %d]", ms, a, c)
	}
	if gs, _ := s.UserGroups(ctx(t), appA, b); len(gs) != 0 {
		t.Errorf("UserGroups(bobby) after leaving = %v, want none", gids(gs))
	}
	if m, _, _ := s.GroupCounts(ctx(t), appA, []int64{b}); m[b] != 0 {
		t.Errorf("GroupCounts(bobby) after leaving = %d, want 0", m[b])
	}
	// Later messages: the members see them, bobby does not.
	mustAppend(t, s, store.NewMessage{AppKey: appA, SenderUID: c, ConvID: g.ConvID, CTimeMs: 5, Content: []byte(`{}`)}) // seq 5
	mustApply(t, s, store.GroupChange{AppKey: appA, GID: g.GID, Add: []store.GroupMember{{UID: d, JoinTimeMs: 20}}, Event: event(appA, a, "add david")})
	if ch, ok := changeOf(t, s, appA, b, g.ConvID); !ok || ch != chB {
		t.Errorf("Changes(bobby) after later messages = %+v, want still %+v", ch, chB)
	}
	if ch, _, _ := mustChanges(t, s, appA, b, curB, 10); len(ch) != 0 {
		t.Errorf("Changes(bobby, since he left) = %+v, want none", ch)
	}
	if ch, _ := changeOf(t, s, appA, c, g.ConvID); ch.LastSeq != 6 {
		t.Errorf("Changes(carol) = %+v, want the group at seq 6", ch)
	}
	if join, left := window(t, s, appA, g.ConvID, d); join != 5 || left != 0 {
		t.Errorf("MemberWindow(david) = (%d, %d), want (5, 0)", join, left)
	}

	// Several leave and join at once; bobby comes back and reads from his
	// new joining on.
	back := mustApply(t, s, store.GroupChange{AppKey: appA, GID: g.GID, Remove: []int64{c, d}, Add: []store.GroupMember{{UID: b, JoinTimeMs: 30}},
		Event: event(appA, a, "swap")})
	if back.Seq != 7 {
		t.Errorf("ApplyGroupChange(swap) = %+v, want seq 7", back)
	}
	for _, tc := range []struct{ uid, join, left int64 }{{b, 6, 0}, {c, 2, 7}, {d, 5, 7}, {a, 0, 0}} {
		if join, left := window(t, s, appA, g.ConvID, tc.uid); join != tc.join || left != tc.left {
			t.Errorf("MemberWindow(uid %d) after swap = (%d, %d), want (%d, %d)", tc.uid, join, left, tc.join, tc.left)
		}
	}
	if ms := mustMembers(t, s, appA, g.GID); !slices.Equal(ms, []store.GroupMember{{UID: a, Role: 1, JoinTimeMs: 1}, {UID: b, JoinTimeMs: 30}}) {
		t.Errorf("GroupMembers() after swap = %+v", ms)
	}
	if ch, _, _ := mustChanges(t, s, appA, b, curB, 10); len(ch) != 1 || ch[0].ConvID != g.ConvID || ch[0].LastSeq != 7 {
		t.Errorf("Changes(bobby) after coming back = %+v, want the group at seq 7", ch)
	}
	if ch, _ := changeOf(t, s, appA, c, g.ConvID); ch.LastSeq != 7 {
		t.Errorf("Changes(carol) after leaving = %+v, want the group at seq 7", ch)
	}
	if msgs, _ := mustHistory(t, s, appA, g.ConvID, 0, 0, 100); !slices.Equal(seqs(msgs), []int64{1, 2, 3, 4, 5, 6, 7}) {
		t.Errorf("History() = %v, want 1..7", seqs(msgs))
	}
}

func testGroupUpdate(t *testing.T, s store.Store) {
	mustCreateApp(t, s, appA)
	a := mustCreateUser(t, s, appA, "alice")
	b := mustCreateUser(t, s, appA, "bobby")
	c := mustCreateUser(t, s, appA, "carol")
	g, _ := mustCreateGroup(t, s, appA, 1, a, store.GroupMember{UID: a, Role: 1, JoinTimeMs: 1},
		store.GroupMember{UID: b, JoinTimeMs: 2}, store.GroupMember{UID: c, JoinTimeMs: 3})

	// Roles and silence.
	mustApply(t, s, store.GroupChange{AppKey: appA, GID: g.GID, Update: []store.GroupMember{
		{UID: b, Role: 2, JoinTimeMs: 2},
		{UID: c, JoinTimeMs: 3, SilenceStartMs: 1000, SilenceEndMs: 2000},
	}, Event: event(appA, a, "roles")})
	want := []store.GroupMember{{UID: a, Role: 1, JoinTimeMs: 1}, {UID: b, Role: 2, JoinTimeMs: 2}, {UID: c, JoinTimeMs: 3, SilenceStartMs: 1000, SilenceEndMs: 2000}}
	if ms := mustMembers(t, s, appA, g.GID); !slices.Equal(ms, want) {
		t.Errorf("GroupMembers() after update = %+v, want %+v", ms, want)
	}
	if got := mustGroup(t, s, appA, g.GID); got != g {
		t.Errorf("Group() after a member update = %+v, want it unchanged %+v", got, g)
	}

	// Info: name, description, avatar, type and owner, in one change with
	// the roles that go with a new owner.
	info := g
	info.Name, info.Desc, info.Avatar, info.Type, info.OwnerUID = "renamed", "", "new/avatar", 2, c
	info.CTimeMs, info.MTimeMs, info.MaxMembers, info.ConvID = 5, 6, 7, 8 // not the change's to set
	r := mustApply(t, s, store.GroupChange{AppKey: appA, GID: g.GID, Info: &info, Update: []store.GroupMember{
		{UID: c, Role: 1, JoinTimeMs: 3},
		{UID: a, Role: 0, JoinTimeMs: 1},
	}, Event: event(appA, a, "transfer")})
	if r.Seq != 3 {
		t.Errorf("ApplyGroupChange(info) = %+v, want seq 3", r)
	}
	got := mustGroup(t, s, appA, g.GID)
	wantG := store.Group{GID: g.GID, AppKey: appA, ConvID: g.ConvID, Name: "renamed", Desc: "", Avatar: "new/avatar", Type: 2,
		MaxMembers: 500, OwnerUID: c, CTimeMs: g.CTimeMs, MTimeMs: got.MTimeMs}
	if got != wantG || got.MTimeMs < g.MTimeMs {
		t.Errorf("Group() after info change = %+v, want %+v with an mtime not before %d", got, wantG, g.MTimeMs)
	}
	want = []store.GroupMember{{UID: c, Role: 1, JoinTimeMs: 3}, {UID: a, JoinTimeMs: 1}, {UID: b, Role: 2, JoinTimeMs: 2}}
	if ms := mustMembers(t, s, appA, g.GID); !slices.Equal(ms, want) {
		t.Errorf("GroupMembers() after transfer = %+v, want %+v", ms, want)
	}
	if gs, total, _ := s.PublicGroups(ctx(t), appA, 0, 10); !slices.Equal(gids(gs), []int64{g.GID}) || total != 1 {
		t.Errorf("PublicGroups() after the group became public = %v, total %d", gids(gs), total)
	}
	if _, owned, _ := s.GroupCounts(ctx(t), appA, []int64{a, c}); owned[a] != 0 || owned[c] != 1 {
		t.Errorf("GroupCounts() owned = %v, want carol 1, alice 0", owned)
	}
}

func testGroupDissolve(t *testing.T, s store.Store) {
	mustCreateApp(t, s, appA)
	a := mustCreateUser(t, s, appA, "alice")
	b := mustCreateUser(t, s, appA, "bobby")
	c := mustCreateUser(t, s, appA, "carol")
	g, _ := mustCreateGroup(t, s, appA, 2, a, store.GroupMember{UID: a, Role: 1, JoinTimeMs: 1},
		store.GroupMember{UID: b, JoinTimeMs: 1}, store.GroupMember{UID: c, JoinTimeMs: 1})
	other, _ := mustCreateGroup(t, s, appA, 2, b, store.GroupMember{UID: b, Role: 1, JoinTimeMs: 1})
	mustApply(t, s, store.GroupChange{AppKey: appA, GID: g.GID, Remove: []int64{c}, Event: event(appA, a, "carol out")}) // seq 2
	mustAppend(t, s, store.NewMessage{AppKey: appA, SenderUID: b, ConvID: g.ConvID, CTimeMs: 3, Content: []byte(`{}`)})  // seq 3

	d := mustApply(t, s, store.GroupChange{AppKey: appA, GID: g.GID, Dissolve: true, Event: event(appA, a, "dissolved")})
	if d.Seq != 4 {
		t.Errorf("ApplyGroupChange(dissolve) = %+v, want seq 4", d)
	}
	got := mustGroup(t, s, appA, g.GID)
	if !got.Dissolved || got.Name != g.Name || got.MTimeMs < g.MTimeMs {
		t.Errorf("Group() after dissolving = %+v, want it dissolved", got)
	}
	if ms := mustMembers(t, s, appA, g.GID); len(ms) != 0 {
		t.Errorf("GroupMembers() after dissolving = %+v, want none", ms)
	}
	// Every member left with the event; one who left earlier keeps their end.
	for _, tc := range []struct{ uid, left int64 }{{a, 4}, {b, 4}, {c, 2}} {
		if join, left := window(t, s, appA, g.ConvID, tc.uid); join != 0 || left != tc.left {
			t.Errorf("MemberWindow(uid %d) after dissolving = (%d, %d), want (0, %d)", tc.uid, join, left, tc.left)
		}
		if ch, ok := changeOf(t, s, appA, tc.uid, g.ConvID); !ok || ch.LastSeq != tc.left {
			t.Errorf("Changes(uid %d) after dissolving = %+v (%v), want the group at seq %d", tc.uid, ch, ok, tc.left)
		}
	}
	for _, uid := range []int64{a, b} {
		gs, _ := s.UserGroups(ctx(t), appA, uid)
		if want := map[int64][]int64{a: nil, b: {other.GID}}[uid]; !slices.Equal(gids(gs), want) {
			t.Errorf("UserGroups(uid %d) after dissolving = %v, want %v", uid, gids(gs), want)
		}
	}
	if m, o, _ := s.GroupCounts(ctx(t), appA, []int64{a, b}); m[a] != 0 || o[a] != 0 || m[b] != 1 || o[b] != 1 {
		t.Errorf("GroupCounts() after dissolving = %v, %v; want alice none, bobby 1 and 1", m, o)
	}
	if gs, total, _ := s.PublicGroups(ctx(t), appA, 0, 10); !slices.Equal(gids(gs), []int64{other.GID}) || total != 1 {
		t.Errorf("PublicGroups() after dissolving = %v, total %d; want only %d", gids(gs), total, other.GID)
	}
	if msgs, _ := mustHistory(t, s, appA, g.ConvID, 0, 0, 10); !slices.Equal(seqs(msgs), []int64{1, 2, 3, 4}) {
		t.Errorf("History() after dissolving = %v, want 1..4", seqs(msgs))
	}
}

func testGroupApplications(t *testing.T, s store.Store) {
	mustCreateApp(t, s, appA)
	a := mustCreateUser(t, s, appA, "alice")
	b := mustCreateUser(t, s, appA, "bobby")
	c := mustCreateUser(t, s, appA, "carol")
	g, _ := mustCreateGroup(t, s, appA, 2, a, store.GroupMember{UID: a, Role: 1, JoinTimeMs: 1})
	g2, _ := mustCreateGroup(t, s, appA, 2, a, store.GroupMember{UID: a, Role: 1, JoinTimeMs: 1})

	app, err := s.CreateApplication(ctx(t), appA, store.Application{GID: g.GID, UID: b, Reason: "let me in", Status: 2})
	if err != nil || app.EventID <= 0 || app.GID != g.GID || app.UID != b || app.Reason != "let me in" || app.Status != 0 || app.CTimeMs <= 0 {
		t.Fatalf("CreateApplication() = %+v, %v; want a pending application with a new event id", app, err)
	}
	if got, err := s.ApplicationByID(ctx(t), appA, app.EventID); err != nil || got != app {
		t.Errorf("ApplicationByID() = %+v, %v; want %+v", got, err, app)
	}
	if _, err := s.ApplicationByID(ctx(t), appA, app.EventID+1000); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("ApplicationByID(unknown) = %v, want ErrNotFound", err)
	}
	if _, err := s.CreateApplication(ctx(t), appA, store.Application{GID: g.GID, UID: b, Reason: "again"}); !errors.Is(err, store.ErrExists) {
		t.Errorf("CreateApplication(a second pending) = %v, want ErrExists", err)
	}
	if _, err := s.CreateApplication(ctx(t), appA, store.Application{GID: g.GID + 1000, UID: b}); err == nil {
		t.Errorf("CreateApplication(unknown group) succeeded")
	}
	// Other applicants, other groups: each its own.
	appC, err := s.CreateApplication(ctx(t), appA, store.Application{GID: g.GID, UID: c})
	if err != nil || appC.EventID == app.EventID {
		t.Fatalf("CreateApplication(carol) = %+v, %v; want a new event id", appC, err)
	}
	app2, err := s.CreateApplication(ctx(t), appA, store.Application{GID: g2.GID, UID: b})
	if err != nil || app2.EventID == app.EventID || app2.EventID == appC.EventID {
		t.Fatalf("CreateApplication(bobby, second group) = %+v, %v; want a new event id", app2, err)
	}

	// Approval: resolved with the joining, in one change.
	mustApply(t, s, store.GroupChange{AppKey: appA, GID: g.GID, Add: []store.GroupMember{{UID: b, JoinTimeMs: 5}},
		Application: app.EventID, ApplicationStatus: 1, Event: event(appA, a, "approved")})
	if got, _ := s.ApplicationByID(ctx(t), appA, app.EventID); got.Status != 1 {
		t.Errorf("application after approval = %+v, want status 1", got)
	}
	if ms := memberUIDs(mustMembers(t, s, appA, g.GID)); !slices.Equal(ms, []int64{a, b}) {
		t.Errorf("GroupMembers() after approval = %v", ms)
	}
	// Resolving it again fails and changes nothing.
	before, _ := mustHistory(t, s, appA, g.ConvID, 0, 0, 100)
	if _, err := s.ApplyGroupChange(ctx(t), store.GroupChange{AppKey: appA, GID: g.GID, Add: []store.GroupMember{{UID: c, JoinTimeMs: 6}},
		Application: app.EventID, ApplicationStatus: 1, Event: event(appA, a, "approved again")}); err == nil {
		t.Errorf("ApplyGroupChange(resolving a resolved application) succeeded")
	}
	// An application of another group is not this group's to resolve.
	if _, err := s.ApplyGroupChange(ctx(t), store.GroupChange{AppKey: appA, GID: g.GID, Application: app2.EventID, ApplicationStatus: 2}); err == nil {
		t.Errorf("ApplyGroupChange(resolving another group's application) succeeded")
	}
	if got, _ := s.ApplicationByID(ctx(t), appA, app2.EventID); got.Status != 0 {
		t.Errorf("other group's application = %+v, want still pending", got)
	}
	after, _ := mustHistory(t, s, appA, g.ConvID, 0, 0, 100)
	if !slices.Equal(seqs(after), seqs(before)) {
		t.Errorf("History() after refused changes = %v, want %v", seqs(after), seqs(before))
	}
	if ms := memberUIDs(mustMembers(t, s, appA, g.GID)); !slices.Equal(ms, []int64{a, b}) {
		t.Errorf("GroupMembers() after a refused approval = %v, want [%d %d]", ms, a, b)
	}

	// Rejection: no event, no message.
	cur := lsn(t, s, appA, a)
	if _, err := s.ApplyGroupChange(ctx(t), store.GroupChange{AppKey: appA, GID: g.GID, Application: appC.EventID, ApplicationStatus: 2}); err != nil {
		t.Fatalf("ApplyGroupChange(reject) = %v", err)
	}
	if got, _ := s.ApplicationByID(ctx(t), appA, appC.EventID); got.Status != 2 || got.UID != c {
		t.Errorf("application after rejection = %+v, want status 2", got)
	}
	if msgs, _ := mustHistory(t, s, appA, g.ConvID, 0, 0, 100); !slices.Equal(seqs(msgs), seqs(before)) {
		t.Errorf("History() after a rejection = %v, want %v", seqs(msgs), seqs(before))
	}
	if ch, _, _ := mustChanges(t, s, appA, a, cur, 10); len(ch) != 0 {
		t.Errorf("Changes(alice) after a rejection = %+v, want none", ch)
	}
	if ms := memberUIDs(mustMembers(t, s, appA, g.GID)); slices.Contains(ms, c) {
		t.Errorf("GroupMembers() after a rejection = %v, want carol not among them", ms)
	}
	// Resolved, an applicant may apply again.
	again, err := s.CreateApplication(ctx(t), appA, store.Application{GID: g.GID, UID: c, Reason: "please"})
	if err != nil || again.EventID == appC.EventID || again.Status != 0 {
		t.Errorf("CreateApplication(after a rejection) = %+v, %v; want a new pending application", again, err)
	}
}

// testGroupChangeAtomic checks that a change that fails leaves no trace:
// no event, no LSN, no member change.
func testGroupChangeAtomic(t *testing.T, s store.Store) {
	mustCreateApp(t, s, appA)
	a := mustCreateUser(t, s, appA, "alice")
	b := mustCreateUser(t, s, appA, "bobby")
	c := mustCreateUser(t, s, appA, "carol")
	g, _ := mustCreateGroup(t, s, appA, 1, a, store.GroupMember{UID: a, Role: 1, JoinTimeMs: 1}, store.GroupMember{UID: b, JoinTimeMs: 1})
	cur := lsn(t, s, appA, a)

	// Adding an existing member fails, with a new one and a removal.
	if _, err := s.ApplyGroupChange(ctx(t), store.GroupChange{AppKey: appA, GID: g.GID, Add: []store.GroupMember{{UID: c, JoinTimeMs: 2}, {UID: b, JoinTimeMs: 2}},
		Remove: []int64{b}, Event: event(appA, a, "bad")}); err == nil {
		t.Fatalf("ApplyGroupChange(adding a member) succeeded")
	}
	if ch, next, _ := mustChanges(t, s, appA, a, cur, 10); len(ch) != 0 || next != cur {
		t.Errorf("Changes(alice) after a failed change = %+v, %+v; want none and the cursor at %+v", ch, next, cur)
	}
	if msgs, _ := mustHistory(t, s, appA, g.ConvID, 0, 0, 10); !slices.Equal(seqs(msgs), []int64{1}) {
		t.Errorf("History() after a failed change = %v, want [1]", seqs(msgs))
	}
	if ms := memberUIDs(mustMembers(t, s, appA, g.GID)); !slices.Equal(ms, []int64{a, b}) {
		t.Errorf("GroupMembers() after a failed change = %v, want [%d %d]", ms, a, b)
	}
	if _, _, ok, _ := s.MemberWindow(ctx(t), appA, g.ConvID, c); ok {
		t.Errorf("carol has a window of the conversation after a failed change")
	}
	// Unknown groups.
	if _, err := s.ApplyGroupChange(ctx(t), store.GroupChange{AppKey: appA, GID: g.GID + 1000, Event: event(appA, a, "x")}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("ApplyGroupChange(unknown group) = %v, want ErrNotFound", err)
	}
	if ch, _, _ := mustChanges(t, s, appA, a, cur, 10); len(ch) != 0 {
		t.Errorf("Changes(alice) after a change of an unknown group = %+v", ch)
	}
	// The next change is message 2.
	if r := mustApply(t, s, store.GroupChange{AppKey: appA, GID: g.GID, Add: []store.GroupMember{{UID: c, JoinTimeMs: 2}}, Event: event(appA, a, "ok")}); r.Seq != 2 {
		t.Errorf("ApplyGroupChange after failures = %+v, want seq 2", r)
	}
}

func testGroupAppIsolation(t *testing.T, s store.Store) {
	mustCreateApp(t, s, appA)
	mustCreateApp(t, s, appB)
	a := mustCreateUser(t, s, appA, "alice")
	b := mustCreateUser(t, s, appA, "bobby")
	aB := mustCreateUser(t, s, appB, "alice")
	g, _ := mustCreateGroup(t, s, appA, 2, a, store.GroupMember{UID: a, Role: 1, JoinTimeMs: 1})
	gB, _ := mustCreateGroup(t, s, appB, 2, aB, store.GroupMember{UID: aB, Role: 1, JoinTimeMs: 1})
	if gB.GID == g.GID || gB.ConvID == g.ConvID {
		t.Fatalf("groups of two apps share ids: %+v, %+v", g, gB)
	}
	app, err := s.CreateApplication(ctx(t), appA, store.Application{GID: g.GID, UID: b})
	if err != nil {
		t.Fatal(err)
	}

	if _, err := s.Group(ctx(t), appB, g.GID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Group(B, A's group) = %v, want ErrNotFound", err)
	}
	if ms, err := s.GroupMembers(ctx(t), appB, g.GID); err != nil || len(ms) != 0 {
		t.Errorf("GroupMembers(B, A's group) = %+v, %v; want none", ms, err)
	}
	if gs, err := s.UserGroups(ctx(t), appB, a); err != nil || len(gs) != 0 {
		t.Errorf("UserGroups(B, A's alice) = %v, %v; want none", gids(gs), err)
	}
	if gs, total, err := s.PublicGroups(ctx(t), appB, 0, 10); err != nil || !slices.Equal(gids(gs), []int64{gB.GID}) || total != 1 {
		t.Errorf("PublicGroups(B) = %v, total %d, %v; want only B's", gids(gs), total, err)
	}
	if gs, total, err := s.PublicGroups(ctx(t), appA, 0, 10); err != nil || !slices.Equal(gids(gs), []int64{g.GID}) || total != 1 {
		t.Errorf("PublicGroups(A) = %v, total %d, %v; want only A's", gids(gs), total, err)
	}
	if m, o, err := s.GroupCounts(ctx(t), appB, []int64{a}); err != nil || m[a] != 0 || o[a] != 0 {
		t.Errorf("GroupCounts(B, A's alice) = %v, %v, %v; want none", m, o, err)
	}
	if _, err := s.ApplicationByID(ctx(t), appB, app.EventID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("ApplicationByID(B, A's application) = %v, want ErrNotFound", err)
	}
	if _, err := s.CreateApplication(ctx(t), appB, store.Application{GID: g.GID, UID: aB}); err == nil {
		t.Errorf("CreateApplication(B, A's group) succeeded")
	}
	// A change through B touches nothing of A's group.
	info := g
	info.Name = "hijacked"
	if _, err := s.ApplyGroupChange(ctx(t), store.GroupChange{AppKey: appB, GID: g.GID, Info: &info, Add: []store.GroupMember{{UID: aB, JoinTimeMs: 2}},
		Dissolve: true, Event: event(appB, aB, "hijack")}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("ApplyGroupChange(B, A's group) = %v, want ErrNotFound", err)
	}
	if _, err := s.ApplyGroupChange(ctx(t), store.GroupChange{AppKey: appB, GID: g.GID, Application: app.EventID, ApplicationStatus: 2}); err == nil {
		t.Errorf("ApplyGroupChange(B, resolving A's application) succeeded")
	}
	if got := mustGroup(t, s, appA, g.GID); got != g {
		t.Errorf("A's group after changes through B = %+v, want %+v", got, g)
	}
	if got, _ := s.ApplicationByID(ctx(t), appA, app.EventID); got.Status != 0 {
		t.Errorf("A's application after changes through B = %+v, want pending", got)
	}
	if ms := mustMembers(t, s, appA, g.GID); !slices.Equal(memberUIDs(ms), []int64{a}) {
		t.Errorf("A's members after changes through B = %v", memberUIDs(ms))
	}
	if _, _, ok, _ := s.MemberWindow(ctx(t), appB, g.ConvID, a); ok {
		t.Errorf("MemberWindow(B, A's group conversation) found a window")
	}
	if msgs, _ := mustHistory(t, s, appB, g.ConvID, 0, 0, 10); len(msgs) != 0 {
		t.Errorf("History(B, A's group conversation) = %d messages, want none", len(msgs))
	}
	if ch, _, _ := mustChanges(t, s, appB, a, store.Cursor{}, 10); len(ch) != 0 {
		t.Errorf("Changes(B, A's alice) = %+v, want none", ch)
	}
	// A message to A's group conversation through B is refused.
	if _, err := s.Append(ctx(t), []store.NewMessage{{AppKey: appB, SenderUID: aB, ConvID: g.ConvID, CTimeMs: 1, Content: []byte(`{}`)}}); err == nil {
		t.Errorf("Append(B, to A's group conversation) succeeded")
	}
	if msgs, _ := mustHistory(t, s, appA, g.ConvID, 0, 0, 10); len(msgs) != 1 {
		t.Errorf("History(A's group) = %d messages, want 1", len(msgs))
	}
}
