package server

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jmsg-im/jmsg"
	"github.com/jmsg-im/jmsg/server/store"
	"github.com/jmsg-im/jmsg/wire"
)

// TestSendReceive checks the path of one message between two online users:
// the sender's response, the recipient's push, and a retry.
func TestSendReceive(t *testing.T) {
	ts := newTestServer(t, Config{})
	register(t, ts, "alice")
	register(t, ts, "bobby")
	alice, _ := login(t, ts, "alice", wire.PlatformAndroid)
	aliceWeb, _ := login(t, ts, "alice", wire.PlatformWeb)
	bob, _ := login(t, ts, "bobby", "")

	before := time.Now().UnixMilli()
	r := alice.send("bobby", "cid-1", "hello bob")
	after := time.Now().UnixMilli()
	if r.Seq != 1 || r.CTimeMs < before || r.CTimeMs > after {
		t.Errorf("first send = %+v, want seq 1 and a time in [%d, %d]", r, before, after)
	}
	p := bob.nextMsg()
	m := p.Message
	if m.MsgID != r.MsgID || m.ConvID != r.ConvID || m.Seq != r.Seq || m.CTimeMs != r.CTimeMs || m.ClientMsgID != "cid-1" {
		t.Errorf("bob's push = %+v, want the ids of %+v and cid-1", m, r)
	}
	if from, to, text := msgText(t, m.Content); from != "alice" || to != "bobby" || text != "hello bob" {
		t.Errorf("bob's push content from %q to %q text %q, want alice → bobby %q", from, to, text, "hello bob")
	}
	var doc jmsg.Doc
	json.Unmarshal(m.Content, &doc)
	if doc.FromType != "user" || doc.FromPlatform != wire.PlatformAndroid {
		t.Errorf("content from_type %q from_platform %q, want user and a", doc.FromType, doc.FromPlatform)
	}
	// The sender's other session gets the message too.
	if p := aliceWeb.nextMsg(); p.Message.MsgID != r.MsgID || p.Message.Seq != r.Seq || p.Message.CTimeMs != r.CTimeMs {
		t.Errorf("alice's web session push = %+v, want msg %d", p, r.MsgID)
	}

	// A retry with the same cid is answered with the original message and
	// pushed to nobody.
	retry := alice.send("bobby", "cid-1", "hello again")
	if retry.MsgID != r.MsgID || retry.ConvID != r.ConvID || retry.Seq != r.Seq || retry.CTimeMs != r.CTimeMs {
		t.Errorf("retry = %+v, want the original %+v", retry, r)
	}
	// bob answers; the conversation is the same and numbering goes on.
	r2 := bob.send("alice", "cid-1", "hi alice") // cids are per sender
	if r2.ConvID != r.ConvID || r2.Seq != 2 || r2.MsgID == r.MsgID {
		t.Errorf("bob's reply = %+v, want conv %d seq 2", r2, r.ConvID)
	}
	if p := alice.nextMsg(); p.Message.MsgID != r2.MsgID {
		t.Errorf("alice got msg %d, want bob's reply %d (and nothing of her retry)", p.Message.MsgID, r2.MsgID)
	}
	if p := aliceWeb.nextMsg(); p.Message.MsgID != r2.MsgID {
		t.Errorf("alice's web session got msg %d, want bob's reply %d (and nothing of the retry)", p.Message.MsgID, r2.MsgID)
	}
	r3 := alice.send("bobby", "cid-2", "third")
	if p := bob.nextMsg(); p.Message.MsgID != r3.MsgID || p.Message.Seq != 3 {
		t.Errorf("bob got msg %d seq %d, want %d seq 3: a retry must not be pushed again", p.Message.MsgID, p.Message.Seq, r3.MsgID)
	}
	if p := aliceWeb.nextMsg(); p.Message.MsgID != r3.MsgID {
		t.Errorf("alice's web session got msg %d, want %d", p.Message.MsgID, r3.MsgID)
	}
	// The sending session gets no push of its own messages.
	for _, f := range alice.stash {
		if f.Op == wire.OpMessage {
			var p wire.MessagePush
			json.Unmarshal(f.Data, &p)
			if p.Message.MsgID != r2.MsgID {
				t.Errorf("alice's sending session got a push of msg %d", p.Message.MsgID)
			}
		}
	}
	// A message to yourself is a conversation of its own.
	self := alice.send("alice", "note", "note to self")
	if self.ConvID == r.ConvID || self.Seq != 1 {
		t.Errorf("send to self = %+v, want a new conversation", self)
	}
	if p := aliceWeb.nextMsg(); p.Message.MsgID != self.MsgID {
		t.Errorf("alice's web session got %d, want the note %d", p.Message.MsgID, self.MsgID)
	}
}

