package wire

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/jmsg-im/jmsg"
)

// decodeCases are the table of TestDecode and the seed corpus of FuzzDecode.
// wantCode 0 means the frame is accepted and decodes to want.
var decodeCases = []struct {
	name     string
	in       string
	want     Frame
	wantCode int
	wantID   uint64 // the id a refused frame is answered against
	wantOp   string // the op a refused frame is answered against
}{
	{
		name: "request",
		in:   `{"op":"login","id":7,"data":{"username":"alice","password":"secret"}}`,
		want: Frame{Op: "login", ID: 7, Data: json.RawMessage(`{"username":"alice","password":"secret"}`)},
	},
	{
		name: "request without data",
		in:   `{"op":"ping","id":1}`,
		want: Frame{Op: "ping", ID: 1},
	},
	{
		name: "null data",
		in:   `{"op":"ping","id":2,"data":null}`,
		want: Frame{Op: "ping", ID: 2, Data: json.RawMessage(`null`)},
	},
	{
		name: "whitespace around the frame",
		in:   " \n{\"op\":\"ping\",\"id\":3}\r\n\t",
		want: Frame{Op: "ping", ID: 3},
	},
	{
		name: "error response",
		in:   `{"op":"login","id":4,"code":801004,"message":"invalid password"}`,
		want: Frame{Op: "login", ID: 4, Code: 801004, Message: "invalid password"},
	},
	{
		name: "push without id",
		in:   `{"op":"msg","data":{"message":{"msg_id":1}}}`,
		want: Frame{Op: "msg", Data: json.RawMessage(`{"message":{"msg_id":1}}`)},
	},
	{
		name: "largest id",
		in:   `{"op":"ping","id":18446744073709551615}`,
		want: Frame{Op: "ping", ID: 1<<64 - 1},
	},
	{
		name:     "oversize",
		in:       `{"op":"ping","id":5,"data":{"pad":"` + strings.Repeat("x", MaxFrameBytes) + `"}}`,
		wantCode: jmsg.ServerMessageTooLong,
	},
	{
		name:     "invalid UTF-8",
		in:       "{\"op\":\"ping\",\"id\":6,\"data\":{\"t\":\"\xff\xfe\"}}",
		wantCode: jmsg.ServerInvalidRequest,
	},
	{
		name:     "not JSON",
		in:       `hello`,
		wantCode: jmsg.ServerInvalidRequest,
	},
	{
		name:     "empty",
		in:       ``,
		wantCode: jmsg.ServerInvalidRequest,
	},
	{
		name:     "truncated in the id",
		in:       `{"op":"ping","id":8`,
		wantCode: jmsg.ServerInvalidRequest, // 8 may be the start of 80: not salvaged
	},
	{
		name:     "truncated after the id",
		in:       `{"op":"ping","id":42,`,
		wantCode: jmsg.ServerInvalidRequest,
		wantID:   42,
	},
	{
		name:     "truncated in the data",
		in:       `{"op":"send","id":43,"data":{"cid":"c1","content":{"version":1,"msg_body":{"text":"cut sh`,
		wantCode: jmsg.ServerInvalidRequest,
		wantID:   43,
	},
	{
		name:     "truncated, spaces around the id",
		in:       "{ \"op\" : \"ping\" , \"id\"\t:\n 44 ,\"data\" :",
		wantCode: jmsg.ServerInvalidRequest,
		wantID:   44,
	},
	{
		name:     "truncated, id before op",
		in:       `{"id":45,"op":"pi`,
		wantCode: jmsg.ServerInvalidRequest,
		wantID:   45,
	},
	{
		name:     "truncated, id after data",
		in:       `{"op":"send","data":{"cid":"c1"},"id":46,"x":`,
		wantCode: jmsg.ServerInvalidRequest,
		wantID:   46,
	},
	{
		name:     "truncated, largest id",
		in:       `{"op":"ping","id":18446744073709551615,"data":`,
		wantCode: jmsg.ServerInvalidRequest,
		wantID:   1<<64 - 1,
	},
	{
		name:     "truncated, id too large",
		in:       `{"op":"ping","id":18446744073709551616,"data":`,
		wantCode: jmsg.ServerInvalidRequest,
	},
	{
		name:     "truncated, id of 21 digits",
		in:       `{"op":"ping","id":123456789012345678901,"data":`,
		wantCode: jmsg.ServerInvalidRequest,
	},
	{
		name:     "truncated, fractional id",
		in:       `{"op":"ping","id":4.5,"data":`,
		wantCode: jmsg.ServerInvalidRequest,
	},
	{
		name:     "truncated, id with exponent",
		in:       `{"op":"ping","id":4e2,"data":`,
		wantCode: jmsg.ServerInvalidRequest,
	},
	{
		name:     "truncated, negative id",
		in:       `{"op":"ping","id":-47,"data":`,
		wantCode: jmsg.ServerInvalidRequest,
	},
	{
		name:     "truncated, string id",
		in:       `{"op":"ping","id":"48","data":`,
		wantCode: jmsg.ServerInvalidRequest,
	},
	{
		name:     "truncated, no id value",
		in:       `{"op":"ping","id":`,
		wantCode: jmsg.ServerInvalidRequest,
	},
	{
		name:     "truncated, no id",
		in:       `{"op":"ping","data":{"x":1`,
		wantCode: jmsg.ServerInvalidRequest,
	},
	{
		name:     "truncated, id only inside data",
		in:       `{"op":"send","data":{"id":49,"x":`,
		wantCode: jmsg.ServerInvalidRequest,
	},
	{
		name:     "truncated, id inside data before the frame's",
		in:       `{"op":"send","data":{"id":50},"id":51,"x":`,
		wantCode: jmsg.ServerInvalidRequest,
		wantID:   51,
	},
	{
		name:     "truncated, id in a string",
		in:       `{"op":"send","data":{"text":"{\"id\":52,"},"x":`,
		wantCode: jmsg.ServerInvalidRequest,
	},
	{
		name:     "truncated, \"id\" as a value first",
		in:       `{"op":"id","id":53,"x":`,
		wantCode: jmsg.ServerInvalidRequest,
		wantID:   53,
	},
	{
		name:     "truncated, key ending in id",
		in:       `{"op":"ping","uid":54,"x":`,
		wantCode: jmsg.ServerInvalidRequest,
	},
	{
		name:     "not an object, id inside",
		in:       `[{"op":"ping","id":55},`,
		wantCode: jmsg.ServerInvalidRequest,
	},
	{
		name:     "truncated after leading space",
		in:       " \n{\"op\":\"ping\",\"id\":57,",
		wantCode: jmsg.ServerInvalidRequest,
		wantID:   57,
	},
	{
		name:     "id in a second object",
		in:       `{"op":5}{"id":58,`,
		wantCode: jmsg.ServerInvalidRequest,
	},
	{
		name:     "id after an escaped quote",
		in:       `{"op":"send","data":{"text":"say \"hi\"","n":1},"id":59,`,
		wantCode: jmsg.ServerInvalidRequest,
		wantID:   59,
	},
	{
		name:     "id after a string ending in a backslash",
		in:       `{"op":"send","data":{"text":"c:\\"},"id":60,`,
		wantCode: jmsg.ServerInvalidRequest,
		wantID:   60,
	},
	{
		name:     "malformed before the id",
		in:       `{"op":ping,"id":56}`,
		wantCode: jmsg.ServerInvalidRequest,
		wantID:   56,
	},
	{
		name:     "op of the wrong type, id salvaged",
		in:       `{"op":5,"id":9}`,
		wantCode: jmsg.ServerInvalidRequest,
		wantID:   9,
	},
	{
		name:     "data field of the wrong type, id salvaged",
		in:       `{"op":"ping","id":10,"code":"x"}`,
		wantCode: jmsg.ServerInvalidRequest,
		wantID:   10,
	},
	{
		name:     "negative id",
		in:       `{"op":"ping","id":-1}`,
		wantCode: jmsg.ServerInvalidRequest,
	},
	{
		name:     "string id is not salvaged",
		in:       `{"op":5,"id":"11"}`,
		wantCode: jmsg.ServerInvalidRequest,
	},
	{
		name:     "not an object",
		in:       `[{"op":"ping","id":12}]`,
		wantCode: jmsg.ServerInvalidRequest,
	},
	{
		name:     "null frame",
		in:       `null`,
		wantCode: jmsg.ServerInvalidRequest,
	},
	{
		name:     "missing op",
		in:       `{"id":13,"data":{}}`,
		wantCode: jmsg.ServerInvalidRequest,
		wantID:   13,
	},
	{
		name:     "empty op",
		in:       `{"op":"","id":14}`,
		wantCode: jmsg.ServerInvalidRequest,
		wantID:   14,
	},
	{
		name:     "data is a string",
		in:       `{"op":"ping","id":15,"data":"x"}`,
		wantCode: jmsg.ServerInvalidRequest,
		wantID:   15,
		wantOp:   "ping",
	},
	{
		name:     "data is an array",
		in:       `{"op":"ping","id":16,"data":[1]}`,
		wantCode: jmsg.ServerInvalidRequest,
		wantID:   16,
		wantOp:   "ping",
	},
	{
		name:     "data is a number",
		in:       `{"op":"ping","id":17,"data":5}`,
		wantCode: jmsg.ServerInvalidRequest,
		wantID:   17,
		wantOp:   "ping",
	},
	{
		name:     "second frame after the first",
		in:       `{"op":"ping","id":18}{"op":"ping","id":19}`,
		wantCode: jmsg.ServerInvalidRequest,
		wantID:   18,
		wantOp:   "ping",
	},
	{
		name:     "trailing garbage",
		in:       `{"op":"ping","id":20} x`,
		wantCode: jmsg.ServerInvalidRequest,
		wantID:   20,
		wantOp:   "ping",
	},
	{
		name:     "trailing closing brace",
		in:       `{"op":"ping","id":21}}`,
		wantCode: jmsg.ServerInvalidRequest,
		wantID:   21,
		wantOp:   "ping",
	},
	{
		name:     "trailing closing bracket",
		in:       `{"op":"ping","id":22} ]`,
		wantCode: jmsg.ServerInvalidRequest,
		wantID:   22,
		wantOp:   "ping",
	},
}

