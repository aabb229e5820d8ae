package server

import (
	"cmp"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/jmsg-im/jmsg"
	"github.com/jmsg-im/jmsg/server/store"
	"github.com/jmsg-im/jmsg/wire"
)

// addUsers creates users directly in the store, with the test password, in
// the order given (so their uids ascend in that order).
func addUsers(t testing.TB, ts *testServer, names ...string) {
	t.Helper()
	hash, err := hashPassword(password, 4)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		if _, err := ts.st.CreateUser(t.Context(), ts.appKey, store.User{UserInfo: jmsg.UserInfo{Username: n}, PasswordHash: hash}); err != nil {
			t.Fatalf("CreateUser(%s) = %v", n, err)
		}
	}
}

// logins logs each user in on its own connection.
func logins(t testing.TB, ts *testServer, names ...string) []*rawClient {
	t.Helper()
	out := make([]*rawClient, len(names))
	for i, n := range names {
		out[i], _ = login(t, ts, n, "")
	}
	return out
}

// groupSend is a send request of a text message to group gid.
func groupSend(gid int64, cid, text string) wire.SendReq {
	r := textSend("", cid, text)
	r.Content.TargetType, r.Content.TargetID = "group", jmsg.FormatID(gid)
	return r
}

// sendGroup sends a text message to group gid and returns the response.
func (c *rawClient) sendGroup(gid int64, cid, text string) wire.SendResp {
	c.t.Helper()
	var resp wire.SendResp
	c.mustCall(wire.OpSend, groupSend(gid, cid, text), &resp)
	if resp.MsgID == 0 || resp.ConvID == 0 || resp.Seq == 0 {
		c.t.Fatalf("%s: send to group %d = %+v, want ids set", c.name, gid, resp)
	}
	return resp
}

// createGroup creates a group and returns its info. The creator's own
// event push stays queued.
func (c *rawClient) createGroup(req wire.CreateGroupReq) wire.GroupInfo {
	c.t.Helper()
	var g wire.GroupInfo
	c.mustCall(wire.OpCreateGroup, req, &g)
	if g.GID <= 0 || g.ConvID <= 0 {
		c.t.Fatalf("%s: create_group = %+v, want gid and conv_id", c.name, g)
	}
	return g
}

// groupEvent is a decoded group event message.
type groupEvent struct {
	msg  wire.Message
	doc  jmsg.Doc
	body wire.GroupEventBody
}

// decodeEvent decodes m, which must be a group event message.
func decodeEvent(t testing.TB, m wire.Message) groupEvent {
	t.Helper()
	e := groupEvent{msg: m}
	if err := json.Unmarshal(m.Content, &e.doc); err != nil {
		t.Fatalf("content %s: %v", m.Content, err)
	}
	if e.doc.MsgType != "event" || e.doc.FromType != "system" || e.doc.TargetType != "group" || e.doc.Version != 1 {
		t.Fatalf("message %s is not a group event (msg_type event, from_type system, target_type group)", m.Content)
	}
	if err := json.Unmarshal(e.doc.MsgBody, &e.body); err != nil {
		t.Fatalf("event body %s: %v", e.doc.MsgBody, err)
	}
	if e.doc.TargetID != jmsg.FormatID(e.body.GID) {
		t.Fatalf("event %s: target_id %q, gid %d", m.Content, e.doc.TargetID, e.body.GID)
	}
	return e
}

// isEvent reports whether m is an event message.
func isEvent(m wire.Message) bool {
	var doc jmsg.Doc
	return json.Unmarshal(m.Content, &doc) == nil && doc.MsgType == "event"
}

// nextEvent waits for c's next push, which must be a group event of type typ.
func (c *rawClient) nextEvent(typ int) groupEvent {
	c.t.Helper()
	e := decodeEvent(c.t, c.nextMsg().Message)
	if e.body.EventType != typ {
		c.t.Fatalf("%s: got event %d %s, want event %d", c.name, e.body.EventType, e.doc.MsgBody, typ)
	}
	return e
}

// expectEvent checks that the next push of each client is one and the
// same group event of type typ, and returns it.
func expectEvent(t testing.TB, typ int, cs ...*rawClient) groupEvent {
	t.Helper()
	var first groupEvent
	for i, c := range cs {
		e := c.nextEvent(typ)
		if i == 0 {
			first = e
		} else if e.msg.MsgID != first.msg.MsgID || string(e.msg.Content) != string(first.msg.Content) || e.msg.Seq != first.msg.Seq {
			t.Fatalf("%s got event %+v, %s got %+v: want the same message", cs[0].name, first.msg, c.name, e.msg)
		}
	}
	return first
}

// expectMsg checks that the next push of each client is message r with text.
func expectMsg(t testing.TB, r wire.SendResp, text string, cs ...*rawClient) {
	t.Helper()
	for _, c := range cs {
		m := c.nextMsg().Message
		if m.MsgID != r.MsgID || m.ConvID != r.ConvID || m.Seq != r.Seq || m.CTimeMs != r.CTimeMs {
			c.t.Fatalf("%s: got push %+v, want message %+v", c.name, m, r)
		}
		if _, _, got := msgText(t, m.Content); got != text {
			c.t.Fatalf("%s: got text %q, want %q", c.name, got, text)
		}
	}
}

// roundTrip makes a request that runs on the write path (my_groups) and
// returns the pushes that came before its answer. Any message committed
// before the call has been published by then: a push that did not arrive
// will not.
func (c *rawClient) roundTrip() []wire.Frame {
	c.t.Helper()
	f := c.call(wire.OpMyGroups, nil)
	if f.Code != 0 {
		c.t.Fatalf("%s: my_groups = error %d", c.name, f.Code)
	}
	out := c.stash
	c.stash = nil
	return out
}

// quiet checks that nothing was pushed to each client.
func quiet(t testing.TB, cs ...*rawClient) {
	t.Helper()
	for _, c := range cs {
		for _, f := range c.roundTrip() {
			t.Errorf("%s: unexpected frame op %q code %d data %s", c.name, f.Op, f.Code, f.Data)
		}
	}
}

// drain discards whatever was pushed to each client.
func drain(t testing.TB, cs ...*rawClient) {
	t.Helper()
	for _, c := range cs {
		c.roundTrip()
	}
}

// history returns every message of conv that c may read, oldest first.
func history(c *rawClient, conv int64) []wire.Message {
	c.t.Helper()
	var out []wire.Message
	req := wire.HistoryReq{ConvID: conv}
	for range 1000 {
		var resp wire.HistoryResp
		c.mustCall(wire.OpHistory, req, &resp)
		out = append(out, resp.Messages...)
		if !resp.More {
			return out
		}
		req.After = resp.Messages[len(resp.Messages)-1].Seq
	}
	c.t.Fatalf("%s: history of %d never ends", c.name, conv)
	return nil
}

func msgSeqs(ms []wire.Message) []int64 {
	out := make([]int64, len(ms))
	for i, m := range ms {
		out[i] = m.Seq
	}
	return out
}

// checkHistory checks that c reads exactly the messages with seqs want in
// conv, oldest first and, with before, newest first.
func checkHistory(t testing.TB, c *rawClient, conv int64, want ...int64) []wire.Message {
	t.Helper()
	got := history(c, conv)
	if !slices.Equal(msgSeqs(got), want) {
		t.Errorf("%s: history of conv %d = seqs %v, want %v", c.name, conv, msgSeqs(got), want)
	}
	var back wire.HistoryResp
	c.mustCall(wire.OpHistory, wire.HistoryReq{ConvID: conv, Before: 1 << 40}, &back)
	rev := slices.Clone(want)
	slices.Reverse(rev)
	if !slices.Equal(msgSeqs(back.Messages), rev) || back.More {
		t.Errorf("%s: history of conv %d newest first = seqs %v (more %v), want %v", c.name, conv, msgSeqs(back.Messages), back.More, rev)
	}
	return got
}

// members returns the member list of gid as c sees it.
func members(c *rawClient, gid int64) []wire.GroupMember {
	c.t.Helper()
	var resp wire.GroupMembersResp
	c.mustCall(wire.OpGroupMembers, wire.GroupReq{GID: gid}, &resp)
	return resp.Members
}

// memberFlags renders a member list as "name:flag" items.
func memberFlags(ms []wire.GroupMember) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.Username + ":" + itoa(m.Role)
	}
	return out
}

func groupInfo(c *rawClient, gid int64) wire.GroupInfo {
	c.t.Helper()
	var g wire.GroupInfo
	c.mustCall(wire.OpGroupInfo, wire.GroupReq{GID: gid}, &g)
	return g
}

func myGroups(c *rawClient) []int64 {
	c.t.Helper()
	var resp wire.GroupListResp
	c.mustCall(wire.OpMyGroups, nil, &resp)
	out := []int64{}
	for _, g := range resp.Groups {
		out = append(out, g.GID)
	}
	return out
}

// changeOf returns c's sync change of conv from the beginning, if any.
func changeOf(c *rawClient, conv int64) (wire.ConvChange, bool) {
	c.t.Helper()
	resp := syncCall(c, wire.SyncReq{})
	for _, ch := range resp.Changes {
		if ch.ConvID == conv {
			return ch, true
		}
	}
	return wire.ConvChange{}, false
}

// wantCode fails unless c's request op with data is refused with code.
func wantCode(t testing.TB, c *rawClient, op string, data any, code int) {
	t.Helper()
	if got := c.callCode(op, data); got != code {
		t.Errorf("%s: %s(%s) code = %d, want %d", c.name, op, jsonOf(data), got, code)
	}
}

func jsonOf(v any) string {
	b, _ := json.Marshal(v)
	if len(b) > 120 {
		b = append(b[:117], "..."...)
	}
	return string(b)
}

func users(names ...string) []string { return names }

