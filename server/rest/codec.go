package rest

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/jmsg-im/jmsg"
)

// decode reads the request body as JSON into v, whatever the content type
// says; unknown keys are ignored. Anything else than one JSON value of
// v's shape is 899003, null included (it would decode as "nothing sent").
func decode(r *http.Request, v any) error {
	b, err := io.ReadAll(r.Body)
	if err != nil {
		return badParam()
	}
	b = bytes.TrimSpace(b)
	if len(b) == 0 || string(b) == "null" {
		return badParam()
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(v); err != nil || dec.More() {
		return badParam()
	}
	return nil
}

// flexInt is a JSON number that callers may also send as a numeric
// string.
type flexInt int64

func (n *flexInt) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		b = []byte(s)
	}
	v, err := strconv.ParseInt(string(b), 10, 64)
	if err != nil {
		return err
	}
	*n = flexInt(v)
	return nil
}

// flexBool is a JSON boolean that callers may also send as "true" or
// "false".
type flexBool bool

func (f *flexBool) UnmarshalJSON(b []byte) error {
	switch string(b) {
	case "true", `"true"`:
		*f = true
	case "false", `"false"`:
		*f = false
	default:
		return &json.UnsupportedValueError{Str: string(b)}
	}
	return nil
}

// timeLayout is JMessage's time format in replies.
const timeLayout = "2006-01-02 15:04:05"

// formatMs formats a time in milliseconds as "yyyy-MM-dd HH:mm:ss".
func (a *API) formatMs(ms int64) string {
	return time.UnixMilli(ms).In(a.cfg.Location).Format(timeLayout)
}

// userIn is a user object of a request (register, update).
type userIn struct {
	Username  *string         `json:"username"`
	Password  *string         `json:"password"`
	Nickname  *string         `json:"nickname"`
	Avatar    *string         `json:"avatar"`
	Birthday  *string         `json:"birthday"`
	Gender    *flexInt        `json:"gender"`
	Signature *string         `json:"signature"`
	Region    *string         `json:"region"`
	Address   *string         `json:"address"`
	Extras    json.RawMessage `json:"extras"`
}

// apply sets the profile fields present in u on info; false when one
// breaks its rule.
func (u userIn) apply(info *jmsg.UserInfo) bool {
	set := func(dst *string, v *string) {
		if v != nil {
			*dst = *v
		}
	}
	set(&info.Nickname, u.Nickname)
	set(&info.Avatar, u.Avatar)
	set(&info.Signature, u.Signature)
	set(&info.Region, u.Region)
	set(&info.Address, u.Address)
	if u.Birthday != nil {
		// "yyyy-MM-dd", or the reply's "yyyy-MM-dd HH:mm:ss" sent back.
		b := *u.Birthday
		if len(b) == len(timeLayout) {
			if _, err := time.Parse(timeLayout, b); err != nil {
				return false
			}
			b = b[:10]
		}
		info.Birthday = b
	}
	if u.Gender != nil {
		info.Gender = int(*u.Gender)
	}
	if len(u.Extras) > 0 && string(u.Extras) != "null" {
		// The limit is on the object, not on the caller's layout of it.
		var c bytes.Buffer
		if !jmsg.IsJSONObject(u.Extras) || json.Compact(&c, u.Extras) != nil || c.Len() > jmsg.UserExtrasMaxLen {
			return false
		}
		var m map[string]json.RawMessage
		if json.Unmarshal(u.Extras, &m) != nil {
			return false
		}
		info.Extras = make(map[string]string, len(m))
		for k, v := range m {
			var s string
			if json.Unmarshal(v, &s) == nil {
				info.Extras[k] = s
			} else {
				info.Extras[k] = string(v) // a number or object kept as its JSON text
			}
		}
	}
	return info.ProfileError() == ""
}

// userOut renders a user as JMessage does: username, ctime and mtime
// always, every other key only when it has a value; birthday with a time.
func (a *API) userOut(u jmsg.UserInfo) map[string]any {
	m := map[string]any{"username": u.Username, "ctime": a.formatMs(u.CTime), "mtime": a.formatMs(u.MTime)}
	put := func(k, v string) {
		if v != "" {
			m[k] = v
		}
	}
	put("nickname", u.Nickname)
	put("avatar", u.Avatar)
	put("signature", u.Signature)
	put("region", u.Region)
	put("address", u.Address)
	if u.Birthday != "" {
		m["birthday"] = u.Birthday + " 00:00:00"
	}
	if u.Gender != 0 {
		m["gender"] = u.Gender
	}
	if len(u.Extras) > 0 {
		m["extras"] = u.Extras
	}
	return m
}

// page reads start and count of a list request: start ≥ 0, 1 ≤ count ≤ max.
func page(r *http.Request, max int) (start, count int, err error) {
	q := r.URL.Query()
	start, err1 := strconv.Atoi(q.Get("start"))
	count, err2 := strconv.Atoi(q.Get("count"))
	if err1 != nil || err2 != nil || start < 0 || count < 1 || count > max {
		return 0, 0, badParam()
	}
	return start, count, nil
}