func TestDecode(t *testing.T) {
	for _, tc := range decodeCases {
		t.Run(tc.name, func(t *testing.T) {
			f, err := Decode([]byte(tc.in), MaxFrameBytes)
			if tc.wantCode == 0 {
				if err != nil {
					t.Fatalf("Decode(%q) = %v, want success", tc.in, err)
				}
				if !sameFrame(*f, tc.want) {
					t.Errorf("Decode(%q) = %+v, want %+v", tc.in, frameString(*f), frameString(tc.want))
				}
				return
			}
			if err == nil {
				t.Fatalf("Decode(%q) = %s, want error %d", tc.in, frameString(*f), tc.wantCode)
			}
			if f != nil {
				t.Errorf("Decode(%q) returned frame %s with error %v", tc.in, frameString(*f), err)
			}
			var de *DecodeError
			if !errors.As(err, &de) {
				t.Fatalf("Decode(%q) error %T %v, want *DecodeError", tc.in, err, err)
			}
			if got := jmsg.CodeOf(err); got != tc.wantCode {
				t.Errorf("Decode(%q) code = %d, want %d (%v)", tc.in, got, tc.wantCode, err)
			}
			if de.ID != tc.wantID || de.Op != tc.wantOp {
				t.Errorf("Decode(%q) answered against (op %q, id %d), want (op %q, id %d)", tc.in, de.Op, de.ID, tc.wantOp, tc.wantID)
			}
		})
	}
}

