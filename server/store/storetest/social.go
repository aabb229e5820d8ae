package storetest

import (
	"errors"
	"slices"
	"testing"

	"github.com/jmsg-im/jmsg/server/store"
)

// socialTests are the suite's cases of store.Social.
var socialTests = []struct {
	name string
	fn   func(t *testing.T, s store.Store)
}{
	{"Blacklist", testBlacklist},
	{"Friends", testFriends},
	{"FriendNotes", testFriendNotes},
	{"NoDisturb", testNoDisturb},
	{"Shields", testShields},
	{"DeleteUserSocial", testDeleteUserSocial},
	{"SocialAppIsolation", testSocialAppIsolation},
}

func mustBlacklist(t testing.TB, s store.Store, app string, owner int64) []int64 {
	t.Helper()
	got, err := s.Blacklist(ctx(t), app, owner)
	if err != nil {
		t.Fatalf("Blacklist(%q, %d) = %v", app, owner, err)
	}
	return got
}

func mustFriends(t testing.TB, s store.Store, app string, owner int64) []store.Friend {
	t.Helper()
	got, err := s.Friends(ctx(t), app, owner)
	if err != nil {
		t.Fatalf("Friends(%q, %d) = %v", app, owner, err)
	}
	return got
}

func friendUIDs(fs []store.Friend) []int64 {
	out := make([]int64, len(fs))
	for i, f := range fs {
		out[i] = f.UID
	}
	return out
}

func mustNoDisturb(t testing.TB, s store.Store, app string, uid int64) store.NoDisturb {
	t.Helper()
	nd, err := s.NoDisturb(ctx(t), app, uid)
	if err != nil {
		t.Fatalf("NoDisturb(%q, %d) = %v", app, uid, err)
	}
	return nd
}

func sameNoDisturb(a, b store.NoDisturb) bool {
	return slices.Equal(a.Users, b.Users) && slices.Equal(a.Groups, b.Groups) && a.Global == b.Global
}

func mustShielded(t testing.TB, s store.Store, app string, uid int64) []int64 {
	t.Helper()
	got, err := s.ShieldedGroups(ctx(t), app, uid)
	if err != nil {
		t.Fatalf("ShieldedGroups(%q, %d) = %v", app, uid, err)
	}
	return got
}

func mustShielders(t testing.TB, s store.Store, app string, gid int64) []int64 {
	t.Helper()
	got, err := s.GroupShielders(ctx(t), app, gid)
	if err != nil {
		t.Fatalf("GroupShielders(%q, %d) = %v", app, gid, err)
	}
	return got
}

func testBlacklist(t *testing.T, s store.Store) {
	mustCreateApp(t, s, appA)
	a := mustCreateUser(t, s, appA, "alice")
	b := mustCreateUser(t, s, appA, "bobby")
	c := mustCreateUser(t, s, appA, "carol")
	d := mustCreateUser(t, s, appA, "david")

	if got := mustBlacklist(t, s, appA, a); len(got) != 0 {
		t.Fatalf("Blacklist(new user) = %v, want empty", got)
	}
	if err := s.AddBlacklist(ctx(t), appA, a, []int64{c, b}); err != nil {
		t.Fatalf("AddBlacklist(alice, carol bobby) = %v", err)
	}
	if got, want := mustBlacklist(t, s, appA, a), []int64{c, b}; !slices.Equal(got, want) {
		t.Errorf("Blacklist(alice) = %v, want %v (the order of adding)", got, want)
	}
	if got := mustBlacklist(t, s, appA, b); len(got) != 0 {
		t.Errorf("Blacklist(bobby) = %v, want empty: a blacklist is one-way", got)
	}
	// One entry listed already: nothing of the call is added.
	if err := s.AddBlacklist(ctx(t), appA, a, []int64{d, b}); !errors.Is(err, store.ErrExists) {
		t.Errorf("AddBlacklist(alice, david bobby) = %v, want ErrExists", err)
	}
	if got, want := mustBlacklist(t, s, appA, a), []int64{c, b}; !slices.Equal(got, want) {
		t.Errorf("Blacklist(alice) after a refused add = %v, want %v", got, want)
	}
	// One entry not listed: nothing of the call is removed.
	if err := s.RemoveBlacklist(ctx(t), appA, a, []int64{b, d}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("RemoveBlacklist(alice, bobby david) = %v, want ErrNotFound", err)
	}
	if got, want := mustBlacklist(t, s, appA, a), []int64{c, b}; !slices.Equal(got, want) {
		t.Errorf("Blacklist(alice) after a refused remove = %v, want %v", got, want)
	}
	if err := s.AddBlacklist(ctx(t), appA, a, []int64{d, 999999}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("AddBlacklist(alice, david and no user) = %v, want ErrNotFound", err)
	}
	if err := s.RemoveBlacklist(ctx(t), appA, a, []int64{c}); err != nil {
		t.Fatalf("RemoveBlacklist(alice, carol) = %v", err)
	}
	if err := s.AddBlacklist(ctx(t), appA, a, []int64{d, c}); err != nil {
		t.Fatalf("AddBlacklist(alice, david carol) = %v", err)
	}
	if got, want := mustBlacklist(t, s, appA, a), []int64{b, d, c}; !slices.Equal(got, want) {
		t.Errorf("Blacklist(alice) = %v, want %v", got, want)
	}
}

