package prompts

import (
	"math"
	"strconv"
	"strings"
	"time"
)

// Number returns the prompts that say n in words, the American way without
// "and": 1234 is 1 thousand 2 hundred 30 4, and -5 is minus 5.
func Number(n int) []string {
	if n == 0 {
		return []string{"0"}
	}
	var out []string
	u := uint64(n)
	if n < 0 {
		out = append(out, "minus")
		u = -u // two's complement, so math.MinInt works too
	}
	return appendNumber(out, u)
}

// appendNumber appends the prompts of n > 0. Beyond "million" the larger
// unit is said as a number of millions: 5e9 is 5 thousand million.
func appendNumber(out []string, n uint64) []string {
	if n >= 1_000_000 {
		out = appendNumber(out, n/1_000_000)
		out = append(out, "million")
		n %= 1_000_000
	}
	if n >= 1000 {
		out = appendNumber(out, n/1000)
		out = append(out, "thousand")
		n %= 1000
	}
	if n >= 100 {
		out = append(out, strconv.FormatUint(n/100, 10), "hundred")
		n %= 100
	}
	switch {
	case n == 0:
	case n < 20:
		out = append(out, strconv.FormatUint(n, 10))
	default:
		out = append(out, strconv.FormatUint(n/10*10, 10))
		if n%10 != 0 {
			out = append(out, strconv.FormatUint(n%10, 10))
		}
	}
	return out
}

// Digits returns the prompts that say s digit by digit, as for an extension
// or phone number: "*" is "star" and "#" is "pound". Other characters, such
// as "+" or spaces, are skipped.
func Digits(s string) []string {
	out := make([]string, 0, len(s))
	for _, c := range s {
		switch {
		case '0' <= c && c <= '9':
			out = append(out, string(c))
		case c == '*':
			out = append(out, "star")
		case c == '#':
			out = append(out, "pound")
		}
	}
	return out
}

// Count returns the prompts that say n of something, with singular after 1
// and plural otherwise: Count(0, "vm/new-message", "vm/new-messages") says
// "no new messages" and Count(3, ...) "three new messages".
func Count(n int, singular, plural string) []string {
	switch n {
	case 0:
		return []string{"no", plural}
	case 1:
		return []string{"1", singular}
	}
	return append(Number(n), plural)
}

// TimeOfDay returns the prompts that say the clock time of t on a 12-hour
// clock: 9 oh 5 A.M., 9 o'clock A.M., 12 30 P.M.
func TimeOfDay(t time.Time) []string {
	h, m := t.Hour(), t.Minute()
	ampm := "am"
	if h >= 12 {
		ampm = "pm"
	}
	h %= 12
	if h == 0 {
		h = 12
	}
	out := Number(h)
	switch {
	case m == 0:
		out = append(out, "oclock")
	case m < 10:
		out = append(out, "oh", strconv.Itoa(m))
	default:
		out = append(out, Number(m)...)
	}
	return append(out, ampm)
}

// TimeOfDay24 returns the prompts that say the clock time of t on a
// 24-hour clock, as it is read aloud: 14 30, 9 oh 5 as "oh 9 oh 5", 18
// hundred, and midnight's hour as "0 0".
func TimeOfDay24(t time.Time) []string {
	h, m := t.Hour(), t.Minute()
	var out []string
	switch {
	case h == 0:
		out = append(out, "0", "0")
	case h < 10:
		out = append(out, "oh", strconv.Itoa(h))
	default:
		out = append(out, Number(h)...)
	}
	switch {
	case m == 0:
		out = append(out, "hundred")
	case m < 10:
		out = append(out, "oh", strconv.Itoa(m))
	default:
		out = append(out, Number(m)...)
	}
	return out
}

// DateTime returns the prompts that say when t was, relative to now, in
// now's location (pass now in the tenant's time zone): "today" or
// "yesterday", "on" and the weekday within the last week, otherwise "on",
// the month and the ordinal day, and the year if it is not now's year; then
// "at" and the time of day: TimeOfDay24 with h24, else TimeOfDay. A
// voicemail envelope plays "received" before it.
func DateTime(t, now time.Time, h24 bool) []string {
	loc := now.Location()
	t = t.In(loc)
	y, m, d := t.Date()
	ny, nm, nd := now.Date()
	// Whole calendar days between the two dates; rounding absorbs the hour
	// that a daylight saving change adds or removes.
	days := int(math.Round(time.Date(ny, nm, nd, 0, 0, 0, 0, loc).
		Sub(time.Date(y, m, d, 0, 0, 0, 0, loc)).Hours() / 24))
	var out []string
	switch {
	case days == 0:
		out = append(out, "today")
	case days == 1:
		out = append(out, "yesterday")
	case days > 1 && days < 7:
		out = append(out, "on", strings.ToLower(t.Weekday().String()))
	default:
		out = append(out, "on", strings.ToLower(m.String()), ordinal(d))
		if y != ny {
			out = append(out, Number(y)...)
		}
	}
	out = append(out, "at")
	if h24 {
		return append(out, TimeOfDay24(t)...)
	}
	return append(out, TimeOfDay(t)...)
}

// ordinal returns the prompt name of day d of a month: 1st, 2nd, 23rd, 11th.
func ordinal(d int) string {
	suffix := "th"
	switch d % 10 {
	case 1:
		suffix = "st"
	case 2:
		suffix = "nd"
	case 3:
		suffix = "rd"
	}
	if d%100/10 == 1 {
		suffix = "th"
	}
	return strconv.Itoa(d) + suffix
}