func TestSendRefused(t *testing.T) {
	ts := newTestServer(t, Config{})
	register(t, ts, "alice")
	register(t, ts, "bobby")
	alice, _ := login(t, ts, "alice", "")
	bob, _ := login(t, ts, "bobby", "")
	doc := func(edit func(d *jmsg.Doc)) wire.SendReq {
		r := textSend("bobby", "c", "hi")
		edit(&r.Content)
		return r
	}
	tests := []struct {
		name     string
		req      any
		wantCode int
	}{
		{"unknown target", textSend("nobody", "c1", "hi"), jmsg.TcpTargetUserNotExist},
		{"invalid target name", textSend("a b", "c2", "hi"), jmsg.TcpTargetUserNotExist},
		{"version 2", doc(func(d *jmsg.Doc) { d.Version = 2 }), jmsg.ServerMessageContentJSONError},
		{"no msg_type", doc(func(d *jmsg.Doc) { d.MsgType = "" }), jmsg.ServerMessageContentJSONError},
		{"no body", doc(func(d *jmsg.Doc) { d.MsgBody = nil }), jmsg.ServerMessageContentJSONError},
		{"empty text", doc(func(d *jmsg.Doc) { d.MsgBody = json.RawMessage(`{"text":""}`) }), jmsg.ServerMessageContentJSONError},
		{"body not an object", doc(func(d *jmsg.Doc) { d.MsgBody = json.RawMessage(`"hi"`) }), jmsg.ServerMessageContentJSONError},
		{"image cannot be sent as such", doc(func(d *jmsg.Doc) { d.MsgType = "image" }), jmsg.ServerMessageContentJSONError},
		{"group target that is no group", doc(func(d *jmsg.Doc) { d.TargetType = "group" }), jmsg.TcpTargetGroupNotExist},
		{"chat room target", doc(func(d *jmsg.Doc) { d.TargetType = "chatroom" }), jmsg.ServerInvalidRequest},
		{"other app", doc(func(d *jmsg.Doc) { d.TargetAppKey = "otherotherotherother1234" }), jmsg.ServerInvalidRequest},
		{"too long", textSend("bobby", "c3", strings.Repeat("x", jmsg.MessageMaxBytes)), jmsg.ServerMessageTooLong},
		{"cid too long", textSend("bobby", strings.Repeat("c", 65), "hi"), jmsg.ServerInvalidRequest},
		{"content of the wrong type", map[string]any{"cid": "c4", "content": 5}, jmsg.ServerMessageContentJSONError},
	}
	for _, tc := range tests {
		if got := alice.callCode(wire.OpSend, tc.req); got != tc.wantCode {
			t.Errorf("%s: send code = %d, want %d", tc.name, got, tc.wantCode)
		}
	}
	// Nothing was stored or pushed: the next message is the first.
	r := alice.send("bobby", "ok", "finally")
	if r.Seq != 1 {
		t.Errorf("first good send after refusals = %+v, want seq 1", r)
	}
	if p := bob.nextMsg(); p.Message.MsgID != r.MsgID {
		t.Errorf("bob got %d, want %d", p.Message.MsgID, r.MsgID)
	}
	// The own app key as target_appkey is the same app.
	r = alice.send("bobby", "ok2", "again")
	same := doc(func(d *jmsg.Doc) { d.TargetAppKey = ts.appKey })
	same.ClientMsgID = "ok3"
	var resp wire.SendResp
	alice.mustCall(wire.OpSend, same, &resp)
	if resp.Seq != r.Seq+1 {
		t.Errorf("send with own target_appkey = %+v, want seq %d", resp, r.Seq+1)
	}
}

