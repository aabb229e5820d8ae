package client_test

import (
	"errors"
	"io/fs"
	"os"
	"testing"

	"github.com/jmsg-im/jmsg"
	"github.com/jmsg-im/jmsg/client"
	"github.com/jmsg-im/jmsg/internal/jmsgdtest"
)

// newDevice returns a client of d's app with data in dir and the given
// platform, logged in as username (registered already).
func newDevice(t testing.TB, d *jmsgdtest.Daemon, dir, platform, username string) *client.Client {
	t.Helper()
	c, err := client.New(client.Config{AppKey: d.AppKey, ServerURL: d.URL, DataDir: dir, Platform: platform})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if err := c.Login(testCtx(t), username, "pw-"+username); err != nil {
		t.Fatalf("Login(%q) = %v", username, err)
	}
	return c
}

// receivedBy waits for c to receive the message sent as m.
func receivedBy(t testing.TB, c *client.Client, m *client.Message) *client.Message {
	t.Helper()
	return waitEvent(t, c, "the message to arrive", func(e client.MessageReceived) bool {
		return e.Message.ServerMessageID == m.ServerMessageID
	}).Message
}

// retractedOn waits for c's MessageRetracted of the message sent as m and
// checks that the event and c's local store hold the retract prompt.
func retractedOn(t testing.TB, c *client.Client, who string, m *client.Message, orig jmsg.ContentType) *client.Message {
	t.Helper()
	e := waitEvent(t, c, who+"'s MessageRetracted", func(e client.MessageRetracted) bool {
		return e.Message.ServerMessageID == m.ServerMessageID
	})
	wantPrompt(t, who+"'s MessageRetracted", e.Message, orig)
	if e.Conversation == nil || e.Conversation.Type != m.ConversationType {
		t.Fatalf("%s's MessageRetracted conversation = %+v, want a conversation of type %v", who, e.Conversation, m.ConversationType)
	}
	stored := storedMessage(t, e.Conversation, m.ServerMessageID)
	wantPrompt(t, who+"'s stored message", stored, orig)
	return stored
}

// storedMessage returns the message of cv's local store with server id
// serverID.
func storedMessage(t testing.TB, cv *client.Conversation, serverID int64) *client.Message {
	t.Helper()
	ms, err := cv.Messages(0, 100)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range ms {
		if m.ServerMessageID == serverID {
			return m
		}
	}
	t.Fatalf("no message %d in the local store", serverID)
	return nil
}

func wantPrompt(t testing.TB, what string, m *client.Message, orig jmsg.ContentType) {
	t.Helper()
	p, ok := m.Content.(*client.PromptContent)
	if !ok || p.PromptType != client.PromptRetract || p.Text != "message retracted" || p.OrigType != orig ||
		m.Content.ContentType() != jmsg.ContentPrompt {
		t.Fatalf("%s: content %#v, want the retract prompt of a %v message", what, m.Content, orig)
	}
}

