package client_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/jmsg-im/jmsg"
	"github.com/jmsg-im/jmsg/client"
	"github.com/jmsg-im/jmsg/internal/jmsgdtest"
	"github.com/jmsg-im/jmsg/wire"
)

// TestSeedErrorCodes reaches each seed code of the iOS SDK's table through
// the public SDK API and checks code and message.
func TestSeedErrorCodes(t *testing.T) {
	d := jmsgdtest.Start(t)
	ctx := testCtx(t)

	// A logged-in pair for the subtests that need a session.
	alice := newClient(t, d)
	registerAndLogin(t, alice, "alice")
	bob := newClient(t, d)
	registerAndLogin(t, bob, "bob01")
	conv, err := alice.CreateSingleConversation(ctx, "bob01")
	if err != nil {
		t.Fatal(err)
	}

	t.Run("861100", func(t *testing.T) {
		for _, key := range []string{"", "short", strings.Repeat("a", 23) + "!", strings.Repeat("a", 25)} {
			_, err := client.New(client.Config{AppKey: key, ServerURL: d.URL, DataDir: t.TempDir()})
			wantCode(t, "New(AppKey "+key+")", err, jmsg.SDKParamAppkeyInvalid)
		}
	})
	t.Run("861101", func(t *testing.T) {
		_, err := conv.Messages(-1, 10)
		wantCode(t, "Messages(-1, 10)", err, jmsg.SDKParamInternalInvalid)
		_, err = conv.Messages(0, -5)
		wantCode(t, "Messages(0, -5)", err, jmsg.SDKParamInternalInvalid)
		//lint:ignore SA1012 a nil context is the condition under test
		err = alice.Register(nil, "carol", "password", nil) //nolint:staticcheck
		wantCode(t, "Register(nil ctx)", err, jmsg.SDKParamInternalInvalid)
	})
	t.Run("863001", func(t *testing.T) {
		c := newClient(t, d)
		for _, u := range []string{"", "abc", "_alice", "al ice", "ali\u00e7e", strings.Repeat("x", 129)} {
			wantCode(t, "Register("+u+")", c.Register(ctx, u, "password", nil), jmsg.SDKParamUsernameInvalid)
			wantCode(t, "Login("+u+")", c.Login(ctx, u, "password"), jmsg.SDKParamUsernameInvalid)
		}
	})
	t.Run("863002", func(t *testing.T) {
		c := newClient(t, d)
		for _, p := range []string{"", "abc", strings.Repeat("p", 129)} {
			wantCode(t, "Register(password len "+string(rune('0'+len(p)%10))+")", c.Register(ctx, "carol", p, nil), jmsg.SDKParamPasswordInvalid)
			wantCode(t, "Login(bad password)", c.Login(ctx, "carol", p), jmsg.SDKParamPasswordInvalid)
		}
		wantCode(t, "UpdatePassword(new too short)", alice.UpdatePassword(ctx, "pw-alice", "abc"), jmsg.SDKParamPasswordInvalid)
	})
	t.Run("863004", func(t *testing.T) {
		c := newClient(t, d)
		_, err := c.CreateSingleConversation(ctx, "alice")
		wantCode(t, "CreateSingleConversation logged out", err, jmsg.SDKUserNotLogin)
		_, err = c.Conversations()
		wantCode(t, "Conversations logged out", err, jmsg.SDKUserNotLogin)
		wantCode(t, "Logout logged out", c.Logout(ctx), jmsg.SDKUserNotLogin)
		// After a logout, a conversation obtained before stops working.
		registerAndLogin(t, c, "dave1")
		cv, err := c.CreateSingleConversation(ctx, "alice")
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Logout(ctx); err != nil {
			t.Fatal(err)
		}
		_, err = cv.SendText(ctx, "hi", nil)
		wantCode(t, "SendText after logout", err, jmsg.SDKUserNotLogin)
	})
	t.Run("863006", func(t *testing.T) {
		wantCode(t, "Login while logged in", alice.Login(ctx, "alice", "pw-alice"), jmsg.SDKUserInvalidState)
	})
	t.Run("865001", func(t *testing.T) {
		_, err := conv.SendText(ctx, "", nil)
		wantCode(t, "SendText(empty)", err, jmsg.SDKParamContentInvalid)
		_, err = conv.CreateMessage(&client.CustomContent{JSON: json.RawMessage(`[1,2]`)})
		wantCode(t, "CreateMessage(custom array)", err, jmsg.SDKParamContentInvalid)
		_, err = conv.CreateMessage(&client.CustomContent{JSON: json.RawMessage(`{"broken"`)})
		wantCode(t, "CreateMessage(custom broken JSON)", err, jmsg.SDKParamContentInvalid)
		_, err = conv.SendCustom(ctx, nil)
		wantCode(t, "SendCustom(nil)", err, jmsg.SDKParamContentInvalid)
		_, err = conv.SendText(ctx, string([]byte{0xff, 0xfe}), nil)
		wantCode(t, "SendText(invalid UTF-8)", err, jmsg.SDKParamContentInvalid)
	})
	t.Run("865002", func(t *testing.T) {
		_, err := alice.Send(ctx, nil)
		wantCode(t, "Send(nil)", err, jmsg.SDKParamMessageNil)
	})
	t.Run("865003", func(t *testing.T) {
		sent, err := conv.SendText(ctx, "once", nil)
		if err != nil {
			t.Fatal(err)
		}
		_, err = alice.Send(ctx, sent)
		wantCode(t, "Send(already sent)", err, jmsg.SDKMessageNotPrepared)
		bobConv, err := bob.CreateSingleConversation(ctx, "alice")
		if err != nil {
			t.Fatal(err)
		}
		var received *client.Message
		jmsgdtest.WaitFor(t, "bob to receive", 20*time.Second, func() bool {
			ms, _ := bobConv.Messages(0, 1)
			if len(ms) == 1 && ms[0].ServerMessageID == sent.ServerMessageID {
				received = ms[0]
			}
			return received != nil
		})
		_, err = bob.Send(ctx, received)
		wantCode(t, "Send(received message)", err, jmsg.SDKMessageNotPrepared)
	})
	t.Run("866001", func(t *testing.T) {
		for _, typ := range []jmsg.ConversationType{0, 4, -1} {
			_, err := alice.Conversation(typ, "bob01")
			wantCode(t, "Conversation(unknown type)", err, jmsg.SDKParamConversationTypeUnknown)
		}
	})
	t.Run("866002", func(t *testing.T) {
		_, err := alice.CreateSingleConversation(ctx, "")
		wantCode(t, "CreateSingleConversation(empty)", err, jmsg.SDKParamConversationUsernameInvalid)
		_, err = alice.Conversation(jmsg.ConversationSingle, "b b")
		wantCode(t, "Conversation(single, bad name)", err, jmsg.SDKParamConversationUsernameInvalid)
	})
	t.Run("866003", func(t *testing.T) {
		for _, target := range []string{"", "0", "-5", "abc", "12x", "007"} {
			_, err := alice.Conversation(jmsg.ConversationGroup, target)
			wantCode(t, "Conversation(group, "+target+")", err, jmsg.SDKParamConversationGroupIdInvalid)
		}
		_, err := alice.CreateGroupConversation(ctx, 0)
		wantCode(t, "CreateGroupConversation(0)", err, jmsg.SDKParamConversationGroupIdInvalid)
		_, err = alice.CreateGroupConversation(ctx, -3)
		wantCode(t, "CreateGroupConversation(-3)", err, jmsg.SDKParamConversationGroupIdInvalid)
	})
	t.Run("867001", func(t *testing.T) {
		for _, gid := range []int64{0, -1} {
			_, err := alice.GroupInfo(ctx, gid)
			wantCode(t, "GroupInfo(bad gid)", err, jmsg.SDKParamGroupGroupIdInvalid)
			wantCode(t, "AddGroupMembers(bad gid)", alice.AddGroupMembers(ctx, gid, "bob01"), jmsg.SDKParamGroupGroupIdInvalid)
			wantCode(t, "DissolveGroup(bad gid)", alice.DissolveGroup(ctx, gid), jmsg.SDKParamGroupGroupIdInvalid)
			_, err = alice.GroupMembers(ctx, gid)
			wantCode(t, "GroupMembers(bad gid)", err, jmsg.SDKParamGroupGroupIdInvalid)
			_, err = alice.ApplyJoinGroup(ctx, gid, "")
			wantCode(t, "ApplyJoinGroup(bad gid)", err, jmsg.SDKParamGroupGroupIdInvalid)
		}
	})
	t.Run("867002", func(t *testing.T) {
		bad := []client.GroupOptions{
			{Name: ""},
			{Name: strings.Repeat("n", 65)},
			{Name: "two\nlines"},
			{Name: "ok", Desc: strings.Repeat("d", 251)},
			{Name: "ok", MaxMemberCount: 2},
			{Name: "ok", MaxMemberCount: -1},
		}
		for _, opt := range bad {
			_, err := alice.CreateGroup(ctx, opt)
			wantCode(t, "CreateGroup(invalid fields)", err, jmsg.SDKParamGroupGroupInfoInvalid)
		}
		g, err := alice.CreateGroup(ctx, client.GroupOptions{Name: "fine"})
		if err != nil {
			t.Fatal(err)
		}
		empty, long := "", strings.Repeat("n", 65)
		_, err = alice.UpdateGroupInfo(ctx, g.ID, client.GroupUpdate{Name: &empty})
		wantCode(t, "UpdateGroupInfo(empty name)", err, jmsg.SDKParamGroupGroupInfoInvalid)
		_, err = alice.UpdateGroupInfo(ctx, g.ID, client.GroupUpdate{Name: &long})
		wantCode(t, "UpdateGroupInfo(long name)", err, jmsg.SDKParamGroupGroupInfoInvalid)
		_, err = alice.UpdateGroupInfo(ctx, g.ID, client.GroupUpdate{})
		wantCode(t, "UpdateGroupInfo(nothing)", err, jmsg.SDKParamGroupGroupInfoInvalid)
	})
	t.Run("865004", func(t *testing.T) {
		// Known locally: bob was in the group, then removed.
		g, err := alice.CreateGroup(ctx, client.GroupOptions{Name: "team", Members: []string{"bob01"}})
		if err != nil {
			t.Fatal(err)
		}
		bobConv, err := bob.CreateGroupConversation(ctx, g.ID)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := bobConv.SendText(ctx, "hi team", nil); err != nil {
			t.Fatalf("member send = %v", err)
		}
		if err := alice.RemoveGroupMembers(ctx, g.ID, "bob01"); err != nil {
			t.Fatal(err)
		}
		jmsgdtest.WaitFor(t, "bob to learn of his removal", 20*time.Second, func() bool {
			_, err := bobConv.SendText(ctx, "still here?", nil)
			return jmsg.CodeOf(err) == jmsg.SDKMessageNotInGroup
		})
		_, err = bobConv.SendText(ctx, "still here?", nil)
		wantCode(t, "SendText(removed member, known locally)", err, jmsg.SDKMessageNotInGroup)

		// Learned from the server: carol never was a member and the SDK
		// knew nothing of the group.
		carol := newClient(t, d)
		registerAndLogin(t, carol, "carol")
		carolConv, err := carol.CreateGroupConversation(ctx, g.ID)
		if err != nil {
			t.Fatal(err)
		}
		_, err = carolConv.SendText(ctx, "let me in", nil)
		wantCode(t, "SendText(never a member, server says)", err, jmsg.SDKMessageNotInGroup)
	})
	t.Run("861004", func(t *testing.T) {
		c := newClient(t, d)
		if err := c.Register(ctx, "erin1", "pw-erin1", nil); err != nil {
			t.Fatal(err)
		}
		path := c.DatabasePath("erin1")
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(strings.Repeat("this is not a database ", 400)), 0o600); err != nil {
			t.Fatal(err)
		}
		wantCode(t, "Login(corrupt local database)", c.Login(ctx, "erin1", "pw-erin1"), jmsg.SDKDBMigrateFailed)
	})
	t.Run("860021", func(t *testing.T) {
		fake := fakeServer(t, `[1,2,3]`)
		c, err := client.New(client.Config{AppKey: d.AppKey, ServerURL: fake, DataDir: t.TempDir()})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		wantCode(t, "Register(unparseable answer)", c.Register(ctx, "frank", "password", nil), jmsg.SDKNetworkResultUnexpected)
		fake = fakeServer(t, `{}`) // login answered without the user
		c2, err := client.New(client.Config{AppKey: d.AppKey, ServerURL: fake, DataDir: t.TempDir()})
		if err != nil {
			t.Fatal(err)
		}
		defer c2.Close()
		wantCode(t, "Login(answer lacks user)", c2.Login(ctx, "frank", "password"), jmsg.SDKNetworkResultUnexpected)
	})
	t.Run("869999", func(t *testing.T) {
		// The data directory runs through a regular file: an I/O failure
		// that no more specific code describes.
		file := filepath.Join(t.TempDir(), "file")
		if err := os.WriteFile(file, nil, 0o600); err != nil {
			t.Fatal(err)
		}
		c, err := client.New(client.Config{AppKey: d.AppKey, ServerURL: d.URL, DataDir: filepath.Join(file, "data")})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		wantCode(t, "Login(data dir under a file)", c.Login(ctx, "alice", "pw-alice"), jmsg.SDKUnknownError)
	})
}

// fakeServer is a WebSocket endpoint that answers every request with data
// (raw JSON) and code 0: a server whose answers the SDK cannot use, which a
// real jmsgd never produces.
func fakeServer(t *testing.T, data string) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer ws.CloseNow()
		for {
			_, b, err := ws.Read(context.Background())
			if err != nil {
				return
			}
			var f wire.Frame
			if json.Unmarshal(b, &f) != nil {
				return
			}
			resp := wire.Frame{Op: f.Op, ID: f.ID, Data: json.RawMessage(data)}
			if f.Op == wire.OpInit {
				resp.Data = json.RawMessage(`{"version":1,"server_time":1,"max_frame":16384}`)
			}
			out, _ := json.Marshal(resp)
			if ws.Write(context.Background(), websocket.MessageText, out) != nil {
				return
			}
		}
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}
