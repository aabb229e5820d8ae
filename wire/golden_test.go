package wire

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/jmsg-im/jmsg"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// TestGolden pins the encoded form of representative frames: a change here
// is a change of the protocol that every SDK sees. Run with -update to
// rewrite the files after an intended change.
func TestGolden(t *testing.T) {
	mustRaw := func(v any) json.RawMessage {
		t.Helper()
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	mustFrame := func(f *Frame, err error) *Frame {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	content := mustRaw(jmsg.Doc{
		Version: 1, TargetType: "single", TargetID: "bob", FromType: "user", FromID: "alice",
		FromPlatform: PlatformAndroid, CreateTime: 1700000000000, MsgType: "text",
		MsgBody: json.RawMessage(`{"text":"hello <b> & 你好"}`),
	})
	sendReq := &Frame{Op: OpSend, ID: 42, Data: mustRaw(SendReq{
		ClientMsgID: "c-0001",
		Content: jmsg.Doc{
			Version: 1, TargetType: "single", TargetID: "bob", CreateTime: 1700000000000,
			MsgType: "text", MsgBody: json.RawMessage(`{"text":"hello <b> & 你好"}`),
		},
	})}
	tests := []struct {
		name  string
		frame *Frame
	}{
		{"request_init", &Frame{Op: OpInit, ID: 1, Data: mustRaw(InitReq{AppKey: "4f7aef34fb361292c566a1cd", Version: Version, Platform: PlatformWeb})}},
		{"request_send", sendReq},
		{"response_login", mustFrame(Response(&Frame{Op: OpLogin, ID: 2}, LoginResp{
			User:       jmsg.UserInfo{UID: 10001, Username: "alice", Nickname: "Alice", Gender: jmsg.GenderFemale, CTime: 1690000000000, MTime: 1690000000000},
			ServerTime: 1700000000123, Token: "hHvSJBgElnVcC19QqENfAF78frshEqVUvtnA66mqPqg",
			Devices: []Device{{Platform: PlatformAndroid, Online: true, MTime: 1699999999000}, {Platform: PlatformWeb, MTime: 1699000000000, Kicked: true}},
		}))},
		{"response_send", mustFrame(Response(sendReq, SendResp{MsgID: 900001, ConvID: 31, Seq: 5, CTimeMs: 1700000000456}))},
		{"response_empty", mustFrame(Response(&Frame{Op: OpPing, ID: 3}, struct{}{}))},
		{"error_request", ErrorFrame(OpLogin, 2, jmsg.E(jmsg.TcpUserPasswordError))},
		{"error_unattributed", ErrorFrame("", 0, jmsg.Errorf(jmsg.ServerInvalidRequest, "frame is not valid UTF-8"))},
		{"push_message", mustFrame(Push(OpMessage, MessagePush{Message: Message{
			MsgID: 900001, ConvID: 31, Seq: 5, CTimeMs: 1700000000456, ClientMsgID: "c-0001", Content: content,
		}}))},
		{"request_sync", &Frame{Op: OpSync, ID: 5, Data: mustRaw(SyncReq{Since: 17, SinceConv: 31, Limit: 100})}},
		{"request_sync_first", &Frame{Op: OpSync, ID: 6, Data: mustRaw(SyncReq{})}},
		{"response_sync", mustFrame(Response(&Frame{Op: OpSync, ID: 5}, SyncResp{
			Changes: []ConvChange{
				{ConvID: 31, Type: int(jmsg.ConversationSingle), Peer: "bob", LastSeq: 5},
				{ConvID: 40, Type: int(jmsg.ConversationSingle), Peer: "carol", LastSeq: 1},
			},
			Cursor: 18, CursorConv: 40, More: true,
		}))},
		{"response_sync_done", mustFrame(Response(&Frame{Op: OpSync, ID: 6}, SyncResp{Changes: []ConvChange{}, Cursor: 18}))},
		{"request_ack", &Frame{Op: OpAck, ID: 7, Data: mustRaw(AckReq{Positions: []Position{{ConvID: 31, Seq: 5}, {ConvID: 40, Seq: 1}}})}},
		{"request_history", &Frame{Op: OpHistory, ID: 8, Data: mustRaw(HistoryReq{ConvID: 31, Before: 5, Limit: 2})}},
		{"response_history", mustFrame(Response(&Frame{Op: OpHistory, ID: 8}, HistoryResp{
			Messages: []Message{{MsgID: 900000, ConvID: 31, Seq: 4, CTimeMs: 1700000000400, ClientMsgID: "c-0000", Content: content}},
			More:     true,
		}))},
		{"request_update_password", &Frame{Op: OpUpdatePassword, ID: 9, Data: mustRaw(UpdatePasswordReq{Old: "old-secret", New: "new-secret"})}},
		{"response_update_password", mustFrame(Response(&Frame{Op: OpUpdatePassword, ID: 9}, UpdatePasswordResp{Token: "Glgze9zdoozqcXKeDnJAO-MZGPCulW-nFG_wLFxFXgo"}))},
		{"push_event_kicked", mustFrame(Push(OpEvent, EventPush{EventType: EventLoginKicked, CTimeMs: 1700000000789}))},
		{"push_event_password", mustFrame(Push(OpEvent, EventPush{
			EventType: EventServerAlterPassword, Extra: 1, CTimeMs: 1700000000790, From: "admin", Desc: "password changed",
		}))},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Encode(tc.frame)
			if err != nil {
				t.Fatalf("Encode(%s) = %v", tc.name, err)
			}
			got = append(got, '\n')
			path := filepath.Join("testdata", tc.name+".golden")
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("reading golden file (run go test -update to create it): %v", err)
			}
			if string(got) != string(want) {
				t.Errorf("Encode(%s) =\n%s\nwant (%s)\n%s", tc.name, got, path, want)
			}
			back, err := Decode(want, MaxFrameBytes)
			if err != nil {
				t.Fatalf("Decode(%s) = %v", path, err)
			}
			if !sameFrame(*back, *tc.frame) {
				t.Errorf("Decode(%s) = %s, want %s", path, frameString(*back), frameString(*tc.frame))
			}
		})
	}
}