func TestRetract(t *testing.T) {
	d := jmsgdtest.Start(t)

	t.Run("single", func(t *testing.T) {
		ctx := testCtx(t)
		alice := newClient(t, d)
		registerAndLogin(t, alice, "alice")
		alice2 := newDevice(t, d, t.TempDir(), "a", "alice") // alice's other device
		bob := newClient(t, d)
		registerAndLogin(t, bob, "bob01")
		conv, err := alice.CreateSingleConversation(ctx, "bob01")
		if err != nil {
			t.Fatal(err)
		}
		sent, err := conv.SendText(ctx, "oops", nil)
		if err != nil {
			t.Fatal(err)
		}
		receivedBy(t, bob, sent)
		receivedBy(t, alice2, sent)

		if err := alice.RetractMessage(ctx, sent); err != nil {
			t.Fatalf("RetractMessage(own text) = %v", err)
		}
		retractedOn(t, alice, "alice", sent, jmsg.ContentText)
		retractedOn(t, alice2, "alice's other device", sent, jmsg.ContentText)
		got := retractedOn(t, bob, "bob", sent, jmsg.ContentText)
		if got.Status != jmsg.StatusReceiveSucceed || !got.Received || got.From != "alice" {
			t.Fatalf("bob's retracted message: status %v, received %v, from %q; want its envelope kept", got.Status, got.Received, got.From)
		}

		wantCode(t, "RetractMessage(retracted)", alice.RetractMessage(ctx, sent), jmsg.ServerMessageAlreadyRetracted)
		wantCode(t, "RetractMessage(retracted, other device)", alice2.RetractMessage(ctx, sent), jmsg.ServerMessageAlreadyRetracted)

		other, err := conv.SendText(ctx, "mine", nil)
		if err != nil {
			t.Fatal(err)
		}
		bobs := receivedBy(t, bob, other)
		wantCode(t, "RetractMessage(someone else's)", bob.RetractMessage(ctx, bobs), jmsg.ServerRetractNotSender)
		if m := storedMessage(t, conv, other.ServerMessageID); m.Text() != "mine" {
			t.Fatalf("after bob's refused retraction alice holds %#v, want the text", m.Content)
		}

		draft, err := conv.CreateMessage(&client.TextContent{Text: "not sent"})
		if err != nil {
			t.Fatal(err)
		}
		wantCode(t, "RetractMessage(draft)", alice.RetractMessage(ctx, draft), jmsg.SDKMessageStatusNotLegal)
		wantCode(t, "RetractMessage(nil)", alice.RetractMessage(ctx, nil), jmsg.SDKParamMessageNil)
	})

	t.Run("group", func(t *testing.T) {
		ctx := testCtx(t)
		owner := newClient(t, d)
		registerAndLogin(t, owner, "owner")
		carol := newClient(t, d)
		registerAndLogin(t, carol, "carol")
		g, err := owner.CreateGroup(ctx, client.GroupOptions{Name: "crew", Members: []string{"carol"}})
		if err != nil {
			t.Fatal(err)
		}
		conv, err := owner.CreateGroupConversation(ctx, g.ID)
		if err != nil {
			t.Fatal(err)
		}
		sent, err := conv.SendCustom(ctx, map[string]any{"k": "v"})
		if err != nil {
			t.Fatal(err)
		}
		receivedBy(t, carol, sent)
		if err := owner.RetractMessage(ctx, sent); err != nil {
			t.Fatalf("RetractMessage(group message) = %v", err)
		}
		retractedOn(t, owner, "owner", sent, jmsg.ContentCustom)
		retractedOn(t, carol, "carol", sent, jmsg.ContentCustom)
	})

	t.Run("media files deleted", func(t *testing.T) {
		ctx := testCtx(t)
		alice := newClient(t, d)
		registerAndLogin(t, alice, "alice03")
		bob := newClient(t, d)
		registerAndLogin(t, bob, "bob03")
		conv, err := alice.CreateSingleConversation(ctx, "bob03")
		if err != nil {
			t.Fatal(err)
		}
		path, _ := writePNG(t, t.TempDir(), 400, 300)
		sent, err := conv.SendImage(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		got := receivedBy(t, bob, sent)
		original, err := bob.DownloadMedia(ctx, got, client.DownloadOptions{})
		if err != nil {
			t.Fatalf("DownloadMedia = %v", err)
		}
		files := map[string]string{
			"alice's copy":    sent.Content.(*client.ImageContent).Path,
			"bob's thumbnail": got.Content.(*client.ImageContent).ThumbPath,
			"bob's download":  original,
		}
		for what, p := range files {
			if _, err := os.Stat(p); p == "" || err != nil {
				t.Fatalf("%s %q before the retraction: %v", what, p, err)
			}
		}

		if err := alice.RetractMessage(ctx, sent); err != nil {
			t.Fatalf("RetractMessage(image) = %v", err)
		}
		retractedOn(t, alice, "alice", sent, jmsg.ContentImage)
		retractedOn(t, bob, "bob", sent, jmsg.ContentImage)
		for what, p := range files {
			if _, err := os.Stat(p); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("%s %q after the retraction: %v, want it deleted", what, p, err)
			}
		}
		_, err = bob.DownloadMedia(ctx, got, client.DownloadOptions{Thumb: true})
		wantCode(t, "DownloadMedia(retracted)", err, jmsg.SDKNotMediaMessage)
	})

	// A device offline during the retraction gets no event 55; it re-reads
	// the messages that were still retractable when it went offline at its
	// next login (or reconnection), and finds the prompt.
	t.Run("receiver offline", func(t *testing.T) {
		ctx := testCtx(t)
		alice := newClient(t, d)
		registerAndLogin(t, alice, "alice04")
		bobDir := t.TempDir()
		bob, err := client.New(client.Config{AppKey: d.AppKey, ServerURL: d.URL, DataDir: bobDir})
		if err != nil {
			t.Fatal(err)
		}
		registerAndLogin(t, bob, "bob04")
		conv, err := alice.CreateSingleConversation(ctx, "bob04")
		if err != nil {
			t.Fatal(err)
		}
		kept, err := conv.SendText(ctx, "stays", nil)
		if err != nil {
			t.Fatal(err)
		}
		sent, err := conv.SendText(ctx, "goes", nil)
		if err != nil {
			t.Fatal(err)
		}
		receivedBy(t, bob, sent)
		bob.Close()

		if err := alice.RetractMessage(ctx, sent); err != nil {
			t.Fatalf("RetractMessage = %v", err)
		}
		retractedOn(t, alice, "alice", sent, jmsg.ContentText)

		bob = newDevice(t, d, bobDir, "", "bob04")
		retractedOn(t, bob, "bob after logging in again", sent, jmsg.ContentText)
		waitEvent(t, bob, "the sync to complete", func(client.SyncCompleted) bool { return true })
		bconv, err := bob.Conversation(jmsg.ConversationSingle, "alice04")
		if err != nil {
			t.Fatal(err)
		}
		if m := storedMessage(t, bconv, kept.ServerMessageID); m.Text() != "stays" {
			t.Fatalf("bob's message not retracted = %#v, want the text", m.Content)
		}
	})
}
