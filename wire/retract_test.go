package wire

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/jmsg-im/jmsg"
)

// TestRetractGolden pins the retract request, its event pushes and a
// retracted message as history returns it (run with -update to rewrite).
func TestRetractGolden(t *testing.T) {
	raw := func(v any) json.RawMessage {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	for _, tc := range []struct {
		name  string
		frame *Frame
	}{
		{"request_retract", &Frame{Op: OpRetract, ID: 12, Data: raw(RetractReq{MsgID: 900001})}},
		{"push_event_retract_single", &Frame{Op: OpEvent, Data: raw(EventPush{EventType: EventMessageRetract, CTimeMs: 1700000000500,
			From: "alice", MsgIDs: []int64{900001}, ConvID: 31, TargetType: RetractSingle, ToUsernames: []string{"bob"}})}},
		{"push_event_retract_group", &Frame{Op: OpEvent, Data: raw(EventPush{EventType: EventMessageRetract, CTimeMs: 1700000000600,
			From: "alice", GID: 10055201, MsgIDs: []int64{900002}, ConvID: 40, TargetType: RetractGroup})}},
		{"response_history_retracted", &Frame{Op: OpHistory, ID: 13, Data: raw(HistoryResp{Messages: []Message{{
			MsgID: 900001, ConvID: 31, Seq: 5, CTimeMs: 1700000000456, ClientMsgID: "c-0001", Content: raw(jmsg.Doc{
				Version: 1, TargetType: "single", TargetID: "bob", FromType: "user", FromID: "alice", FromPlatform: PlatformAndroid,
				CreateTime: 1700000000, MsgType: MsgTypePrompt,
				MsgBody: raw(RetractPromptBody{PromptType: PromptRetract, PromptText: "message retracted", OrigMsgType: "image"}),
			}),
		}}})}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Encode(tc.frame)
			if err != nil {
				t.Fatal(err)
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
			if err != nil || !sameFrame(*back, *tc.frame) {
				t.Errorf("Decode(%s) = %v, %v; want %s", path, back, err, frameString(*tc.frame))
			}
		})
	}
}
