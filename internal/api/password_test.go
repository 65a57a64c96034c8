package api

import "testing"

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
