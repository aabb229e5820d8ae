// Package wire defines jmsg's client protocol: JSON frames carried in
// WebSocket text messages, the operations, and their payloads. It is shared
// by jmsgd and the Go SDK and documented for other SDK authors in
// docs/PROTOCOL.md.
package wire

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
	"unicode/utf8"

	"github.com/jmsg-im/jmsg"
)

// Version is the protocol version this package speaks. A client states it
// in its init request; jmsgd refuses versions it does not speak.
const Version = 1

// Subprotocol is the WebSocket subprotocol name of Version.
const Subprotocol = "jmsg.v1"

// MaxFrameBytes is the largest frame jmsgd accepts by default. A message
// document is at most 4096 bytes; the rest leaves room for the envelope.
const MaxFrameBytes = 16 << 10

// Frame is one protocol message.
//
// A request from the client has Op, a non-zero ID and Data. The response
// repeats Op and ID; Code is 0 on success with the result in Data, or a
// JMessage error code with its Message. A push from the server has Op and
// Data and no ID. A frame whose op cannot be read (not JSON, no op, wrong
// types) is answered with Op "error" and the frame's ID when it can be
// found, else 0.
type Frame struct {
	Op      string          `json:"op"`
	ID      uint64          `json:"id,omitempty"`
	Code    int             `json:"code,omitempty"`
	Message string          `json:"message,omitempty"`
	Data    json.RawMessage `json:"data,omitempty"`
}

// Err returns the frame's error as a *jmsg.Error, or nil when Code is 0.
func (f *Frame) Err() error {
	if f.Code == 0 {
		return nil
	}
	return &jmsg.Error{Code: f.Code, Message: f.Message}
}

// DecodeError is the reason a frame was refused, with the frame's ID when it
// could be read, so the error can be sent back against the request.
type DecodeError struct {
	ID  uint64
	Op  string
	Err *jmsg.Error
}

func (e *DecodeError) Error() string { return e.Err.Error() }
func (e *DecodeError) Unwrap() error { return e.Err }

// Decode parses one frame of at most max bytes. It refuses oversize frames
// (803007), invalid UTF-8, malformed JSON, a missing op and fields of the
// wrong type (800008), never panicking whatever b holds.
func Decode(b []byte, max int) (*Frame, error) {
	if len(b) > max {
		return nil, &DecodeError{Err: jmsg.Errorf(jmsg.ServerMessageTooLong, "frame of %d bytes exceeds %d", len(b), max)}
	}
	if !utf8.Valid(b) {
		return nil, &DecodeError{Err: jmsg.Errorf(jmsg.ServerInvalidRequest, "frame is not valid UTF-8")}
	}
	var f Frame
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&f); err != nil {
		return nil, &DecodeError{ID: salvageID(b), Err: jmsg.Wrap(jmsg.ServerInvalidRequest, err)}
	}
	// dec.More reports false for a trailing ']' or '}', so look at the rest.
	if len(bytes.TrimLeft(b[dec.InputOffset():], " \t\r\n")) > 0 {
		return nil, &DecodeError{ID: f.ID, Op: f.Op, Err: jmsg.Errorf(jmsg.ServerInvalidRequest, "data after the frame")}
	}
	if f.Op == "" {
		return nil, &DecodeError{ID: f.ID, Err: jmsg.Errorf(jmsg.ServerInvalidRequest, "frame has no op")}
	}
	if len(f.Data) > 0 && f.Data[0] != '{' && string(f.Data) != "null" {
		return nil, &DecodeError{ID: f.ID, Op: f.Op, Err: jmsg.Errorf(jmsg.ServerInvalidRequest, "data is not an object")}
	}
	return &f, nil
}

// salvageID returns the id of a frame whose other fields are malformed, so
// that the error can still be matched to its request; 0 if there is none.
func salvageID(b []byte) uint64 {
	var probe struct {
		ID uint64 `json:"id"`
	}
	var raw map[string]json.RawMessage
	if json.Unmarshal(b, &raw) != nil {
		return scanID(b)
	}
	if id, ok := raw["id"]; ok && json.Unmarshal([]byte(`{"id":`+string(id)+`}`), &probe) == nil {
		return probe.ID
	}
	return 0
}

// scanID finds the frame's own "id" member in text that is not valid JSON
// (a frame cut short, say): a key "id" of the outermost object, outside any
// string, whose value is a whole unsigned integer followed by more of the
// frame. 0 if there is none.
func scanID(b []byte) uint64 {
	b = bytes.TrimLeft(b, " \t\r\n")
	if len(b) == 0 || b[0] != '{' {
		return 0
	}
	depth := 0
	for i := 0; i < len(b); i++ {
		switch b[i] {
		case '{', '[':
			depth++
		case '}', ']':
			if depth--; depth == 0 {
				return 0 // the frame ended without one
			}
		case '"':
			j := i + 1
			for ; j < len(b) && b[j] != '"'; j++ {
				if b[j] == '\\' {
					j++
				}
			}
			if j >= len(b) {
				return 0
			}
			key := b[i+1 : j]
			i = j
			if depth != 1 || string(key) != "id" {
				continue
			}
			rest := bytes.TrimLeft(b[j+1:], " \t\r\n")
			if len(rest) == 0 || rest[0] != ':' {
				continue // "id" is a value here, not a key
			}
			return parseID(bytes.TrimLeft(rest[1:], " \t\r\n"))
		}
	}
	return 0
}

