package signaling_test

import (
	"bufio"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// tortureDir holds the RFC 4475 messages, one per .dat file.
const tortureDir = "../../../shared/testdata/rfc4475"

// tortureValid are the requests of RFC 4475 section 3.1.1: unusual but
// valid, so the server must answer them. The section's two responses
// (unreason, noreason) match no transaction and are dropped, and dblreq is
// two requests in one UDP datagram, whose framing TCP does not share.
var tortureValid = map[string]bool{
	"wsinv": true, "intmeth": true, "esc01": true, "escnull": true, "esc02": true, "lwsdisp": true,
	"longreq": true, "semiuri": true, "transports": true, "mpart01": true,
}

// tortureInvalid are the messages of RFC 4475 sections 3.1.2 and 3.2:
// syntactically invalid, so they must not be accepted with a 2xx.
var tortureInvalid = map[string]bool{
	"badinv01": true, "clerr": true, "scalar02": true, "scalarlg": true, "quotbal": true, "ltgtruri": true,
	"lwsruri": true, "lwsstart": true, "trws": true, "escruri": true, "baddate": true, "regbadct": true,
	"badaspec": true, "baddn": true, "badvers": true, "mismatch01": true, "mismatch02": true, "bigcode": true,
}

// TestTorture sends every RFC 4475 message raw over TCP, then over UDP. A
// valid message gets an answer over TCP (where the answer comes back on the
// same connection whatever its Via says); an invalid one gets no 2xx; and
// after each one an OPTIONS still gets 200, so the server neither crashed
// nor hung. TCP goes one message at a time, because many messages share a
// branch and would match each other's transactions.
func TestTorture(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(tortureDir, "*.dat"))
	if len(files) == 0 {
		t.Skipf("no RFC 4475 messages in %s: the shared testdata folder is absent", tortureDir)
	}
	for _, tr := range []string{"tcp", "udp"} {
		t.Run(tr, func(t *testing.T) {
			e := newEnv(t, func(c *signalingConfig) { c.RateLimit = -1 })
			ua := e.ua(t, "udp", "999", "")
			var mu sync.Mutex
			var wg sync.WaitGroup
			for _, f := range files {
				name := strings.TrimSuffix(filepath.Base(f), ".dat")
				msg, err := os.ReadFile(f)
				if err != nil {
					t.Fatal(err)
				}
				check := func() {
					status := sendRaw(t, tr, e.srv.Addr(tr), msg)
					mu.Lock()
					defer mu.Unlock()
					switch {
					case tr == "tcp" && tortureValid[name] && status == 0:
						t.Errorf("%s: valid message got no answer", name)
					case tortureInvalid[name] && status >= 200 && status < 300:
						t.Errorf("%s: invalid message got %d", name, status)
					}
					t.Logf("%-11s %d", name, status)
					res, err := ua.Options(ctxT(t))
					if err != nil || res.StatusCode != 200 {
						t.Errorf("after %s: OPTIONS = %v, %v", name, res, err)
					}
				}
				if tr == "tcp" {
					check()
					continue
				}
				wg.Add(1)
				go func() { defer wg.Done(); check() }()
			}
			wg.Wait()
		})
	}
}

// sendRaw sends msg to addr and returns the status of the first answer that
// comes back within 300 ms, or 0. Over UDP only answers to our own socket
// count, and most torture messages direct theirs elsewhere through Via.
func sendRaw(t *testing.T, transport, addr string, msg []byte) int {
	conn, err := net.Dial(transport, addr)
	if err != nil {
		t.Errorf("dial %s: %v", transport, err)
		return 0
	}
	defer conn.Close()
	if _, err := conn.Write(msg); err != nil {
		return 0
	}
	conn.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		return 0
	}
	f := strings.Fields(line)
	if len(f) < 2 || f[0] != "SIP/2.0" {
		return 0
	}
	n, _ := strconv.Atoi(f[1])
	return n
}