func testFriends(t *testing.T, s store.Store) {
	mustCreateApp(t, s, appA)
	a := mustCreateUser(t, s, appA, "alice")
	b := mustCreateUser(t, s, appA, "bobby")
	c := mustCreateUser(t, s, appA, "carol")
	d := mustCreateUser(t, s, appA, "david")

	if err := s.AddFriends(ctx(t), appA, a, []int64{b, c}); err != nil {
		t.Fatalf("AddFriends(alice, bobby carol) = %v", err)
	}
	if got, want := friendUIDs(mustFriends(t, s, appA, a)), []int64{b, c}; !slices.Equal(got, want) {
		t.Errorf("Friends(alice) = %v, want %v", got, want)
	}
	// Friendship goes both ways.
	for _, u := range []int64{b, c} {
		fs := mustFriends(t, s, appA, u)
		if !slices.Equal(friendUIDs(fs), []int64{a}) || fs[0].CTimeMs == 0 || fs[0].NoteName != "" || fs[0].Others != "" {
			t.Errorf("Friends(%d) = %+v, want alice with a time and no notes", u, fs)
		}
	}
	// Already friends, from the other side: nothing of the call is added.
	if err := s.AddFriends(ctx(t), appA, c, []int64{d, a}); !errors.Is(err, store.ErrExists) {
		t.Errorf("AddFriends(carol, david alice) = %v, want ErrExists", err)
	}
	if got := mustFriends(t, s, appA, d); len(got) != 0 {
		t.Errorf("Friends(david) after a refused add = %+v, want none", got)
	}
	if err := s.RemoveFriends(ctx(t), appA, b, []int64{a, d}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("RemoveFriends(bobby, alice david) = %v, want ErrNotFound", err)
	}
	if got := friendUIDs(mustFriends(t, s, appA, b)); !slices.Equal(got, []int64{a}) {
		t.Errorf("Friends(bobby) after a refused remove = %v, want alice", got)
	}
	// Removing from either side ends both directions.
	if err := s.RemoveFriends(ctx(t), appA, b, []int64{a}); err != nil {
		t.Fatalf("RemoveFriends(bobby, alice) = %v", err)
	}
	if got := friendUIDs(mustFriends(t, s, appA, a)); !slices.Equal(got, []int64{c}) {
		t.Errorf("Friends(alice) = %v, want carol", got)
	}
	if got := mustFriends(t, s, appA, b); len(got) != 0 {
		t.Errorf("Friends(bobby) = %+v, want none", got)
	}
	if err := s.AddFriends(ctx(t), appA, b, []int64{a}); err != nil {
		t.Errorf("AddFriends(bobby, alice) again = %v", err)
	}
	if err := s.AddFriends(ctx(t), appA, a, []int64{999999}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("AddFriends(alice, no user) = %v, want ErrNotFound", err)
	}
}