// TestSendWithoutClientID checks that messages without a cid are each
// stored and delivered.
func TestSendWithoutClientID(t *testing.T) {
	ts := newTestServer(t, Config{})
	register(t, ts, "alice")
	register(t, ts, "bobby")
	alice, _ := login(t, ts, "alice", "")
	bob, _ := login(t, ts, "bobby", "")
	for i := 1; i <= 3; i++ {
		r := alice.send("bobby", "", "no cid")
		if r.Seq != int64(i) {
			t.Errorf("send #%d without cid = seq %d, want %d", i, r.Seq, i)
		}
		if p := bob.nextMsg(); p.Message.MsgID != r.MsgID {
			t.Errorf("bob got %d, want %d", p.Message.MsgID, r.MsgID)
		}
	}
}

// TestOffline checks that a user who was offline finds messages through
// login, sync and history.
func TestOffline(t *testing.T) {
	ts := newTestServer(t, Config{})
	for _, u := range []string{"alice", "bobby", "carol"} {
		register(t, ts, u)
	}
	alice, _ := login(t, ts, "alice", "")
	bob, _ := login(t, ts, "bobby", "")
	var sent []wire.SendResp
	for i := range 5 {
		sent = append(sent, alice.send("carol", "a"+itoa(i), "from alice "+itoa(i)))
	}
	fromBob := bob.send("carol", "b0", "from bob")
	alice.send("bobby", "x", "not for carol")

	carol, _ := login(t, ts, "carol", "")

	sync := syncCall(carol, wire.SyncReq{Since: 0})
	want := []wire.ConvChange{
		{ConvID: sent[0].ConvID, Type: int(jmsg.ConversationSingle), Peer: "alice", LastSeq: 5, FirstSeq: 1},
		{ConvID: fromBob.ConvID, Type: int(jmsg.ConversationSingle), Peer: "bobby", LastSeq: 1, FirstSeq: 1},
	}
	if !equalJSON(sync.Changes, want) || sync.More || sync.Cursor == 0 || sync.CursorConv != 0 {
		t.Errorf("sync(0) = %+v, want %+v, a cursor, no more", sync, want)
	}
	end := sync.Cursor
	// Paging: a page that leaves more ends at its last conversation.
	sync = syncCall(carol, wire.SyncReq{Since: 0, Limit: 1})
	if !equalJSON(sync.Changes, want[:1]) || !sync.More || sync.CursorConv != sent[0].ConvID || sync.Cursor == 0 || sync.Cursor >= end {
		t.Errorf("sync(0, limit 1) = %+v, want alice's conversation, its cursor, more", sync)
	}
	sync = syncCall(carol, wire.SyncReq{Since: sync.Cursor, SinceConv: sync.CursorConv, Limit: 1})
	if !equalJSON(sync.Changes, want[1:]) || sync.More || sync.Cursor != end || sync.CursorConv != 0 {
		t.Errorf("sync(next, limit 1) = %+v, want bob's conversation, cursor %d, no more", sync, end)
	}
	sync = syncCall(carol, wire.SyncReq{Since: end})
	if len(sync.Changes) != 0 || sync.More || sync.Cursor != end || sync.CursorConv != 0 {
		t.Errorf("sync(%d) = %+v, want nothing, cursor %d", end, sync, end)
	}
	if sync.Changes == nil {
		t.Errorf("sync with nothing new has changes null, want []")
	}
	// A message not for carol moves her cursor on without a change.
	alice.send("bobby", "x2", "still not for carol")
	sync = syncCall(carol, wire.SyncReq{Since: end})
	if len(sync.Changes) != 0 || sync.More || sync.Cursor <= end {
		t.Errorf("sync(%d) after someone else's message = %+v, want nothing and a later cursor", end, sync)
	}
	end = sync.Cursor
	// A new message to carol: only that conversation, at its new last seq.
	sent = append(sent, alice.send("carol", "a5", "from alice 5"))
	sync = syncCall(carol, wire.SyncReq{Since: end})
	if len(sync.Changes) != 1 || sync.Changes[0].ConvID != sent[0].ConvID || sync.Changes[0].LastSeq != 6 || sync.More || sync.Cursor <= end {
		t.Errorf("sync(%d) after alice's sixth message = %+v, want alice's conversation at seq 6", end, sync)
	}
	// The whole list from 0 has it last now.
	sync = syncCall(carol, wire.SyncReq{})
	if len(sync.Changes) != 2 || sync.Changes[0].ConvID != fromBob.ConvID || sync.Changes[1].ConvID != sent[0].ConvID {
		t.Errorf("sync(0) = %+v, want bob's conversation, then alice's", sync)
	}

	var hist wire.HistoryResp
	carol.mustCall(wire.OpHistory, wire.HistoryReq{ConvID: sent[0].ConvID}, &hist)
	if len(hist.Messages) != 6 || hist.More {
		t.Fatalf("history = %d messages (more %v), want 6", len(hist.Messages), hist.More)
	}
	for i, m := range hist.Messages {
		if m.MsgID != sent[i].MsgID || m.Seq != int64(i+1) || m.ClientMsgID != "a"+itoa(i) {
			t.Errorf("history[%d] = %+v, want msg %d seq %d", i, m, sent[i].MsgID, i+1)
		}
		if _, _, text := msgText(t, m.Content); text != "from alice "+itoa(i) {
			t.Errorf("history[%d] text %q", i, text)
		}
	}
	carol.mustCall(wire.OpHistory, wire.HistoryReq{ConvID: sent[0].ConvID, Before: 5, Limit: 2}, &hist)
	if len(hist.Messages) != 2 || hist.Messages[0].Seq != 4 || hist.Messages[1].Seq != 3 || !hist.More {
		t.Errorf("history(before 5, limit 2) = %+v, want seq 4, 3 and more", hist)
	}
	carol.mustCall(wire.OpHistory, wire.HistoryReq{ConvID: sent[0].ConvID, After: 3}, &hist)
	if len(hist.Messages) != 3 || hist.Messages[0].Seq != 4 || hist.Messages[2].Seq != 6 || hist.More {
		t.Errorf("history(after 3) = %+v, want seq 4, 5, 6", hist)
	}

	// History of someone else's conversation and bad arguments are refused.
	other := alice.send("bobby", "y", "private")
	tests := []struct {
		name string
		req  wire.HistoryReq
		code int
	}{
		{"not a member", wire.HistoryReq{ConvID: other.ConvID}, jmsg.ServerRequestUserNotInGroup},
		{"unknown conversation", wire.HistoryReq{ConvID: 999999}, jmsg.ServerRequestUserNotInGroup},
		{"no conversation", wire.HistoryReq{}, jmsg.ServerInvalidRequest},
		{"after and before", wire.HistoryReq{ConvID: sent[0].ConvID, After: 1, Before: 3}, jmsg.ServerInvalidRequest},
		{"negative limit", wire.HistoryReq{ConvID: sent[0].ConvID, Limit: -1}, jmsg.ServerInvalidRequest},
	}
	for _, tc := range tests {
		if got := carol.callCode(wire.OpHistory, tc.req); got != tc.code {
			t.Errorf("history(%s) code = %d, want %d", tc.name, got, tc.code)
		}
	}
	for _, req := range []any{
		wire.SyncReq{Since: -1},
		wire.SyncReq{Since: 1, SinceConv: -1},
		wire.SyncReq{Limit: -1},
		map[string]any{"since": "0"},
		map[string]any{"since_conv": 1.5},
	} {
		if got := carol.callCode(wire.OpSync, req); got != jmsg.ServerInvalidRequest {
			t.Errorf("sync(%+v) code = %d, want %d", req, got, jmsg.ServerInvalidRequest)
		}
	}
}

