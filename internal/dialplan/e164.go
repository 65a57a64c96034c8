package dialplan

import "strings"

// E164Config mirrors the tenant e164 object of PortSIP PBX v22 (portal
// "Codes and E164 → E164"; facts §10.9, API reference tenant schema).
type E164Config struct {
	// Enabled is "Process E.164 numbers": rewrite numbers that begin with '+'.
	Enabled bool
	// InternationalCode is the local international access code, for example
	// "011" in the US or "00" in most of Europe.
	InternationalCode string
	// Country is the tenant's own country calling code in digits, for example
	// "1" or "44". PortSIP's portal selects a country by name; the caller
	// converts that to its calling code.
	Country string
	// AreaCode is the tenant's own area code, for example "813".
	AreaCode string
	// NationalCode is the national (trunk) prefix dialled before an area code
	// within the country, for example "0" in the UK or "8" in Russia.
	NationalCode string
	// Prefix is added in front of every processed E.164 number.
	Prefix string
	// RemoveSpecialChars removes '(', ')', spaces, '-' and '.' from every number.
	RemoveSpecialChars bool
	// RemoveDuplicateCountries is "Remove country code for same country".
	RemoveDuplicateCountries bool
	// RemoveDuplicateAreaCodes is "Remove if same area code".
	RemoveDuplicateAreaCodes bool
}

// Normalize rewrites a dialled number by the tenant's E.164 rules, which
// PortSIP applies before outbound rules (facts §10.9, KB chapter 18
// "E.164 number processing"). The rules, in the order applied:
//
//  1. If RemoveSpecialChars, the characters '(', ')', ' ', '-' and '.' are
//     removed from the whole number, whether or not it is in E.164 form.
//     The facts name parentheses and spaces; '-' and '.' are the other
//     visual separators of printed numbers and are never dialable, so they
//     go too.
//  2. If Enabled is false, or the number does not begin with '+', the number
//     is returned as it stands after rule 1.
//  3. The '+' is dropped, leaving the country code and subscriber digits.
//  4. Same country: if RemoveDuplicateCountries and the digits begin with
//     Country, the country code is removed (+12345678910 → 2345678910), and:
//     a. Same area: if also RemoveDuplicateAreaCodes and the remainder begins
//     with AreaCode, the area code is removed too, leaving a local number
//     (area 813: +181345678910 → 45678910). A local number gets no national
//     code: within the area it is dialled bare.
//     b. Otherwise NationalCode is put in front (national code 8:
//     +12345678910 → 82345678910).
//  5. Any other number, including a same-country number when
//     RemoveDuplicateCountries is off, is international: InternationalCode
//     is put in front of the digits (011: +44123456789 → 01144123456789).
//  6. Prefix is put in front of the result of rules 4 and 5 (prefix 2:
//     +12345678910 → 22345678910). It is not added to numbers that were not
//     in E.164 form, because the facts list it among the E.164 rewrites.
//
// Area-code removal is only tried after the country code was removed,
// because an area code means nothing outside its own country.
// Normalize never fails: input that is not a number is returned rewritten by
// rule 1 only, or with the rules applied to whatever follows '+'.
func Normalize(cfg E164Config, dialled string) string {
	n := dialled
	if cfg.RemoveSpecialChars {
		n = removeSpecialChars(n)
	}
	if !cfg.Enabled || !strings.HasPrefix(n, "+") {
		return n
	}
	digits := n[1:]
	var out string
	if rest, ok := cutPrefix(digits, cfg.Country); ok && cfg.RemoveDuplicateCountries {
		if local, ok := cutPrefix(rest, cfg.AreaCode); ok && cfg.RemoveDuplicateAreaCodes {
			out = local
		} else {
			out = cfg.NationalCode + rest
		}
	} else {
		out = cfg.InternationalCode + digits
	}
	return cfg.Prefix + out
}

// IsInternational reports whether a normalized number is an international
// call: it begins with the tenant's international code. PortSIP checks such
// calls against the blacklist, the allowed country codes and the caller's
// international_calls permission (facts §10.9); that policy lives with the
// caller.
func IsInternational(cfg E164Config, normalized string) bool {
	if cfg.InternationalCode == "" {
		return false
	}
	return strings.HasPrefix(strings.TrimPrefix(normalized, cfg.Prefix), cfg.InternationalCode)
}

// cutPrefix is strings.CutPrefix that refuses an empty prefix, so an unset
// country or area code never counts as a match.
func cutPrefix(s, prefix string) (string, bool) {
	if prefix == "" {
		return s, false
	}
	return strings.CutPrefix(s, prefix)
}

func isSpecial(c byte) bool {
	switch c {
	case '(', ')', ' ', '-', '.':
		return true
	}
	return false
}

func removeSpecialChars(s string) string {
	i := 0
	for i < len(s) && !isSpecial(s[i]) {
		i++
	}
	if i == len(s) {
		return s // common case: nothing to remove, no allocation
	}
	b := make([]byte, 0, len(s))
	b = append(b, s[:i]...)
	for ; i < len(s); i++ {
		if !isSpecial(s[i]) {
			b = append(b, s[i])
		}
	}
	return string(b)
}
