package query

import (
	"testing"

	"github.com/gopbx/gopbx/internal/pbx"
)

func TestParse(t *testing.T) {
	tests := []struct{ in, want string }{
		{"name eq '101'", "name eq '101'"},
		{"caller eq '101' and started_at gt '2022-01-01T00:00:00Z'", "(caller eq '101' and started_at gt '2022-01-01T00:00:00Z')"},
		{"a eq 1 or b eq 2 and c eq 3", "(a eq 1 or (b eq 2 and c eq 3))"},
		{"(a eq 1 or b eq 2) and c ne 'x'", "((a eq 1 or b eq 2) and c ne 'x')"},
		{"startswith(name,'ab') or contains(email, 'o''k')", "(startswith(name,'ab') or contains(email,'o''k'))"},
		{"enabled eq true and not (role eq 'Admin')", "(enabled eq true and not role eq 'Admin')"},
		{"x le -1.5", "x le -1.5"},
		{"x EQ null", "x eq null"},
	}
	for _, tt := range tests {
		e, err := Parse(tt.in)
		if err != nil {
			t.Errorf("Parse(%q): %v", tt.in, err)
			continue
		}
		if got := String(e); got != tt.want {
			t.Errorf("Parse(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

func TestParseErrors(t *testing.T) {
	for _, in := range []string{
		"name", "name eq", "name like 'x'", "name eq 'x", "(name eq 'x'", "name eq 'x')",
		"startswith(name)", "and", "name eq 'x' and", "1 eq 1", "name eq @", "contains(name,1)",
	} {
		_, err := Parse(in)
		if err == nil {
			t.Errorf("Parse(%q): no error", in)
			continue
		}
		if got := pbx.ErrorField(err); got != "filter" {
			t.Errorf("Parse(%q): field %q, want filter", in, got)
		}
	}
}

func TestParseDepth(t *testing.T) {
	s := ""
	for i := 0; i < 100; i++ {
		s += "("
	}
	if _, err := Parse(s + "a eq 1"); err == nil {
		t.Fatal("deep nesting accepted")
	}
}

func TestParseOrderBy(t *testing.T) {
	got, err := ParseOrderBy("caller asc, started_at DESC,name")
	if err != nil {
		t.Fatal(err)
	}
	want := []Order{{"caller", false}, {"started_at", true}, {"name", false}}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("term %d: got %v, want %v", i, got[i], want[i])
		}
	}
	for _, bad := range []string{"name sideways", "a b c", ",", "na-me"} {
		if _, err := ParseOrderBy(bad); pbx.ErrorField(err) != "orderby" {
			t.Errorf("ParseOrderBy(%q): err %v", bad, err)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"a eq 'b'", "startswith(x,'y') and (z ne 1 or w eq true)", "not a eq null"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		e, err := Parse(s)
		if err != nil {
			if pbx.ErrorCode(err) != pbx.EINVALID {
				t.Fatalf("Parse(%q): error kind %q", s, pbx.ErrorCode(err))
			}
			return
		}
		if e == nil {
			return
		}
		// What it prints must parse to the same tree.
		again, err := Parse(String(e))
		if err != nil || String(again) != String(e) {
			t.Fatalf("round trip of %q: %q -> %v %q", s, String(e), err, String(again))
		}
	})
}
