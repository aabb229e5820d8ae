package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"mime/multipart"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/jmsg-im/jmsg"
	"github.com/jmsg-im/jmsg/client"
)

// The REST API and the SDK are two doors to one server: what one does,
// the other sees.

// restCall makes a REST call with the daemon's app credentials and
// returns the status and the body.
func restCall(t testing.TB, d *daemon, method, path string, body any) (int, []byte) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, d.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth(d.AppKey, d.Secret)
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, out
}

// mustREST is restCall that fails the test unless the status is want.
func mustREST(t testing.TB, d *daemon, method, path string, body any, want int) []byte {
	t.Helper()
	status, out := restCall(t, d, method, path, body)
	if status != want {
		t.Fatalf("%s %s = %d %s, want %d", method, path, status, out, want)
	}
	return out
}

func testCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func TestRESTUsersLogInWithTheSDK(t *testing.T) {
	d := startDaemon(t)
	ctx := testCtx(t)
	mustREST(t, d, "POST", "/v1/users/", []map[string]any{
		{"username": "alice", "password": "pass-alice", "nickname": "Alice"},
		{"username": "bobby", "password": "pass-bobby"},
	}, http.StatusCreated)
	alice := newClient(t, d, "")
	if err := alice.Login(ctx, "alice", "pass-alice"); err != nil {
		t.Fatalf("SDK login of a REST-registered user = %v", err)
	}
	if me := alice.MyInfo(); me == nil || me.Nickname != "Alice" {
		t.Fatalf("MyInfo() = %+v, want nickname Alice", me)
	}
	// A profile changed over REST is what the SDK reads.
	mustREST(t, d, "PUT", "/v1/users/bobby", map[string]any{"nickname": "Bob", "signature": "hi"}, http.StatusNoContent)
	infos, err := alice.UserInfo(ctx, "bobby")
	if err != nil || len(infos) != 1 || infos[0].Nickname != "Bob" || infos[0].Signature != "hi" {
		t.Fatalf("UserInfo(bobby) = %+v, %v", infos, err)
	}
	// And a user registered by the SDK is there for REST.
	carol := newClient(t, d, "")
	registerAndLogin(t, carol, "carol")
	var got map[string]any
	json.Unmarshal(mustREST(t, d, "GET", "/v1/users/carol", nil, http.StatusOK), &got)
	if got["username"] != "carol" {
		t.Fatalf("GET /v1/users/carol = %v", got)
	}
	var stat []map[string]any
	json.Unmarshal(mustREST(t, d, "POST", "/v1/users/userstat", []string{"carol"}, http.StatusOK), &stat)
	devs, _ := stat[0]["devices"].([]any)
	if len(devs) != 1 || devs[0].(map[string]any)["online"] != true {
		t.Fatalf("userstat of online carol = %v", stat)
	}
}