func TestDecodeLimit(t *testing.T) {
	frame := []byte(`{"op":"ping","id":1}`)
	tests := []struct {
		max      int
		wantCode int
	}{
		{len(frame), 0},
		{len(frame) + 1, 0},
		{len(frame) - 1, jmsg.ServerMessageTooLong},
		{0, jmsg.ServerMessageTooLong},
	}
	for _, tc := range tests {
		_, err := Decode(frame, tc.max)
		if got := jmsg.CodeOf(err); got != tc.wantCode {
			t.Errorf("Decode(%d-byte frame, max %d) code = %d, want %d", len(frame), tc.max, got, tc.wantCode)
		}
	}
}

func TestDecodeData(t *testing.T) {
	type req struct {
		Username string `json:"username"`
	}
	tests := []struct {
		data     string
		want     string
		wantCode int
	}{
		{``, "", 0},
		{`null`, "", 0},
		{`{}`, "", 0},
		{`{"username":"alice"}`, "alice", 0},
		{`{"username":5}`, "", jmsg.ServerInvalidRequest},
		{`{"username":`, "", jmsg.ServerInvalidRequest},
	}
	for _, tc := range tests {
		var r req
		err := DecodeData(&Frame{Op: "login", ID: 1, Data: json.RawMessage(tc.data)}, &r)
		if got := jmsg.CodeOf(err); got != tc.wantCode || r.Username != tc.want {
			t.Errorf("DecodeData(%q) = (%q, code %d), want (%q, code %d)", tc.data, r.Username, got, tc.want, tc.wantCode)
		}
	}
}

