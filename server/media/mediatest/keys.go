package mediatest

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/jmsg-im/jmsg/server/media"
)

// GoodKeys are keys every Store must accept, all together.
var GoodKeys = []string{
	"a",
	"app1/abc123",
	"app1/abc123.thumb",
	"A-Z_a-z.0-9",
	"..a/b..",
	"x/y/z/.hidden",
	strings.Repeat("k", media.MaxKeyLen),
	strings.Repeat("d/", media.MaxKeyLen/2-1) + "zz",
}

// BadKeys are keys ValidKey and every Store method must refuse with
// media.ErrBadKey: paths that would escape a directory or a prefix, and
// bytes outside the key alphabet.
var BadKeys = []string{
	"",
	".",
	"..",
	"../x",
	"a/..",
	"a/../../b",
	"a/./b",
	"/abs",
	"/etc/passwd",
	"a/",
	"a//b",
	`a\b`,
	`..\x`,
	"%2e%2e%2fx",
	"a%00",
	"a\x00b",
	"a b",
	"a\nb",
	"a?b",
	"a#b",
	"a+b",
	"a~b",
	"ü",
	strings.Repeat("k", media.MaxKeyLen+1),
}

func testGoodKeys(t *testing.T, s media.Store) {
	for _, key := range GoodKeys {
		if err := media.ValidKey(key); err != nil {
			t.Errorf("ValidKey(%q) = %v, want nil", key, err)
			continue
		}
		mustPut(t, s, key, []byte(key))
	}
	for _, key := range GoodKeys {
		checkContent(t, s, key, []byte(key))
	}
}

func testBadKeys(t *testing.T, s media.Store) {
	ctx := t.Context()
	for _, key := range BadKeys {
		if err := media.ValidKey(key); !errors.Is(err, media.ErrBadKey) {
			t.Errorf("ValidKey(%q) = %v, want ErrBadKey", key, err)
		}
		if err := s.Put(ctx, key, bytes.NewReader([]byte("x")), 1); !errors.Is(err, media.ErrBadKey) {
			t.Errorf("Put(%q) = %v, want ErrBadKey", key, err)
		}
		rc, _, err := s.Open(ctx, key, 0)
		if err == nil {
			rc.Close()
		}
		if !errors.Is(err, media.ErrBadKey) {
			t.Errorf("Open(%q) = %v, want ErrBadKey", key, err)
		}
		if _, err := s.Stat(ctx, key); !errors.Is(err, media.ErrBadKey) {
			t.Errorf("Stat(%q) = %v, want ErrBadKey", key, err)
		}
		if err := s.Delete(ctx, key); !errors.Is(err, media.ErrBadKey) {
			t.Errorf("Delete(%q) = %v, want ErrBadKey", key, err)
		}
	}
}