func TestRESTMessagesReachSDKClientsOnlineAndOffline(t *testing.T) {
	d := startDaemon(t)
	ctx := testCtx(t)
	mustREST(t, d, "POST", "/v1/admins/", map[string]any{"username": "ops01", "password": "pass-ops01"}, http.StatusCreated)
	alice, bobby := newClient(t, d, ""), newClient(t, d, "")
	registerAndLogin(t, alice, "alice")
	registerAndLogin(t, bobby, "bobby")
	if err := bobby.Logout(ctx); err != nil {
		t.Fatal(err)
	}
	events := collect(t, alice)
	send := func(target string, text string) int64 {
		t.Helper()
		var out struct {
			MsgID    int64 `json:"msg_id"`
			MsgCTime int64 `json:"msg_ctime"`
		}
		json.Unmarshal(mustREST(t, d, "POST", "/v1/messages", map[string]any{
			"version": 1, "target_type": "single", "target_id": target, "from_type": "admin", "from_id": "ops01",
			"msg_type": "text", "msg_body": map[string]any{"text": text},
		}, http.StatusCreated), &out)
		if out.MsgID <= 0 || out.MsgCTime <= 0 {
			t.Fatalf("send reply %+v", out)
		}
		return out.MsgID
	}
	id := send("alice", "hello online")
	got := next[client.MessageReceived](t, events, 20*time.Second)
	if got.Message.Text() != "hello online" || got.Message.From != "ops01" || got.Message.ServerMessageID != id {
		t.Fatalf("alice received %+v", got.Message)
	}
	send("bobby", "hello offline")
	bobEvents := collect(t, bobby)
	if err := bobby.Login(ctx, "bobby", "secret-bobby"); err != nil {
		t.Fatal(err)
	}
	off := next[client.OfflineMessages](t, bobEvents, 20*time.Second)
	if len(off.Messages) != 1 || off.Messages[0].Text() != "hello offline" {
		t.Fatalf("bobby's offline messages %+v", off.Messages)
	}
	// A user who is not an admin cannot send through REST.
	if status, out := restCall(t, d, "POST", "/v1/messages", map[string]any{
		"version": 1, "target_type": "single", "target_id": "bobby", "from_type": "admin", "from_id": "alice",
		"msg_type": "text", "msg_body": map[string]any{"text": "x"},
	}); status != http.StatusForbidden || !bytes.Contains(out, []byte("899016")) {
		t.Fatalf("send from a non-admin = %d %s", status, out)
	}
}

