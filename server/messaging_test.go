package server

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/jmsg-im/jmsg"
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
	bob, bobLogin := login(t, ts, "bobby", "")

	r := alice.send("bobby", "cid-1", "hello bob")
	if r.Seq != 1 || r.SyncKey != 1 || r.CTimeMs == 0 {
		t.Errorf("first send = %+v, want seq 1, sync key 1, a time", r)
	}
	p := bob.nextMsg()
	m := p.Message
	if m.MsgID != r.MsgID || m.ConvID != r.ConvID || m.Seq != r.Seq || m.CTimeMs != r.CTimeMs || m.ClientMsgID != "cid-1" {
		t.Errorf("bob's push = %+v, want the ids of %+v and cid-1", m, r)
	}
	if p.SyncKey != bobLogin.SyncKey+1 {
		t.Errorf("bob's push sync key = %d, want %d", p.SyncKey, bobLogin.SyncKey+1)
	}
	if from, to, text := msgText(t, m.Content); from != "alice" || to != "bobby" || text != "hello bob" {
		t.Errorf("bob's push content from %q to %q text %q, want alice → bobby %q", from, to, text, "hello bob")
	}
	var doc jmsg.Doc
	json.Unmarshal(m.Content, &doc)
	if doc.FromType != "user" || doc.FromPlatform != wire.PlatformAndroid {
		t.Errorf("content from_type %q from_platform %q, want user and a", doc.FromType, doc.FromPlatform)
	}
	// The sender's other session gets the message too, with its own key.
	if p := aliceWeb.nextMsg(); p.Message.MsgID != r.MsgID || p.SyncKey != r.SyncKey {
		t.Errorf("alice's web session push = %+v, want msg %d key %d", p, r.MsgID, r.SyncKey)
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
		{"group target", doc(func(d *jmsg.Doc) { d.TargetType = "group" }), jmsg.ServerInvalidRequest},
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
	if r.Seq != 1 || r.SyncKey != 1 {
		t.Errorf("first good send after refusals = %+v, want seq 1, key 1", r)
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

	carol, resp := login(t, ts, "carol", "")
	if resp.SyncKey != 6 {
		t.Errorf("carol's login sync key = %d, want 6", resp.SyncKey)
	}

	var sync wire.SyncResp
	carol.mustCall(wire.OpSync, wire.SyncReq{Since: 0}, &sync)
	want := []wire.ConvChange{
		{ConvID: sent[0].ConvID, Type: int(jmsg.ConversationSingle), Peer: "alice", LastSeq: 5, Key: 5},
		{ConvID: fromBob.ConvID, Type: int(jmsg.ConversationSingle), Peer: "bobby", LastSeq: 1, Key: 6},
	}
	if !equalJSON(sync.Changes, want) || sync.More || sync.Key != 6 {
		t.Errorf("sync(0) = %+v, want %+v, key 6, no more", sync, want)
	}
	// Paging.
	carol.mustCall(wire.OpSync, wire.SyncReq{Since: 0, Limit: 1}, &sync)
	if !equalJSON(sync.Changes, want[:1]) || !sync.More || sync.Key != 5 {
		t.Errorf("sync(0, limit 1) = %+v, want alice's conversation, key 5, more", sync)
	}
	carol.mustCall(wire.OpSync, wire.SyncReq{Since: sync.Key, Limit: 1}, &sync)
	if !equalJSON(sync.Changes, want[1:]) || sync.More || sync.Key != 6 {
		t.Errorf("sync(5, limit 1) = %+v, want bob's conversation, key 6, no more", sync)
	}
	carol.mustCall(wire.OpSync, wire.SyncReq{Since: 6}, &sync)
	if len(sync.Changes) != 0 || sync.More || sync.Key != 6 {
		t.Errorf("sync(6) = %+v, want nothing, key 6", sync)
	}

	var hist wire.HistoryResp
	carol.mustCall(wire.OpHistory, wire.HistoryReq{ConvID: sent[0].ConvID}, &hist)
	if len(hist.Messages) != 5 || hist.More {
		t.Fatalf("history = %d messages (more %v), want 5", len(hist.Messages), hist.More)
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
	if len(hist.Messages) != 2 || hist.Messages[0].Seq != 4 || hist.More {
		t.Errorf("history(after 3) = %+v, want seq 4, 5", hist)
	}

	// History of someone else's conversation and bad arguments are refused.
	other := alice.send("bobby", "y", "private")
	tests := []struct {
		name string
		req  wire.HistoryReq
	}{
		{"not a member", wire.HistoryReq{ConvID: other.ConvID}},
		{"unknown conversation", wire.HistoryReq{ConvID: 999999}},
		{"no conversation", wire.HistoryReq{}},
		{"after and before", wire.HistoryReq{ConvID: sent[0].ConvID, After: 1, Before: 3}},
		{"negative limit", wire.HistoryReq{ConvID: sent[0].ConvID, Limit: -1}},
	}
	for _, tc := range tests {
		if got := carol.callCode(wire.OpHistory, tc.req); got != jmsg.ServerInvalidRequest {
			t.Errorf("history(%s) code = %d, want %d", tc.name, got, jmsg.ServerInvalidRequest)
		}
	}
	if got := carol.callCode(wire.OpSync, wire.SyncReq{Since: -1}); got != jmsg.ServerInvalidRequest {
		t.Errorf("sync(-1) code = %d, want %d", got, jmsg.ServerInvalidRequest)
	}
	carol.mustCall(wire.OpAck, wire.AckReq{SyncKey: 6}, nil)
	if got := carol.callCode(wire.OpAck, wire.AckReq{SyncKey: -1}); got != jmsg.ServerInvalidRequest {
		t.Errorf("ack(-1) code = %d, want %d", got, jmsg.ServerInvalidRequest)
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
	bobB, resp := login(t, appB, "bobby", "")
	if resp.SyncKey != 0 {
		t.Errorf("B's bobby sync key = %d, want 0", resp.SyncKey)
	}
	var sync wire.SyncResp
	bobB.mustCall(wire.OpSync, wire.SyncReq{}, &sync)
	if len(sync.Changes) != 0 {
		t.Errorf("B's bobby sync = %+v, want nothing", sync)
	}
	if got := bobB.callCode(wire.OpHistory, wire.HistoryReq{ConvID: r.ConvID}); got != jmsg.ServerInvalidRequest {
		t.Errorf("B's bobby history of A's conversation code = %d, want %d", got, jmsg.ServerInvalidRequest)
	}
	if got := bobB.callCode(wire.OpSend, textSend("alice", "c1", "hi")); got != jmsg.TcpTargetUserNotExist {
		t.Errorf("B's bobby send to alice code = %d, want %d", got, jmsg.TcpTargetUserNotExist)
	}
	if got := bobB.callCode(wire.OpUserInfo, wire.UserInfoReq{Usernames: []string{"alice"}}); got != jmsg.HttpUserNotExist {
		t.Errorf("B's bobby user_info(alice) code = %d, want %d", got, jmsg.HttpUserNotExist)
	}
	// A's bobby, logging in now, finds only A's message.
	bobA, _ := login(t, ts, "bobby", "")
	bobA.mustCall(wire.OpSync, wire.SyncReq{}, &sync)
	if len(sync.Changes) != 1 || sync.Changes[0].ConvID != r.ConvID {
		t.Errorf("A's bobby sync = %+v, want A's conversation only", sync)
	}
}

func equalJSON(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}