func testFriendNotes(t *testing.T, s store.Store) {
	mustCreateApp(t, s, appA)
	a := mustCreateUser(t, s, appA, "alice")
	b := mustCreateUser(t, s, appA, "bobby")
	c := mustCreateUser(t, s, appA, "carol")
	d := mustCreateUser(t, s, appA, "david")
	if err := s.AddFriends(ctx(t), appA, a, []int64{b, c}); err != nil {
		t.Fatal(err)
	}
	str := func(v string) *string { return &v }
	if err := s.SetFriendNotes(ctx(t), appA, a, []store.FriendNote{{UID: b, NoteName: str("Bob"), Others: str("met at the gym")}, {UID: c, NoteName: str("C")}}); err != nil {
		t.Fatalf("SetFriendNotes(alice) = %v", err)
	}
	want := []store.Friend{{UID: b, NoteName: "Bob", Others: "met at the gym"}, {UID: c, NoteName: "C"}}
	check := func(when string) {
		t.Helper()
		got := mustFriends(t, s, appA, a)
		if len(got) != len(want) {
			t.Fatalf("Friends(alice) %s = %+v, want %+v", when, got, want)
		}
		for i := range got {
			got[i].CTimeMs = 0
			if got[i] != want[i] {
				t.Errorf("Friends(alice)[%d] %s = %+v, want %+v", i, when, got[i], want[i])
			}
		}
	}
	check("after notes")
	// Notes are per direction.
	if fs := mustFriends(t, s, appA, b); len(fs) != 1 || fs[0].NoteName != "" || fs[0].Others != "" {
		t.Errorf("Friends(bobby) = %+v, want alice without notes", fs)
	}
	// A nil field keeps its value; an empty one clears it.
	if err := s.SetFriendNotes(ctx(t), appA, a, []store.FriendNote{{UID: b, Others: str("")}}); err != nil {
		t.Fatal(err)
	}
	want[0].Others = ""
	check("after clearing others")
	// One entry is no friend: nothing of the call changes.
	if err := s.SetFriendNotes(ctx(t), appA, a, []store.FriendNote{{UID: c, NoteName: str("changed")}, {UID: d, NoteName: str("x")}}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("SetFriendNotes(alice, carol and no friend) = %v, want ErrNotFound", err)
	}
	check("after a refused change")
}

func testNoDisturb(t *testing.T, s store.Store) {
	mustCreateApp(t, s, appA)
	a := mustCreateUser(t, s, appA, "alice")
	b := mustCreateUser(t, s, appA, "bobby")
	c := mustCreateUser(t, s, appA, "carol")
	g1, _ := mustCreateGroup(t, s, appA, 1, a, store.GroupMember{UID: a, Role: 1})
	g2, _ := mustCreateGroup(t, s, appA, 1, a, store.GroupMember{UID: a, Role: 1})
	on, off := true, false

	if got := mustNoDisturb(t, s, appA, a); !sameNoDisturb(got, store.NoDisturb{}) {
		t.Fatalf("NoDisturb(new user) = %+v, want nothing set", got)
	}
	if err := s.ChangeNoDisturb(ctx(t), appA, a, store.NoDisturbChange{AddUsers: []int64{c, b}, AddGroups: []int64{g2.GID, g1.GID}, Global: &on}); err != nil {
		t.Fatalf("ChangeNoDisturb(alice, add) = %v", err)
	}
	want := store.NoDisturb{Users: []int64{b, c}, Groups: []int64{g1.GID, g2.GID}, Global: true}
	if got := mustNoDisturb(t, s, appA, a); !sameNoDisturb(got, want) {
		t.Errorf("NoDisturb(alice) = %+v, want %+v", got, want)
	}
	if got := mustNoDisturb(t, s, appA, b); !sameNoDisturb(got, store.NoDisturb{}) {
		t.Errorf("NoDisturb(bobby) = %+v, want nothing set", got)
	}
	refused := []struct {
		name string
		ch   store.NoDisturbChange
		want error
	}{
		{"a user set already", store.NoDisturbChange{RemoveUsers: []int64{c}, AddUsers: []int64{b}, Global: &off}, store.ErrExists},
		{"a group set already", store.NoDisturbChange{RemoveUsers: []int64{c}, AddGroups: []int64{g1.GID}}, store.ErrExists},
		{"a user never set", store.NoDisturbChange{RemoveGroups: []int64{g1.GID}, RemoveUsers: []int64{a}}, store.ErrNotFound},
		{"a group never set", store.NoDisturbChange{RemoveUsers: []int64{c}, RemoveGroups: []int64{999999}}, store.ErrNotFound},
	}
	for _, tc := range refused {
		if err := s.ChangeNoDisturb(ctx(t), appA, a, tc.ch); !errors.Is(err, tc.want) {
			t.Errorf("ChangeNoDisturb(alice, %s) = %v, want %v", tc.name, err, tc.want)
		}
		if got := mustNoDisturb(t, s, appA, a); !sameNoDisturb(got, want) {
			t.Errorf("NoDisturb(alice) after refusing %s = %+v, want %+v unchanged", tc.name, got, want)
		}
	}
	if err := s.ChangeNoDisturb(ctx(t), appA, a, store.NoDisturbChange{RemoveUsers: []int64{b}, RemoveGroups: []int64{g2.GID}, Global: &off}); err != nil {
		t.Fatalf("ChangeNoDisturb(alice, remove) = %v", err)
	}
	want = store.NoDisturb{Users: []int64{c}, Groups: []int64{g1.GID}}
	if got := mustNoDisturb(t, s, appA, a); !sameNoDisturb(got, want) {
		t.Errorf("NoDisturb(alice) = %+v, want %+v", got, want)
	}
	// The switch is set, not toggled; nil keeps it.
	for _, g := range []*bool{&off, nil, &on, &on, nil} {
		if err := s.ChangeNoDisturb(ctx(t), appA, a, store.NoDisturbChange{Global: g}); err != nil {
			t.Fatalf("ChangeNoDisturb(alice, global %v) = %v", g, err)
		}
		if g != nil {
			want.Global = *g
		}
		if got := mustNoDisturb(t, s, appA, a); !sameNoDisturb(got, want) {
			t.Errorf("NoDisturb(alice) after global %v = %+v, want %+v", g, got, want)
		}
	}
}