func TestRESTAndSDKGroupsAreOneAndTheSame(t *testing.T) {
	d := startDaemon(t)
	ctx := testCtx(t)
	alice, bobby := newClient(t, d, ""), newClient(t, d, "")
	registerAndLogin(t, alice, "alice")
	registerAndLogin(t, bobby, "bobby")
	carol := newClient(t, d, "")
	registerAndLogin(t, carol, "carol")

	// SDK → REST.
	g, err := alice.CreateGroup(ctx, client.GroupOptions{Name: "from sdk", Members: []string{"bobby"}})
	if err != nil {
		t.Fatal(err)
	}
	var info map[string]any
	json.Unmarshal(mustREST(t, d, "GET", "/v1/groups/"+strconv.FormatInt(g.ID, 10), nil, http.StatusOK), &info)
	if info["name"] != "from sdk" || info["owner_username"] != "alice" {
		t.Fatalf("GET group made by the SDK = %v", info)
	}
	var members []map[string]any
	json.Unmarshal(mustREST(t, d, "GET", "/v1/groups/"+strconv.FormatInt(g.ID, 10)+"/members/", nil, http.StatusOK), &members)
	if len(members) != 2 || members[0]["username"] != "alice" || members[0]["flag"] != float64(1) || members[1]["username"] != "bobby" {
		t.Fatalf("members over REST = %v", members)
	}

	// REST → SDK: carol is told she was added, and sees the group.
	carolEvents := collect(t, carol)
	var created map[string]any
	json.Unmarshal(mustREST(t, d, "POST", "/v1/groups/", map[string]any{
		"owner_username": "bobby", "name": "from rest", "members_username": []string{"carol"},
	}, http.StatusCreated), &created)
	gid := int64(created["gid"].(float64))
	ev := next[client.GroupEvent](t, carolEvents, 20*time.Second)
	if ev.GID != gid {
		t.Fatalf("carol's group event %+v, want gid %d", ev.EventContent, gid)
	}
	mine, err := carol.MyGroups(ctx)
	if err != nil || len(mine) != 1 || mine[0].ID != gid || mine[0].Name != "from rest" {
		t.Fatalf("carol's groups = %+v, %v", mine, err)
	}
	// A member added over REST can talk in the group at once.
	mustREST(t, d, "POST", "/v2/groups/"+strconv.FormatInt(g.ID, 10)+"/addMembers", []string{"carol"}, http.StatusNoContent)
	conv, err := carol.CreateGroupConversation(ctx, g.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conv.SendText(ctx, "hi all", nil); err != nil {
		t.Fatalf("carol sends in a group she joined over REST: %v", err)
	}
	waitFor(t, "alice to get carol's message", 20*time.Second, func() bool {
		texts := groupTexts(t, alice, g.ID)
		return len(texts) > 0 && texts[len(texts)-1] == "hi all"
	})
}

func TestRESTForbiddenUserCannotLogIn(t *testing.T) {
	d := startDaemon(t)
	ctx := testCtx(t)
	alice := newClient(t, d, "")
	registerAndLogin(t, alice, "alice")
	events := collect(t, alice)
	mustREST(t, d, "PUT", "/v1/users/alice/forbidden?disable=true", nil, http.StatusNoContent)
	if ch := next[client.LoginStateChanged](t, events, 20*time.Second); ch.Reason != client.LoginKicked {
		t.Fatalf("the online session of a disabled user: %+v", ch)
	}
	again := newClient(t, d, "")
	err := again.Login(ctx, "alice", "secret-alice")
	var je *jmsg.Error
	if !errors.As(err, &je) || je.Code != jmsg.TcpUserDisabled {
		t.Fatalf("login of a disabled user = %v, want 801006", err)
	}
	mustREST(t, d, "PUT", "/v1/users/alice/forbidden?disable=false", nil, http.StatusNoContent)
	if err := again.Login(ctx, "alice", "secret-alice"); err != nil {
		t.Fatalf("login after enabling = %v", err)
	}
}

func TestRESTPasswordChangeEndsSessions(t *testing.T) {
	d := startDaemon(t)
	ctx := testCtx(t)
	alice := newClient(t, d, "")
	registerAndLogin(t, alice, "alice")
	events := collect(t, alice)
	mustREST(t, d, "PUT", "/v1/users/alice/password", map[string]any{"new_password": "brand-new"}, http.StatusNoContent)
	if ch := next[client.LoginStateChanged](t, events, 20*time.Second); ch.Reason != client.ServerAlterPassword {
		t.Fatalf("the online session after a password change: %+v", ch)
	}
	again := newClient(t, d, "")
	if err := again.Login(ctx, "alice", "secret-alice"); jmsg.CodeOf(err) != jmsg.TcpUserPasswordError {
		t.Fatalf("login with the old password = %v", err)
	}
	if err := again.Login(ctx, "alice", "brand-new"); err != nil {
		t.Fatalf("login with the new password = %v", err)
	}
}

func TestRESTBlacklistRefusesTheSDKSender(t *testing.T) {
	d := startDaemon(t)
	ctx := testCtx(t)
	alice, bobby := newClient(t, d, ""), newClient(t, d, "")
	registerAndLogin(t, alice, "alice")
	registerAndLogin(t, bobby, "bobby")
	toAlice, err := bobby.CreateSingleConversation(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := toAlice.SendText(ctx, "before", nil); err != nil {
		t.Fatal(err)
	}
	mustREST(t, d, "PUT", "/v1/users/alice/blacklist", []string{"bobby"}, http.StatusNoContent)
	_, err = toAlice.SendText(ctx, "after", nil)
	if jmsg.CodeOf(err) != jmsg.TcpUserInBlacklist {
		t.Fatalf("bobby's send to alice, who blacklisted him = %v, want 803008", err)
	}
	// Alice can still write to bobby, and a group is unaffected.
	toBobby, err := alice.CreateSingleConversation(ctx, "bobby")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := toBobby.SendText(ctx, "hi", nil); err != nil {
		t.Fatalf("alice's send to bobby = %v", err)
	}
	g, err := alice.CreateGroup(ctx, client.GroupOptions{Name: "both", Members: []string{"bobby"}})
	if err != nil {
		t.Fatal(err)
	}
	gconv, err := bobby.CreateGroupConversation(ctx, g.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := gconv.SendText(ctx, "group", nil); err != nil {
		t.Fatalf("bobby's group message = %v", err)
	}
	var listed []map[string]any
	json.Unmarshal(mustREST(t, d, "GET", "/v1/users/alice/blacklist", nil, http.StatusOK), &listed)
	if len(listed) != 1 || listed[0]["username"] != "bobby" {
		t.Fatalf("alice's blacklist over REST = %v", listed)
	}
	mustREST(t, d, "DELETE", "/v1/users/alice/blacklist", []string{"bobby"}, http.StatusNoContent)
	if _, err := toAlice.SendText(ctx, "again", nil); err != nil {
		t.Fatalf("bobby's send after the blacklist entry went = %v", err)
	}
}

// A REST upload above the REST API's 4 MiB body cap but within jmsgd's
// default media limit (8 MiB) is stored; one over 8 MiB gets 413 898061.
func TestRESTUploadUpToTheMediaLimit(t *testing.T) {
	d := startDaemon(t)
	upload := func(size int) (int, []byte) {
		var body bytes.Buffer
		mw := multipart.NewWriter(&body)
		fw, _ := mw.CreateFormFile("filename", "big.bin")
		fw.Write(bytes.Repeat([]byte{7}, size))
		mw.Close()
		req, _ := http.NewRequest("POST", d.URL+"/v1/resource?type=file", &body)
		req.SetBasicAuth(d.AppKey, d.Secret)
		req.Header.Set("Content-Type", mw.FormDataContentType())
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}
	if status, b := upload(5 << 20); status != http.StatusOK || !bytes.Contains(b, []byte(`"fsize":5242880`)) {
		t.Fatalf("5 MiB upload = %d %s", status, b)
	}
	if status, b := upload(8<<20 + 1); status != http.StatusRequestEntityTooLarge || !bytes.Contains(b, []byte("898061")) {
		t.Fatalf("upload over 8 MiB = %d %s", status, b)
	}
}

// Friends and no-disturb have no client API yet; a change made over REST
// reaches the SDK as SettingsChanged, to both users of a friendship.
func TestRESTSettingsReachTheSDK(t *testing.T) {
	d := startDaemon(t)
	alice, bobby := newClient(t, d, ""), newClient(t, d, "")
	registerAndLogin(t, alice, "alice")
	registerAndLogin(t, bobby, "bobby")
	aliceEvents, bobbyEvents := collect(t, alice), collect(t, bobby)
	mustREST(t, d, "POST", "/v1/users/alice/friends", []string{"bobby"}, http.StatusCreated)
	if e := next[client.SettingsChanged](t, aliceEvents, 20*time.Second); e.EventType != 7 {
		t.Fatalf("alice: %+v, want event 7", e)
	}
	if e := next[client.SettingsChanged](t, bobbyEvents, 20*time.Second); e.EventType != 7 || e.From != "alice" {
		t.Fatalf("bobby: %+v, want event 7 from alice", e)
	}
	var friends []map[string]any
	json.Unmarshal(mustREST(t, d, "GET", "/v1/users/bobby/friends", nil, http.StatusOK), &friends)
	if len(friends) != 1 || friends[0]["username"] != "alice" {
		t.Fatalf("bobby's friends = %v", friends)
	}
	mustREST(t, d, "POST", "/v1/users/alice/nodisturb", map[string]any{"global": 1}, http.StatusNoContent)
	if e := next[client.SettingsChanged](t, aliceEvents, 20*time.Second); e.EventType != 37 {
		t.Fatalf("alice after no-disturb: %+v, want event 37", e)
	}
	mustREST(t, d, "PUT", "/v1/users/alice/blacklist", []string{"bobby"}, http.StatusNoContent)
	if e := next[client.SettingsChanged](t, aliceEvents, 20*time.Second); e.EventType != 38 {
		t.Fatalf("alice after blacklisting: %+v, want event 38", e)
	}
}