// TestAppIsolation checks that two apps on one server share nothing.
func TestAppIsolation(t *testing.T) {
	ts := newTestServer(t, Config{})
	register(t, ts, "alice")
	register(t, ts, "bobby")
	alice, _ := login(t, ts, "alice", "")
	r := alice.send("bobby", "c1", "in app A")

	appB := &testServer{srv: ts.srv, st: ts.st, url: ts.url, appKey: randomKey(t)}
	if err := ts.st.CreateApp(t.Context(), storeApp(appB.appKey)); err != nil {
		t.Fatal(err)
	}
	c := dial(t, appB, "B client")
	c.init(appB, "")
	if got := c.callCode(wire.OpLogin, wire.LoginReq{Username: "alice", Password: password}); got != jmsg.TcpUserNotRegistered {
		t.Errorf("login to app B as A's alice code = %d, want %d", got, jmsg.TcpUserNotRegistered)
	}
	register(t, appB, "bobby")
	bobB, _ := login(t, appB, "bobby", "")
	sync := syncCall(bobB, wire.SyncReq{})
	if len(sync.Changes) != 0 {
		t.Errorf("B's bobby sync = %+v, want nothing", sync)
	}
	if got := bobB.callCode(wire.OpHistory, wire.HistoryReq{ConvID: r.ConvID}); got != jmsg.ServerRequestUserNotInGroup {
		t.Errorf("B's bobby history of A's conversation code = %d, want %d", got, jmsg.ServerRequestUserNotInGroup)
	}
	if got := bobB.callCode(wire.OpSend, textSend("alice", "c1", "hi")); got != jmsg.TcpTargetUserNotExist {
		t.Errorf("B's bobby send to alice code = %d, want %d", got, jmsg.TcpTargetUserNotExist)
	}
	if got := bobB.callCode(wire.OpUserInfo, wire.UserInfoReq{Usernames: []string{"alice"}}); got != jmsg.HttpUserNotExist {
		t.Errorf("B's bobby user_info(alice) code = %d, want %d", got, jmsg.HttpUserNotExist)
	}
	// A's bobby, logging in now, finds only A's message.
	bobA, _ := login(t, ts, "bobby", "")
	sync = syncCall(bobA, wire.SyncReq{})
	if len(sync.Changes) != 1 || sync.Changes[0].ConvID != r.ConvID {
		t.Errorf("A's bobby sync = %+v, want A's conversation only", sync)
	}
}