func testShields(t *testing.T, s store.Store) {
	mustCreateApp(t, s, appA)
	a := mustCreateUser(t, s, appA, "alice")
	b := mustCreateUser(t, s, appA, "bobby")
	g1, _ := mustCreateGroup(t, s, appA, 1, a, store.GroupMember{UID: a, Role: 1}, store.GroupMember{UID: b})
	g2, _ := mustCreateGroup(t, s, appA, 1, a, store.GroupMember{UID: a, Role: 1}, store.GroupMember{UID: b})
	g3, _ := mustCreateGroup(t, s, appA, 1, a, store.GroupMember{UID: a, Role: 1})

	if got := mustShielded(t, s, appA, a); len(got) != 0 {
		t.Fatalf("ShieldedGroups(new user) = %v, want none", got)
	}
	if err := s.ChangeShields(ctx(t), appA, b, []int64{g2.GID, g1.GID}, nil); err != nil {
		t.Fatalf("ChangeShields(bobby, add g2 g1) = %v", err)
	}
	if err := s.ChangeShields(ctx(t), appA, a, []int64{g1.GID}, nil); err != nil {
		t.Fatalf("ChangeShields(alice, add g1) = %v", err)
	}
	if got, want := mustShielded(t, s, appA, b), []int64{g1.GID, g2.GID}; !slices.Equal(got, want) {
		t.Errorf("ShieldedGroups(bobby) = %v, want %v", got, want)
	}
	if got, want := mustShielders(t, s, appA, g1.GID), []int64{a, b}; !slices.Equal(got, want) {
		t.Errorf("GroupShielders(g1) = %v, want %v", got, want)
	}
	if got := mustShielders(t, s, appA, g3.GID); len(got) != 0 {
		t.Errorf("GroupShielders(g3) = %v, want none", got)
	}
	if err := s.ChangeShields(ctx(t), appA, b, []int64{g3.GID, g1.GID}, nil); !errors.Is(err, store.ErrExists) {
		t.Errorf("ChangeShields(bobby, add g3 g1) = %v, want ErrExists", err)
	}
	if err := s.ChangeShields(ctx(t), appA, b, nil, []int64{g1.GID, g3.GID}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("ChangeShields(bobby, remove g1 g3) = %v, want ErrNotFound", err)
	}
	if err := s.ChangeShields(ctx(t), appA, b, []int64{999999}, nil); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("ChangeShields(bobby, add no group) = %v, want ErrNotFound", err)
	}
	if got, want := mustShielded(t, s, appA, b), []int64{g1.GID, g2.GID}; !slices.Equal(got, want) {
		t.Errorf("ShieldedGroups(bobby) after refused changes = %v, want %v", got, want)
	}
	if err := s.ChangeShields(ctx(t), appA, b, []int64{g3.GID}, []int64{g1.GID}); err != nil {
		t.Fatalf("ChangeShields(bobby, add g3, remove g1) = %v", err)
	}
	if got, want := mustShielded(t, s, appA, b), []int64{g2.GID, g3.GID}; !slices.Equal(got, want) {
		t.Errorf("ShieldedGroups(bobby) = %v, want %v", got, want)
	}
	if got, want := mustShielders(t, s, appA, g1.GID), []int64{a}; !slices.Equal(got, want) {
		t.Errorf("GroupShielders(g1) = %v, want %v", got, want)
	}
}

