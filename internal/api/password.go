package api

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"strings"

	"golang.org/x/crypto/argon2"

	"github.com/gopbx/gopbx/internal/pbx"
)

// HashParams are the argon2id cost parameters of web passwords.
type HashParams struct {
	Memory  uint32 // KiB
	Time    uint32
	Threads uint8
}

// DefaultHashParams is OWASP's baseline for argon2id (19 MiB, 2 passes, 1
// lane): about 22 ms a hash on the 2-vCPU machines here, well under the
// 100 ms login budget.
var DefaultHashParams = HashParams{Memory: 19 * 1024, Time: 2, Threads: 1}

// hashPassword returns pw as a PHC-format argon2id string.
func hashPassword(p HashParams, pw string) (string, error) {
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	key := argon2.IDKey([]byte(pw), salt, p.Time, p.Memory, p.Threads, 32)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.Memory, p.Time, p.Threads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key)), nil
}

// checkPassword reports whether pw matches an argon2id PHC string. It reads
// the parameters from the hash, so raising the default cost keeps old
// hashes working.
func checkPassword(hash, pw string) bool {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false
	}
	var m, t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil || m == 0 || t == 0 || p == 0 || m > 1<<20 || t > 64 {
		return false
	}
	salt, err1 := base64.RawStdEncoding.DecodeString(parts[4])
	want, err2 := base64.RawStdEncoding.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(want) == 0 {
		return false
	}
	got := argon2.IDKey([]byte(pw), salt, t, m, p, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1
}

// randomToken returns n random bytes as unpadded base64url text.
func randomToken(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on Linux; a broken kernel RNG is not survivable
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// GeneratePassword returns a random password that meets PortSIP's default
// policy (letters, digits and a special character).
func GeneratePassword() string {
	return "Pb1!" + randomToken(12)
}

// checkPasswordPolicy enforces the basics of PortSIP's default password
// policy: length 6..32 (tenants may tighten it later). field names the
// input so the error can say which one.
func checkPasswordPolicy(field, pw string) error {
	if len(pw) < 6 {
		return pbx.FieldErrorf(field, "password must have at least 6 characters")
	}
	if len(pw) > 128 {
		return pbx.FieldErrorf(field, "password must have at most 128 characters")
	}
	return nil
}
