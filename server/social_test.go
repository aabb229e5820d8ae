package server

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/jmsg-im/jmsg"
	"github.com/jmsg-im/jmsg/server/store"
	"github.com/jmsg-im/jmsg/wire"
)

// nextPlainEvent waits for c's next push, which must be a plain event of
// type typ.
func (c *rawClient) nextPlainEvent(typ int) wire.EventPush {
	c.t.Helper()
	f := c.next(wire.OpEvent)
	var ev wire.EventPush
	if err := json.Unmarshal(f.Data, &ev); err != nil {
		c.t.Fatalf("%s: decoding event %s: %v", c.name, f.Data, err)
	}
	if ev.EventType != typ {
		c.t.Fatalf("%s: got event %s, want event %d", c.name, f.Data, typ)
	}
	return ev
}

// wantErrCode fails unless err carries code.
func wantErrCode(t testing.TB, what string, err error, code int) {
	t.Helper()
	if got := jmsg.CodeOf(err); got != code {
		t.Errorf("%s = %v (code %d), want code %d", what, err, got, code)
	}
}

// TestBlacklistRefusesSingleMessages checks that a user on someone's
// blacklist cannot send them single messages (803008) whether or not the
// engine had their blacklist in memory before the change, that the owner
// still can, and that group messages are not affected.
func TestBlacklistRefusesSingleMessages(t *testing.T) {
	ts := newTestServer(t, Config{})
	addUsers(t, ts, "alice", "bobby", "carol", "david")
	if _, err := ts.st.CreateUser(t.Context(), ts.appKey, store.User{UserInfo: jmsg.UserInfo{Username: "admin1"}, PasswordHash: []byte("x"), Admin: true}); err != nil {
		t.Fatal(err)
	}
	cs := logins(t, ts, "alice", "bobby", "carol", "david")
	alice, bob, carol, david := cs[0], cs[1], cs[2], cs[3]
	aliceUID, davidUID := uidOf(t, ts, "alice"), uidOf(t, ts, "david")
	g := alice.createGroup(wire.CreateGroupReq{Name: "team", Members: users("bobby")})
	drain(t, alice, bob)

	// Alice's blacklist is read (empty) by this send, then changed.
	r := bob.send("alice", "b1", "before")
	expectMsg(t, r, "before", alice)
	if err := ts.srv.AddToBlacklist(t.Context(), ts.appKey, aliceUID, users("bobby")); err != nil {
		t.Fatalf("AddToBlacklist(alice, bobby) = %v", err)
	}
	alice.nextPlainEvent(eventBlacklistChanged)
	wantCode(t, bob, wire.OpSend, textSend("alice", "b2", "blocked"), jmsg.TcpUserInBlacklist)
	// David's blacklist was never read before it changed.
	if err := ts.srv.AddToBlacklist(t.Context(), ts.appKey, davidUID, users("bobby", "carol")); err != nil {
		t.Fatalf("AddToBlacklist(david, bobby carol) = %v", err)
	}
	david.nextPlainEvent(eventBlacklistChanged)
	wantCode(t, bob, wire.OpSend, textSend("david", "b3", "blocked"), jmsg.TcpUserInBlacklist)
	wantCode(t, carol, wire.OpSend, textSend("david", "c1", "blocked"), jmsg.TcpUserInBlacklist)
	quiet(t, alice, david)

	// The blacklist is one-way and names only bobby.
	r = alice.send("bobby", "a1", "still talking to you")
	expectMsg(t, r, "still talking to you", bob)
	r = carol.send("alice", "c2", "hi alice")
	expectMsg(t, r, "hi alice", alice)
	// Group messages are not affected.
	r = bob.sendGroup(g.GID, "b4", "in the group")
	expectMsg(t, r, "in the group", alice)

	refusals := []struct {
		name  string
		owner int64
		names []string
		code  int
	}{
		{"an admin account", aliceUID, users("carol", "admin1"), jmsg.ServerBlacklistTargetNotAllowed},
		{"a user listed already", aliceUID, users("carol", "bobby"), jmsg.ServerBlacklistMemberRepeated},
		{"no such user", aliceUID, users("carol", "nobody"), jmsg.ServerBlacklistMemberNotExist},
		{"the owner", aliceUID, users("carol", "alice"), jmsg.HttpPrameterInvalid},
		{"a name twice", aliceUID, users("carol", "carol"), jmsg.HttpPrameterInvalid},
		{"nobody", aliceUID, nil, jmsg.HttpPrameterInvalid},
	}
	for _, tc := range refusals {
		wantErrCode(t, "AddToBlacklist(alice, "+tc.name+")", ts.srv.AddToBlacklist(t.Context(), ts.appKey, tc.owner, tc.names), tc.code)
	}
	wantErrCode(t, "RemoveFromBlacklist(alice, carol bobby)", ts.srv.RemoveFromBlacklist(t.Context(), ts.appKey, aliceUID, users("bobby", "carol")), jmsg.ServerTargetNotInBlacklist)
	// Nothing of the refused calls was written: carol still reaches alice.
	r = carol.send("alice", "c3", "still here")
	expectMsg(t, r, "still here", alice)
	if got, err := ts.srv.Blacklist(t.Context(), ts.appKey, aliceUID); err != nil || len(got) != 1 || got[0].Username != "bobby" {
		t.Errorf("Blacklist(alice) = %+v, %v; want bobby only", got, err)
	}
	quiet(t, alice, bob, carol, david)

	if err := ts.srv.RemoveFromBlacklist(t.Context(), ts.appKey, aliceUID, users("bobby")); err != nil {
		t.Fatalf("RemoveFromBlacklist(alice, bobby) = %v", err)
	}
	alice.nextPlainEvent(eventBlacklistChanged)
	r = bob.send("alice", "b5", "hello again")
	expectMsg(t, r, "hello again", alice)
	wantCode(t, bob, wire.OpSend, textSend("david", "b6", "still blocked"), jmsg.TcpUserInBlacklist)
}

