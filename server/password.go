package server

import (
	"crypto/md5"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// Passwords are normalised to the lowercase hex MD5 of the password, as
// JMessage's Web SDK sends them, and that string is stored as a bcrypt
// hash. Clients of jmsg's protocol send the plain password over the
// connection; the normalisation keeps one stored form for every channel.
func normalisePassword(p string) []byte {
	sum := md5.Sum([]byte(p))
	return []byte(hex.EncodeToString(sum[:]))
}

func hashPassword(p string, cost int) ([]byte, error) {
	return bcrypt.GenerateFromPassword(normalisePassword(p), cost)
}

func checkPassword(hash []byte, p string) bool {
	return bcrypt.CompareHashAndPassword(hash, normalisePassword(p)) == nil
}

// tokenTTL is how long a login token stays valid.
const tokenTTL = 30 * 24 * time.Hour

// newToken returns a random login token. Only its SHA-256 is stored.
func newToken() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func hashToken(t string) []byte {
	sum := sha256.Sum256([]byte(t))
	return sum[:]
}