func equalJSON(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}

// syncCall sends a sync request and decodes its response into a fresh
// SyncResp (cursor_conv is omitted when 0).
func syncCall(c *rawClient, req wire.SyncReq) wire.SyncResp {
	c.t.Helper()
	var resp wire.SyncResp
	c.mustCall(wire.OpSync, req, &resp)
	return resp
}

// TestCTimeIsCommitTime checks that a message's time is the server's at
// commit, whatever the client put in the document.
func TestCTimeIsCommitTime(t *testing.T) {
	ts := newTestServer(t, Config{})
	register(t, ts, "alice")
	register(t, ts, "bobby")
	alice, _ := login(t, ts, "alice", "")
	bob, _ := login(t, ts, "bobby", "")
	var last int64
	for i, created := range []int64{1, time.Now().Add(24 * time.Hour).UnixMilli(), 0} {
		req := textSend("bobby", "t"+itoa(i), "hi")
		req.Content.CreateTime = created
		before := time.Now().UnixMilli()
		var r wire.SendResp
		alice.mustCall(wire.OpSend, req, &r)
		after := time.Now().UnixMilli()
		if r.CTimeMs < before || r.CTimeMs > after || r.CTimeMs < last {
			t.Errorf("send with create_time %d: ctime_ms %d, want the commit time in [%d, %d], not before %d", created, r.CTimeMs, before, after, last)
		}
		last = r.CTimeMs
		p := bob.nextMsg()
		var doc jmsg.Doc
		json.Unmarshal(p.Message.Content, &doc)
		if p.Message.CTimeMs != r.CTimeMs || doc.CreateTime != created {
			t.Errorf("push ctime_ms %d create_time %d, want %d and the client's %d", p.Message.CTimeMs, doc.CreateTime, r.CTimeMs, created)
		}
	}
	// Fields the protocol no longer has are ignored.
	var r wire.SendResp
	req := map[string]any{"cid": "old-fields", "content": textSend("bobby", "", "x").Content, "no_offline": true, "no_notification": true}
	alice.mustCall(wire.OpSend, req, &r)
	if p := bob.nextMsg(); p.Message.MsgID != r.MsgID {
		t.Errorf("bob got %d, want %d", p.Message.MsgID, r.MsgID)
	}
}