// TestBlacklistSurvivesRestart checks that a new engine on the same store
// refuses what the old one refused.
func TestBlacklistSurvivesRestart(t *testing.T) {
	ts := newTestServer(t, Config{})
	addUsers(t, ts, "alice", "bobby")
	if err := ts.srv.AddToBlacklist(t.Context(), ts.appKey, uidOf(t, ts, "alice"), users("bobby")); err != nil {
		t.Fatal(err)
	}
	srv, err := New(Config{BcryptCost: 4, SendPerMinute: -1, RequestsPerSecond: -1}, ts.st)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	_, err = srv.Do(t.Context(), ts.appKey, "bobby", wire.OpSend, textSend("alice", "b1", "hi"), ActOptions{})
	wantErrCode(t, "bobby's send to alice on a new engine", err, jmsg.TcpUserInBlacklist)
}

// TestShieldedGroupNotPushed checks that a member who shielded a group
// gets none of its messages pushed but still gets its events, whether the
// group's shields were in memory before the change or not.
func TestShieldedGroupNotPushed(t *testing.T) {
	ts := newTestServer(t, Config{})
	addUsers(t, ts, "alice", "bobby", "carol", "david")
	cs := logins(t, ts, "alice", "bobby", "carol", "david")
	alice, bob, carol, david := cs[0], cs[1], cs[2], cs[3]
	bobUID := uidOf(t, ts, "bobby")
	g := alice.createGroup(wire.CreateGroupReq{Name: "team", Members: users("bobby", "carol")})
	g2 := alice.createGroup(wire.CreateGroupReq{Name: "other", Members: users("bobby")})
	drain(t, alice, bob, carol)

	// g's shields are read (none) by this message, then changed; g2's
	// never were.
	r := alice.sendGroup(g.GID, "a1", "before")
	expectMsg(t, r, "before", bob, carol)
	if err := ts.srv.ChangeGroupShields(t.Context(), ts.appKey, bobUID, []int64{g.GID, g2.GID}, nil); err != nil {
		t.Fatalf("ChangeGroupShields(bobby, add g g2) = %v", err)
	}
	bob.nextPlainEvent(eventShieldChanged)

	r = alice.sendGroup(g.GID, "a2", "shielded")
	expectMsg(t, r, "shielded", carol)
	r2 := alice.sendGroup(g2.GID, "a3", "shielded too")
	r3 := carol.sendGroup(g.GID, "c1", "from carol")
	expectMsg(t, r3, "from carol", alice)
	quiet(t, bob)
	// Bobby's own message still reaches the others.
	r = bob.sendGroup(g.GID, "b1", "I can still talk")
	expectMsg(t, r, "I can still talk", alice, carol)

	// The messages are stored: history shows them to the member.
	var got []string
	for _, m := range history(bob, g.ConvID) {
		if !isEvent(m) {
			_, _, text := msgText(t, m.Content)
			got = append(got, text)
		}
	}
	if want := []string{"before", "shielded", "from carol", "I can still talk"}; !slices.Equal(got, want) {
		t.Errorf("bobby's history of the shielded group = %q, want %q", got, want)
	}
	if h := history(bob, g2.ConvID); len(h) == 0 || h[len(h)-1].MsgID != r2.MsgID {
		t.Errorf("bobby's history of g2 does not end with %+v", r2)
	}

	// Member changes still reach the member who shielded the group.
	alice.mustCall(wire.OpAddGroupMembers, wire.GroupUsersReq{GID: g.GID, Usernames: users("david")}, nil)
	expectEvent(t, wire.EventGroupMembersAdded, bob, carol, david)
	drain(t, alice)

	refusals := []struct {
		name        string
		add, remove []int64
		code        int
	}{
		{"a group shielded already", []int64{g.GID}, nil, jmsg.ServerGroupShieldAlreadySet},
		{"no such group", []int64{g.GID + g2.GID + 100}, nil, jmsg.ServerShieldGroupNotExist},
		{"a group named twice", []int64{g.GID}, []int64{g.GID}, jmsg.HttpPrameterInvalid},
	}
	for _, tc := range refusals {
		wantErrCode(t, "ChangeGroupShields(bobby, "+tc.name+")", ts.srv.ChangeGroupShields(t.Context(), ts.appKey, bobUID, tc.add, tc.remove), tc.code)
	}
	davidUID := uidOf(t, ts, "david")
	wantErrCode(t, "ChangeGroupShields(david, add g2: not a member)", ts.srv.ChangeGroupShields(t.Context(), ts.appKey, davidUID, []int64{g2.GID}, nil), jmsg.ServerShieldUserNotInGroup)
	// All or nothing: g stays shielded when removing g2 fails with it.
	if err := ts.srv.ChangeGroupShields(t.Context(), ts.appKey, bobUID, nil, []int64{g2.GID}); err != nil {
		t.Fatal(err)
	}
	bob.nextPlainEvent(eventShieldChanged)
	wantErrCode(t, "ChangeGroupShields(bobby, remove g g2)", ts.srv.ChangeGroupShields(t.Context(), ts.appKey, bobUID, nil, []int64{g.GID, g2.GID}), jmsg.ServerGroupShieldNeverSet)
	r = alice.sendGroup(g.GID, "a4", "still shielded")
	expectMsg(t, r, "still shielded", carol, david)
	r = alice.sendGroup(g2.GID, "a5", "unshielded")
	expectMsg(t, r, "unshielded", bob)
	quiet(t, bob)

	if err := ts.srv.ChangeGroupShields(t.Context(), ts.appKey, bobUID, nil, []int64{g.GID}); err != nil {
		t.Fatalf("ChangeGroupShields(bobby, remove g) = %v", err)
	}
	bob.nextPlainEvent(eventShieldChanged)
	r = alice.sendGroup(g.GID, "a6", "welcome back")
	expectMsg(t, r, "welcome back", bob, carol, david)
}