// TestCreateGroup checks create_group's checks, the new group and its event.
func TestCreateGroup(t *testing.T) {
	ts := newTestServer(t, Config{GroupDefaultMax: 5, GroupMaxLimit: 10})
	addUsers(t, ts, "alice", "bobby", "carol", "david", "erin1", "frank")
	cs := logins(t, ts, "alice", "bobby", "carol", "david")
	alice, bob, carol, david := cs[0], cs[1], cs[2], cs[3]

	tests := []struct {
		name string
		req  wire.CreateGroupReq
		code int
	}{
		{"no name", wire.CreateGroupReq{}, jmsg.ServerGroupNameInvalid},
		{"name with a line break", wire.CreateGroupReq{Name: "a\nb"}, jmsg.ServerGroupNameInvalid},
		{"name of 65 bytes", wire.CreateGroupReq{Name: strings.Repeat("n", 65)}, jmsg.ServerGroupNameTooLong},
		{"name of 33 runes, 66 bytes", wire.CreateGroupReq{Name: strings.Repeat("é", 33)}, jmsg.ServerGroupNameTooLong},
		{"desc of 251 bytes", wire.CreateGroupReq{Name: "g", Desc: strings.Repeat("d", 251)}, jmsg.ServerGroupDescTooLong},
		{"max 2", wire.CreateGroupReq{Name: "g", MaxMemberCount: 2}, jmsg.ServerMaxMemberCountInvalid},
		{"max -1", wire.CreateGroupReq{Name: "g", MaxMemberCount: -1}, jmsg.ServerMaxMemberCountInvalid},
		{"max above the limit", wire.CreateGroupReq{Name: "g", MaxMemberCount: 11}, jmsg.ServerMaxMemberCountInvalid},
		{"type 3", wire.CreateGroupReq{Name: "g", Type: 3}, jmsg.ServerInvalidRequest},
		{"type -1", wire.CreateGroupReq{Name: "g", Type: -1}, jmsg.ServerInvalidRequest},
		{"unknown member", wire.CreateGroupReq{Name: "g", Members: users("bobby", "nobody")}, jmsg.ServerAddMemberNotRegistered},
		{"invalid member name", wire.CreateGroupReq{Name: "g", Members: users("a b")}, jmsg.ServerAddMemberNotRegistered},
		{"duplicated member", wire.CreateGroupReq{Name: "g", Members: users("bobby", "carol", "bobby")}, jmsg.TcpGroupMembersDuplicated},
		{"more than the max", wire.CreateGroupReq{Name: "g", MaxMemberCount: 3, Members: users("bobby", "carol", "david")}, jmsg.ServerGroupMemberCountExceedLimit},
		{"more than the default max", wire.CreateGroupReq{Name: "g", Members: users("bobby", "carol", "david", "erin1", "frank")}, jmsg.ServerGroupMemberCountExceedLimit},
	}
	for _, tc := range tests {
		if got := alice.callCode(wire.OpCreateGroup, tc.req); got != tc.code {
			t.Errorf("create_group(%s) code = %d, want %d", tc.name, got, tc.code)
		}
	}
	// Nothing was created.
	if gs := myGroups(alice); len(gs) != 0 {
		t.Errorf("alice's groups after refusals = %v, want none", gs)
	}
	quiet(t, alice, bob, carol)

	// The limits themselves are allowed.
	for _, req := range []wire.CreateGroupReq{
		{Name: strings.Repeat("n", 64)},
		{Name: strings.Repeat("é", 32)},
		{Name: "g", Desc: strings.Repeat("d", 250)},
		{Name: "g", MaxMemberCount: 3, Members: users("bobby", "carol")},
		{Name: "g", MaxMemberCount: 10},
		{Name: "g", Type: wire.GroupPublic},
		{Name: "g", Members: users("bobby", "carol", "david", "erin1")},
	} {
		g := alice.createGroup(req)
		if g.Name != req.Name || g.Desc != req.Desc {
			t.Errorf("create_group(%s) = %+v", jsonOf(req), g)
		}
		if want := cmp.Or(req.MaxMemberCount, 5); g.MaxMemberCount != want {
			t.Errorf("create_group(%s) max_member_count = %d, want %d", jsonOf(req), g.MaxMemberCount, want)
		}
		if want := cmp.Or(req.Type, wire.GroupPrivate); g.Type != want {
			t.Errorf("create_group(%s) type = %d, want %d", jsonOf(req), g.Type, want)
		}
		alice.mustCall(wire.OpDissolveGroup, wire.GroupReq{GID: g.GID}, nil)
	}
	drain(t, alice, bob, carol, david)

	// A group: the owner listed among the members is the owner once.
	before := time.Now().UnixMilli()
	g := alice.createGroup(wire.CreateGroupReq{Name: "team", Desc: "our team", Avatar: "qiniu/image/abc", Members: users("bobby", "alice", "carol")})
	after := time.Now().UnixMilli()
	want := wire.GroupInfo{GID: g.GID, Name: "team", Desc: "our team", Avatar: "qiniu/image/abc", Type: wire.GroupPrivate, MaxMemberCount: 5,
		MemberCount: 3, Owner: "alice", ConvID: g.ConvID, CTimeMs: g.CTimeMs, MTimeMs: g.MTimeMs}
	if g != want || g.CTimeMs < before || g.CTimeMs > after || g.MTimeMs < g.CTimeMs {
		t.Errorf("create_group = %+v, want %+v created in [%d, %d]", g, want, before, after)
	}
	// Event 8 reaches every member, the creator too, as the conversation's
	// first message; others get nothing.
	ev := expectEvent(t, wire.EventGroupCreated, alice, bob, carol)
	wantBody := wire.GroupEventBody{EventType: wire.EventGroupCreated, GID: g.GID, From: "alice", To: users("bobby", "carol"), GroupName: "team"}
	if !equalJSON(ev.body, wantBody) || ev.msg.ConvID != g.ConvID || ev.msg.Seq != 1 || ev.doc.FromID != "alice" {
		t.Errorf("creation event = %+v %+v, want %+v in conv %d at seq 1", ev.msg, ev.body, wantBody, g.ConvID)
	}
	quiet(t, david)
	for _, c := range []*rawClient{alice, bob, carol} {
		if h := checkHistory(t, c, g.ConvID, 1); len(h) == 1 && h[0].MsgID != ev.msg.MsgID {
			t.Errorf("%s: history = %+v, want the creation event", c.name, h)
		}
		ch, ok := changeOf(c, g.ConvID)
		if !ok || ch.Type != int(jmsg.ConversationGroup) || ch.LastSeq != 1 || ch.Peer != "" {
			t.Errorf("%s: sync change of the group = %+v (%v), want type 2 at seq 1", c.name, ch, ok)
		}
	}
	wantCode(t, david, wire.OpHistory, wire.HistoryReq{ConvID: g.ConvID}, jmsg.ServerRequestUserNotInGroup)
	if _, ok := changeOf(david, g.ConvID); ok {
		t.Errorf("david's sync lists a group he is not in")
	}
	if got := groupInfo(david, g.GID); got != g {
		t.Errorf("get_group_info by a non-member = %+v, want %+v", got, g)
	}
	ms := members(bob, g.GID)
	if got := memberFlags(ms); !slices.Equal(got, users("alice:1", "bobby:0", "carol:0")) {
		t.Errorf("members = %v, want alice:1 bobby:0 carol:0", got)
	}
	for _, m := range ms {
		if m.JoinTimeMs < before || m.JoinTimeMs > after || m.SilenceEndMs != 0 {
			t.Errorf("member %+v, want joined in [%d, %d], not muted", m, before, after)
		}
	}
	for _, c := range []*rawClient{alice, bob, carol} {
		if gs := myGroups(c); !slices.Equal(gs, []int64{g.GID}) {
			t.Errorf("%s: my_groups = %v, want [%d]", c.name, gs, g.GID)
		}
	}
	if gs := myGroups(david); len(gs) != 0 {
		t.Errorf("david: my_groups = %v, want none", gs)
	}
}

// TestGroupCountLimits checks the limits on groups owned and joined.
func TestGroupCountLimits(t *testing.T) {
	ts := newTestServer(t, Config{GroupsPerUser: 3, GroupsOwnedPerUser: 2})
	addUsers(t, ts, "alice", "bobby", "carol", "david", "erin1")
	cs := logins(t, ts, "alice", "bobby", "carol", "david", "erin1")
	alice, bob, carol, david, erin := cs[0], cs[1], cs[2], cs[3], cs[4]

	g1 := alice.createGroup(wire.CreateGroupReq{Name: "one", Members: users("bobby")})
	alice.createGroup(wire.CreateGroupReq{Name: "two"})
	wantCode(t, alice, wire.OpCreateGroup, wire.CreateGroupReq{Name: "three"}, jmsg.ServerGroupCountExceedLimit)
	// bobby belongs to 1, then 3 groups.
	carol.createGroup(wire.CreateGroupReq{Name: "c", Members: users("bobby")})
	david.createGroup(wire.CreateGroupReq{Name: "d", Members: users("bobby")})
	wantCode(t, erin, wire.OpCreateGroup, wire.CreateGroupReq{Name: "e", Members: users("bobby")}, jmsg.ServerUserGroupCountExceedLimit)
	wantCode(t, bob, wire.OpCreateGroup, wire.CreateGroupReq{Name: "b"}, jmsg.ServerUserGroupCountExceedLimit)
	erinG := erin.createGroup(wire.CreateGroupReq{Name: "e", Members: users("carol")})
	wantCode(t, erin, wire.OpAddGroupMembers, wire.GroupUsersReq{GID: erinG.GID, Usernames: users("bobby")}, jmsg.ServerUserGroupCountExceedLimit)
	if got := groupInfo(erin, erinG.GID).MemberCount; got != 2 {
		t.Errorf("member count after a refused add = %d, want 2", got)
	}
	// Leaving and dissolving free places.
	bob.mustCall(wire.OpExitGroup, wire.GroupReq{GID: g1.GID}, nil)
	erin.mustCall(wire.OpAddGroupMembers, wire.GroupUsersReq{GID: erinG.GID, Usernames: users("bobby")}, nil)
	alice.mustCall(wire.OpDissolveGroup, wire.GroupReq{GID: g1.GID}, nil)
	alice.createGroup(wire.CreateGroupReq{Name: "three"})
}

// TestGroupInfoAndLists checks get_group_info, get_group_members,
// my_groups and public_groups.
func TestGroupInfoAndLists(t *testing.T) {
	ts := newTestServer(t, Config{})
	// zzzz1 has the smallest uid but joins last but one; the owner has the
	// largest.
	addUsers(t, ts, "zzzz1", "bobby", "carol", "david", "alice")
	cs := logins(t, ts, "alice", "bobby", "carol", "david")
	alice, bob, carol, david := cs[0], cs[1], cs[2], cs[3]

	priv := alice.createGroup(wire.CreateGroupReq{Name: "private", Members: users("bobby")})
	pub1 := alice.createGroup(wire.CreateGroupReq{Name: "public one", Type: wire.GroupPublic})
	pub2 := alice.createGroup(wire.CreateGroupReq{Name: "public two", Type: wire.GroupPublic})
	pub3 := bob.createGroup(wire.CreateGroupReq{Name: "public three", Type: wire.GroupPublic, Members: users("carol")})
	alice.mustCall(wire.OpDissolveGroup, wire.GroupReq{GID: pub2.GID}, nil)
	time.Sleep(3 * time.Millisecond)
	alice.mustCall(wire.OpAddGroupMembers, wire.GroupUsersReq{GID: priv.GID, Usernames: users("zzzz1")}, nil)
	time.Sleep(3 * time.Millisecond)
	alice.mustCall(wire.OpAddGroupMembers, wire.GroupUsersReq{GID: priv.GID, Usernames: users("carol")}, nil)
	alice.mustCall(wire.OpAddGroupAdmins, wire.GroupUsersReq{GID: priv.GID, Usernames: users("bobby")}, nil)
	muteFrom := time.Now().UnixMilli()
	alice.mustCall(wire.OpSilenceMembers, wire.SilenceReq{GID: priv.GID, Usernames: users("carol"), DurationMs: 600000}, nil)
	muteTo := time.Now().UnixMilli()
	drain(t, alice, bob, carol)

	// get_group_info: anyone of the app, for a live group.
	if got := groupInfo(david, priv.GID); got.Name != "private" || got.Owner != "alice" || got.MemberCount != 4 || got.Type != wire.GroupPrivate {
		t.Errorf("get_group_info(private) = %+v, want alice's group of 4", got)
	}
	if got := groupInfo(alice, pub3.GID); got.Owner != "bobby" || got.MemberCount != 2 || got.Type != wire.GroupPublic {
		t.Errorf("get_group_info(public three) = %+v, want bobby's public group of 2", got)
	}
	for _, gid := range []int64{0, -5, pub3.GID + 1000, pub2.GID} {
		wantCode(t, david, wire.OpGroupInfo, wire.GroupReq{GID: gid}, jmsg.ServerGroupIDNotExist)
	}

	// get_group_members: members only; owner first, then by join time.
	wantCode(t, david, wire.OpGroupMembers, wire.GroupReq{GID: priv.GID}, jmsg.ServerRequestUserNotInGroup)
	wantCode(t, david, wire.OpGroupMembers, wire.GroupReq{GID: 0}, jmsg.ServerGroupIDNotExist)
	wantCode(t, alice, wire.OpGroupMembers, wire.GroupReq{GID: pub2.GID}, jmsg.ServerGroupIDNotExist)
	ms := members(carol, priv.GID)
	if got := memberFlags(ms); !slices.Equal(got, users("alice:1", "bobby:2", "zzzz1:0", "carol:0")) {
		t.Errorf("members = %v, want alice:1 bobby:2 zzzz1:0 carol:0", got)
	}
	for i, m := range ms {
		if i > 0 && m.JoinTimeMs < ms[i-1].JoinTimeMs {
			t.Errorf("members not in join order: %+v", ms)
		}
		muted := m.Username == "carol"
		if muted && (m.SilenceEndMs < muteFrom+600000 || m.SilenceEndMs > muteTo+600000) || !muted && m.SilenceEndMs != 0 {
			t.Errorf("member %+v: silence_end_ms wrong (carol muted for 600 s at [%d, %d])", m, muteFrom, muteTo)
		}
	}
	// The owner comes first whenever they joined.
	alice.mustCall(wire.OpTransferGroupOwner, wire.GroupUsersReq{GID: priv.GID, Usernames: users("carol")}, nil)
	drain(t, alice, bob, carol)
	// alice and bobby joined in the same millisecond: the smaller uid first.
	if got := memberFlags(members(bob, priv.GID)); !slices.Equal(got, users("carol:1", "bobby:2", "alice:0", "zzzz1:0")) {
		t.Errorf("members after transfer = %v, want carol:1 bobby:2 alice:0 zzzz1:0", got)
	}
	if m := members(bob, priv.GID)[0]; m.SilenceEndMs != 0 {
		t.Errorf("new owner %+v still muted", m)
	}

	// my_groups: live groups one belongs to.
	for _, tc := range []struct {
		c    *rawClient
		want []int64
	}{
		{alice, []int64{priv.GID, pub1.GID}},
		{bob, []int64{priv.GID, pub3.GID}},
		{carol, []int64{priv.GID, pub3.GID}},
		{david, []int64{}},
	} {
		if got := myGroups(tc.c); !slices.Equal(got, tc.want) {
			t.Errorf("%s: my_groups = %v, want %v", tc.c.name, got, tc.want)
		}
	}
	var mine wire.GroupListResp
	bob.mustCall(wire.OpMyGroups, nil, &mine)
	if len(mine.Groups) != 2 || mine.Groups[0].Owner != "carol" || mine.Groups[0].MemberCount != 4 || mine.Groups[1].Name != "public three" {
		t.Errorf("bobby's my_groups = %+v, want private (carol's, 4 members) and public three", mine)
	}

	// public_groups: live public groups of the app, paged by gid.
	var pub wire.GroupListResp
	david.mustCall(wire.OpPublicGroups, wire.PublicGroupsReq{Start: 0, Count: 10}, &pub)
	if len(pub.Groups) != 2 || pub.Groups[0].GID != pub1.GID || pub.Groups[1].GID != pub3.GID || pub.Total != 2 || pub.Groups[1].Owner != "bobby" {
		t.Errorf("public_groups(0, 10) = %+v, want public one and three, total 2", pub)
	}
	pub = wire.GroupListResp{}
	david.mustCall(wire.OpPublicGroups, wire.PublicGroupsReq{Start: 1, Count: 1}, &pub)
	if len(pub.Groups) != 1 || pub.Groups[0].GID != pub3.GID || pub.Total != 2 {
		t.Errorf("public_groups(1, 1) = %+v, want public three, total 2", pub)
	}
	pub = wire.GroupListResp{}
	david.mustCall(wire.OpPublicGroups, wire.PublicGroupsReq{Start: 5, Count: 500}, &pub)
	if len(pub.Groups) != 0 || pub.Total != 2 {
		t.Errorf("public_groups(5, 500) = %+v, want none, total 2", pub)
	}
	for _, req := range []any{
		wire.PublicGroupsReq{Start: -1, Count: 10},
		wire.PublicGroupsReq{Start: 0, Count: 0},
		wire.PublicGroupsReq{Start: 0, Count: -1},
		wire.PublicGroupsReq{Start: 0, Count: 501},
		map[string]any{"start": "0", "count": 10},
	} {
		wantCode(t, david, wire.OpPublicGroups, req, jmsg.ServerInvalidRequest)
	}

	// Another app sees none of it.
	appB := &testServer{srv: ts.srv, st: ts.st, url: ts.url, appKey: randomKey(t)}
	if err := ts.st.CreateApp(t.Context(), storeApp(appB.appKey)); err != nil {
		t.Fatal(err)
	}
	addUsers(t, appB, "alice", "bobby")
	aliceB, _ := login(t, appB, "alice", "")
	for _, gid := range []int64{priv.GID, pub1.GID} {
		wantCode(t, aliceB, wire.OpGroupInfo, wire.GroupReq{GID: gid}, jmsg.ServerGroupIDNotExist)
		wantCode(t, aliceB, wire.OpGroupMembers, wire.GroupReq{GID: gid}, jmsg.ServerGroupIDNotExist)
		wantCode(t, aliceB, wire.OpApplyJoinGroup, wire.ApplyJoinReq{GID: gid}, jmsg.ServerGroupIDNotExist)
		wantCode(t, aliceB, wire.OpSend, groupSend(gid, "", "hi"), jmsg.TcpTargetGroupNotExist)
		wantCode(t, aliceB, wire.OpAddGroupMembers, wire.GroupUsersReq{GID: gid, Usernames: users("bobby")}, jmsg.ServerGroupIDNotExist)
	}
	wantCode(t, aliceB, wire.OpHistory, wire.HistoryReq{ConvID: priv.ConvID}, jmsg.ServerRequestUserNotInGroup)
	pub = wire.GroupListResp{}
	aliceB.mustCall(wire.OpPublicGroups, wire.PublicGroupsReq{Count: 10}, &pub)
	if len(pub.Groups) != 0 || pub.Total != 0 {
		t.Errorf("app B's public_groups = %+v, want none", pub)
	}
	if got := myGroups(aliceB); len(got) != 0 {
		t.Errorf("app B's alice: my_groups = %v, want none", got)
	}
	quiet(t, alice, bob, carol, david)
}

