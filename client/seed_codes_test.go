package client_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
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
	// A pair reaching jmsgd through a proxy that can break media traffic,
	// made by the first subtest that needs it.
	var mp *mediaPair
	media := func() *mediaPair {
		if mp == nil {
			mp = newMediaPair(t, d, "amedia", "bmedia", client.Config{})
		}
		return mp
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
	t.Run("860015", func(t *testing.T) {
		// The network drops every media download.
		mp := media()
		path, _ := writeRandom(t, t.TempDir(), "notes.txt", 2000)
		sent, err := mp.conv.SendFile(ctx, path, "")
		if err != nil {
			t.Fatal(err)
		}
		got := mp.received(t, sent)
		mp.px.setFault(func(r *http.Request) fault { return fault{refuse: r.Method == http.MethodGet} })
		defer mp.px.setFault(nil)
		_, err = mp.bob.DownloadMedia(ctx, got, client.DownloadOptions{})
		wantCode(t, "DownloadMedia(connection dropped)", err, jmsg.SDKNetworkDownloadFailed)
	})
	t.Run("860018", func(t *testing.T) {
		// The network drops every upload.
		mp := media()
		mp.px.setFault(func(r *http.Request) fault { return fault{refuse: r.Method == http.MethodPost} })
		defer mp.px.setFault(nil)
		path, _ := writeRandom(t, t.TempDir(), "notes.txt", 2000)
		m, err := mp.conv.SendFile(ctx, path, "")
		wantCode(t, "SendFile(upload connection dropped)", err, jmsg.SDKNetworkUploadFailed)
		if m.Status != jmsg.StatusSendUploadFailed || m.ErrorCode != jmsg.SDKNetworkUploadFailed {
			t.Fatalf("status %v code %d, want SendUploadFailed, 860018", m.Status, m.ErrorCode)
		}
		res := waitEvent(t, mp.alice, "SendResult", func(e client.SendResult) bool { return e.Message.ID == m.ID })
		wantCode(t, "SendResult.Err", res.Err, jmsg.SDKNetworkUploadFailed)
		// A failed upload can be sent again.
		mp.px.setFault(nil)
		if m, err = mp.alice.Send(ctx, m); err != nil || m.Status != jmsg.StatusSendSucceed {
			t.Fatalf("Send again = %v, %v; want it sent", m, err)
		}
	})
	t.Run("860020", func(t *testing.T) {
		// A server that gives no upload token: one without media storage
		// refuses, one answers without a token. jmsgd always has media
		// storage, so a scripted server plays it.
		for _, refuse := range []bool{true, false} {
			fake, _ := scriptedServer(t, func(op string, _ json.RawMessage) (any, int) {
				switch op {
				case wire.OpLogin:
					return wire.LoginResp{User: jmsg.UserInfo{Username: "frank"}}, 0
				case wire.OpUserInfo:
					return wire.UserInfoResp{Users: []jmsg.UserInfo{{Username: "bob01"}}}, 0
				case wire.OpGetUploadToken:
					if refuse {
						return nil, jmsg.TcpServerInternalError
					}
				}
				return struct{}{}, 0
			})
			c := newClientVia(t, d, fake, client.Config{})
			if err := c.Login(ctx, "frank", "password"); err != nil {
				t.Fatal(err)
			}
			cv, err := c.CreateSingleConversation(ctx, "bob01")
			if err != nil {
				t.Fatal(err)
			}
			path, _ := writePNG(t, t.TempDir(), 20, 20)
			m, err := cv.SendImage(ctx, path)
			wantCode(t, "SendImage(no upload token)", err, jmsg.SDKNetworkUploadTokenGetFailed)
			if m.Status != jmsg.StatusSendUploadFailed {
				t.Fatalf("status %v, want SendUploadFailed", m.Status)
			}
		}
	})
	t.Run("864001", func(t *testing.T) {
		text, err := conv.SendText(ctx, "no media here", nil)
		if err != nil {
			t.Fatal(err)
		}
		_, err = alice.DownloadMedia(ctx, text, client.DownloadOptions{})
		wantCode(t, "DownloadMedia(text)", err, jmsg.SDKNotMediaMessage)
		loc, err := conv.SendLocation(ctx, 1, 2, 3, "here")
		if err != nil {
			t.Fatal(err)
		}
		_, err = alice.DownloadMedia(ctx, loc, client.DownloadOptions{})
		wantCode(t, "DownloadMedia(location)", err, jmsg.SDKNotMediaMessage)
		mp := media()
		path, _ := writeRandom(t, t.TempDir(), "a.mp3", 500)
		voice, err := mp.conv.SendVoice(ctx, path, 2)
		if err != nil {
			t.Fatal(err)
		}
		_, err = mp.alice.DownloadMedia(ctx, voice, client.DownloadOptions{Thumb: true})
		wantCode(t, "DownloadMedia(voice thumbnail)", err, jmsg.SDKNotMediaMessage)
	})
	t.Run("864002", func(t *testing.T) {
		dir := t.TempDir()
		missing := filepath.Join(dir, "gone.png")
		_, err := conv.SendFile(ctx, missing, "x")
		wantCode(t, "SendFile(missing file)", err, jmsg.SDKMediaResourceMissing)
		_, err = client.NewImageContent(missing)
		wantCode(t, "NewImageContent(missing file)", err, jmsg.SDKMediaResourceMissing)
		video, _ := writeRandom(t, dir, "v.mp4", 100)
		_, err = client.NewVideoContent(video, missing, 3)
		wantCode(t, "NewVideoContent(missing thumbnail)", err, jmsg.SDKMediaResourceMissing)

		// The SDK's own copy deleted before the upload (an app clearing
		// the data directory): the upload fails.
		mp := media()
		path, _ := writePNG(t, dir, 30, 30)
		content, _ := client.NewImageContent(path)
		draft, err := mp.conv.CreateMessage(content)
		if err != nil {
			t.Fatal(err)
		}
		os.Remove(draft.Content.(*client.ImageContent).Path)
		m, err := mp.alice.Send(ctx, draft)
		wantCode(t, "Send(the SDK's copy deleted)", err, jmsg.SDKMediaResourceMissing)
		if m.Status != jmsg.StatusSendUploadFailed {
			t.Fatalf("status %v, want SendUploadFailed", m.Status)
		}

		// Media that is not local: not downloaded, or deleted.
		file, _ := writeRandom(t, dir, "f.bin", 100)
		sent, err := mp.conv.SendFile(ctx, file, "")
		if err != nil {
			t.Fatal(err)
		}
		got := mp.received(t, sent)
		_, err = got.Content.(*client.FileContent).Open()
		wantCode(t, "Open(received, not downloaded)", err, jmsg.SDKMediaResourceMissing)
		os.Remove(sent.Content.(*client.FileContent).Path)
		_, err = sent.Content.(*client.FileContent).Open()
		wantCode(t, "Open(sent, deleted)", err, jmsg.SDKMediaResourceMissing)
	})
	t.Run("864003", func(t *testing.T) {
		// Image messages whose stored CRC-32 is missing or not a 32-bit
		// value. jmsgd refuses such bodies, so a scripted server delivers
		// them, as a server that checks nothing would.
		fake, push := scriptedServer(t, func(op string, _ json.RawMessage) (any, int) {
			if op == wire.OpLogin {
				return wire.LoginResp{User: jmsg.UserInfo{Username: "frank"}}, 0
			}
			return struct{}{}, 0
		})
		c := newClientVia(t, d, fake, client.Config{})
		if err := c.Login(ctx, "frank", "password"); err != nil {
			t.Fatal(err)
		}
		id := "jmsg/image/" + strings.Repeat("A", 32)
		for i, crc := range []string{``, `"media_crc32":-1,`, `"media_crc32":4294967296,`, `"media_crc32":"12",`, `"media_crc32":1.5,`} {
			body := `{"media_id":"` + id + `",` + crc + `"fsize":100,"format":"png","width":10,"height":10}`
			doc, _ := json.Marshal(jmsg.Doc{Version: 1, TargetType: "single", TargetID: "frank", FromType: "user",
				FromID: "mallory", CreateTime: 1, MsgType: "image", MsgBody: json.RawMessage(body)})
			data, _ := json.Marshal(wire.MessagePush{Message: wire.Message{MsgID: int64(i + 1), ConvID: 9, Seq: int64(i + 1),
				CTimeMs: 1000, ClientMsgID: "c" + strconv.Itoa(i), Content: doc}})
			push(wire.Frame{Op: wire.OpMessage, Data: data})
			m := waitEvent(t, c, "the pushed image", func(e client.MessageReceived) bool { return e.Message.ServerMessageID == int64(i+1) }).Message
			_, err := c.DownloadMedia(ctx, m, client.DownloadOptions{})
			wantCode(t, "DownloadMedia(body "+body+")", err, jmsg.SDKMediaCrcCodeIllegal)
		}
	})
	t.Run("864004", func(t *testing.T) {
		// The network corrupts the bytes of a download.
		mp := media()
		path, orig := writeRandom(t, t.TempDir(), "data.bin", 3000)
		sent, err := mp.conv.SendFile(ctx, path, "")
		if err != nil {
			t.Fatal(err)
		}
		got := mp.received(t, sent)
		mp.px.setFault(func(r *http.Request) fault { return fault{corrupt: r.Method == http.MethodGet} })
		_, err = mp.bob.DownloadMedia(ctx, got, client.DownloadOptions{})
		mp.px.setFault(nil)
		wantCode(t, "DownloadMedia(corrupted bytes)", err, jmsg.SDKMediaCrcVerifyFailed)
		id := got.Content.(*client.FileContent).MediaID
		files, _ := filepath.Glob(filepath.Join(filepath.Dir(mp.bob.DatabasePath("bmedia")), "media", "file", filepath.Base(id)+"*"))
		if len(files) != 0 {
			t.Fatalf("files left after a failed check: %q", files)
		}
		dl, err := mp.bob.DownloadMedia(ctx, got, client.DownloadOptions{})
		if err != nil || string(readFile(t, dl)) != string(orig) {
			t.Fatalf("DownloadMedia again = %q, %v", dl, err)
		}
	})
	t.Run("864005", func(t *testing.T) {
		dir := t.TempDir()
		empty := writeFile(t, dir, "empty.png", nil)
		_, err := conv.SendImage(ctx, empty)
		wantCode(t, "SendImage(empty file)", err, jmsg.SDKMediaUploadEmptyFile)
		_, err = client.NewVoiceContent(empty, 3)
		wantCode(t, "NewVoiceContent(empty file)", err, jmsg.SDKMediaUploadEmptyFile)
		video, _ := writeRandom(t, dir, "v.mp4", 100)
		_, err = client.NewVideoContent(video, empty, 3)
		wantCode(t, "NewVideoContent(empty thumbnail)", err, jmsg.SDKMediaUploadEmptyFile)
		// Emptied after the content was made: CreateMessage checks again.
		full, _ := writeRandom(t, dir, "f.bin", 10)
		content, err := client.NewFileContent(full, "")
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(full, nil, 0o600)
		_, err = conv.CreateMessage(content)
		wantCode(t, "CreateMessage(file emptied)", err, jmsg.SDKMediaUploadEmptyFile)
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
