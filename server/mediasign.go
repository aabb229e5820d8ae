package server

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// mediaSigner signs upload tokens and download URLs with a key kept in
// the store, so that every jmsgd sharing the database accepts what any of
// them issued. Nothing it signs is stored.
type mediaSigner struct {
	load func() ([]byte, error)

	mu  sync.Mutex // guards key
	key []byte     // nil until load succeeds; a failed load is tried again on next use
}

func newMediaSigner(s *Server) *mediaSigner {
	return &mediaSigner{load: func() ([]byte, error) {
		return s.store.Secret(context.Background(), "media-signing-key", func() []byte {
			b := make([]byte, 32)
			rand.Read(b)
			return b
		})
	}}
}

// signingKey returns the key, loading it on first use. A load that fails
// (the database busy or unreachable) is not remembered: the next request
// tries again rather than every media request failing until a restart.
func (m *mediaSigner) signingKey() ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.key == nil {
		key, err := m.load()
		if err != nil {
			return nil, fmt.Errorf("loading the media signing key: %w", err)
		}
		m.key = key
	}
	return m.key, nil
}

func (m *mediaSigner) mac(parts ...string) ([]byte, error) {
	key, err := m.signingKey()
	if err != nil {
		return nil, err
	}
	h := hmac.New(sha256.New, key)
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return h.Sum(nil), nil
}

// uploadToken returns a token letting uid of appKey upload until expires.
func (m *mediaSigner) uploadToken(appKey string, uid int64, expires time.Time) (string, error) {
	payload := appKey + "." + strconv.FormatInt(uid, 10) + "." + strconv.FormatInt(expires.UnixMilli(), 10)
	sig, err := m.mac("upload", payload)
	if err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString([]byte(payload)) + "." + base64.RawURLEncoding.EncodeToString(sig), nil
}

var errBadToken = errors.New("bad upload token")

// checkUploadToken returns the uid a token of appKey was issued to, if it
// is genuine and unexpired at now.
func (m *mediaSigner) checkUploadToken(token, appKey string, now time.Time) (int64, error) {
	p64, s64, ok := strings.Cut(token, ".")
	if !ok {
		return 0, errBadToken
	}
	payload, err1 := base64.RawURLEncoding.DecodeString(p64)
	sig, err2 := base64.RawURLEncoding.DecodeString(s64)
	if err1 != nil || err2 != nil {
		return 0, errBadToken
	}
	want, err := m.mac("upload", string(payload))
	if err != nil {
		return 0, err
	}
	if !hmac.Equal(sig, want) {
		return 0, errBadToken
	}
	fields := strings.Split(string(payload), ".")
	if len(fields) != 3 || fields[0] != appKey {
		return 0, errBadToken
	}
	uid, err1 := strconv.ParseInt(fields[1], 10, 64)
	exp, err2 := strconv.ParseInt(fields[2], 10, 64)
	if err1 != nil || err2 != nil || now.UnixMilli() >= exp {
		return 0, errBadToken
	}
	return uid, nil
}

// downloadQuery returns the signed query of a download URL of a media
// id's variant ("o" original, "t" thumbnail) valid until expires.
func (m *mediaSigner) downloadQuery(appKey, mediaID, variant string, expires time.Time) (string, error) {
	// The URL carries whole seconds: round up, so that it lives at least
	// as long as asked (rounding down cut up to a second off, all of a
	// short URL's life).
	secs := expires.Unix()
	if expires.After(time.Unix(secs, 0)) {
		secs++
	}
	exp := strconv.FormatInt(secs, 10)
	sig, err := m.mac("download", appKey, mediaID, variant, exp)
	if err != nil {
		return "", err
	}
	q := url.Values{"app": {appKey}, "id": {mediaID}, "v": {variant}, "exp": {exp},
		"sig": {base64.RawURLEncoding.EncodeToString(sig)}}
	return q.Encode(), nil
}

// checkDownload verifies a download URL's query at now and returns what it
// names.
func (m *mediaSigner) checkDownload(q url.Values, now time.Time) (appKey, mediaID, variant string, err error) {
	appKey, mediaID, variant = q.Get("app"), q.Get("id"), q.Get("v")
	exp, perr := strconv.ParseInt(q.Get("exp"), 10, 64)
	sig, derr := base64.RawURLEncoding.DecodeString(q.Get("sig"))
	if perr != nil || derr != nil || (variant != "o" && variant != "t") {
		return "", "", "", errBadToken
	}
	want, err := m.mac("download", appKey, mediaID, variant, q.Get("exp"))
	if err != nil {
		return "", "", "", err
	}
	if !hmac.Equal(sig, want) {
		return "", "", "", errBadToken
	}
	if now.Unix() >= exp {
		return "", "", "", errExpired
	}
	return appKey, mediaID, variant, nil
}

var errExpired = errors.New("expired")