// TestUpdateGroupInfo checks update_group_info.
func TestUpdateGroupInfo(t *testing.T) {
	ts := newTestServer(t, Config{})
	addUsers(t, ts, "alice", "bobby", "carol", "david")
	cs := logins(t, ts, "alice", "bobby", "carol", "david")
	alice, bob, carol, david := cs[0], cs[1], cs[2], cs[3]
	g := alice.createGroup(wire.CreateGroupReq{Name: "old name", Desc: "old desc", Avatar: "old/avatar", Members: users("bobby", "carol")})
	alice.mustCall(wire.OpAddGroupAdmins, wire.GroupUsersReq{GID: g.GID, Usernames: users("bobby")}, nil)
	drain(t, alice, bob, carol)

	upd := func(fields []string, name, desc string) wire.UpdateGroupReq {
		return wire.UpdateGroupReq{GID: g.GID, Fields: fields, Name: name, Desc: desc}
	}
	wantCode(t, carol, wire.OpUpdateGroupInfo, upd(users("name"), "carol's", ""), jmsg.ServerRequestUserNoPermission)
	wantCode(t, david, wire.OpUpdateGroupInfo, upd(users("name"), "david's", ""), jmsg.ServerRequestUserNotInGroup)
	for _, tc := range []struct {
		req  wire.UpdateGroupReq
		code int
	}{
		{upd(users("name"), strings.Repeat("n", 65), ""), jmsg.ServerUpdateGroupNameTooLong},
		{upd(users("name"), "", ""), jmsg.ServerGroupNameInvalid},
		{upd(users("name"), "a\nb", ""), jmsg.ServerGroupNameInvalid},
		{upd(users("desc"), "", strings.Repeat("d", 251)), jmsg.ServerUpdateGroupDescTooLong},
		{upd(nil, "x", ""), jmsg.ServerInvalidRequest},
		{upd(users("owner"), "x", ""), jmsg.ServerInvalidRequest},
		{wire.UpdateGroupReq{GID: 0, Fields: users("name"), Name: "x"}, jmsg.ServerGroupIDNotExist},
		{wire.UpdateGroupReq{GID: g.GID + 1000, Fields: users("name"), Name: "x"}, jmsg.ServerGroupIDNotExist},
	} {
		wantCode(t, alice, wire.OpUpdateGroupInfo, tc.req, tc.code)
	}
	quiet(t, alice, bob, carol)
	if got := groupInfo(david, g.GID); got.Name != "old name" || got.Desc != "old desc" || got.MTimeMs != g.MTimeMs {
		t.Errorf("info after refused updates = %+v, want it unchanged", got)
	}

	// The owner renames; the other fields stay.
	time.Sleep(2 * time.Millisecond)
	var got wire.GroupInfo
	alice.mustCall(wire.OpUpdateGroupInfo, upd(users("name"), strings.Repeat("n", 64), "ignored"), &got)
	if got.Name != strings.Repeat("n", 64) || got.Desc != "old desc" || got.Avatar != "old/avatar" || got.MTimeMs <= g.CTimeMs || got.CTimeMs != g.CTimeMs {
		t.Errorf("update_group_info(name) = %+v, want the new name, the rest unchanged, a later mtime", got)
	}
	ev := expectEvent(t, wire.EventGroupInfoUpdated, alice, bob, carol)
	if ev.body.From != "alice" || ev.body.GroupName != got.Name || ev.body.GID != g.GID || ev.msg.ConvID != g.ConvID {
		t.Errorf("update event = %+v, want from alice with the new name", ev.body)
	}
	quiet(t, david)
	// An admin may too.
	bob.mustCall(wire.OpUpdateGroupInfo, wire.UpdateGroupReq{GID: g.GID, Fields: users("desc", "avatar"), Name: "ignored", Desc: strings.Repeat("d", 250), Avatar: "new/avatar"}, &got)
	if got.Name != strings.Repeat("n", 64) || got.Desc != strings.Repeat("d", 250) || got.Avatar != "new/avatar" {
		t.Errorf("update_group_info(desc, avatar) = %+v", got)
	}
	if ev := expectEvent(t, wire.EventGroupInfoUpdated, bob, alice, carol); ev.body.From != "bobby" {
		t.Errorf("update event from %q, want bobby", ev.body.From)
	}
	// Clearing the description.
	got = wire.GroupInfo{}
	alice.mustCall(wire.OpUpdateGroupInfo, upd(users("desc"), "", ""), &got)
	expectEvent(t, wire.EventGroupInfoUpdated, alice, bob, carol)
	if info := groupInfo(david, g.GID); info != got || info.Desc != "" || info.Avatar != "new/avatar" {
		t.Errorf("get_group_info = %+v, want %+v with no desc", info, got)
	}
	checkHistory(t, carol, g.ConvID, 1, 2, 3, 4, 5)
}

// TestAddGroupMembers checks add_group_members and what new members see.
func TestAddGroupMembers(t *testing.T) {
	ts := newTestServer(t, Config{})
	addUsers(t, ts, "alice", "bobby", "carol", "david", "erin1", "frank")
	cs := logins(t, ts, "alice", "bobby", "carol", "david", "erin1")
	alice, bob, carol, david, erin := cs[0], cs[1], cs[2], cs[3], cs[4]
	g := alice.createGroup(wire.CreateGroupReq{Name: "private", MaxMemberCount: 4, Members: users("bobby")})
	expectEvent(t, wire.EventGroupCreated, alice, bob)
	add := func(names ...string) wire.GroupUsersReq { return wire.GroupUsersReq{GID: g.GID, Usernames: names} }

	m1 := alice.sendGroup(g.GID, "m1", "before carol")
	expectMsg(t, m1, "before carol", bob)
	wantCode(t, carol, wire.OpAddGroupMembers, add("carol"), jmsg.ServerRequestUserNotInGroup)
	wantCode(t, carol, wire.OpHistory, wire.HistoryReq{ConvID: g.ConvID}, jmsg.ServerRequestUserNotInGroup)

	// In a private group any member may add.
	bob.mustCall(wire.OpAddGroupMembers, add("carol"), nil)
	ev := expectEvent(t, wire.EventGroupMembersAdded, bob, alice, carol)
	if want := (wire.GroupEventBody{EventType: wire.EventGroupMembersAdded, GID: g.GID, From: "bobby", To: users("carol")}); !equalJSON(ev.body, want) || ev.msg.Seq != 3 {
		t.Errorf("add event = %+v at seq %d, want %+v at seq 3", ev.body, ev.msg.Seq, want)
	}
	m2 := alice.sendGroup(g.GID, "m2", "after carol")
	expectMsg(t, m2, "after carol", bob, carol)
	// carol reads from the event on, and never what came before.
	checkHistory(t, carol, g.ConvID, 3, 4)
	var page wire.HistoryResp
	carol.mustCall(wire.OpHistory, wire.HistoryReq{ConvID: g.ConvID, Limit: 1}, &page)
	if !slices.Equal(msgSeqs(page.Messages), []int64{3}) || !page.More {
		t.Errorf("carol's first history page of 1 = %v (more %v), want [3] and more", msgSeqs(page.Messages), page.More)
	}
	carol.mustCall(wire.OpHistory, wire.HistoryReq{ConvID: g.ConvID, Before: 3}, &page)
	if len(page.Messages) != 0 || page.More {
		t.Errorf("carol's history before her joining = %v (more %v), want nothing", msgSeqs(page.Messages), page.More)
	}
	carol.mustCall(wire.OpHistory, wire.HistoryReq{ConvID: g.ConvID, Before: 4}, &page)
	if !slices.Equal(msgSeqs(page.Messages), []int64{3}) || page.More {
		t.Errorf("carol's history before 4 = %v (more %v), want [3]", msgSeqs(page.Messages), page.More)
	}
	checkHistory(t, bob, g.ConvID, 1, 2, 3, 4)
	if ch, ok := changeOf(carol, g.ConvID); !ok || ch.LastSeq != 4 || ch.Type != int(jmsg.ConversationGroup) {
		t.Errorf("carol's sync change = %+v (%v), want the group at seq 4", ch, ok)
	}

	for _, tc := range []struct {
		name string
		req  any
		code int
	}{
		{"already a member", add("bobby"), jmsg.TcpGroupMembersDuplicated},
		{"a new one and a member", add("david", "carol"), jmsg.TcpGroupMembersDuplicated},
		{"oneself", add("alice"), jmsg.TcpGroupMembersDuplicated},
		{"twice the same", add("david", "david"), jmsg.TcpGroupMembersDuplicated},
		{"nobody", add(), jmsg.TcpGroupMembersEmpty},
		{"an unknown user", add("david", "nobody"), jmsg.ServerAddMemberNotRegistered},
		{"an invalid name", add("x"), jmsg.ServerAddMemberNotRegistered},
		{"beyond the max", add("david", "erin1"), jmsg.ServerGroupMemberCountExceedLimit},
		{"no group", wire.GroupUsersReq{GID: 0, Usernames: users("david")}, jmsg.ServerGroupIDNotExist},
		{"unknown group", wire.GroupUsersReq{GID: g.GID + 100, Usernames: users("david")}, jmsg.ServerGroupIDNotExist},
	} {
		if got := alice.callCode(wire.OpAddGroupMembers, tc.req); got != tc.code {
			t.Errorf("add_group_members(%s) code = %d, want %d", tc.name, got, tc.code)
		}
	}
	quiet(t, alice, bob, carol, david)
	carol.mustCall(wire.OpAddGroupMembers, add("david"), nil)
	expectEvent(t, wire.EventGroupMembersAdded, carol, alice, bob, david)
	wantCode(t, alice, wire.OpAddGroupMembers, add("erin1"), jmsg.ServerGroupMemberCountExceedLimit)
	if info := groupInfo(erin, g.GID); info.MemberCount != 4 {
		t.Errorf("member count = %d, want 4", info.MemberCount)
	}

	// In a public group only the owner and admins add.
	pub := alice.createGroup(wire.CreateGroupReq{Name: "public", Type: wire.GroupPublic, Members: users("bobby")})
	expectEvent(t, wire.EventGroupCreated, alice, bob)
	wantCode(t, bob, wire.OpAddGroupMembers, wire.GroupUsersReq{GID: pub.GID, Usernames: users("erin1")}, jmsg.ServerRequestUserNoPermission)
	quiet(t, erin)
	alice.mustCall(wire.OpAddGroupAdmins, wire.GroupUsersReq{GID: pub.GID, Usernames: users("bobby")}, nil)
	expectEvent(t, wire.EventGroupAdminChanged, alice, bob)
	bob.mustCall(wire.OpAddGroupMembers, wire.GroupUsersReq{GID: pub.GID, Usernames: users("erin1", "frank")}, nil)
	ev = expectEvent(t, wire.EventGroupMembersAdded, bob, alice, erin)
	if !slices.Equal(ev.body.To, users("erin1", "frank")) {
		t.Errorf("add event to %v, want erin1 and frank", ev.body.To)
	}
	time.Sleep(3 * time.Millisecond) // a later join time than erin1's and frank's
	alice.mustCall(wire.OpAddGroupMembers, wire.GroupUsersReq{GID: pub.GID, Usernames: users("carol")}, nil)
	expectEvent(t, wire.EventGroupMembersAdded, alice, bob, erin, carol)
	if got := memberFlags(members(erin, pub.GID)); !slices.Equal(got, users("alice:1", "bobby:2", "erin1:0", "frank:0", "carol:0")) {
		t.Errorf("public group members = %v", got)
	}
	quiet(t, alice, bob, carol, david, erin)
}