// waitDelivered polls uid's delivered position in conv until it is want.
func waitDelivered(t testing.TB, ts *testServer, conv, uid, want int64) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for {
		got, err := ts.st.Delivered(t.Context(), ts.appKey, conv, uid)
		if err != nil {
			t.Fatalf("Delivered(conv %d, uid %d) = %v", conv, uid, err)
		}
		if got == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("Delivered(conv %d, uid %d) = %d after %v, want %d", conv, uid, got, waitTimeout, want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func delivered(t testing.TB, ts *testServer, conv, uid int64) int64 {
	t.Helper()
	got, err := ts.st.Delivered(t.Context(), ts.appKey, conv, uid)
	if err != nil {
		t.Fatalf("Delivered(conv %d, uid %d) = %v", conv, uid, err)
	}
	return got
}

func uidOf(t testing.TB, ts *testServer, username string) int64 {
	t.Helper()
	u, err := ts.st.UserByName(t.Context(), ts.appKey, username)
	if err != nil {
		t.Fatalf("UserByName(%s) = %v", username, err)
	}
	return u.UID
}

// TestAck checks that acks become delivered positions, written in the
// background, and that malformed acks are refused whole.
func TestAck(t *testing.T) {
	ts := newTestServer(t, Config{PositionFlush: 5 * time.Millisecond})
	for _, u := range []string{"alice", "bobby", "carol"} {
		register(t, ts, u)
	}
	alice, _ := login(t, ts, "alice", "")
	bob, _ := login(t, ts, "bobby", "")
	carol, _ := login(t, ts, "carol", "")
	var ab, ac int64
	for i := range 3 {
		ab = alice.send("bobby", "ab"+itoa(i), "hi").ConvID
		bob.nextMsg()
	}
	ac = alice.send("carol", "ac", "hi").ConvID
	carol.nextMsg()
	a, b, c := uidOf(t, ts, "alice"), uidOf(t, ts, "bobby"), uidOf(t, ts, "carol")

	ack := func(cl *rawClient, ps ...wire.Position) {
		t.Helper()
		cl.mustCall(wire.OpAck, wire.AckReq{Positions: ps}, nil)
	}
	ack(bob, wire.Position{ConvID: ab, Seq: 2})
	waitDelivered(t, ts, ab, b, 2)
	// Lower positions are ignored, higher ones capped at the last message;
	// acks of conversations one is not in change nothing.
	ack(bob, wire.Position{ConvID: ab, Seq: 1})
	ack(carol, wire.Position{ConvID: ab, Seq: 3}, wire.Position{ConvID: ac, Seq: 1})
	ack(alice, wire.Position{ConvID: ab, Seq: 99}, wire.Position{ConvID: 999999, Seq: 1})
	waitDelivered(t, ts, ac, c, 1)
	waitDelivered(t, ts, ab, a, 3)
	if got := delivered(t, ts, ab, b); got != 2 {
		t.Errorf("bobby's position after a lower ack = %d, want 2", got)
	}
	if got := delivered(t, ts, ab, c); got != 0 {
		t.Errorf("carol's position in alice–bobby = %d, want 0", got)
	}
	ack(bob) // an empty ack is fine
	bob.mustCall(wire.OpAck, nil, nil)

	many := func(n int) []wire.Position {
		ps := make([]wire.Position, n)
		for i := range ps {
			ps[i] = wire.Position{ConvID: int64(1000 + i), Seq: 1}
		}
		return ps
	}
	ack(bob, many(500)...)
	tests := []struct {
		name string
		req  any
	}{
		{"501 positions", wire.AckReq{Positions: many(501)}},
		{"conv_id 0", wire.AckReq{Positions: []wire.Position{{ConvID: 0, Seq: 1}}}},
		{"seq 0", wire.AckReq{Positions: []wire.Position{{ConvID: ab, Seq: 0}}}},
		{"negative conv_id", wire.AckReq{Positions: []wire.Position{{ConvID: -1, Seq: 1}}}},
		{"negative seq", wire.AckReq{Positions: []wire.Position{{ConvID: ab, Seq: -3}}}},
		{"one bad among good", wire.AckReq{Positions: []wire.Position{{ConvID: ab, Seq: 3}, {ConvID: ab, Seq: 0}}}},
		{"positions not a list", map[string]any{"positions": 5}},
		{"seq a string", map[string]any{"positions": []any{map[string]any{"conv_id": ab, "seq": "3"}}}},
		{"the old form", map[string]any{"sync_key": 3, "positions": []any{map[string]any{"conv_id": ab}}}},
	}
	for _, tc := range tests {
		if got := bob.callCode(wire.OpAck, tc.req); got != jmsg.ServerInvalidRequest {
			t.Errorf("ack(%s) code = %d, want %d", tc.name, got, jmsg.ServerInvalidRequest)
		}
	}
	// None of the refused acks was recorded: bobby is still at 2 once the
	// next good ack is written.
	ack(bob, wire.Position{ConvID: ac, Seq: 1}, wire.Position{ConvID: ab, Seq: 2})
	ack(alice, wire.Position{ConvID: ac, Seq: 1})
	// Flushes run in order, so once alice's ack is written bobby's is too.
	waitDelivered(t, ts, ac, a, 1)
	if got := delivered(t, ts, ab, b); got != 2 {
		t.Errorf("bobby's position after refused acks = %d, want 2", got)
	}
	if got := delivered(t, ts, ac, b); got != 0 {
		t.Errorf("bobby's position in alice–carol = %d, want 0", got)
	}
}

// TestAckBuffered checks that acks are kept in memory until a flush, which
// writes the highest position of each, and that Close writes what is left.
func TestAckBuffered(t *testing.T) {
	ts := newTestServer(t, Config{PositionFlush: time.Hour})
	register(t, ts, "alice")
	register(t, ts, "bobby")
	alice, _ := login(t, ts, "alice", "")
	bob, _ := login(t, ts, "bobby", "")
	var conv int64
	for i := range 5 {
		conv = alice.send("bobby", "m"+itoa(i), "hi").ConvID
	}
	b := uidOf(t, ts, "bobby")
	for _, seq := range []int64{2, 4, 3} {
		bob.mustCall(wire.OpAck, wire.AckReq{Positions: []wire.Position{{ConvID: conv, Seq: seq}}}, nil)
	}
	if got := delivered(t, ts, conv, b); got != 0 {
		t.Errorf("position before a flush = %d, want 0 (acks are buffered)", got)
	}
	ts.srv.positions.flush()
	if got := delivered(t, ts, conv, b); got != 4 {
		t.Errorf("position after a flush = %d, want the highest ack 4", got)
	}
	ts.srv.positions.flush() // nothing pending: a no-op
	bob.mustCall(wire.OpAck, wire.AckReq{Positions: []wire.Position{{ConvID: conv, Seq: 5}}}, nil)
	if err := ts.srv.Close(); err != nil {
		t.Fatal(err)
	}
	if got := delivered(t, ts, conv, b); got != 5 {
		t.Errorf("position after Close = %d, want 5: Close writes pending acks", got)
	}
}

// TestSyncPaging pages through more conversations than a page holds, all
// changed by one commit (one LSN).
func TestSyncPaging(t *testing.T) {
	ts := newTestServer(t, Config{})
	register(t, ts, "hub00")
	hub := uidOf(t, ts, "hub00")
	const n = 250
	var batch []store.NewMessage
	names := map[int64]string{}
	for i := range n {
		name := fmt.Sprintf("peer%03d", i)
		info, err := ts.st.CreateUser(t.Context(), ts.appKey, store.User{UserInfo: jmsg.UserInfo{Username: name}, PasswordHash: []byte("x")})
		if err != nil {
			t.Fatal(err)
		}
		batch = append(batch, store.NewMessage{AppKey: ts.appKey, SenderUID: info.UID, TargetUID: hub, ClientMsgID: name,
			CTimeMs: time.Now().UnixMilli(), Content: []byte(`{}`)})
		names[info.UID] = name
	}
	res, err := ts.st.Append(t.Context(), batch)
	if err != nil {
		t.Fatal(err)
	}
	peerOf := map[int64]string{}
	for i, r := range res {
		peerOf[r.ConvID] = names[batch[i].SenderUID]
	}
	c, _ := login(t, ts, "hub00", "")

	for _, tc := range []struct {
		limit     int
		wantPages []int
	}{
		{100, []int{100, 100, 50}},
		{0, []int{200, 50}},    // default
		{1000, []int{200, 50}}, // at most 200
		{250, []int{200, 50}},
		{125, []int{125, 125}},
	} {
		seen := map[int64]bool{}
		var pages []int
		var req wire.SyncReq
		req.Limit = tc.limit
		var end int64
		for len(pages) <= n {
			resp := syncCall(c, req)
			pages = append(pages, len(resp.Changes))
			for _, ch := range resp.Changes {
				if seen[ch.ConvID] {
					t.Errorf("limit %d: conv %d listed twice", tc.limit, ch.ConvID)
				}
				seen[ch.ConvID] = true
				if ch.Peer != peerOf[ch.ConvID] || ch.LastSeq != 1 || ch.Type != int(jmsg.ConversationSingle) {
					t.Errorf("limit %d: change %+v, want peer %s at seq 1", tc.limit, ch, peerOf[ch.ConvID])
				}
			}
			if !resp.More {
				if resp.CursorConv != 0 || resp.Cursor == 0 {
					t.Errorf("limit %d: last page cursor (%d, %d), want (LSN, 0)", tc.limit, resp.Cursor, resp.CursorConv)
				}
				end = resp.Cursor
				break
			}
			last := resp.Changes[len(resp.Changes)-1]
			if resp.CursorConv != last.ConvID || resp.Cursor == 0 {
				t.Fatalf("limit %d: page cursor (%d, %d), want its last conversation %d", tc.limit, resp.Cursor, resp.CursorConv, last.ConvID)
			}
			req.Since, req.SinceConv = resp.Cursor, resp.CursorConv
		}
		if len(seen) != n || fmt.Sprint(pages) != fmt.Sprint(tc.wantPages) {
			t.Errorf("limit %d: %d conversations in pages %v, want %d in %v", tc.limit, len(seen), pages, n, tc.wantPages)
		}
		if resp := syncCall(c, wire.SyncReq{Since: end}); len(resp.Changes) != 0 || resp.More || resp.Cursor != end {
			t.Errorf("limit %d: sync from the end = %+v, want nothing", tc.limit, resp)
		}
	}
}

// TestHistoryPaging checks that a history page stays far below a client's
// frame limit however many messages it may hold, and that paging either
// way returns every message once.
func TestHistoryPaging(t *testing.T) {
	ts := newTestServer(t, Config{})
	register(t, ts, "alice")
	register(t, ts, "bobby")
	a, b := uidOf(t, ts, "alice"), uidOf(t, ts, "bobby")
	const n = 200
	var batch []store.NewMessage
	for i := range n {
		req := textSend("bobby", "", strings.Repeat("x", 3900))
		req.Content.FromType, req.Content.FromID = "user", "alice"
		content, _ := json.Marshal(req.Content)
		batch = append(batch, store.NewMessage{AppKey: ts.appKey, SenderUID: a, TargetUID: b, ClientMsgID: "h" + itoa(i),
			CTimeMs: int64(i), Content: content})
	}
	res, err := ts.st.Append(t.Context(), batch)
	if err != nil {
		t.Fatal(err)
	}
	conv := res[0].ConvID
	c, _ := login(t, ts, "bobby", "")

	page := func(req wire.HistoryReq) wire.HistoryResp {
		t.Helper()
		f := c.call(wire.OpHistory, req)
		if f.Code != 0 {
			t.Fatalf("history(%+v) = error %d", req, f.Code)
		}
		if len(f.Data) > 512<<10 {
			t.Errorf("history(%+v) response is %d bytes, want far below the SDK's 1 MiB frame limit", req, len(f.Data))
		}
		var resp wire.HistoryResp
		if err := json.Unmarshal(f.Data, &resp); err != nil {
			t.Fatal(err)
		}
		if len(resp.Messages) == 0 && resp.More {
			t.Fatalf("history(%+v) = an empty page with more", req)
		}
		return resp
	}
	// Oldest first, with after.
	var got []int64
	pages := 0
	for req := (wire.HistoryReq{ConvID: conv}); pages <= n; {
		resp := page(req)
		pages++
		for _, m := range resp.Messages {
			got = append(got, m.Seq)
		}
		if !resp.More {
			break
		}
		req.After = resp.Messages[len(resp.Messages)-1].Seq
	}
	if pages < 3 {
		t.Errorf("%d messages of 4 KB came in %d pages, want pages of at most 256 KB", n, pages)
	}
	for i, seq := range got {
		if seq != int64(i+1) {
			t.Fatalf("history oldest first = seqs %v, want 1..%d once each", got, n)
		}
	}
	if len(got) != n {
		t.Errorf("history oldest first returned %d messages, want %d", len(got), n)
	}
	// Newest first, with before.
	got = got[:0]
	for req := (wire.HistoryReq{ConvID: conv, Before: n + 1}); ; {
		resp := page(req)
		for _, m := range resp.Messages {
			got = append(got, m.Seq)
		}
		if !resp.More || len(got) > n {
			break
		}
		req.Before = resp.Messages[len(resp.Messages)-1].Seq
	}
	for i, seq := range got {
		if seq != int64(n-i) {
			t.Fatalf("history newest first = seqs %v, want %d..1 once each", got, n)
		}
	}
	if len(got) != n {
		t.Errorf("history newest first returned %d messages, want %d", len(got), n)
	}
	// A small limit still applies.
	if resp := page(wire.HistoryReq{ConvID: conv, Limit: 3}); len(resp.Messages) != 3 || !resp.More {
		t.Errorf("history(limit 3) = %d messages, more %v; want 3 and more", len(resp.Messages), resp.More)
	}
}