// TestSocialEvents checks the plain events of friend and no-disturb
// changes, and that no-disturb changes no delivery.
func TestSocialEvents(t *testing.T) {
	ts := newTestServer(t, Config{})
	addUsers(t, ts, "alice", "bobby", "carol")
	cs := logins(t, ts, "alice", "bobby", "carol")
	alice, bob, carol := cs[0], cs[1], cs[2]
	aliceUID := uidOf(t, ts, "alice")

	if err := ts.srv.AddFriends(t.Context(), ts.appKey, aliceUID, users("bobby", "carol")); err != nil {
		t.Fatalf("AddFriends(alice, bobby carol) = %v", err)
	}
	if ev := alice.nextPlainEvent(eventServerFriendUpdate); ev.From != "" {
		t.Errorf("alice's event 7 = %+v, want no from_username", ev)
	}
	for _, c := range []*rawClient{bob, carol} {
		if ev := c.nextPlainEvent(eventServerFriendUpdate); ev.From != "alice" {
			t.Errorf("%s's event 7 = %+v, want from_username alice", c.name, ev)
		}
	}
	wantErrCode(t, "AddFriends(alice, bobby again)", ts.srv.AddFriends(t.Context(), ts.appKey, aliceUID, users("bobby")), jmsg.ServerAlreadyFriend)
	note := "Bob"
	if err := ts.srv.SetFriendNotes(t.Context(), ts.appKey, aliceUID, []FriendNote{{Username: "bobby", NoteName: &note}}); err != nil {
		t.Fatalf("SetFriendNotes(alice) = %v", err)
	}
	alice.nextPlainEvent(eventServerFriendUpdate)
	if err := ts.srv.RemoveFriends(t.Context(), ts.appKey, uidOf(t, ts, "bobby"), users("alice")); err != nil {
		t.Fatalf("RemoveFriends(bobby, alice) = %v", err)
	}
	bob.nextPlainEvent(eventServerFriendUpdate)
	alice.nextPlainEvent(eventServerFriendUpdate)
	if fs, err := ts.srv.Friends(t.Context(), ts.appKey, aliceUID); err != nil || len(fs) != 1 || fs[0].Username != "carol" {
		t.Errorf("Friends(alice) = %+v, %v; want carol", fs, err)
	}

	on := true
	if err := ts.srv.ChangeNoDisturb(t.Context(), ts.appKey, aliceUID, NoDisturbChange{AddUsers: users("bobby"), Global: &on}); err != nil {
		t.Fatalf("ChangeNoDisturb(alice) = %v", err)
	}
	alice.nextPlainEvent(eventNoDisturbChanged)
	wantErrCode(t, "ChangeNoDisturb(alice, global on again)", ts.srv.ChangeNoDisturb(t.Context(), ts.appKey, aliceUID, NoDisturbChange{Global: &on}), jmsg.ServerGlobalNoDisturbAlreadySet)
	r := bob.send("alice", "b1", "no-disturb delivers")
	expectMsg(t, r, "no-disturb delivers", alice)
	quiet(t, alice, bob, carol)
}