// TestDelGroupMembers checks del_group_members and that removed members
// see nothing more.
func TestDelGroupMembers(t *testing.T) {
	ts := newTestServer(t, Config{})
	addUsers(t, ts, "alice", "bobby", "carol", "david", "erin1", "frank")
	cs := logins(t, ts, "alice", "bobby", "carol", "david", "erin1", "frank")
	alice, bob, carol, david, erin, frank := cs[0], cs[1], cs[2], cs[3], cs[4], cs[5]
	g := alice.createGroup(wire.CreateGroupReq{Name: "g", Members: users("bobby", "carol", "david", "erin1")})
	alice.mustCall(wire.OpAddGroupAdmins, wire.GroupUsersReq{GID: g.GID, Usernames: users("bobby", "erin1")}, nil)
	first := carol.sendGroup(g.GID, "c1", "carol was here")
	drain(t, alice, bob, carol, david, erin)
	del := func(names ...string) wire.GroupUsersReq { return wire.GroupUsersReq{GID: g.GID, Usernames: names} }

	for _, tc := range []struct {
		c    *rawClient
		req  any
		code int
	}{
		{carol, del("david"), jmsg.ServerRequestUserNoPermission},
		{frank, del("david"), jmsg.ServerRequestUserNotInGroup},
		{bob, del("alice"), jmsg.ServerMemberNotPermittedDeleted},
		{bob, del("erin1"), jmsg.ServerMemberNotPermittedDeleted},
		{bob, del("carol", "erin1"), jmsg.ServerMemberNotPermittedDeleted},
		{bob, del("bobby"), jmsg.ServerMemberNotPermittedDeleted},
		{alice, del("alice"), jmsg.ServerMemberNotPermittedDeleted},
		{alice, del("frank"), jmsg.ServerMemberNotInGroup},
		{alice, del("carol", "frank"), jmsg.ServerMemberNotInGroup},
		{alice, del("nobody"), jmsg.ServerDelMemberNotRegistered},
		{alice, del(), jmsg.ServerDelMemberListEmpty},
		{alice, del("carol", "carol"), jmsg.ServerMemberDeletedRepeatedly},
		{alice, wire.GroupUsersReq{GID: 0, Usernames: users("carol")}, jmsg.ServerGroupIDNotExist},
	} {
		wantCode(t, tc.c, wire.OpDelGroupMembers, tc.req, tc.code)
	}
	quiet(t, alice, bob, carol, david, erin)
	if info := groupInfo(frank, g.GID); info.MemberCount != 5 {
		t.Errorf("member count after refusals = %d, want 5", info.MemberCount)
	}

	// An admin removes an ordinary member: the event reaches the members
	// and the removed one.
	bob.mustCall(wire.OpDelGroupMembers, del("carol"), nil)
	rm := expectEvent(t, wire.EventGroupMembersRemoved, bob, alice, carol, david, erin)
	if want := (wire.GroupEventBody{EventType: wire.EventGroupMembersRemoved, GID: g.GID, From: "bobby", To: users("carol")}); !equalJSON(rm.body, want) {
		t.Errorf("removal event = %+v, want %+v", rm.body, want)
	}
	carolSync := syncCall(carol, wire.SyncReq{})
	// The owner removes an admin.
	alice.mustCall(wire.OpDelGroupMembers, del("erin1"), nil)
	rm2 := expectEvent(t, wire.EventGroupMembersRemoved, alice, bob, david, erin)
	quiet(t, carol)

	after := alice.sendGroup(g.GID, "a1", "without carol and erin")
	expectMsg(t, after, "without carol and erin", bob, david)
	quiet(t, alice, carol, erin)
	// History stops at the removal; sync reports the conversation up to it.
	checkHistory(t, carol, g.ConvID, msgSeqs(history(bob, g.ConvID))[:rm.msg.Seq]...)
	checkHistory(t, erin, g.ConvID, msgSeqs(history(bob, g.ConvID))[:rm2.msg.Seq]...)
	var page wire.HistoryResp
	carol.mustCall(wire.OpHistory, wire.HistoryReq{ConvID: g.ConvID, After: rm.msg.Seq}, &page)
	if len(page.Messages) != 0 || page.More {
		t.Errorf("carol's history after her removal = %v, want nothing", msgSeqs(page.Messages))
	}
	carol.mustCall(wire.OpHistory, wire.HistoryReq{ConvID: g.ConvID, After: first.Seq - 1, Limit: 1}, &page)
	if len(page.Messages) != 1 || page.Messages[0].MsgID != first.MsgID {
		t.Errorf("carol's history after %d = %+v, want her message", first.Seq-1, page.Messages)
	}
	if ch, ok := changeOf(carol, g.ConvID); !ok || ch.LastSeq != rm.msg.Seq {
		t.Errorf("carol's sync change = %+v (%v), want the group up to seq %d", ch, ok, rm.msg.Seq)
	}
	if ch, ok := changeOf(erin, g.ConvID); !ok || ch.LastSeq != rm2.msg.Seq {
		t.Errorf("erin's sync change = %+v (%v), want the group up to seq %d", ch, ok, rm2.msg.Seq)
	}
	if ch, ok := changeOf(david, g.ConvID); !ok || ch.LastSeq != after.Seq {
		t.Errorf("david's sync change = %+v (%v), want the group at seq %d", ch, ok, after.Seq)
	}
	// Later messages are no change for carol.
	if resp := syncCall(carol, wire.SyncReq{Since: carolSync.Cursor}); len(resp.Changes) != 0 {
		t.Errorf("carol's sync after her removal = %+v, want no change", resp)
	}
	wantCode(t, carol, wire.OpSend, groupSend(g.GID, "c2", "still here?"), jmsg.TcpUserNotInGroup)
	wantCode(t, carol, wire.OpGroupMembers, wire.GroupReq{GID: g.GID}, jmsg.ServerRequestUserNotInGroup)
	wantCode(t, erin, wire.OpDelGroupMembers, del("david"), jmsg.ServerRequestUserNotInGroup)
	if gs := myGroups(carol); len(gs) != 0 {
		t.Errorf("carol's my_groups = %v, want none", gs)
	}
	if got := memberFlags(members(david, g.GID)); !slices.Equal(got, users("alice:1", "bobby:2", "david:0")) {
		t.Errorf("members = %v, want alice bobby david", got)
	}
	quiet(t, alice, bob, carol, david, erin)

	// Added back, carol reads from her new joining on: not what was sent
	// while she was away.
	alice.mustCall(wire.OpAddGroupMembers, wire.GroupUsersReq{GID: g.GID, Usernames: users("carol")}, nil)
	back := expectEvent(t, wire.EventGroupMembersAdded, alice, bob, david, carol)
	h := history(carol, g.ConvID)
	for _, m := range h {
		if m.Seq > rm.msg.Seq && m.Seq < back.msg.Seq {
			t.Errorf("carol reads seq %d, sent while she was not a member", m.Seq)
		}
	}
	if len(h) == 0 || h[len(h)-1].MsgID != back.msg.MsgID {
		t.Errorf("carol's history = %v, want it to end with her new joining", msgSeqs(h))
	}
	r := david.sendGroup(g.GID, "d1", "welcome back")
	expectMsg(t, r, "welcome back", alice, bob, carol)
}

