package e2e

import (
	"context"
	"testing"
	"time"

	"github.com/jmsg-im/jmsg"
	"github.com/jmsg-im/jmsg/client"
	"github.com/jmsg-im/jmsg/wire"
)

// nextGroupEvent returns the next GroupEvent of type typ.
func nextGroupEvent(t *testing.T, col *collector, typ int) client.GroupEvent {
	t.Helper()
	deadline := time.After(20 * time.Second)
	for {
		select {
		case e := <-col.ch:
			if ge, ok := e.(client.GroupEvent); ok && ge.EventType == typ {
				return ge
			}
		case <-deadline:
			t.Fatalf("no group event %d within 20s", typ)
		}
	}
}

// groupTexts returns the texts of a client's group conversation that the
// server accepted, oldest first.
func groupTexts(t *testing.T, c *client.Client, gid int64) []string {
	t.Helper()
	conv, err := c.Conversation(jmsg.ConversationGroup, jmsg.FormatID(gid))
	if err != nil {
		return nil
	}
	ms, err := conv.Messages(0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for i := len(ms) - 1; i >= 0; i-- {
		if tc, ok := ms[i].Content.(*client.TextContent); ok && ms[i].ServerMessageID != 0 {
			out = append(out, tc.Text)
		}
	}
	return out
}

func TestGroupLifecycleThroughTheSDK(t *testing.T) {
	d := startDaemon(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	owner, bob, carol := newClient(t, d, ""), newClient(t, d, ""), newClient(t, d, "")
	registerAndLogin(t, owner, "owner")
	registerAndLogin(t, bob, "bob01")
	registerAndLogin(t, carol, "carol")
	bobEvents, carolEvents := collect(t, bob), collect(t, carol)

	g, err := owner.CreateGroup(ctx, client.GroupOptions{Name: "crew", Members: []string{"bob01"}})
	if err != nil {
		t.Fatal(err)
	}
	if ev := nextGroupEvent(t, bobEvents, wire.EventGroupCreated); ev.GID != g.ID || ev.From != "owner" {
		t.Fatalf("bob's create event = %+v", ev.EventContent)
	}
	conv, err := owner.CreateGroupConversation(ctx, g.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conv.SendText(ctx, "before carol", nil); err != nil {
		t.Fatal(err)
	}

	// Carol joins later: she sees the add event and what follows, nothing before.
	if err := owner.AddGroupMembers(ctx, g.ID, "carol"); err != nil {
		t.Fatal(err)
	}
	if ev := nextGroupEvent(t, carolEvents, wire.EventGroupMembersAdded); len(ev.To) != 1 || ev.To[0] != "carol" {
		t.Fatalf("carol's add event = %+v", ev.EventContent)
	}
	if _, err := conv.SendText(ctx, "with carol", nil); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "carol to receive", 20*time.Second, func() bool { return len(groupTexts(t, carol, g.ID)) == 1 })
	if got := groupTexts(t, carol, g.ID); got[0] != "with carol" {
		t.Fatalf("carol holds %q, want only the message after she joined", got)
	}

	// Admin, silence and unsilence reach members as events with JMessage's numbers.
	if err := owner.AddGroupAdmins(ctx, g.ID, "bob01"); err != nil {
		t.Fatal(err)
	}
	if ev := nextGroupEvent(t, carolEvents, wire.EventGroupAdminChanged); ev.Extra != 1 {
		t.Fatalf("admin event extra = %d, want 1", ev.Extra)
	}
	if err := bob.SilenceGroupMembers(ctx, g.ID, 10*time.Minute, "carol"); err != nil {
		t.Fatal(err)
	}
	if ev := nextGroupEvent(t, carolEvents, wire.EventGroupMemberSilence); ev.Extra != 1 {
		t.Fatalf("silence event extra = %d", ev.Extra)
	}
	carolConv, err := carol.Conversation(jmsg.ConversationGroup, jmsg.FormatID(g.ID))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := carolConv.SendText(ctx, "muted?", nil); jmsg.CodeOf(err) != jmsg.TcpUserBannedSendMessage {
		t.Fatalf("muted send = %v, want 803012", err)
	}
	if err := bob.UnsilenceGroupMembers(ctx, g.ID, "carol"); err != nil {
		t.Fatal(err)
	}
	nextGroupEvent(t, carolEvents, wire.EventGroupMemberSilence)
	if _, err := carolConv.SendText(ctx, "free again", nil); err != nil {
		t.Fatalf("unmuted send = %v", err)
	}

	// An ordinary member cannot remove others or dissolve.
	if err := carol.RemoveGroupMembers(ctx, g.ID, "bob01"); jmsg.CodeOf(err) != jmsg.ServerRequestUserNoPermission {
		t.Fatalf("ordinary member removes = %v, want 800020", err)
	}
	if err := carol.DissolveGroup(ctx, g.ID); jmsg.CodeOf(err) != jmsg.ServerRequestUserNoPermission {
		t.Fatalf("ordinary member dissolves = %v, want 800020", err)
	}

	// Removed: carol gets the event, then nothing more, and cannot send.
	if err := bob.RemoveGroupMembers(ctx, g.ID, "carol"); err != nil {
		t.Fatal(err)
	}
	nextGroupEvent(t, carolEvents, wire.EventGroupMembersRemoved)
	if _, err := conv.SendText(ctx, "after carol", nil); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "bob to receive", 20*time.Second, func() bool {
		got := groupTexts(t, bob, g.ID)
		return len(got) > 0 && got[len(got)-1] == "after carol"
	})
	if got := groupTexts(t, carol, g.ID); len(got) != 2 || got[1] != "free again" {
		t.Fatalf("removed carol holds %q", got)
	}
	if _, err := carolConv.SendText(ctx, "let me back", nil); jmsg.CodeOf(err) != jmsg.SDKMessageNotInGroup {
		t.Fatalf("removed member's send = %v, want 865004", err)
	}

	// Ownership passes to bob; then bob dissolves the group.
	if err := owner.TransferGroupOwner(ctx, g.ID, "bob01"); err != nil {
		t.Fatal(err)
	}
	if ev := nextGroupEvent(t, bobEvents, wire.EventGroupOwnerChanged); ev.NewOwner != "bob01" {
		t.Fatalf("owner event = %+v", ev.EventContent)
	}
	if err := bob.DissolveGroup(ctx, g.ID); err != nil {
		t.Fatal(err)
	}
	if ev := nextGroupEvent(t, bobEvents, wire.EventGroupMemberExit); ev.Extra != wire.ExtraDissolved {
		t.Fatalf("dissolve event extra = %d", ev.Extra)
	}
	if _, err := conv.SendText(ctx, "anyone?", nil); jmsg.CodeOf(err) != jmsg.SDKMessageNotInGroup && jmsg.CodeOf(err) != jmsg.TcpTargetGroupNotExist {
		t.Fatalf("send to a dissolved group = %v", err)
	}
}

func TestPublicGroupApplication(t *testing.T) {
	d := startDaemon(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	owner, dan, erin := newClient(t, d, ""), newClient(t, d, ""), newClient(t, d, "")
	registerAndLogin(t, owner, "owner")
	registerAndLogin(t, dan, "dan01")
	registerAndLogin(t, erin, "erin1")
	ownerEvents, erinEvents := collect(t, owner), collect(t, erin)
	g, err := owner.CreateGroup(ctx, client.GroupOptions{Name: "open house", Public: true})
	if err != nil {
		t.Fatal(err)
	}
	list, total, err := dan.PublicGroups(ctx, 0, 10)
	if err != nil || total != 1 || len(list) != 1 || list[0].ID != g.ID {
		t.Fatalf("PublicGroups = %v, %d, %v", list, total, err)
	}
	id, err := dan.ApplyJoinGroup(ctx, g.ID, "let me in")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := dan.ApplyJoinGroup(ctx, g.ID, "again"); jmsg.CodeOf(err) != jmsg.TcpGroupApplyRepeat {
		t.Fatalf("second application = %v, want 856003", err)
	}
	ev := nextGroupEvent(t, ownerEvents, wire.EventGroupJoinApplied)
	if ev.EventID != id || ev.Description != "let me in" || ev.From != "dan01" {
		t.Fatalf("application event = %+v", ev.EventContent)
	}
	if err := owner.ProcessApplication(ctx, id, true, ""); err != nil {
		t.Fatal(err)
	}
	if err := owner.ProcessApplication(ctx, id, true, ""); jmsg.CodeOf(err) != jmsg.ServerRequestAlreadyProcessed {
		t.Fatalf("processing twice = %v, want 856001", err)
	}
	members, err := dan.GroupMembers(ctx, g.ID)
	if err != nil || len(members) != 2 || members[0].Role != client.RoleOwner || members[1].Username != "dan01" {
		t.Fatalf("members after approval = %+v, %v", members, err)
	}
	// A rejected applicant hears of it.
	id2, err := erin.ApplyJoinGroup(ctx, g.ID, "me too")
	if err != nil {
		t.Fatal(err)
	}
	if err := owner.ProcessApplication(ctx, id2, false, "full"); err != nil {
		t.Fatal(err)
	}
	if ev := nextGroupEvent(t, erinEvents, wire.EventGroupJoinRejected); ev.Description != "full" || ev.GID != g.ID {
		t.Fatalf("rejection event = %+v", ev.EventContent)
	}
}
