package server

import (
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/jmsg-im/jmsg"
	"github.com/jmsg-im/jmsg/wire"
)

// nextRetract waits for c's next push, which must be event 55.
func (c *rawClient) nextRetract() wire.EventPush {
	c.t.Helper()
	f := c.next(wire.OpEvent)
	var ev wire.EventPush
	if err := json.Unmarshal(f.Data, &ev); err != nil {
		c.t.Fatalf("%s: decoding event %s: %v", c.name, f.Data, err)
	}
	if ev.EventType != wire.EventMessageRetract {
		c.t.Fatalf("%s: got event %s, want event 55", c.name, f.Data)
	}
	return ev
}

// retractedBody returns the prompt body of m, failing unless m is a
// retracted message of the original type orig.
func retractedBody(t testing.TB, m wire.Message, orig string) wire.RetractPromptBody {
	t.Helper()
	var doc jmsg.Doc
	if err := json.Unmarshal(m.Content, &doc); err != nil {
		t.Fatalf("content %s: %v", m.Content, err)
	}
	var body wire.RetractPromptBody
	if err := json.Unmarshal(doc.MsgBody, &body); err != nil || doc.MsgType != wire.MsgTypePrompt ||
		body.PromptType != wire.PromptRetract || body.OrigMsgType != orig {
		t.Fatalf("message %d = %s, want a retract prompt of a %s message", m.MsgID, m.Content, orig)
	}
	return body
}

// TestRetractSingle: the sender retracts within the window; the receiver
// and the sender's other session get event 55, history shows the prompt
// with the envelope kept, and every refusal has its code.
func TestRetractSingle(t *testing.T) {
	ts := newTestServer(t, Config{})
	addUsers(t, ts, "alice", "bobby")
	alice, _ := login(t, ts, "alice", wire.PlatformAndroid)
	aliceWeb, _ := login(t, ts, "alice", wire.PlatformWeb)
	bob, _ := login(t, ts, "bobby", "")

	r := alice.send("bobby", "c1", "oops")
	kept := alice.send("bobby", "c2", "fine")
	drain(t, bob, aliceWeb)

	wantCode(t, bob, wire.OpRetract, wire.RetractReq{MsgID: r.MsgID}, jmsg.ServerRetractNotSender)
	wantCode(t, alice, wire.OpRetract, wire.RetractReq{MsgID: kept.MsgID + 1000}, jmsg.ServerRetractMessageNotExist)
	wantCode(t, alice, wire.OpRetract, wire.RetractReq{}, jmsg.ServerRetractMessageNotExist)
	alice.mustCall(wire.OpRetract, wire.RetractReq{MsgID: r.MsgID}, nil)
	for _, c := range []*rawClient{bob, aliceWeb} {
		ev := c.nextRetract()
		if !slices.Equal(ev.MsgIDs, []int64{r.MsgID}) || ev.ConvID != r.ConvID || ev.From != "alice" || ev.TargetType != wire.RetractSingle ||
			!slices.Equal(ev.ToUsernames, []string{"bobby"}) || ev.GID != 0 || ev.CTimeMs <= 0 {
			t.Errorf("%s: event 55 = %+v, want msg %d of conv %d from alice to bobby", c.name, ev, r.MsgID, r.ConvID)
		}
	}
	quiet(t, alice, aliceWeb, bob)
	wantCode(t, alice, wire.OpRetract, wire.RetractReq{MsgID: r.MsgID}, jmsg.ServerMessageAlreadyRetracted)

	msgs := history(bob, r.ConvID)
	if len(msgs) != 2 || msgs[0].MsgID != r.MsgID || msgs[0].Seq != r.Seq || msgs[0].CTimeMs != r.CTimeMs || msgs[0].ClientMsgID != "c1" {
		t.Fatalf("bob's history = %+v, want the retracted message in its place", msgs)
	}
	retractedBody(t, msgs[0], "text")
	var doc jmsg.Doc
	json.Unmarshal(msgs[0].Content, &doc)
	if doc.FromID != "alice" || doc.TargetID != "bobby" || doc.TargetType != "single" || doc.FromPlatform != wire.PlatformAndroid {
		t.Errorf("retracted envelope = %+v, want alice's as sent", doc)
	}
	if _, _, text := msgText(t, msgs[1].Content); text != "fine" {
		t.Errorf("second message text = %q, want it untouched", text)
	}
	// A retry of the retracted message's cid answers with what is stored.
	var again wire.SendResp
	alice.mustCall(wire.OpSend, textSend("bobby", "c1", "oops"), &again)
	if again.MsgID != r.MsgID {
		t.Errorf("resend of a retracted cid = %+v, want the original id %d", again, r.MsgID)
	}
}

