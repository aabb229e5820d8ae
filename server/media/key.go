package media

import (
	"fmt"
	"strings"
)

// MaxKeyLen is the longest key ValidKey accepts, in bytes.
const MaxKeyLen = 128

// ValidKey reports whether key may name an object, returning an error
// that wraps ErrBadKey if not. A key is 1 to MaxKeyLen bytes of
// [A-Za-z0-9_.-] in segments separated by single '/': no empty segment
// (so no leading, trailing or doubled '/') and no segment "." or "..".
//
// This is the security boundary between client-influenced names and the
// file system or S3: every Store method calls it before anything else, so
// a key can never be a path that escapes the store ("../x", "/etc/passwd"),
// nor carry '\', '%', NUL or any byte that some layer might reinterpret.
func ValidKey(key string) error {
	if key == "" || len(key) > MaxKeyLen {
		return fmt.Errorf("%w: length %d not in 1..%d", ErrBadKey, len(key), MaxKeyLen)
	}
	for i := 0; i < len(key); i++ {
		if !keyByte(key[i]) {
			return fmt.Errorf("%w: byte %#x at %d", ErrBadKey, key[i], i)
		}
	}
	for seg := range strings.SplitSeq(key, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return fmt.Errorf("%w: segment %q", ErrBadKey, seg)
		}
	}
	return nil
}

func keyByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		c == '_' || c == '-' || c == '.' || c == '/'
}
