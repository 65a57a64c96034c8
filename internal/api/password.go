package api

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

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
// policy, length 6..128, on the passwords no tenant policy governs: system
// admins', dealers' and SIP passwords. Web passwords of tenant users go
// through checkTenantPassword. field names the input so the error can say
// which one.
func checkPasswordPolicy(field, pw string) error {
	if len(pw) < 6 {
		return pbx.FieldErrorf(field, "password must have at least 6 characters")
	}
	if len(pw) > 128 {
		return pbx.FieldErrorf(field, "password must have at most 128 characters")
	}
	return nil
}

// passwordRun is how long a run of sequential or repeated characters must
// be for the policy to refuse it: "abcd" and "1234" are sequential runs,
// "aaaa" a repeated one, while "abc", "123" and "aaa" are allowed.
const passwordRun = 4

// minAccountInfo is the shortest user name or extension number that
// disable_account_information looks for: a two-digit extension such as
// "10" would otherwise forbid every password holding "2010".
const minAccountInfo = 3

// passwordRuleViolation returns why pw breaks policy pp, or "" when it
// does not. account holds the user's name and extension number. The rules:
//
//   - min_length, max_length: counted in characters (runes), not bytes.
//   - contains_letters: a Unicode letter; contains_numbers: a digit 0-9;
//     contains_special_letters: any character that is neither a letter nor
//     a digit ("#", "!", a space...).
//   - disable_sequential_characters: no run of passwordRun or more
//     characters that climb or fall by one, letters case-insensitively
//     ("abcd", "DcBa", "1234", "9876"); runs do not wrap ("7890" is fine).
//   - disable_repeating_characters: no passwordRun or more copies of one
//     character in a row, letters case-insensitively ("aaaa", "aAaA", "1111").
//   - disable_account_information: pw does not contain, case-insensitively,
//     any account string of minAccountInfo characters or more.
func passwordRuleViolation(pp passwordPolicy, pw string, account ...string) string {
	n := utf8.RuneCountInString(pw)
	if n < pp.MinLength {
		return fmt.Sprintf("password must have at least %d characters", pp.MinLength)
	}
	if n > pp.MaxLength {
		return fmt.Sprintf("password must have at most %d characters", pp.MaxLength)
	}
	var letter, digit, special bool
	for _, r := range pw {
		switch {
		case unicode.IsLetter(r):
			letter = true
		case r >= '0' && r <= '9':
			digit = true
		default:
			special = true
		}
	}
	switch {
	case pp.ContainsLetters && !letter:
		return "password must contain a letter"
	case pp.ContainsNumbers && !digit:
		return "password must contain a number"
	case pp.ContainsSpecialLetters && !special:
		return "password must contain a special character"
	}
	lower := []rune(strings.ToLower(pw))
	up := func(a, b rune) bool { return b == a+1 && sameClass(a, b) }
	down := func(a, b rune) bool { return b == a-1 && sameClass(a, b) }
	if pp.DisableSequentialCharacters && (hasRun(lower, up) || hasRun(lower, down)) {
		return fmt.Sprintf("password must not contain %d or more sequential characters such as abcd or 1234", passwordRun)
	}
	if pp.DisableRepeatingCharacters && hasRun(lower, func(a, b rune) bool { return a == b }) {
		return fmt.Sprintf("password must not repeat a character %d or more times in a row", passwordRun)
	}
	if pp.DisableAccountInformation {
		for _, a := range account {
			if utf8.RuneCountInString(a) >= minAccountInfo && strings.Contains(string(lower), strings.ToLower(a)) {
				return "password must not contain the user name or extension number"
			}
		}
	}
	return ""
}

// hasRun reports whether s has passwordRun or more runes in a row, each
// following the one before by next.
func hasRun(s []rune, next func(a, b rune) bool) bool {
	run := 1
	for i := 1; i < len(s); i++ {
		if next(s[i-1], s[i]) {
			run++
			if run >= passwordRun {
				return true
			}
		} else {
			run = 1
		}
	}
	return false
}

// sameClass reports whether a and b are both ASCII digits or both ASCII
// lower-case letters, the alphabets sequences are counted in.
func sameClass(a, b rune) bool {
	digit := func(r rune) bool { return r >= '0' && r <= '9' }
	letter := func(r rune) bool { return r >= 'a' && r <= 'z' }
	return digit(a) && digit(b) || letter(a) && letter(b)
}

// checkTenantPassword enforces a tenant's password policy on a web password
// of one of its users: a 400 VALIDATE_FAILED naming field, with a message
// saying which rule failed.
func checkTenantPassword(pp passwordPolicy, field, pw string, account ...string) error {
	if why := passwordRuleViolation(pp, pw, account...); why != "" {
		return pbx.FieldErrorf(field, "%s", why)
	}
	return nil
}