func testDeleteUserSocial(t *testing.T, s store.Store) {
	mustCreateApp(t, s, appA)
	a := mustCreateUser(t, s, appA, "alice")
	b := mustCreateUser(t, s, appA, "bobby")
	c := mustCreateUser(t, s, appA, "carol")
	g, _ := mustCreateGroup(t, s, appA, 1, a, store.GroupMember{UID: a, Role: 1}, store.GroupMember{UID: b})
	on := true
	for _, err := range []error{
		s.AddBlacklist(ctx(t), appA, a, []int64{b, c}),
		s.AddBlacklist(ctx(t), appA, b, []int64{a, c}),
		s.AddFriends(ctx(t), appA, b, []int64{a, c}),
		s.ChangeNoDisturb(ctx(t), appA, a, store.NoDisturbChange{AddUsers: []int64{b, c}}),
		s.ChangeNoDisturb(ctx(t), appA, b, store.NoDisturbChange{AddUsers: []int64{a}, AddGroups: []int64{g.GID}, Global: &on}),
		s.ChangeShields(ctx(t), appA, a, []int64{g.GID}, nil),
		s.ChangeShields(ctx(t), appA, b, []int64{g.GID}, nil),
	} {
		if err != nil {
			t.Fatalf("setting up: %v", err)
		}
	}
	if err := s.DeleteUserSocial(ctx(t), appA, b); err != nil {
		t.Fatalf("DeleteUserSocial(bobby) = %v", err)
	}
	if got := mustBlacklist(t, s, appA, a); !slices.Equal(got, []int64{c}) {
		t.Errorf("Blacklist(alice) = %v, want carol only", got)
	}
	if got := mustBlacklist(t, s, appA, b); len(got) != 0 {
		t.Errorf("Blacklist(bobby) = %v, want none", got)
	}
	for _, u := range []int64{a, b, c} {
		if got := mustFriends(t, s, appA, u); len(got) != 0 {
			t.Errorf("Friends(%d) = %+v, want none", u, got)
		}
	}
	if got, want := mustNoDisturb(t, s, appA, a), (store.NoDisturb{Users: []int64{c}}); !sameNoDisturb(got, want) {
		t.Errorf("NoDisturb(alice) = %+v, want %+v", got, want)
	}
	if got := mustNoDisturb(t, s, appA, b); !sameNoDisturb(got, store.NoDisturb{}) {
		t.Errorf("NoDisturb(bobby) = %+v, want nothing", got)
	}
	if got := mustShielders(t, s, appA, g.GID); !slices.Equal(got, []int64{a}) {
		t.Errorf("GroupShielders(g) = %v, want alice only", got)
	}
}

