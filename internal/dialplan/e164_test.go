package dialplan

import (
	"strings"
	"testing"
)

func TestNormalize(t *testing.T) {
	us := E164Config{
		Enabled:                  true,
		InternationalCode:        "011",
		Country:                  "1",
		RemoveDuplicateCountries: true,
		RemoveDuplicateAreaCodes: true,
	}
	with := func(f func(*E164Config)) E164Config {
		c := us
		f(&c)
		return c
	}
	tests := []struct {
		name    string
		cfg     E164Config
		dialled string
		want    string
	}{
		{"disabled leaves plus", E164Config{InternationalCode: "011"}, "+44123456789", "+44123456789"},
		{"international code", us, "+44123456789", "01144123456789"},
		{"same country removed", us, "+12345678910", "2345678910"},
		{"same country kept when off", with(func(c *E164Config) { c.RemoveDuplicateCountries = false }), "+12345678910", "01112345678910"},
		{"same area removed", with(func(c *E164Config) { c.AreaCode = "813" }), "+181345678910", "45678910"},
		{"same area kept when off", with(func(c *E164Config) { c.AreaCode = "813"; c.RemoveDuplicateAreaCodes = false }), "+181345678910", "81345678910"},
		{"other area keeps area", with(func(c *E164Config) { c.AreaCode = "813" }), "+12125551234", "2125551234"},
		{"national code", with(func(c *E164Config) { c.NationalCode = "8" }), "+12345678910", "82345678910"},
		{"national code not on local", with(func(c *E164Config) { c.NationalCode = "8"; c.AreaCode = "813" }), "+181345678910", "45678910"},
		{"national code not on international", with(func(c *E164Config) { c.NationalCode = "8" }), "+44123", "01144123"},
		{"prefix", with(func(c *E164Config) { c.Prefix = "2" }), "+12345678910", "22345678910"},
		{"prefix on international", with(func(c *E164Config) { c.Prefix = "9" }), "+44123", "901144123"},
		{"prefix not on plain number", with(func(c *E164Config) { c.Prefix = "9" }), "5551234", "5551234"},
		{"special chars removed", with(func(c *E164Config) { c.RemoveSpecialChars = true }), "(555) 123-4567", "5551234567"},
		{"special chars kept when off", us, "(555) 123", "(555) 123"},
		{"special chars then e164", with(func(c *E164Config) { c.RemoveSpecialChars = true }), "+1 (234) 567-8910", "2345678910"},
		{"special chars even when disabled", E164Config{RemoveSpecialChars: true}, "+44 (20) 1234", "+44201234"},
		{"no country configured", with(func(c *E164Config) { c.Country = "" }), "+12345", "01112345"},
		{"uk all rules", E164Config{Enabled: true, InternationalCode: "00", Country: "44", AreaCode: "20", NationalCode: "0",
			Prefix: "9", RemoveSpecialChars: true, RemoveDuplicateCountries: true, RemoveDuplicateAreaCodes: true}, "+44 161 496 0000", "901614960000"},
		{"uk london local", E164Config{Enabled: true, InternationalCode: "00", Country: "44", AreaCode: "20", NationalCode: "0",
			RemoveSpecialChars: true, RemoveDuplicateCountries: true, RemoveDuplicateAreaCodes: true}, "+44 20 7946 0000", "79460000"},
		{"bare plus", us, "+", "011"},
		{"empty", us, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Normalize(tt.cfg, tt.dialled); got != tt.want {
				t.Errorf("Normalize(%q) = %q, want %q", tt.dialled, got, tt.want)
			}
		})
	}
}

func TestIsInternational(t *testing.T) {
	cfg := E164Config{Enabled: true, InternationalCode: "011", Country: "1", RemoveDuplicateCountries: true}
	for _, tt := range []struct {
		n    string
		want bool
	}{{Normalize(cfg, "+44123"), true}, {Normalize(cfg, "+1234"), false}, {"01133", true}, {"5551234", false}} {
		if got := IsInternational(cfg, tt.n); got != tt.want {
			t.Errorf("IsInternational(%q) = %v, want %v", tt.n, got, tt.want)
		}
	}
	if IsInternational(E164Config{}, "011") {
		t.Error("IsInternational with no international code = true, want false")
	}
}

func FuzzNormalize(f *testing.F) {
	for _, s := range []string{"+44123456789", "+181345678910", "(555) 123-4567", "+", "", "++1", "+1 (", "\xff+1"} {
		f.Add(s, true, true)
	}
	f.Fuzz(func(t *testing.T, dialled string, enabled, special bool) {
		cfg := E164Config{Enabled: enabled, InternationalCode: "011", Country: "1", AreaCode: "813",
			NationalCode: "0", Prefix: "9", RemoveSpecialChars: special, RemoveDuplicateCountries: true, RemoveDuplicateAreaCodes: true}
		got := Normalize(cfg, dialled)
		if special && strings.ContainsAny(got, "() -.") {
			t.Errorf("Normalize(%q) = %q still has special characters", dialled, got)
		}
		if !enabled && !special && got != dialled {
			t.Errorf("Normalize(%q) with everything off = %q, want input unchanged", dialled, got)
		}
	})
}
