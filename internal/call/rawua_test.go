package call_test

import (
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
)

// rawUA is a caller phone written by hand on a UDP socket: the test sees
// every message on the wire, retransmissions included, and decides what
// to answer and when.
type rawUA struct {
	t           *testing.T
	ext         string
	conn        *net.UDPConn
	addr        netip.AddrPort
	pbx         netip.AddrPort
	rtp         *net.UDPConn
	cseq        uint32
	callID, tag string
	// the dialog, once the INVITE got a 2xx
	remoteTag string
	target    sip.Uri
}

func newRawUA(t *testing.T, ext string, pbx netip.AddrPort) *rawUA {
	t.Helper()
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	rtp, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(); rtp.Close() })
	return &rawUA{
		t: t, ext: ext, conn: conn, addr: conn.LocalAddr().(*net.UDPAddr).AddrPort(), pbx: pbx, rtp: rtp,
		callID: sip.GenerateTagN(16) + "@raw", tag: sip.GenerateTagN(8),
	}
}

func (u *rawUA) sdp() []byte {
	return []byte(fmt.Sprintf("v=0\r\no=%s 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"+
		"m=audio %d RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=sendrecv\r\n", u.ext, u.rtp.LocalAddr().(*net.UDPAddr).Port))
}

func (u *rawUA) send(msg sip.Message) {
	u.t.Helper()
	if _, err := u.conn.WriteToUDPAddrPort([]byte(msg.String()), u.pbx); err != nil {
		u.t.Fatal(err)
	}
}

// read returns the next message within d, or nil.
func (u *rawUA) read(d time.Duration) sip.Message {
	u.t.Helper()
	buf := make([]byte, 65535)
	u.conn.SetReadDeadline(time.Now().Add(d))
	n, _, err := u.conn.ReadFromUDPAddrPort(buf)
	if err != nil {
		return nil
	}
	msg, err := sip.ParseMessage(buf[:n])
	if err != nil {
		u.t.Fatalf("raw %s: parse: %v\n%s", u.ext, err, buf[:n])
	}
	return msg
}

// response waits for the next response other than 100 Trying.
func (u *rawUA) response() *sip.Response {
	u.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		msg := u.read(time.Until(deadline))
		if res, ok := msg.(*sip.Response); ok && res.StatusCode != 100 {
			return res
		}
	}
	u.t.Fatalf("raw %s: no response", u.ext)
	return nil
}

// quiet asserts that nothing arrives within d.
func (u *rawUA) quiet(d time.Duration) {
	u.t.Helper()
	for {
		msg := u.read(d)
		if msg == nil {
			return
		}
		if res, ok := msg.(*sip.Response); ok && res.StatusCode == 100 {
			continue
		}
		u.t.Fatalf("raw %s: unexpected message:\n%s", u.ext, msg)
	}
}

func (u *rawUA) request(method sip.RequestMethod, cseq uint32, body []byte, extra ...sip.Header) *sip.Request {
	target := u.target
	if u.remoteTag == "" {
		target = sip.Uri{Scheme: "sip", User: "x", Host: u.pbx.Addr().String(), Port: int(u.pbx.Port())}
	}
	req := sip.NewRequest(method, target)
	via := &sip.ViaHeader{ProtocolName: "SIP", ProtocolVersion: "2.0", Transport: "UDP", Host: "127.0.0.1", Port: int(u.addr.Port()), Params: sip.NewParams()}
	via.Params.Add("branch", sip.GenerateBranch())
	req.AppendHeader(via)
	mf := sip.MaxForwardsHeader(70)
	req.AppendHeader(&mf)
	from := &sip.FromHeader{Address: sip.Uri{Scheme: "sip", User: u.ext, Host: "acme.test"}, Params: sip.NewParams()}
	from.Params.Add("tag", u.tag)
	req.AppendHeader(from)
	to := &sip.ToHeader{Address: sip.Uri{Scheme: "sip", User: "102", Host: "acme.test"}, Params: sip.NewParams()}
	if u.remoteTag != "" {
		to.Params.Add("tag", u.remoteTag)
	}
	req.AppendHeader(to)
	cid := sip.CallIDHeader(u.callID)
	req.AppendHeader(&cid)
	req.AppendHeader(&sip.CSeqHeader{SeqNo: cseq, MethodName: method})
	req.AppendHeader(&sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: u.ext, Host: "127.0.0.1", Port: int(u.addr.Port())}})
	for _, h := range extra {
		req.AppendHeader(h)
	}
	if len(body) > 0 {
		ct := sip.ContentTypeHeader("application/sdp")
		req.AppendHeader(&ct)
	}
	req.SetBody(body)
	return req
}

// invite sends an INVITE for ext (To is always 102's here: the PBX routes
// by the Request-URI).
func (u *rawUA) invite(ext string, body []byte, extra ...sip.Header) *sip.Request {
	u.cseq = 1
	req := u.request(sip.INVITE, u.cseq, body, extra...)
	req.Recipient = sip.Uri{Scheme: "sip", User: ext, Host: u.pbx.Addr().String(), Port: int(u.pbx.Port())}
	u.send(req)
	return req
}

// confirm takes the dialog from a 2xx.
func (u *rawUA) confirm(res *sip.Response) {
	u.remoteTag, _ = res.To().Params.Get("tag")
	u.target = res.Contact().Address
}

// ack ACKs the 2xx to the INVITE with CSeq cseq.
func (u *rawUA) ack(cseq uint32) {
	u.send(u.request(sip.ACK, cseq, nil))
}

// next sends an in-dialog request with the next CSeq.
func (u *rawUA) next(method sip.RequestMethod, body []byte, extra ...sip.Header) *sip.Request {
	u.cseq++
	req := u.request(method, u.cseq, body, extra...)
	u.send(req)
	return req
}

func rseq(t *testing.T, res *sip.Response) int {
	t.Helper()
	h := res.GetHeader("RSeq")
	if h == nil {
		t.Fatalf("%d has no RSeq:\n%s", res.StatusCode, res)
	}
	n, err := strconv.Atoi(h.Value())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func rack(rseq int, cseq uint32) sip.Header {
	return sip.NewHeader("RAck", fmt.Sprintf("%d %d INVITE", rseq, cseq))
}
