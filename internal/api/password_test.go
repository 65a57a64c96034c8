package api

import (
	"strings"
	"testing"
)

func TestPasswordHash(t *testing.T) {
	p := HashParams{Memory: 1024, Time: 1, Threads: 1}
	h, err := hashPassword(p, "s3cret!")
	if err != nil {
		t.Fatal(err)
	}
	if !checkPassword(h, "s3cret!") {
		t.Error("right password rejected")
	}
	if checkPassword(h, "s3cret") {
		t.Error("wrong password accepted")
	}
	for _, bad := range []string{"", "$argon2id$v=19$m=0,t=1,p=1$AA$AA", "plain", h + "x$"} {
		if checkPassword(bad, "s3cret!") {
			t.Errorf("malformed hash %q accepted", bad)
		}
	}
}

func TestPasswordRuleViolation(t *testing.T) {
	def := defaultPasswordPolicy()
	loose := passwordPolicy{MinLength: 6, MaxLength: 32}
	for _, c := range []struct {
		name string
		pp   passwordPolicy
		pw   string
		want string // a substring of the violation; "" for none
	}{
		{"ok", def, "Secret#123", ""},
		{"a year is no sequence", def, "Bob#2026x", ""},
		{"too short", def, "Ab#1", "at least 6"},
		{"too long", def, "Abc#1" + strings.Repeat("x1", 14), "at most 32"},
		{"length in runes", def, "Été#1ü", ""},
		{"no letter", def, "1357#2468", "letter"},
		{"no number", def, "Secret#pw", "number"},
		{"no special", def, "Secret123", "special"},
		{"space is special", def, "Sec ret12", ""},
		{"ascending digits", def, "Pass#1234", "sequential"},
		{"descending digits", def, "Pass#9876", "sequential"},
		{"ascending letters", def, "xABCD#19", "sequential"},
		{"descending letters", def, "xdcba#19", "sequential"},
		{"three in a row is fine", def, "abc#135x", ""},
		{"no wrap", def, "Pw#7890x", ""},
		{"digit then letter", def, "Pw#789a1", ""},
		{"repeated", def, "Pw#1aaaa", "repeat"},
		{"repeated any case", def, "Pw#1aAaA", "repeat"},
		{"repeated special", def, "Pw#1!!!!", "repeat"},
		{"three repeats fine", def, "Pw#1aaa2", ""},
		{"user name", def, "Alice#2026", "user name"},
		{"extension", def, "Pw#x1017", "extension"},
		{"short account ignored", def, "Pw#x1017", ""},
		{"loose sequences", loose, "abcd1234", ""},
		{"loose classes", loose, "aaaaaaaa", ""},
		{"loose account", loose, "alice101", ""},
		{"min length raised", passwordPolicy{MinLength: 12, MaxLength: 32}, "Secret#123", "at least 12"},
	} {
		t.Run(c.name, func(t *testing.T) {
			account := []string{"alice", "101"}
			if c.name == "short account ignored" {
				account = []string{"al", "10"}
			}
			got := passwordRuleViolation(c.pp, c.pw, account...)
			if c.want == "" && got != "" || c.want != "" && !strings.Contains(got, c.want) {
				t.Errorf("passwordRuleViolation(%q) = %q, want %q", c.pw, got, c.want)
			}
		})
	}
}
