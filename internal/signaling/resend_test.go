package signaling_test

import (
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/gopbx/gopbx/internal/signaling"
)

// rawPhone sends hand-made REGISTERs over UDP, so that a test can
// retransmit and replay them byte for byte.
type rawPhone struct {
	t    *testing.T
	conn net.PacketConn
	to   net.Addr
}

func newRawPhone(t *testing.T, server string) *rawPhone {
	t.Helper()
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	to, err := net.ResolveUDPAddr("udp", server)
	if err != nil {
		t.Fatal(err)
	}
	return &rawPhone{t: t, conn: conn, to: to}
}

// register builds a REGISTER of extension 101 in transaction branch with
// CSeq cseq, Expires expires and, when nonce is not empty, digest
// credentials with nonce count nc.
func (p *rawPhone) register(branch string, cseq, expires int, nonce string, nc int) []byte {
	uri := "sip:" + domain
	var auth string
	if nonce != "" {
		ncs := fmt.Sprintf("%08x", nc)
		h := func(s string) string { sum := md5.Sum([]byte(s)); return hex.EncodeToString(sum[:]) }
		ha1 := h("101:" + domain + ":" + password)
		ha2 := h("REGISTER:" + uri)
		resp := h(ha1 + ":" + nonce + ":" + ncs + ":cn0:auth:" + ha2)
		auth = fmt.Sprintf("Authorization: Digest username=\"101\", realm=\"%s\", nonce=\"%s\", uri=\"%s\", "+
			"response=\"%s\", algorithm=MD5, qop=auth, nc=%s, cnonce=\"cn0\"\r\n", domain, nonce, uri, resp, ncs)
	}
	local := p.conn.LocalAddr().String()
	msg := "REGISTER " + uri + " SIP/2.0\r\n" +
		"Via: SIP/2.0/UDP " + local + ";branch=z9hG4bK" + branch + ";rport\r\n" +
		"Max-Forwards: 70\r\n" +
		"From: <sip:101@" + domain + ">;tag=f1\r\n" +
		"To: <sip:101@" + domain + ">\r\n" +
		"Call-ID: resend-test\r\n" +
		fmt.Sprintf("CSeq: %d REGISTER\r\n", cseq) +
		"Contact: <sip:101@" + local + ">\r\n" +
		fmt.Sprintf("Expires: %d\r\n", expires) +
		auth +
		"Content-Length: 0\r\n\r\n"
	return []byte(msg)
}

// send sends msg and returns the response to it.
func (p *rawPhone) send(msg []byte) *sip.Response {
	p.t.Helper()
	if _, err := p.conn.WriteTo(msg, p.to); err != nil {
		p.t.Fatal(err)
	}
	buf := make([]byte, 65535)
	p.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, _, err := p.conn.ReadFrom(buf)
	if err != nil {
		p.t.Fatalf("no answer: %v", err)
	}
	m, err := sip.ParseMessage(buf[:n])
	if err != nil {
		p.t.Fatalf("answer unreadable: %v\n%s", err, buf[:n])
	}
	res, ok := m.(*sip.Response)
	if !ok {
		p.t.Fatalf("got a request: %s", m.String())
	}
	return res
}

// nonceOf returns the nonce of the MD5 challenge of res.
func nonceOf(t *testing.T, res *sip.Response) string {
	t.Helper()
	for _, h := range res.GetHeaders("WWW-Authenticate") {
		v := h.Value()
		if !strings.Contains(v, "MD5") && strings.Contains(v, "algorithm=") {
			continue
		}
		_, rest, ok := strings.Cut(v, `nonce="`)
		if nonce, _, ok2 := strings.Cut(rest, `"`); ok && ok2 {
			return nonce
		}
	}
	t.Fatalf("no MD5 challenge in %s", res.String())
	return ""
}

// A REGISTER over UDP is answered without keeping its transaction, so its
// retransmissions reach the edge again: a retransmitted challenge gets a
// challenge, a retransmitted accepted REGISTER gets 200 with the current
// bindings and changes nothing, and a replay (the same credentials in
// another transaction, or after a newer nonce count, or after the
// retransmission window) is still refused.
func TestRegisterRetransmissionAndReplay(t *testing.T) {
	clk := &clock{t: time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)}
	e := newEnv(t, func(c *signaling.Config) { c.Now = clk.now })
	ctx := ctxT(t)
	p := newRawPhone(t, e.srv.Addr("udp"))
	t0 := clk.now()
	expiresAt := func() []time.Time {
		t.Helper()
		bs, err := e.srv.Registrar().Contacts(ctx, e.tenant.ID, "101")
		if err != nil {
			t.Fatal(err)
		}
		var out []time.Time
		for _, b := range bs {
			out = append(out, b.ExpiresAt)
		}
		return out
	}

	first := p.register("a1", 1, 300, "", 0)
	res := p.send(first)
	if res.StatusCode != 401 {
		t.Fatalf("first REGISTER: got %s, want 401", res.Short())
	}
	if res = p.send(first); res.StatusCode != 401 {
		t.Fatalf("its retransmission: got %s, want 401", res.Short())
	}
	nonce := nonceOf(t, res)

	reg := p.register("a2", 2, 300, nonce, 1)
	if res = p.send(reg); res.StatusCode != 200 || !strings.Contains(res.GetHeader("Contact").Value(), "expires=300") {
		t.Fatalf("REGISTER: got %s, want 200 with expires=300", res.String())
	}
	// 5 s on, a retransmission is answered anew (the transaction is gone,
	// or the expiry would still read 300) and moves nothing.
	clk.advance(5 * time.Second)
	if res = p.send(reg); res.StatusCode != 200 || !strings.Contains(res.GetHeader("Contact").Value(), "expires=295") {
		t.Fatalf("retransmitted REGISTER: got %s, want 200 with expires=295", res.String())
	}
	if got := expiresAt(); len(got) != 1 || !got[0].Equal(t0.Add(300*time.Second)) {
		t.Fatalf("binding expires at %v, want [%v]", got, t0.Add(300*time.Second))
	}

	// The same credentials in a new transaction: a replay.
	if res = p.send(p.register("a3", 3, 300, nonce, 1)); res.StatusCode != 401 {
		t.Fatalf("replay in a new transaction: got %s, want 401", res.Short())
	}
	if got := expiresAt(); len(got) != 1 || !got[0].Equal(t0.Add(300*time.Second)) {
		t.Fatalf("after the replay the binding expires at %v, want [%v]", got, t0.Add(300*time.Second))
	}

	// Unregister with the next count; the first REGISTER, resent, may not
	// bring the binding back.
	unreg := p.register("a4", 4, 0, nonce, 2)
	if res = p.send(unreg); res.StatusCode != 200 || res.GetHeader("Contact") != nil {
		t.Fatalf("unregister: got %s, want 200 without Contact", res.String())
	}
	if res = p.send(reg); res.StatusCode != 401 {
		t.Fatalf("old REGISTER after a newer count: got %s, want 401", res.Short())
	}
	if res = p.send(unreg); res.StatusCode != 200 || res.GetHeader("Contact") != nil {
		t.Fatalf("retransmitted unregister: got %s, want 200 without Contact", res.String())
	}
	if got := expiresAt(); len(got) != 0 {
		t.Fatalf("bindings expire at %v, want none", got)
	}
	// Past the retransmission window the same bytes are a replay.
	clk.advance(33 * time.Second)
	if res = p.send(unreg); res.StatusCode != 401 {
		t.Fatalf("unregister resent after 38 s: got %s, want 401", res.Short())
	}
}
