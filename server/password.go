package server

import (
	"crypto/md5"
	"encoding/hex"

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