// parseID reads the unsigned integer at the start of b; 0 if there is none,
// it does not fit in 64 bits, or it is not followed by a delimiter (it may
// be cut short, or be a fraction).
func parseID(b []byte) uint64 {
	var id uint64
	n := 0
	for ; n < len(b) && b[n] >= '0' && b[n] <= '9'; n++ {
		d := uint64(b[n] - '0')
		if id > (1<<64-1-d)/10 {
			return 0
		}
		id = id*10 + d
	}
	if n == 0 || n == len(b) || bytes.IndexByte([]byte(" \t\r\n,}"), b[n]) < 0 {
		return 0
	}
	return id
}

// Encode marshals f exactly as encoding/json would. f.Data must be valid,
// compact JSON (what json.Marshal returns): it is copied as is, not
// validated again, which is the cost of encoding a frame that carries a
// message.
func Encode(f *Frame) ([]byte, error) {
	b := make([]byte, 0, 40+len(f.Op)+len(f.Message)+len(f.Data))
	b = append(b, `{"op":`...)
	b = appendJSONString(b, f.Op)
	if f.ID != 0 {
		b = append(b, `,"id":`...)
		b = strconv.AppendUint(b, f.ID, 10)
	}
	if f.Code != 0 {
		b = append(b, `,"code":`...)
		b = strconv.AppendInt(b, int64(f.Code), 10)
	}
	if f.Message != "" {
		b = append(b, `,"message":`...)
		b = appendJSONString(b, f.Message)
	}
	if len(f.Data) > 0 {
		b = append(b, `,"data":`...)
		b = append(b, f.Data...)
	}
	return append(b, '}'), nil
}

// appendJSONString appends s as encoding/json writes a string.
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x80 || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s)
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// Response builds the success response to req carrying v as data.
func Response(req *Frame, v any) (*Frame, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return &Frame{Op: req.Op, ID: req.ID, Data: data}, nil
}

// ErrorFrame builds the error response for a request with op and id; an
// error that is not a *jmsg.Error becomes 800009 (system error).
func ErrorFrame(op string, id uint64, err error) *Frame {
	code := jmsg.CodeOf(err)
	if code == jmsg.SDKUnknownError {
		code = jmsg.TcpServerInternalError
	}
	msg := jmsg.MessageOf(code)
	var je *jmsg.Error
	if errors.As(err, &je) && je.Code == code && je.Message != "" {
		msg = je.Message
	}
	if op == "" {
		op = OpError
	}
	return &Frame{Op: op, ID: id, Code: code, Message: msg}
}

// Push builds a server push with op and data v.
func Push(op string, v any) (*Frame, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return &Frame{Op: op, Data: data}, nil
}

// DecodeData unmarshals a frame's data into v, refusing unknown-typed or
// malformed data with 800008. Empty data decodes as an empty object.
func DecodeData(f *Frame, v any) error {
	if len(f.Data) == 0 || string(f.Data) == "null" {
		return nil
	}
	if err := json.Unmarshal(f.Data, v); err != nil {
		return jmsg.Wrap(jmsg.ServerInvalidRequest, err)
	}
	return nil
}

// OpBatch is a push that carries several frames, in order, as its data: a
// JSON array of frames. jmsgd sends one when several frames wait for a
// connection; a client handles each element as if it had arrived alone.
const OpBatch = "batch"

// SplitBatch returns the frames of a batch frame b in order, or b alone
// when it is not a batch. The frames share b's memory.
func SplitBatch(b []byte) ([][]byte, error) {
	if !bytes.HasPrefix(b, []byte(`{"op":"batch","data":[`)) {
		return [][]byte{b}, nil
	}
	var f struct {
		Data []json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, err
	}
	out := make([][]byte, len(f.Data))
	for i, d := range f.Data {
		out[i] = d
	}
	return out, nil
}

// AppendMessagePush appends the encoded push of m ({"op":"msg","data":
// {"message":m}}) exactly as Encode(Push(OpMessage, MessagePush{m})) would
// write it, without validating m.Content again: it must be valid, compact
// JSON, as the server stores it. Fan-out encodes every message once this
// way.
func AppendMessagePush(b []byte, m Message) []byte {
	b = append(b, `{"op":"msg","data":{"message":{"msg_id":`...)
	b = strconv.AppendInt(b, m.MsgID, 10)
	b = append(b, `,"conv_id":`...)
	b = strconv.AppendInt(b, m.ConvID, 10)
	b = append(b, `,"seq":`...)
	b = strconv.AppendInt(b, m.Seq, 10)
	b = append(b, `,"ctime_ms":`...)
	b = strconv.AppendInt(b, m.CTimeMs, 10)
	if m.ClientMsgID != "" {
		b = append(b, `,"cid":`...)
		b = appendJSONString(b, m.ClientMsgID)
	}
	b = append(b, `,"content":`...)
	if len(m.Content) == 0 {
		b = append(b, "null"...)
	} else {
		b = append(b, m.Content...)
	}
	return append(b, "}}}"...)
}