func TestErrorFrame(t *testing.T) {
	tests := []struct {
		name    string
		op      string
		id      uint64
		err     error
		want    Frame
		wantErr int // code of Frame.Err
	}{
		{
			name: "table message",
			op:   OpLogin, id: 3, err: jmsg.E(jmsg.TcpUserPasswordError),
			want: Frame{Op: OpLogin, ID: 3, Code: jmsg.TcpUserPasswordError, Message: "invalid password"},
		},
		{
			name: "specific message kept",
			op:   OpUserInfo, id: 4, err: jmsg.WithMessage(jmsg.HttpUserNotExist, "No such user: bob"),
			want: Frame{Op: OpUserInfo, ID: 4, Code: jmsg.HttpUserNotExist, Message: "No such user: bob"},
		},
		{
			name: "cause not sent",
			op:   OpPing, id: 5, err: jmsg.Errorf(jmsg.ServerInvalidRequest, "secret detail"),
			want: Frame{Op: OpPing, ID: 5, Code: jmsg.ServerInvalidRequest, Message: "invalid request"},
		},
		{
			name: "foreign error is a system error",
			op:   OpSend, id: 6, err: errors.New("disk on fire"),
			want: Frame{Op: OpSend, ID: 6, Code: jmsg.TcpServerInternalError, Message: "system error"},
		},
		{
			name: "unattributed",
			err:  jmsg.E(jmsg.ServerInvalidRequest),
			want: Frame{Op: OpError, Code: jmsg.ServerInvalidRequest, Message: "invalid request"},
		},
	}
	for _, tc := range tests {
		got := ErrorFrame(tc.op, tc.id, tc.err)
		if !sameFrame(*got, tc.want) {
			t.Errorf("%s: ErrorFrame(%q, %d, %v) = %s, want %s", tc.name, tc.op, tc.id, tc.err, frameString(*got), frameString(tc.want))
		}
		if code := jmsg.CodeOf(got.Err()); code != tc.want.Code {
			t.Errorf("%s: ErrorFrame(...).Err() code = %d, want %d", tc.name, code, tc.want.Code)
		}
	}
	if err := (&Frame{Op: OpPing, ID: 1}).Err(); err != nil {
		t.Errorf("Frame{Code: 0}.Err() = %v, want nil", err)
	}
}

// FuzzDecode checks that Decode never panics and that every frame it
// accepts survives an Encode/Decode round trip unchanged.
func FuzzDecode(f *testing.F) {
	// A small limit keeps the inputs small: the fuzzer spends its time on
	// mutations, not on minimising 16 KiB inputs, and still reaches the
	// size check.
	const max = 1 << 10
	for _, tc := range decodeCases {
		if len(tc.in) <= max {
			f.Add([]byte(tc.in))
		}
	}
	f.Add([]byte(`{"op":"ping","id":1,"data":{"pad":"` + strings.Repeat("x", max) + `"}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		fr, err := Decode(b, max)
		if len(b) > max && jmsg.CodeOf(err) != jmsg.ServerMessageTooLong {
			t.Fatalf("Decode(%d bytes, max %d) = %v, want code 803007", len(b), max, err)
		}
		if err != nil {
			var de *DecodeError
			if !errors.As(err, &de) || de.Err == nil {
				t.Fatalf("Decode(%q) error %T %v, want *DecodeError with a code", b, err, err)
			}
			if c := de.Err.Code; c != jmsg.ServerInvalidRequest && c != jmsg.ServerMessageTooLong {
				t.Fatalf("Decode(%q) code %d, want 800008 or 803007", b, c)
			}
			return
		}
		if fr.Op == "" {
			t.Fatalf("Decode(%q) accepted a frame without op", b)
		}
		enc, err := Encode(fr)
		if err != nil {
			t.Fatalf("Encode(Decode(%q)) = %v", b, err)
		}
		back, err := Decode(enc, len(enc))
		if err != nil {
			t.Fatalf("Decode(Encode(Decode(%q))) = %v; encoded %q", b, err, enc)
		}
		if !sameFrame(*fr, *back) {
			t.Fatalf("round trip of %q: %s, then %s", b, frameString(*fr), frameString(*back))
		}
	})
}

// sameFrame compares frames, treating Data as JSON: Encode compacts it and
// escapes HTML characters, which does not change its meaning.
func sameFrame(a, b Frame) bool {
	return a.Op == b.Op && a.ID == b.ID && a.Code == b.Code && a.Message == b.Message &&
		bytes.Equal(normJSON(a.Data), normJSON(b.Data))
}

func normJSON(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	var c, h bytes.Buffer
	if err := json.Compact(&c, b); err != nil {
		return b
	}
	json.HTMLEscape(&h, c.Bytes())
	return h.Bytes()
}

func frameString(f Frame) string {
	return strings.TrimSpace(
		"op=" + f.Op + " id=" + jsonString(f.ID) + " code=" + jsonString(f.Code) +
			" message=" + jsonString(f.Message) + " data=" + string(f.Data))
}

func jsonString(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