// TestExitGroup checks exit_group, the owner's succession and the last
// member's leaving.
func TestExitGroup(t *testing.T) {
	ts := newTestServer(t, Config{})
	// carol has a smaller uid than bobby but joins later.
	addUsers(t, ts, "alice", "carol", "bobby", "david")
	cs := logins(t, ts, "alice", "bobby", "carol", "david")
	alice, bob, carol, david := cs[0], cs[1], cs[2], cs[3]
	g := alice.createGroup(wire.CreateGroupReq{Name: "g", Members: users("bobby")})
	time.Sleep(3 * time.Millisecond)
	alice.mustCall(wire.OpAddGroupMembers, wire.GroupUsersReq{GID: g.GID, Usernames: users("carol")}, nil)
	time.Sleep(3 * time.Millisecond)
	alice.mustCall(wire.OpAddGroupMembers, wire.GroupUsersReq{GID: g.GID, Usernames: users("david")}, nil)
	alice.mustCall(wire.OpAddGroupAdmins, wire.GroupUsersReq{GID: g.GID, Usernames: users("david")}, nil)
	drain(t, alice, bob, carol, david)

	wantCode(t, alice, wire.OpExitGroup, wire.GroupReq{GID: 0}, jmsg.ServerGroupIDNotExist)
	wantCode(t, alice, wire.OpExitGroup, wire.GroupReq{GID: g.GID + 100}, jmsg.ServerGroupIDNotExist)

	// The owner leaves: the earliest to join of the others owns the group.
	alice.mustCall(wire.OpExitGroup, wire.GroupReq{GID: g.GID}, nil)
	ev := expectEvent(t, wire.EventGroupMemberExit, alice, bob, carol, david)
	if want := (wire.GroupEventBody{EventType: wire.EventGroupMemberExit, GID: g.GID, From: "alice", To: users("alice"), NewOwner: "bobby"}); !equalJSON(ev.body, want) {
		t.Errorf("owner's exit event = %+v, want %+v", ev.body, want)
	}
	if info := groupInfo(alice, g.GID); info.Owner != "bobby" || info.MemberCount != 3 {
		t.Errorf("info after the owner left = %+v, want bobby's, 3 members", info)
	}
	if got := memberFlags(members(carol, g.GID)); !slices.Equal(got, users("bobby:1", "carol:0", "david:2")) {
		t.Errorf("members after the owner left = %v, want bobby:1 carol:0 david:2", got)
	}
	wantCode(t, alice, wire.OpExitGroup, wire.GroupReq{GID: g.GID}, jmsg.ServerRequestUserNotInGroup)
	wantCode(t, alice, wire.OpGroupMembers, wire.GroupReq{GID: g.GID}, jmsg.ServerRequestUserNotInGroup)
	m := bob.sendGroup(g.GID, "b1", "bob owns it")
	expectMsg(t, m, "bob owns it", carol, david)
	quiet(t, alice)
	checkHistory(t, alice, g.ConvID, msgSeqs(history(bob, g.ConvID))[:ev.msg.Seq]...)
	// The new owner has the owner's powers; the old one has none.
	bob.mustCall(wire.OpUpdateGroupInfo, wire.UpdateGroupReq{GID: g.GID, Fields: users("name"), Name: "bob's"}, nil)
	expectEvent(t, wire.EventGroupInfoUpdated, bob, carol, david)

	// An ordinary member leaves.
	carol.mustCall(wire.OpExitGroup, wire.GroupReq{GID: g.GID}, nil)
	ev = expectEvent(t, wire.EventGroupMemberExit, carol, bob, david)
	if want := (wire.GroupEventBody{EventType: wire.EventGroupMemberExit, GID: g.GID, From: "carol", To: users("carol")}); !equalJSON(ev.body, want) {
		t.Errorf("exit event = %+v, want %+v", ev.body, want)
	}
	// The owner leaves again: the only other member is the heir.
	bob.mustCall(wire.OpExitGroup, wire.GroupReq{GID: g.GID}, nil)
	if ev := expectEvent(t, wire.EventGroupMemberExit, bob, david); ev.body.NewOwner != "david" {
		t.Errorf("exit event = %+v, want david the new owner", ev.body)
	}
	if got := memberFlags(members(david, g.GID)); !slices.Equal(got, users("david:1")) {
		t.Errorf("members = %v, want david:1", got)
	}
	// The last member leaves: the group is dissolved.
	david.mustCall(wire.OpExitGroup, wire.GroupReq{GID: g.GID}, nil)
	ev = expectEvent(t, wire.EventGroupMemberExit, david)
	if ev.body.Extra != wire.ExtraDissolved || ev.body.From != "david" {
		t.Errorf("last exit event = %+v, want extra 69 from david", ev.body)
	}
	wantCode(t, david, wire.OpGroupInfo, wire.GroupReq{GID: g.GID}, jmsg.ServerGroupIDNotExist)
	wantCode(t, david, wire.OpSend, groupSend(g.GID, "d", "anyone?"), jmsg.TcpTargetGroupNotExist)
	if h := history(david, g.ConvID); len(h) == 0 || h[len(h)-1].MsgID != ev.msg.MsgID {
		t.Errorf("david's history = %v, want it to end with the last exit", msgSeqs(h))
	}
	quiet(t, alice, bob, carol, david)
}

// TestDissolveGroup checks dissolve_group and what remains of the group.
func TestDissolveGroup(t *testing.T) {
	ts := newTestServer(t, Config{})
	addUsers(t, ts, "alice", "bobby", "carol", "david")
	cs := logins(t, ts, "alice", "bobby", "carol", "david")
	alice, bob, carol, david := cs[0], cs[1], cs[2], cs[3]
	g := alice.createGroup(wire.CreateGroupReq{Name: "g", Type: wire.GroupPublic, Members: users("bobby", "carol")})
	alice.mustCall(wire.OpAddGroupAdmins, wire.GroupUsersReq{GID: g.GID, Usernames: users("bobby")}, nil)
	carol.sendGroup(g.GID, "c1", "hello")
	apply := wire.ApplyJoinResp{}
	david.mustCall(wire.OpApplyJoinGroup, wire.ApplyJoinReq{GID: g.GID}, &apply)
	drain(t, alice, bob, carol, david)

	wantCode(t, bob, wire.OpDissolveGroup, wire.GroupReq{GID: g.GID}, jmsg.ServerRequestUserNoPermission)
	wantCode(t, carol, wire.OpDissolveGroup, wire.GroupReq{GID: g.GID}, jmsg.ServerRequestUserNoPermission)
	wantCode(t, david, wire.OpDissolveGroup, wire.GroupReq{GID: g.GID}, jmsg.ServerRequestUserNotInGroup)
	wantCode(t, alice, wire.OpDissolveGroup, wire.GroupReq{GID: 0}, jmsg.ServerGroupIDNotExist)
	quiet(t, alice, bob, carol)

	alice.mustCall(wire.OpDissolveGroup, wire.GroupReq{GID: g.GID}, nil)
	ev := expectEvent(t, wire.EventGroupMemberExit, alice, bob, carol)
	if want := (wire.GroupEventBody{EventType: wire.EventGroupMemberExit, GID: g.GID, From: "alice", Extra: wire.ExtraDissolved}); !equalJSON(ev.body, want) {
		t.Errorf("dissolve event = %+v, want %+v", ev.body, want)
	}
	quiet(t, david)
	for _, c := range []*rawClient{alice, bob, carol} {
		wantCode(t, c, wire.OpSend, groupSend(g.GID, "after", "anyone?"), jmsg.TcpTargetGroupNotExist)
		wantCode(t, c, wire.OpGroupInfo, wire.GroupReq{GID: g.GID}, jmsg.ServerGroupIDNotExist)
		wantCode(t, c, wire.OpGroupMembers, wire.GroupReq{GID: g.GID}, jmsg.ServerGroupIDNotExist)
		wantCode(t, c, wire.OpExitGroup, wire.GroupReq{GID: g.GID}, jmsg.ServerGroupIDNotExist)
		h := history(c, g.ConvID)
		if len(h) == 0 || h[len(h)-1].MsgID != ev.msg.MsgID {
			t.Errorf("%s: history = %v, want it to end with the dissolve event %d", c.name, msgSeqs(h), ev.msg.Seq)
		}
		if ch, ok := changeOf(c, g.ConvID); !ok || ch.LastSeq != ev.msg.Seq {
			t.Errorf("%s: sync change = %+v (%v), want the group at seq %d", c.name, ch, ok, ev.msg.Seq)
		}
		if gs := myGroups(c); len(gs) != 0 {
			t.Errorf("%s: my_groups = %v, want none", c.name, gs)
		}
	}
	wantCode(t, alice, wire.OpDissolveGroup, wire.GroupReq{GID: g.GID}, jmsg.ServerGroupIDNotExist)
	wantCode(t, alice, wire.OpAddGroupMembers, wire.GroupUsersReq{GID: g.GID, Usernames: users("david")}, jmsg.ServerGroupIDNotExist)
	wantCode(t, alice, wire.OpUpdateGroupInfo, wire.UpdateGroupReq{GID: g.GID, Fields: users("name"), Name: "x"}, jmsg.ServerGroupIDNotExist)
	wantCode(t, alice, wire.OpProcessApplication, wire.ProcessApplicationReq{EventID: apply.EventID, Approve: true}, jmsg.ServerGroupIDNotExist)
	wantCode(t, david, wire.OpApplyJoinGroup, wire.ApplyJoinReq{GID: g.GID}, jmsg.ServerGroupIDNotExist)
	var pub wire.GroupListResp
	david.mustCall(wire.OpPublicGroups, wire.PublicGroupsReq{Count: 10}, &pub)
	if len(pub.Groups) != 0 || pub.Total != 0 {
		t.Errorf("public_groups after dissolving = %+v, want none", pub)
	}
	quiet(t, alice, bob, carol, david)
	// The owner may own another group again.
	alice.createGroup(wire.CreateGroupReq{Name: "again", Members: users("bobby")})
	expectEvent(t, wire.EventGroupCreated, alice, bob)
}

// TestTransferGroupOwner checks transfer_group_owner.
func TestTransferGroupOwner(t *testing.T) {
	ts := newTestServer(t, Config{})
	addUsers(t, ts, "alice", "bobby", "carol", "david")
	cs := logins(t, ts, "alice", "bobby", "carol", "david")
	alice, bob, carol, david := cs[0], cs[1], cs[2], cs[3]
	g := alice.createGroup(wire.CreateGroupReq{Name: "g", Members: users("bobby", "carol")})
	alice.mustCall(wire.OpAddGroupAdmins, wire.GroupUsersReq{GID: g.GID, Usernames: users("bobby")}, nil)
	alice.mustCall(wire.OpSilenceMembers, wire.SilenceReq{GID: g.GID, Usernames: users("carol"), DurationMs: 600000}, nil)
	drain(t, alice, bob, carol)
	to := func(names ...string) wire.GroupUsersReq { return wire.GroupUsersReq{GID: g.GID, Usernames: names} }

	wantCode(t, bob, wire.OpTransferGroupOwner, to("bobby"), jmsg.ServerRequestUserNoPermission)
	wantCode(t, carol, wire.OpTransferGroupOwner, to("carol"), jmsg.ServerRequestUserNoPermission)
	wantCode(t, david, wire.OpTransferGroupOwner, to("david"), jmsg.ServerRequestUserNotInGroup)
	wantCode(t, alice, wire.OpTransferGroupOwner, to("david"), jmsg.ServerTargetNotInGroup)
	wantCode(t, alice, wire.OpTransferGroupOwner, to("nobody"), jmsg.ServerTargetNotInGroup)
	wantCode(t, alice, wire.OpTransferGroupOwner, to(), jmsg.TcpGroupMembersEmpty)
	wantCode(t, alice, wire.OpTransferGroupOwner, to("bobby", "carol"), jmsg.ServerInvalidRequest)
	quiet(t, alice, bob, carol)
	// To oneself: nothing happens.
	alice.mustCall(wire.OpTransferGroupOwner, to("alice"), nil)
	quiet(t, alice, bob, carol)

	wantCode(t, carol, wire.OpSend, groupSend(g.GID, "c0", "muted"), jmsg.TcpUserBannedSendMessage)
	alice.mustCall(wire.OpTransferGroupOwner, to("carol"), nil)
	ev := expectEvent(t, wire.EventGroupOwnerChanged, alice, bob, carol)
	if want := (wire.GroupEventBody{EventType: wire.EventGroupOwnerChanged, GID: g.GID, From: "alice", To: users("carol"), NewOwner: "carol"}); !equalJSON(ev.body, want) {
		t.Errorf("transfer event = %+v, want %+v", ev.body, want)
	}
	if info := groupInfo(david, g.GID); info.Owner != "carol" {
		t.Errorf("owner after transfer = %q, want carol", info.Owner)
	}
	ms := members(alice, g.GID)
	if got := memberFlags(ms); !slices.Equal(got, users("carol:1", "alice:0", "bobby:2")) || ms[0].SilenceEndMs != 0 {
		t.Errorf("members after transfer = %v (%+v), want carol:1 (not muted) alice:0 bobby:2", got, ms)
	}
	// The new owner is not muted; the old owner is an ordinary member.
	r := carol.sendGroup(g.GID, "c1", "mine now")
	expectMsg(t, r, "mine now", alice, bob)
	wantCode(t, alice, wire.OpDissolveGroup, wire.GroupReq{GID: g.GID}, jmsg.ServerRequestUserNoPermission)
	wantCode(t, alice, wire.OpUpdateGroupInfo, wire.UpdateGroupReq{GID: g.GID, Fields: users("name"), Name: "x"}, jmsg.ServerRequestUserNoPermission)
	wantCode(t, alice, wire.OpTransferGroupOwner, to("alice"), jmsg.ServerRequestUserNoPermission)
	wantCode(t, alice, wire.OpAddGroupAdmins, to("alice"), jmsg.ServerMemberOpNoPermission)
	// bobby, an admin, may remove the old owner now.
	bob.mustCall(wire.OpDelGroupMembers, to("alice"), nil)
	expectEvent(t, wire.EventGroupMembersRemoved, bob, alice, carol)
	carol.mustCall(wire.OpDissolveGroup, wire.GroupReq{GID: g.GID}, nil)
	expectEvent(t, wire.EventGroupMemberExit, carol, bob)
	quiet(t, alice, bob, carol, david)
}

