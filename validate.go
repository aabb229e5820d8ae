package jmsg

import (
	"encoding/json"
	"strings"
	"time"
	"unicode/utf8"
)

// Limits of JMessage that jmsg enforces on both sides (shared/spec/limits.md).
// Sizes are UTF-8 bytes.
const (
	AppKeyLen          = 24
	UsernameMinLen     = 4
	UsernameMaxLen     = 128
	PasswordMinLen     = 4
	PasswordMaxLen     = 128
	NicknameMaxLen     = 64
	ProfileTextMaxLen  = 250 // signature, region, address and other strings
	UserExtrasMaxLen   = 512 // serialized JSON object
	MessageMaxBytes    = 4096
	BatchUsernamesMax  = 500
	BirthdayDateLayout = "2006-01-02"
)

func isASCIIAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// ValidAppKey reports whether k is exactly 24 ASCII letters and digits.
// The same rule applies to master secrets.
func ValidAppKey(k string) bool {
	if len(k) != AppKeyLen {
		return false
	}
	for i := 0; i < len(k); i++ {
		if !isASCIIAlnum(k[i]) {
			return false
		}
	}
	return true
}

// ValidUsername reports whether u follows JMessage's username rule: 4–128
// bytes, ASCII only, first character a letter or digit, the rest letters,
// digits, '_', '.', '-' or '@'. Usernames are case-sensitive.
func ValidUsername(u string) bool {
	if len(u) < UsernameMinLen || len(u) > UsernameMaxLen || !isASCIIAlnum(u[0]) {
		return false
	}
	for i := 1; i < len(u); i++ {
		c := u[i]
		if !isASCIIAlnum(c) && c != '_' && c != '.' && c != '-' && c != '@' {
			return false
		}
	}
	return true
}

// ValidPassword reports whether p is 4–128 bytes long (any characters).
func ValidPassword(p string) bool {
	return len(p) >= PasswordMinLen && len(p) <= PasswordMaxLen
}

// validText reports whether s is valid UTF-8 of at most max bytes and, when
// singleLine, holds no line breaks.
func validText(s string, max int, singleLine bool) bool {
	if len(s) > max || !utf8.ValidString(s) {
		return false
	}
	return !singleLine || !strings.ContainsAny(s, "\r\n")
}

// Gender values of a user profile.
const (
	GenderUnknown = 0
	GenderMale    = 1
	GenderFemale  = 2
)

// UserInfo is the profile of a user as it travels on the wire and is kept
// by the server. Birthday is "yyyy-MM-dd" or empty. Extras values are
// strings, as in the iOS SDK.
type UserInfo struct {
	UID       int64             `json:"uid,omitempty"`
	Username  string            `json:"username"`
	Nickname  string            `json:"nickname,omitempty"`
	Avatar    string            `json:"avatar,omitempty"`
	Gender    int               `json:"gender,omitempty"`
	Birthday  string            `json:"birthday,omitempty"`
	Signature string            `json:"signature,omitempty"`
	Region    string            `json:"region,omitempty"`
	Address   string            `json:"address,omitempty"`
	Extras    map[string]string `json:"extras,omitempty"`
	CTime     int64             `json:"ctime,omitempty"` // registration, ms
	MTime     int64             `json:"mtime,omitempty"` // last profile change, ms
}

// ProfileError names the first field of a profile that breaks its rule, or
// is "" when the profile is valid. The username is not checked.
func (u *UserInfo) ProfileError() string {
	switch {
	case !validText(u.Nickname, NicknameMaxLen, true):
		return "nickname"
	case !validText(u.Signature, ProfileTextMaxLen, false):
		return "signature"
	case !validText(u.Region, ProfileTextMaxLen, false):
		return "region"
	case !validText(u.Address, ProfileTextMaxLen, false):
		return "address"
	case !validText(u.Avatar, ProfileTextMaxLen, true):
		return "avatar"
	case u.Gender < GenderUnknown || u.Gender > GenderFemale:
		return "gender"
	case u.Birthday != "" && !validBirthday(u.Birthday):
		return "birthday"
	case !validExtras(u.Extras):
		return "extras"
	}
	return ""
}

func validBirthday(s string) bool {
	_, err := time.Parse(BirthdayDateLayout, s)
	return err == nil
}

func validExtras(m map[string]string) bool {
	if len(m) == 0 {
		return true
	}
	b, err := json.Marshal(m)
	if err != nil || len(b) > UserExtrasMaxLen {
		return false
	}
	for k, v := range m {
		if !utf8.ValidString(k) || !utf8.ValidString(v) {
			return false
		}
	}
	return true
}

// Group limits (limits.md §3).
const (
	GroupNameMaxLen       = 64
	GroupDescMaxLen       = 250
	GroupDefaultMaxMember = 500
	GroupMaxAdmins        = 15
	SilenceMinMs          = 300_000        // 5 minutes
	SilenceMaxMs          = 31_536_000_000 // 365 days
	GroupReasonMaxLen     = 250
)

// ValidGroupName reports whether name can name a group: 1–64 bytes of valid
// UTF-8 without line breaks.
func ValidGroupName(name string) bool {
	return name != "" && validText(name, GroupNameMaxLen, true)
}

// ValidGroupDesc reports whether desc fits a group description: at most 250
// bytes of valid UTF-8.
func ValidGroupDesc(desc string) bool { return validText(desc, GroupDescMaxLen, false) }

// ValidReason reports whether a free-text reason (join application,
// rejection) is at most 250 bytes of valid UTF-8.
func ValidReason(s string) bool { return validText(s, GroupReasonMaxLen, false) }
