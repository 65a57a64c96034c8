package siptest

import (
	"errors"
	"net"
	"testing"
)

// FreeUDPRange returns n consecutive UDP ports on 127.0.0.1, starting at an
// even port, that were all free a moment ago: a range for a media port pool
// under test. The operating system picks the area (a :0 bind), so tests
// never depend on fixed ports.
func FreeUDPRange(tb testing.TB, n int) (lo, hi int) {
	tb.Helper()
	lo, err := freeUDPRange(n)
	if err != nil {
		tb.Fatal(err)
	}
	return lo, lo + n - 1
}

// freeUDPRange is FreeUDPRange for callers without a testing.TB: it returns
// the first port of the range.
func freeUDPRange(n int) (int, error) {
	for try := 0; try < 50; try++ {
		c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			return 0, err
		}
		base := c.LocalAddr().(*net.UDPAddr).Port
		c.Close()
		base += base % 2
		if base+n > 65535 {
			continue
		}
		ok := true
		var held []*net.UDPConn
		for p := base; p < base+n; p++ {
			c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: p})
			if err != nil {
				ok = false
				break
			}
			held = append(held, c)
		}
		for _, c := range held {
			c.Close()
		}
		if ok {
			return base, nil
		}
	}
	return 0, errors.New("no free udp port range")
}