// TestGroupAdmins checks add_group_admins and del_group_admins.
func TestGroupAdmins(t *testing.T) {
	ts := newTestServer(t, Config{})
	names := []string{"owner"}
	for i := 1; i <= 17; i++ {
		names = append(names, "m"+strings.Repeat("0", 3-len(itoa(i)))+itoa(i))
	}
	addUsers(t, ts, append(names, "outsider")...)
	cs := logins(t, ts, "owner", "m001", "m002", "outsider")
	owner, m1, m2, outsider := cs[0], cs[1], cs[2], cs[3]
	g := owner.createGroup(wire.CreateGroupReq{Name: "big", Members: names[1:]})
	drain(t, owner, m1, m2)
	req := func(names ...string) wire.GroupUsersReq { return wire.GroupUsersReq{GID: g.GID, Usernames: names} }

	for _, tc := range []struct {
		c    *rawClient
		req  wire.GroupUsersReq
		code int
	}{
		{m1, req("m002"), jmsg.ServerMemberOpNoPermission},
		{outsider, req("m002"), jmsg.ServerRequestUserNotInGroup},
		{owner, req("outsider"), jmsg.ServerTargetNotInGroup},
		{owner, req("m002", "outsider"), jmsg.ServerTargetNotInGroup},
		{owner, req("nobody"), jmsg.ServerTargetNotInGroup},
		{owner, req("owner"), jmsg.ServerMemberOpNoPermission},
		{owner, req(), jmsg.TcpGroupMembersEmpty},
		{owner, req("m002", "m002"), jmsg.TcpGroupMembersDuplicated},
		{owner, req(names[1:17]...), jmsg.ServerMemberOpNoPermission}, // 16 admins
	} {
		wantCode(t, tc.c, wire.OpAddGroupAdmins, tc.req, tc.code)
	}
	quiet(t, owner, m1, m2)

	owner.mustCall(wire.OpAddGroupAdmins, req(names[1:16]...), nil) // 15 admins
	ev := expectEvent(t, wire.EventGroupAdminChanged, owner, m1, m2)
	if want := (wire.GroupEventBody{EventType: wire.EventGroupAdminChanged, GID: g.GID, From: "owner", To: names[1:16], Extra: 1}); !equalJSON(ev.body, want) {
		t.Errorf("admin event = %+v, want %+v", ev.body, want)
	}
	wantCode(t, owner, wire.OpAddGroupAdmins, req("m016"), jmsg.ServerMemberOpNoPermission)
	wantCode(t, m1, wire.OpAddGroupAdmins, req("m016"), jmsg.ServerMemberOpNoPermission)
	wantCode(t, m1, wire.OpDelGroupAdmins, req("m002"), jmsg.ServerMemberOpNoPermission)
	wantCode(t, owner, wire.OpDelGroupAdmins, req("owner"), jmsg.ServerMemberOpNoPermission)
	wantCode(t, owner, wire.OpDelGroupAdmins, req("outsider"), jmsg.ServerTargetNotInGroup)
	quiet(t, owner, m1, m2)
	ms := members(m1, g.GID)
	for i, m := range ms {
		want := wire.RoleAdmin
		switch {
		case i == 0:
			want = wire.RoleOwner
		case i > 15:
			want = wire.RoleOrdinary
		}
		if m.Role != want || m.Username != names[i] {
			t.Errorf("member %d = %+v, want %s with flag %d", i, m, names[i], want)
		}
	}
	// Admins have an admin's powers.
	m1.mustCall(wire.OpUpdateGroupInfo, wire.UpdateGroupReq{GID: g.GID, Fields: users("desc"), Desc: "by m001"}, nil)
	expectEvent(t, wire.EventGroupInfoUpdated, m1, owner, m2)

	owner.mustCall(wire.OpDelGroupAdmins, req("m001"), nil)
	ev = expectEvent(t, wire.EventGroupAdminChanged, owner, m1, m2)
	if ev.body.Extra != 2 || !slices.Equal(ev.body.To, users("m001")) {
		t.Errorf("admin removal event = %+v, want extra 2 to m001", ev.body)
	}
	wantCode(t, m1, wire.OpUpdateGroupInfo, wire.UpdateGroupReq{GID: g.GID, Fields: users("desc"), Desc: "x"}, jmsg.ServerRequestUserNoPermission)
	// There is room for one more admin now.
	owner.mustCall(wire.OpAddGroupAdmins, req("m016"), nil)
	expectEvent(t, wire.EventGroupAdminChanged, owner, m1, m2)
	wantCode(t, owner, wire.OpAddGroupAdmins, req("m001"), jmsg.ServerMemberOpNoPermission)
	if ms := members(m1, g.GID); ms[1].Username != "m001" || ms[1].Role != wire.RoleOrdinary || ms[16].Username != "m016" || ms[16].Role != wire.RoleAdmin {
		t.Errorf("members = %v, want m001 ordinary and m016 admin", memberFlags(ms))
	}
	quiet(t, owner, m1, m2)
}

// TestGroupSilence checks group_silence and group_unsilence.
func TestGroupSilence(t *testing.T) {
	ts := newTestServer(t, Config{})
	addUsers(t, ts, "alice", "bobby", "carol", "david", "erin1")
	cs := logins(t, ts, "alice", "bobby", "carol", "david", "erin1")
	alice, bob, carol, david, erin := cs[0], cs[1], cs[2], cs[3], cs[4]
	g := alice.createGroup(wire.CreateGroupReq{Name: "g", Members: users("bobby", "carol", "david")})
	alice.mustCall(wire.OpAddGroupAdmins, wire.GroupUsersReq{GID: g.GID, Usernames: users("bobby")}, nil)
	drain(t, alice, bob, carol, david)
	mute := func(d int64, names ...string) wire.SilenceReq {
		return wire.SilenceReq{GID: g.GID, Usernames: names, DurationMs: d}
	}
	unmute := func(names ...string) wire.GroupUsersReq { return wire.GroupUsersReq{GID: g.GID, Usernames: names} }

	for _, tc := range []struct {
		c    *rawClient
		req  wire.SilenceReq
		code int
	}{
		{alice, mute(299_999, "carol"), jmsg.TcpMemberSilenceTimesOverLimit},
		{alice, mute(31_536_000_001, "carol"), jmsg.TcpMemberSilenceTimesOverLimit},
		{alice, mute(0, "carol"), jmsg.TcpMemberSilenceTimesOverLimit},
		{alice, mute(-300_000, "carol"), jmsg.TcpMemberSilenceTimesOverLimit},
		{carol, mute(300_000, "david"), jmsg.ServerMemberOpNoPermission},
		{erin, mute(300_000, "david"), jmsg.ServerRequestUserNotInGroup},
		{alice, mute(300_000, "bobby"), jmsg.ServerMemberOpNoPermission},
		{alice, mute(300_000, "alice"), jmsg.ServerMemberOpNoPermission},
		{bob, mute(300_000, "alice"), jmsg.ServerMemberOpNoPermission},
		{bob, mute(300_000, "carol", "bobby"), jmsg.ServerMemberOpNoPermission},
		{alice, mute(300_000, "erin1"), jmsg.ServerTargetNotInGroup},
		{alice, mute(300_000), jmsg.TcpGroupMembersEmpty},
		{alice, wire.SilenceReq{GID: 0, Usernames: users("carol"), DurationMs: 300_000}, jmsg.ServerGroupIDNotExist},
	} {
		wantCode(t, tc.c, wire.OpSilenceMembers, tc.req, tc.code)
	}
	quiet(t, alice, bob, carol, david)
	r := carol.sendGroup(g.GID, "c0", "not muted")
	expectMsg(t, r, "not muted", alice, bob, david)

	// An admin mutes carol.
	from := time.Now().UnixMilli()
	bob.mustCall(wire.OpSilenceMembers, mute(300_000, "carol"), nil)
	until := time.Now().UnixMilli()
	ev := expectEvent(t, wire.EventGroupMemberSilence, bob, alice, carol, david)
	if want := (wire.GroupEventBody{EventType: wire.EventGroupMemberSilence, GID: g.GID, From: "bobby", To: users("carol"), Extra: 1, DurationMs: 300_000}); !equalJSON(ev.body, want) {
		t.Errorf("silence event = %+v, want %+v", ev.body, want)
	}
	wantCode(t, carol, wire.OpSend, groupSend(g.GID, "c1", "muted"), jmsg.TcpUserBannedSendMessage)
	quiet(t, alice, bob, david)
	ms := members(carol, g.GID)
	for _, m := range ms {
		if m.Username == "carol" && (m.SilenceEndMs < from+300_000 || m.SilenceEndMs > until+300_000) || m.Username != "carol" && m.SilenceEndMs != 0 {
			t.Errorf("member %+v: want carol muted until about %d, nobody else", m, from+300_000)
		}
	}
	// Muted members still receive; single messages are not affected.
	r = david.sendGroup(g.GID, "d1", "to the muted")
	expectMsg(t, r, "to the muted", alice, bob, carol)
	carol.send("david", "single", "a single message")
	david.nextMsg()
	// Muting again restarts the period.
	alice.mustCall(wire.OpSilenceMembers, mute(31_536_000_000, "carol", "david"), nil)
	expectEvent(t, wire.EventGroupMemberSilence, alice, bob, carol, david)
	wantCode(t, david, wire.OpSend, groupSend(g.GID, "d2", "muted"), jmsg.TcpUserBannedSendMessage)
	alice.mustCall(wire.OpSilenceMembers, mute(300_000, "carol"), nil)
	expectEvent(t, wire.EventGroupMemberSilence, alice, bob, carol, david)
	for _, m := range members(carol, g.GID) {
		if m.Username == "carol" && m.SilenceEndMs > time.Now().UnixMilli()+300_000 {
			t.Errorf("carol muted until %d, want about 5 minutes from now", m.SilenceEndMs)
		}
	}

	wantCode(t, carol, wire.OpUnsilenceMembers, unmute("carol"), jmsg.ServerMemberOpNoPermission)
	wantCode(t, alice, wire.OpUnsilenceMembers, unmute("bobby"), jmsg.ServerMemberOpNoPermission)
	wantCode(t, alice, wire.OpUnsilenceMembers, unmute("erin1"), jmsg.ServerTargetNotInGroup)
	quiet(t, alice, bob, carol, david)
	bob.mustCall(wire.OpUnsilenceMembers, unmute("carol"), nil)
	ev = expectEvent(t, wire.EventGroupMemberSilence, bob, alice, carol, david)
	if ev.body.Extra != 2 || !slices.Equal(ev.body.To, users("carol")) {
		t.Errorf("unsilence event = %+v, want extra 2 to carol", ev.body)
	}
	r = carol.sendGroup(g.GID, "c1", "free again")
	expectMsg(t, r, "free again", alice, bob, david)
	// Made an admin, a muted member is muted no more.
	alice.mustCall(wire.OpAddGroupAdmins, wire.GroupUsersReq{GID: g.GID, Usernames: users("david")}, nil)
	expectEvent(t, wire.EventGroupAdminChanged, alice, bob, carol, david)
	r = david.sendGroup(g.GID, "d3", "admin now")
	expectMsg(t, r, "admin now", alice, bob, carol)
	for _, m := range members(carol, g.GID) {
		if m.SilenceEndMs != 0 {
			t.Errorf("member %+v still muted", m)
		}
	}
	// The refused sends were not stored: the history has no gaps.
	h := history(alice, g.ConvID)
	for i, m := range h {
		if m.Seq != int64(i+1) {
			t.Fatalf("history seqs %v, want 1..%d", msgSeqs(h), len(h))
		}
	}
	quiet(t, alice, bob, carol, david)
}

