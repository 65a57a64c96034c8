package main

import (
	"bytes"
	"errors"
	"flag"
	"strings"
	"testing"
)

// TestPprofFlag checks that --pprof takes loopback addresses only and stays
// out of -help.
func TestPprofFlag(t *testing.T) {
	for _, tt := range []struct {
		addr string
		ok   bool
	}{
		{"", true},
		{"127.0.0.1:6060", true},
		{"[::1]:6060", true},
		{"localhost:0", true},
		{":6060", false},
		{"0.0.0.0:6060", false},
		{"192.0.2.1:6060", false},
		{"127.0.0.1", false},
	} {
		if err := checkPprofAddr(tt.addr); (err == nil) != tt.ok {
			t.Errorf("checkPprofAddr(%q) = %v, want ok %v", tt.addr, err, tt.ok)
		}
	}

	var out bytes.Buffer
	c := NewConfig()
	err := c.parse([]string{"-help"}, func(string) string { return "" }, &out)
	if !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("parse -help = %v, want flag.ErrHelp", err)
	}
	if got := out.String(); strings.Contains(got, "pprof") || !strings.Contains(got, "-sip-udp") {
		t.Errorf("help lists pprof, or lacks the other flags:\n%s", got)
	}
}
