package wire

import (
	"encoding/json"
	"testing"
)

// Encode writes frames byte for byte as encoding/json does, so clients see
// one format whichever path built a frame.
func TestEncodeMatchesEncodingJSON(t *testing.T) {
	frames := []Frame{
		{Op: "ping"},
		{Op: "send", ID: 18446744073709551615, Data: json.RawMessage(`{"msg_id":1,"seq":2}`)},
		{Op: "login", ID: 7, Code: 801003, Message: "用户名或密码错误 \"quoted\" \\ <b>&amp;</b>\n\t\x01"},
		{Op: "error", Code: -1, Message: "plain"},
		{Op: "we\u2028ird\u2029", Data: json.RawMessage(`[1,"x",null]`)},
		{Op: "", ID: 1},
		{Op: "msg", Data: json.RawMessage(`{"text":"\u003cscript\u003e"}`)},
		{Op: "bad\xffutf8", Message: "\xc3\x28"},
	}
	for _, f := range frames {
		want, err := json.Marshal(&f)
		if err != nil {
			t.Fatal(err)
		}
		got, err := Encode(&f)
		if err != nil || string(got) != string(want) {
			t.Errorf("Encode(%+v) = %s, %v; encoding/json: %s", f, got, err, want)
		}
	}
}

func TestAppendMessagePushMatchesEncode(t *testing.T) {
	msgs := []Message{
		{MsgID: 1, ConvID: 2, Seq: 3, CTimeMs: 1700000000000, ClientMsgID: "c-1", Content: json.RawMessage(`{"version":1,"msg_type":"text","msg_body":{"text":"hi \u003c"}}`)},
		{MsgID: -5, ConvID: 0, Seq: 9223372036854775807, Content: json.RawMessage(`{}`)},
		{MsgID: 7, ClientMsgID: "quote\"<&>", Content: json.RawMessage(`{"a":[1,2,{"b":null}]}`)},
		{MsgID: 8},
	}
	for _, m := range msgs {
		f, err := Push(OpMessage, MessagePush{Message: m})
		if err != nil {
			t.Fatal(err)
		}
		want, _ := json.Marshal(f)
		if got := AppendMessagePush(nil, m); string(got) != string(want) {
			t.Errorf("AppendMessagePush(%+v) =\n%s\nencoding/json:\n%s", m, got, want)
		}
	}
}
