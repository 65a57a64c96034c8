package media

import (
	"errors"
	"net"
	"testing"
)

// TestPortPoolStart checks that Start picks the first pair handed out and
// that the pool then wraps around the range.
func TestPortPoolStart(t *testing.T) {
	lo, hi := freeRange(t, 6) // three pairs
	p, err := NewPortPool(PortPoolConfig{IP: loopback, MinPort: lo, MaxPort: hi, Quarantine: -1,
		Start: func(n int) int {
			if n != 3 {
				t.Errorf("Start(%d), want 3 pairs", n)
			}
			return 2
		}})
	if err != nil {
		t.Fatal(err)
	}
	var got []int
	for range 3 {
		pr, err := p.Listen()
		if err != nil {
			t.Fatal(err)
		}
		defer pr.Close()
		got = append(got, pr.Port)
	}
	if want := []int{lo + 4, lo, lo + 2}; got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
		t.Errorf("ports %v, want %v", got, want)
	}
}

// TestPortPoolTriesEveryPair has other sockets hold every pair but the
// last of a range longer than any fixed number of tries: Listen still
// finds it, and with that one taken too it answers ErrNoPorts.
func TestPortPoolTriesEveryPair(t *testing.T) {
	const pairs = 80
	lo, hi := freeRange(t, 2*pairs)
	var squatters []*net.UDPConn
	defer func() {
		for _, s := range squatters {
			s.Close()
		}
	}()
	for port := lo; port < lo+2*(pairs-1); port += 2 {
		s, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port})
		if err != nil {
			t.Skipf("port %d: %v", port, err)
		}
		squatters = append(squatters, s)
	}
	p, err := NewPortPool(PortPoolConfig{IP: loopback, MinPort: lo, MaxPort: hi, Quarantine: -1})
	if err != nil {
		t.Fatal(err)
	}
	pr, err := p.Listen()
	if err != nil {
		t.Fatalf("Listen with one free pair of %d: %v", pairs, err)
	}
	defer pr.Close()
	if want := lo + 2*(pairs-1); pr.Port != want {
		t.Errorf("port %d, want the free pair %d", pr.Port, want)
	}
	if _, err := p.Listen(); !errors.Is(err, ErrNoPorts) {
		t.Errorf("Listen with no free pair: %v, want ErrNoPorts", err)
	}
}