// TestBlacklistCap checks that a blacklist holds at most 500 users
// (818005), counting those listed before.
func TestBlacklistCap(t *testing.T) {
	ts := newTestServer(t, Config{})
	names := make([]string, blacklistMax+1)
	for i := range names {
		names[i] = "user" + itoa(1000+i)
	}
	addUsers(t, ts, append([]string{"alice"}, names...)...)
	alice := uidOf(t, ts, "alice")
	if err := ts.srv.AddToBlacklist(t.Context(), ts.appKey, alice, names[:10]); err != nil {
		t.Fatalf("AddToBlacklist(alice, 10 users) = %v", err)
	}
	wantErrCode(t, "AddToBlacklist(alice, 491 more)", ts.srv.AddToBlacklist(t.Context(), ts.appKey, alice, names[10:]), jmsg.ServerBlacklistCountExceedLimit)
	if err := ts.srv.AddToBlacklist(t.Context(), ts.appKey, alice, names[10:blacklistMax]); err != nil {
		t.Fatalf("AddToBlacklist(alice, up to 500) = %v", err)
	}
	if got, err := ts.srv.Blacklist(t.Context(), ts.appKey, alice); err != nil || len(got) != blacklistMax {
		t.Errorf("Blacklist(alice) = %d users, %v; want %d", len(got), err, blacklistMax)
	}
}

// TestDropUserSocial checks that dropping a (deleted) user's social rows
// also forgets the engine's copies: those who blacklisted them no longer
// refuse them, and the groups they shielded reach them again.
func TestDropUserSocial(t *testing.T) {
	ts := newTestServer(t, Config{})
	addUsers(t, ts, "alice", "bobby")
	cs := logins(t, ts, "alice", "bobby")
	alice, bob := cs[0], cs[1]
	aliceUID, bobUID := uidOf(t, ts, "alice"), uidOf(t, ts, "bobby")
	g := alice.createGroup(wire.CreateGroupReq{Name: "team", Members: users("bobby")})
	drain(t, alice, bob)
	if err := ts.srv.AddToBlacklist(t.Context(), ts.appKey, aliceUID, users("bobby")); err != nil {
		t.Fatal(err)
	}
	if err := ts.srv.ChangeGroupShields(t.Context(), ts.appKey, bobUID, []int64{g.GID}, nil); err != nil {
		t.Fatal(err)
	}
	wantCode(t, bob, wire.OpSend, textSend("alice", "b1", "blocked"), jmsg.TcpUserInBlacklist)
	alice.sendGroup(g.GID, "a1", "shielded")
	drain(t, alice, bob)

	if err := ts.srv.dropUserSocial(t.Context(), ts.appKey, bobUID); err != nil {
		t.Fatalf("dropUserSocial(bobby) = %v", err)
	}
	r := bob.send("alice", "b2", "not blocked")
	expectMsg(t, r, "not blocked", alice)
	r = alice.sendGroup(g.GID, "a2", "not shielded")
	expectMsg(t, r, "not shielded", bob)
	if got, err := ts.srv.Blacklist(t.Context(), ts.appKey, aliceUID); err != nil || len(got) != 0 {
		t.Errorf("Blacklist(alice) = %+v, %v; want empty", got, err)
	}
}