// TestRetractGroup: a member retracts in a group; the online members get
// event 55 with the group; a group's event message cannot be retracted.
func TestRetractGroup(t *testing.T) {
	ts := newTestServer(t, Config{})
	addUsers(t, ts, "alice", "bobby", "carol")
	cs := logins(t, ts, "alice", "bobby", "carol")
	alice, bob, carol := cs[0], cs[1], cs[2]
	g := alice.createGroup(wire.CreateGroupReq{Name: "team", Members: users("bobby", "carol")})
	created := expectEvent(t, wire.EventGroupCreated, alice, bob, carol)

	r := carol.sendGroup(g.GID, "", "wrong group")
	expectMsg(t, r, "wrong group", alice, bob)
	carol.mustCall(wire.OpRetract, wire.RetractReq{MsgID: r.MsgID}, nil)
	for _, c := range []*rawClient{alice, bob} {
		ev := c.nextRetract()
		if !slices.Equal(ev.MsgIDs, []int64{r.MsgID}) || ev.ConvID != g.ConvID || ev.GID != g.GID || ev.TargetType != wire.RetractGroup || ev.From != "carol" {
			t.Errorf("%s: event 55 = %+v, want msg %d of group %d from carol", c.name, ev, r.MsgID, g.GID)
		}
	}
	quiet(t, alice, bob, carol)
	msgs := history(alice, g.ConvID)
	if len(msgs) != 2 || msgs[1].MsgID != r.MsgID {
		t.Fatalf("alice's history = %+v, want the event and the retracted message", msgs)
	}
	retractedBody(t, msgs[1], "text")
	// The creation event's sender is the creator, but it is the system's.
	wantCode(t, alice, wire.OpRetract, wire.RetractReq{MsgID: created.msg.MsgID}, jmsg.ServerRetractNotSender)
}

// TestRetractThroughDo: the REST API's path (Server.Do as the sender)
// reaches every session of the sender and the receiver.
func TestRetractThroughDo(t *testing.T) {
	ts := newTestServer(t, Config{})
	addUsers(t, ts, "alice", "bobby")
	alice, _ := login(t, ts, "alice", "")
	bob, _ := login(t, ts, "bobby", "")
	r := alice.send("bobby", "", "to take back")
	bob.nextMsg()
	if _, err := ts.srv.Do(t.Context(), ts.appKey, "alice", wire.OpRetract, wire.RetractReq{MsgID: r.MsgID}, ActOptions{}); err != nil {
		t.Fatalf("Do(retract) = %v", err)
	}
	for _, c := range []*rawClient{alice, bob} {
		if ev := c.nextRetract(); !slices.Equal(ev.MsgIDs, []int64{r.MsgID}) {
			t.Errorf("%s: event 55 = %+v, want msg %d", c.name, ev, r.MsgID)
		}
	}
	retractedBody(t, history(bob, r.ConvID)[0], "text")
	if _, err := ts.srv.Do(t.Context(), ts.appKey, "bobby", wire.OpRetract, wire.RetractReq{MsgID: r.MsgID}, ActOptions{}); jmsg.CodeOf(err) != jmsg.ServerRetractNotSender {
		t.Errorf("Do(retract as bobby) = %v, want 855002", err)
	}
}

// TestRetractWindow: past RetractWindow a message stays (855001).
func TestRetractWindow(t *testing.T) {
	ts := newTestServer(t, Config{RetractWindow: time.Millisecond})
	addUsers(t, ts, "alice", "bobby")
	alice, _ := login(t, ts, "alice", "")
	r := alice.send("bobby", "", "too late")
	// Let the window pass: nothing to wait for but the clock.
	time.Sleep(20 * time.Millisecond)
	wantCode(t, alice, wire.OpRetract, wire.RetractReq{MsgID: r.MsgID}, jmsg.ServerRetractOutOfTime)
	if _, _, text := msgText(t, history(alice, r.ConvID)[0].Content); text != "too late" {
		t.Errorf("history after a refused retract = %q, want the message as sent", text)
	}
	if d := DefaultConfig().RetractWindow; d != 3*time.Minute {
		t.Errorf("DefaultConfig().RetractWindow = %v, want 3m", d)
	}
}