// TestApplyJoinGroup checks apply_join_group and process_application.
func TestApplyJoinGroup(t *testing.T) {
	ts := newTestServer(t, Config{})
	addUsers(t, ts, "alice", "bobby", "carol", "david", "erin1")
	cs := logins(t, ts, "alice", "bobby", "carol", "david", "erin1")
	alice, bob, carol, david, erin := cs[0], cs[1], cs[2], cs[3], cs[4]
	pub := alice.createGroup(wire.CreateGroupReq{Name: "public", Type: wire.GroupPublic, Members: users("bobby", "carol")})
	alice.mustCall(wire.OpAddGroupAdmins, wire.GroupUsersReq{GID: pub.GID, Usernames: users("carol")}, nil)
	priv := alice.createGroup(wire.CreateGroupReq{Name: "private"})
	drain(t, alice, bob, carol)

	wantCode(t, david, wire.OpApplyJoinGroup, wire.ApplyJoinReq{GID: priv.GID}, jmsg.ServerGroupTypeNotSupport)
	wantCode(t, bob, wire.OpApplyJoinGroup, wire.ApplyJoinReq{GID: pub.GID}, jmsg.ServerUserAlreadyInGroup)
	wantCode(t, david, wire.OpApplyJoinGroup, wire.ApplyJoinReq{GID: 0}, jmsg.ServerGroupIDNotExist)
	wantCode(t, david, wire.OpApplyJoinGroup, wire.ApplyJoinReq{GID: priv.GID + 100}, jmsg.ServerGroupIDNotExist)
	wantCode(t, david, wire.OpApplyJoinGroup, wire.ApplyJoinReq{GID: pub.GID, Reason: strings.Repeat("r", 251)}, jmsg.ServerInvalidRequest)
	quiet(t, alice, bob, carol, david)

	var app wire.ApplyJoinResp
	david.mustCall(wire.OpApplyJoinGroup, wire.ApplyJoinReq{GID: pub.GID, Reason: "let me in"}, &app)
	if app.EventID <= 0 {
		t.Fatalf("apply_join_group = %+v, want an event id", app)
	}
	// The application is an event of the group's conversation.
	ev := expectEvent(t, wire.EventGroupJoinApplied, alice, bob, carol)
	want := wire.GroupEventBody{EventType: wire.EventGroupJoinApplied, GID: pub.GID, From: "david", To: users("david"),
		Description: "let me in", EventID: app.EventID, GroupName: "public"}
	if !equalJSON(ev.body, want) || ev.msg.ConvID != pub.ConvID {
		t.Errorf("application event = %+v, want %+v", ev.body, want)
	}
	quiet(t, david)
	wantCode(t, david, wire.OpApplyJoinGroup, wire.ApplyJoinReq{GID: pub.GID, Reason: "again"}, jmsg.TcpGroupApplyRepeat)

	for _, tc := range []struct {
		c    *rawClient
		req  wire.ProcessApplicationReq
		code int
	}{
		{erin, wire.ProcessApplicationReq{EventID: app.EventID, Approve: true}, jmsg.ServerRequestUserNotInGroup},
		{david, wire.ProcessApplicationReq{EventID: app.EventID, Approve: true}, jmsg.ServerRequestUserNotInGroup},
		{bob, wire.ProcessApplicationReq{EventID: app.EventID, Approve: true}, jmsg.ServerRequestUserNoPermission},
		{alice, wire.ProcessApplicationReq{EventID: app.EventID + 1000, Approve: true}, jmsg.ServerInvalidRequestData},
		{alice, wire.ProcessApplicationReq{EventID: 0, Approve: true}, jmsg.ServerInvalidRequestData},
		{alice, wire.ProcessApplicationReq{EventID: -1}, jmsg.ServerInvalidRequestData},
		{alice, wire.ProcessApplicationReq{EventID: app.EventID, Reason: strings.Repeat("r", 251)}, jmsg.ServerInvalidRequest},
	} {
		wantCode(t, tc.c, wire.OpProcessApplication, tc.req, tc.code)
	}
	quiet(t, alice, bob, carol, david)

	// An admin approves: david joins, with event 10.
	m1 := bob.sendGroup(pub.GID, "b1", "before david")
	expectMsg(t, m1, "before david", alice, carol)
	carol.mustCall(wire.OpProcessApplication, wire.ProcessApplicationReq{EventID: app.EventID, Approve: true}, nil)
	ev = expectEvent(t, wire.EventGroupMembersAdded, carol, alice, bob, david)
	if ev.body.From != "carol" || !slices.Equal(ev.body.To, users("david")) {
		t.Errorf("approval event = %+v, want from carol to david", ev.body)
	}
	checkHistory(t, david, pub.ConvID, ev.msg.Seq)
	r := david.sendGroup(pub.GID, "d1", "hello all")
	expectMsg(t, r, "hello all", alice, bob, carol)
	wantCode(t, alice, wire.OpProcessApplication, wire.ProcessApplicationReq{EventID: app.EventID, Approve: true}, jmsg.ServerRequestAlreadyProcessed)
	wantCode(t, alice, wire.OpProcessApplication, wire.ProcessApplicationReq{EventID: app.EventID}, jmsg.ServerRequestAlreadyProcessed)
	wantCode(t, david, wire.OpApplyJoinGroup, wire.ApplyJoinReq{GID: pub.GID}, jmsg.ServerUserAlreadyInGroup)

	// The owner rejects: the applicant, no member, gets a plain event.
	var app2 wire.ApplyJoinResp
	erin.mustCall(wire.OpApplyJoinGroup, wire.ApplyJoinReq{GID: pub.GID}, &app2)
	if app2.EventID <= 0 || app2.EventID == app.EventID {
		t.Errorf("second application = %+v, want a new event id", app2)
	}
	expectEvent(t, wire.EventGroupJoinApplied, alice, bob, carol, david)
	before := time.Now().UnixMilli()
	alice.mustCall(wire.OpProcessApplication, wire.ProcessApplicationReq{EventID: app2.EventID, Reason: "not now"}, nil)
	f := erin.next(wire.OpEvent)
	var push wire.EventPush
	if err := json.Unmarshal(f.Data, &push); err != nil {
		t.Fatal(err)
	}
	if push.EventType != wire.EventGroupJoinRejected || push.GID != pub.GID || push.From != "alice" || push.Desc != "not now" || push.CTimeMs < before {
		t.Errorf("rejection push = %+v, want event 57 of group %d from alice", push, pub.GID)
	}
	quiet(t, alice, bob, carol, david, erin)
	wantCode(t, erin, wire.OpGroupMembers, wire.GroupReq{GID: pub.GID}, jmsg.ServerRequestUserNotInGroup)
	wantCode(t, carol, wire.OpProcessApplication, wire.ProcessApplicationReq{EventID: app2.EventID, Approve: true}, jmsg.ServerRequestAlreadyProcessed)
	// Rejected, one may apply again.
	var app3 wire.ApplyJoinResp
	erin.mustCall(wire.OpApplyJoinGroup, wire.ApplyJoinReq{GID: pub.GID}, &app3)
	if app3.EventID == app2.EventID {
		t.Errorf("application after a rejection reuses event id %d", app3.EventID)
	}
	expectEvent(t, wire.EventGroupJoinApplied, alice, bob, carol, david)
	if got := groupInfo(erin, pub.GID).MemberCount; got != 4 {
		t.Errorf("member count = %d, want 4", got)
	}
	alice.mustCall(wire.OpProcessApplication, wire.ProcessApplicationReq{EventID: app3.EventID, Approve: true}, nil)
	expectEvent(t, wire.EventGroupMembersAdded, alice, bob, carol, david, erin)
	quiet(t, alice, bob, carol, david, erin)

	// Approving into a full group is refused and leaves the application
	// pending.
	tiny := alice.createGroup(wire.CreateGroupReq{Name: "tiny", Type: wire.GroupPublic, MaxMemberCount: 3, Members: users("bobby")})
	expectEvent(t, wire.EventGroupCreated, alice, bob)
	var appD, appE wire.ApplyJoinResp
	david.mustCall(wire.OpApplyJoinGroup, wire.ApplyJoinReq{GID: tiny.GID}, &appD)
	erin.mustCall(wire.OpApplyJoinGroup, wire.ApplyJoinReq{GID: tiny.GID}, &appE)
	expectEvent(t, wire.EventGroupJoinApplied, alice, bob)
	expectEvent(t, wire.EventGroupJoinApplied, alice, bob)
	alice.mustCall(wire.OpProcessApplication, wire.ProcessApplicationReq{EventID: appD.EventID, Approve: true}, nil)
	expectEvent(t, wire.EventGroupMembersAdded, alice, bob, david)
	wantCode(t, alice, wire.OpProcessApplication, wire.ProcessApplicationReq{EventID: appE.EventID, Approve: true}, jmsg.ServerGroupMemberCountExceedLimit)
	quiet(t, alice, bob, david, erin)
	bob.mustCall(wire.OpExitGroup, wire.GroupReq{GID: tiny.GID}, nil)
	expectEvent(t, wire.EventGroupMemberExit, bob, alice, david)
	alice.mustCall(wire.OpProcessApplication, wire.ProcessApplicationReq{EventID: appE.EventID, Approve: true}, nil)
	expectEvent(t, wire.EventGroupMembersAdded, alice, david, erin)
	quiet(t, alice, bob, carol, david, erin)
}

// TestGroupMessages checks sending to a group: who may, who receives, in
// what order, and what sync and history report.
func TestGroupMessages(t *testing.T) {
	ts := newTestServer(t, Config{})
	addUsers(t, ts, "alice", "bobby", "carol", "david")
	alice, _ := login(t, ts, "alice", wire.PlatformAndroid)
	aliceWeb, _ := login(t, ts, "alice", wire.PlatformWeb)
	cs := logins(t, ts, "bobby", "carol", "david")
	bob, carol, david := cs[0], cs[1], cs[2]
	g := alice.createGroup(wire.CreateGroupReq{Name: "g", Members: users("bobby", "carol")})
	expectEvent(t, wire.EventGroupCreated, alice, aliceWeb, bob, carol)

	r := alice.sendGroup(g.GID, "a1", "hello group")
	if r.ConvID != g.ConvID || r.Seq != 2 {
		t.Errorf("send = %+v, want conv %d seq 2", r, g.ConvID)
	}
	expectMsg(t, r, "hello group", aliceWeb, bob, carol)
	quiet(t, alice, david) // not the sending session, nor non-members
	m := history(bob, g.ConvID)[1]
	var doc jmsg.Doc
	json.Unmarshal(m.Content, &doc)
	if doc.FromType != "user" || doc.FromID != "alice" || doc.TargetType != "group" || doc.TargetID != jmsg.FormatID(g.GID) || m.ClientMsgID != "a1" || doc.FromPlatform != wire.PlatformAndroid {
		t.Errorf("stored message %s (cid %q), want from user alice to group %d", m.Content, m.ClientMsgID, g.GID)
	}

	// Refusals.
	wantCode(t, david, wire.OpSend, groupSend(g.GID, "d1", "let me talk"), jmsg.TcpUserNotInGroup)
	wantCode(t, david, wire.OpSend, groupSend(g.GID+100, "d2", "nobody there"), jmsg.TcpTargetGroupNotExist)
	bad := groupSend(g.GID, "d3", "x")
	for _, id := range []string{"0", "-1", "abc", "", "1.5"} {
		bad.Content.TargetID = id
		wantCode(t, alice, wire.OpSend, bad, jmsg.TcpTargetGroupNotExist)
	}
	quiet(t, alice, aliceWeb, bob, carol, david)

	// Several senders at once: every session gets every message of the
	// others in sequence order.
	clients := []*rawClient{alice, aliceWeb, bob, carol}
	const rounds = 10
	ids := map[*rawClient][]uint64{}
	for i := range rounds {
		for j, c := range clients {
			ids[c] = append(ids[c], c.request(wire.OpSend, groupSend(g.GID, "r"+itoa(i)+"-"+itoa(j), "round "+itoa(i))))
		}
	}
	mine := map[*rawClient]map[int64]bool{}
	for _, c := range clients {
		mine[c] = map[int64]bool{}
		for _, id := range ids[c] {
			f := c.response(id)
			var resp wire.SendResp
			if f.Code != 0 || json.Unmarshal(f.Data, &resp) != nil {
				t.Fatalf("%s: send = error %d", c.name, f.Code)
			}
			mine[c][resp.Seq] = true
		}
	}
	last := r.Seq + rounds*int64(len(clients))
	for _, c := range clients {
		for seq := r.Seq + 1; seq <= last; seq++ {
			if mine[c][seq] {
				continue
			}
			if p := c.nextMsg(); p.Message.Seq != seq || p.Message.ConvID != g.ConvID {
				t.Fatalf("%s: got seq %d, want %d", c.name, p.Message.Seq, seq)
			}
		}
	}
	quiet(t, clients...)

	// A retry returns the original and reaches nobody again.
	retry := alice.sendGroup(g.GID, "a1", "hello again")
	if retry.MsgID != r.MsgID || retry.Seq != r.Seq {
		t.Errorf("retry = %+v, want the original %+v", retry, r)
	}
	quiet(t, aliceWeb, bob, carol)

	// Sync reports the group conversation to its members only.
	for _, c := range []*rawClient{alice, bob, carol} {
		ch, ok := changeOf(c, g.ConvID)
		if !ok || ch.Type != int(jmsg.ConversationGroup) || ch.LastSeq != last || ch.Peer != "" {
			t.Errorf("%s: sync change = %+v (%v), want group conversation at seq %d", c.name, ch, ok, last)
		}
	}
	if _, ok := changeOf(david, g.ConvID); ok {
		t.Errorf("david's sync lists the group")
	}
	h := history(carol, g.ConvID)
	if len(h) != int(last) {
		t.Errorf("history = %d messages, want %d", len(h), last)
	}
	wantCode(t, david, wire.OpHistory, wire.HistoryReq{ConvID: g.ConvID}, jmsg.ServerRequestUserNotInGroup)
}