func testSocialAppIsolation(t *testing.T, s store.Store) {
	mustCreateApp(t, s, appA)
	mustCreateApp(t, s, appB)
	a := mustCreateUser(t, s, appA, "alice")
	b := mustCreateUser(t, s, appA, "bobby")
	aB := mustCreateUser(t, s, appB, "alice")
	g, _ := mustCreateGroup(t, s, appA, 1, a, store.GroupMember{UID: a, Role: 1}, store.GroupMember{UID: b})
	if err := s.AddBlacklist(ctx(t), appA, a, []int64{b}); err != nil {
		t.Fatal(err)
	}
	if err := s.AddFriends(ctx(t), appA, a, []int64{b}); err != nil {
		t.Fatal(err)
	}
	if err := s.ChangeShields(ctx(t), appA, a, []int64{g.GID}, nil); err != nil {
		t.Fatal(err)
	}
	if err := s.ChangeNoDisturb(ctx(t), appA, a, store.NoDisturbChange{AddUsers: []int64{b}, AddGroups: []int64{g.GID}}); err != nil {
		t.Fatal(err)
	}

	// Reads through B see nothing of A's users and groups.
	if got := mustBlacklist(t, s, appB, a); len(got) != 0 {
		t.Errorf("Blacklist(B, A's alice) = %v, want none", got)
	}
	if got := mustFriends(t, s, appB, a); len(got) != 0 {
		t.Errorf("Friends(B, A's alice) = %+v, want none", got)
	}
	if got := mustNoDisturb(t, s, appB, a); !sameNoDisturb(got, store.NoDisturb{}) {
		t.Errorf("NoDisturb(B, A's alice) = %+v, want nothing", got)
	}
	if got := mustShielded(t, s, appB, a); len(got) != 0 {
		t.Errorf("ShieldedGroups(B, A's alice) = %v, want none", got)
	}
	if got := mustShielders(t, s, appB, g.GID); len(got) != 0 {
		t.Errorf("GroupShielders(B, A's group) = %v, want none", got)
	}
	// Writes through B that name A's users or groups change nothing.
	writes := []struct {
		name string
		err  error
	}{
		{"AddBlacklist(B, B's alice, A's bobby)", s.AddBlacklist(ctx(t), appB, aB, []int64{b})},
		{"RemoveBlacklist(B, A's alice, A's bobby)", s.RemoveBlacklist(ctx(t), appB, a, []int64{b})},
		{"AddFriends(B, B's alice, A's bobby)", s.AddFriends(ctx(t), appB, aB, []int64{b})},
		{"RemoveFriends(B, A's alice, A's bobby)", s.RemoveFriends(ctx(t), appB, a, []int64{b})},
		{"ChangeNoDisturb(B, A's alice)", s.ChangeNoDisturb(ctx(t), appB, a, store.NoDisturbChange{RemoveUsers: []int64{b}})},
		{"ChangeNoDisturb(B, B's alice, A's group)", s.ChangeNoDisturb(ctx(t), appB, aB, store.NoDisturbChange{AddGroups: []int64{g.GID}})},
		{"ChangeShields(B, B's alice, A's group)", s.ChangeShields(ctx(t), appB, aB, []int64{g.GID}, nil)},
		{"ChangeShields(B, A's alice)", s.ChangeShields(ctx(t), appB, a, nil, []int64{g.GID})},
		{"DeleteUserSocial(B, A's alice)", s.DeleteUserSocial(ctx(t), appB, a)},
	}
	for _, w := range writes {
		if !errors.Is(w.err, store.ErrNotFound) {
			t.Errorf("%s = %v, want ErrNotFound", w.name, w.err)
		}
	}
	if got := mustBlacklist(t, s, appA, a); !slices.Equal(got, []int64{b}) {
		t.Errorf("Blacklist(A, alice) = %v, want bobby", got)
	}
	if got := friendUIDs(mustFriends(t, s, appA, a)); !slices.Equal(got, []int64{b}) {
		t.Errorf("Friends(A, alice) = %v, want bobby", got)
	}
	if got, want := mustNoDisturb(t, s, appA, a), (store.NoDisturb{Users: []int64{b}, Groups: []int64{g.GID}}); !sameNoDisturb(got, want) {
		t.Errorf("NoDisturb(A, alice) = %+v, want %+v", got, want)
	}
	if got := mustShielders(t, s, appA, g.GID); !slices.Equal(got, []int64{a}) {
		t.Errorf("GroupShielders(A, g) = %v, want alice", got)
	}
	if got := mustBlacklist(t, s, appB, aB); len(got) != 0 {
		t.Errorf("Blacklist(B, alice) = %v, want none", got)
	}
}
