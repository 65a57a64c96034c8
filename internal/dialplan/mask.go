package dialplan

import "strings"

// matchMask reports whether number matches mask. A mask is matched over the
// whole number, character by character: '*', 'x' and 'X' match any one
// character and every other character matches itself. PortSIP documents '*'
// as the wildcard of the CID number mask ("0044**********" identifies a UK
// caller); we read the outbound number_mask the same way and also accept
// 'x'/'X', the usual PBX spelling, since neither is a dialable digit in a
// mask.
func matchMask(mask, number string) bool {
	if len(mask) != len(number) {
		return false
	}
	for i := 0; i < len(mask); i++ {
		switch m := mask[i]; m {
		case '*', 'x', 'X':
		default:
			if m != number[i] {
				return false
			}
		}
	}
	return true
}

// matchAnyMask reports whether number matches any of masks. An empty list
// matches everything.
func matchAnyMask(masks []string, number string) bool {
	if len(masks) == 0 {
		return true
	}
	for _, m := range masks {
		if matchMask(m, number) {
			return true
		}
	}
	return false
}

// splitList splits a PortSIP list field. The portal documents ';' ("00;123;88")
// and the DID field ','; both are accepted, and spaces around items and empty
// items are dropped.
func splitList(s string) []string {
	f := strings.FieldsFunc(s, func(r rune) bool { return r == ';' || r == ',' })
	out := f[:0]
	for _, x := range f {
		if x = strings.TrimSpace(x); x != "" {
			out = append(out, x)
		}
	}
	return out
}