// TestGroupFanOutStalledReader checks that one member's session that stops
// reading does not hold up a group: the others receive every message in
// order, and the stalled connection is dropped at once, without a close
// frame, when its queue fills.
func TestGroupFanOutStalledReader(t *testing.T) {
	ts := newTestServer(t, Config{SendQueue: 8, CommitBatchMax: 4, WriteTimeout: time.Minute})
	if ts.srv.cfg.SendQueue != 8 {
		t.Fatalf("SendQueue = %d, want 8", ts.srv.cfg.SendQueue)
	}
	const n = 20
	var names []string
	for i := range n {
		names = append(names, "user"+itoa(10+i))
	}
	addUsers(t, ts, append(names, "stall")...)
	live := logins(t, ts, names...)
	sender := live[0]
	g := sender.createGroup(wire.CreateGroupReq{Name: "crowd", Members: append(slices.Clone(names[1:]), "stall")})
	expectEvent(t, wire.EventGroupCreated, live...)
	// The stalled session connects through a listener whose sockets have
	// small buffers, and reads through a small one: its queue fills after
	// some hundred kilobytes rather than megabytes of kernel buffers.
	small := httptest.NewUnstartedServer(ts.srv.Handler())
	small.Listener = smallBufListener{small.Listener}
	small.Start()
	t.Cleanup(small.Close)
	viaSmall := *ts
	viaSmall.url = "ws" + strings.TrimPrefix(small.URL, "http") + "/v1/ws"
	dialer := &net.Dialer{}
	stalled := dialWS(t, &viaSmall, &websocket.DialOptions{HTTPClient: &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := dialer.DialContext(ctx, network, addr)
			if tc, ok := c.(*net.TCPConn); ok {
				tc.SetReadBuffer(4 << 10)
			}
			return c, err
		},
	}}})
	stalledLogin(t, ts, stalled, "stall", "")
	if got := ts.srv.metrics.connections.Load(); got != int64(len(live))+1 {
		t.Fatalf("%d connections, want %d", got, len(live)+1)
	}

	text := strings.Repeat("x", 3500)
	const window = 4 // sends in flight: at most this many pushes per commit
	sent, droppedAt := 0, 0
	seq := int64(1)
	deadline := time.Now().Add(3 * waitTimeout)
	for sent < 200 || ts.srv.metrics.slowConsumers.Load() == 0 {
		if time.Now().After(deadline) || sent > 20000 {
			t.Fatalf("stalled session not dropped after %d messages", sent)
		}
		ids := make([]uint64, window)
		for i := range ids {
			sent++
			ids[i] = sender.request(wire.OpSend, groupSend(g.GID, "m"+itoa(sent), text))
		}
		for _, id := range ids {
			if f := sender.response(id); f.Code != 0 {
				t.Fatalf("send #%d = error %d", sent, f.Code)
			}
		}
		// Every live member receives the window, in order, before the next.
		for _, c := range live[1:] {
			for i := range window {
				if p := c.nextMsg(); p.Message.Seq != seq+int64(i+1) {
					t.Fatalf("%s got seq %d, want %d", c.name, p.Message.Seq, seq+int64(i+1))
				}
			}
		}
		seq += window
		// Once dropped, the stalled connection is gone at once: no close
		// handshake, which would wait seconds for a peer that does not read.
		if droppedAt == 0 && ts.srv.metrics.slowConsumers.Load() > 0 {
			droppedAt = sent
			for start := time.Now(); ts.srv.metrics.connections.Load() != int64(len(live)); {
				if time.Since(start) > 2*time.Second {
					t.Fatalf("%d connections 2 s after the stalled one was dropped, want %d", ts.srv.metrics.connections.Load(), len(live))
				}
				time.Sleep(5 * time.Millisecond)
			}
		}
	}
	t.Logf("%d messages sent; the stalled session was dropped after %d", sent, droppedAt)
	if n := ts.srv.metrics.slowConsumers.Load(); n != 1 {
		t.Errorf("%d connections dropped as slow, want only the stalled one", n)
	}

	// The group goes on for everyone else.
	r := live[1].sendGroup(g.GID, "after", "still here")
	expectMsg(t, r, "still here", append([]*rawClient{sender}, live[2:]...)...)
	if r.Seq != seq+1 {
		t.Errorf("message after the drop has seq %d, want %d", r.Seq, seq+1)
	}

	// The stalled client, reading at last, finds the connection ended
	// before all of the messages, without a close frame.
	got := 0
	rctx, cancel := contextWithTimeout(t.Context(), waitTimeout)
	defer cancel()
	for {
		_, _, err := stalled.Read(rctx)
		if err != nil {
			if rctx.Err() != nil {
				t.Fatalf("stalled connection still open after reading %d frames", got)
			}
			if code := websocket.CloseStatus(err); code != -1 {
				t.Errorf("stalled connection ended with close status %d, want no close frame", code)
			}
			break
		}
		got++
	}
	if got >= sent+3 { // the two responses, the creation event, the messages
		t.Errorf("stalled connection delivered %d frames, want fewer than the %d sent", got, sent+3)
	}
	// Reconnecting, the stalled member finds everything through sync and
	// history.
	again, _ := login(t, ts, "stall", "")
	if ch, ok := changeOf(again, g.ConvID); !ok || ch.LastSeq != r.Seq {
		t.Errorf("sync after reconnecting = %+v (%v), want the group at seq %d", ch, ok, r.Seq)
	}
	if h := history(again, g.ConvID); len(h) != int(r.Seq) {
		t.Errorf("history after reconnecting = %d messages, want %d", len(h), r.Seq)
	}
}

// TestGroupStateReloaded checks that a server started on an existing store
// loads groups as they were: owner, admins, muted members, dissolved groups.
func TestGroupStateReloaded(t *testing.T) {
	ts := newTestServer(t, Config{})
	addUsers(t, ts, "alice", "bobby", "carol", "david")
	cs := logins(t, ts, "alice", "bobby", "carol")
	alice, bob := cs[0], cs[1]
	g := alice.createGroup(wire.CreateGroupReq{Name: "g", Type: wire.GroupPublic, Members: users("bobby", "carol", "david")})
	alice.mustCall(wire.OpAddGroupAdmins, wire.GroupUsersReq{GID: g.GID, Usernames: users("bobby")}, nil)
	alice.mustCall(wire.OpSilenceMembers, wire.SilenceReq{GID: g.GID, Usernames: users("carol"), DurationMs: 600_000}, nil)
	alice.mustCall(wire.OpTransferGroupOwner, wire.GroupUsersReq{GID: g.GID, Usernames: users("david")}, nil)
	bob.mustCall(wire.OpUpdateGroupInfo, wire.UpdateGroupReq{GID: g.GID, Fields: users("name", "desc"), Name: "renamed", Desc: "d"}, nil)
	gone := alice.createGroup(wire.CreateGroupReq{Name: "gone", Members: users("bobby")})
	alice.mustCall(wire.OpDissolveGroup, wire.GroupReq{GID: gone.GID}, nil)
	david0, _ := login(t, ts, "david", "")
	membersBefore := members(david0, g.GID)
	infoBefore := groupInfo(david0, g.GID)
	addUsers(t, ts, "erin1")
	erin0, _ := login(t, ts, "erin1", "")
	var app wire.ApplyJoinResp
	erin0.mustCall(wire.OpApplyJoinGroup, wire.ApplyJoinReq{GID: g.GID}, &app)

	// A group whose owner left, and whose member's muting is over (written
	// to the store directly: the engine only mutes for 5 minutes or more).
	left := alice.createGroup(wire.CreateGroupReq{Name: "left", Members: users("bobby", "carol")})
	alice.mustCall(wire.OpExitGroup, wire.GroupReq{GID: left.GID}, nil)
	now := time.Now().UnixMilli()
	if _, err := ts.st.ApplyGroupChange(t.Context(), store.GroupChange{AppKey: ts.appKey, GID: left.GID,
		Update: []store.GroupMember{{UID: uidOf(t, ts, "carol"), JoinTimeMs: left.CTimeMs, SilenceStartMs: now - 2000, SilenceEndMs: now - 1000}},
		Event:  store.NewMessage{AppKey: ts.appKey, SenderUID: uidOf(t, ts, "bobby"), CTimeMs: now, Content: []byte(`{"version":1,"msg_type":"event","msg_body":{}}`)},
	}); err != nil {
		t.Fatal(err)
	}

	// A second engine on the same store, the first one stopped.
	ts.srv.Close()
	srv2, err := New(Config{BcryptCost: 4}, ts.st)
	if err != nil {
		t.Fatal(err)
	}
	ts2 := &testServer{srv: srv2, st: ts.st, appKey: ts.appKey}
	ts2.http = httptest.NewServer(ts2.srv.Handler())
	ts2.url = "ws" + strings.TrimPrefix(ts2.http.URL, "http") + "/v1/ws"
	t.Cleanup(func() {
		ts2.srv.Close()
		ts2.http.Close()
	})
	cs = logins(t, ts2, "alice", "bobby", "carol", "david", "erin1")
	alice, bob, carol, david, erin := cs[0], cs[1], cs[2], cs[3], cs[4]

	if got := groupInfo(alice, g.GID); got != infoBefore || got.Owner != "david" || got.Name != "renamed" {
		t.Errorf("info after restart = %+v, want %+v", got, infoBefore)
	}
	if got := members(carol, g.GID); !equalJSON(got, membersBefore) || !slices.Equal(memberFlags(got), users("david:1", "alice:0", "bobby:2", "carol:0")) {
		t.Errorf("members after restart = %+v, want %+v", got, membersBefore)
	}
	wantCode(t, carol, wire.OpSend, groupSend(g.GID, "c", "muted"), jmsg.TcpUserBannedSendMessage)
	wantCode(t, alice, wire.OpUpdateGroupInfo, wire.UpdateGroupReq{GID: g.GID, Fields: users("name"), Name: "x"}, jmsg.ServerRequestUserNoPermission)
	wantCode(t, bob, wire.OpDissolveGroup, wire.GroupReq{GID: g.GID}, jmsg.ServerRequestUserNoPermission)
	wantCode(t, alice, wire.OpGroupInfo, wire.GroupReq{GID: gone.GID}, jmsg.ServerGroupIDNotExist)
	wantCode(t, bob, wire.OpSend, groupSend(gone.GID, "x", "gone"), jmsg.TcpTargetGroupNotExist)
	wantCode(t, erin, wire.OpApplyJoinGroup, wire.ApplyJoinReq{GID: g.GID}, jmsg.TcpGroupApplyRepeat)
	if got := members(carol, left.GID); !slices.Equal(memberFlags(got), users("bobby:1", "carol:0")) || got[1].SilenceEndMs != 0 {
		t.Errorf("members of the group the owner left = %+v, want bobby the owner, carol not muted", got)
	}
	if info := groupInfo(alice, left.GID); info.Owner != "bobby" || info.MemberCount != 2 {
		t.Errorf("info of the group the owner left = %+v, want bobby's, 2 members", info)
	}
	wantCode(t, alice, wire.OpSend, groupSend(left.GID, "a", "back?"), jmsg.TcpUserNotInGroup)
	r := carol.sendGroup(left.GID, "c-left", "no longer muted")
	expectMsg(t, r, "no longer muted", bob)
	r = bob.sendGroup(g.GID, "b", "after restart")
	expectMsg(t, r, "after restart", alice, carol, david)
	bob.mustCall(wire.OpProcessApplication, wire.ProcessApplicationReq{EventID: app.EventID, Approve: true}, nil)
	expectEvent(t, wire.EventGroupMembersAdded, bob, alice, carol, david, erin)
	david.mustCall(wire.OpUnsilenceMembers, wire.GroupUsersReq{GID: g.GID, Usernames: users("carol")}, nil)
	expectEvent(t, wire.EventGroupMemberSilence, david, alice, bob, carol, erin)
	r = carol.sendGroup(g.GID, "c", "unmuted")
	expectMsg(t, r, "unmuted", alice, bob, david, erin)
	quiet(t, alice, bob, carol, david, erin)
}

// smallBufListener gives accepted connections a small send buffer.
type smallBufListener struct{ net.Listener }

func (l smallBufListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if tc, ok := c.(*net.TCPConn); ok {
		tc.SetWriteBuffer(4 << 10)
	}
	return c, err
}
