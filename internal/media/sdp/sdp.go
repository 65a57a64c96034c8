package sdp

import (
	"bytes"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// ErrMalformed is wrapped by every parse error.
var ErrMalformed = errors.New("malformed sdp")

// MaxSize bounds the bodies Parse accepts; an SDP is a few hundred bytes.
const MaxSize = 64 << 10

// Direction is a stream's media direction attribute (RFC 3264 section 5.1).
type Direction int

// Directions. SendRecv is the default when no attribute is present.
const (
	SendRecv Direction = iota
	SendOnly
	RecvOnly
	Inactive
)

// String returns the attribute name.
func (d Direction) String() string {
	switch d {
	case SendOnly:
		return "sendonly"
	case RecvOnly:
		return "recvonly"
	case Inactive:
		return "inactive"
	}
	return "sendrecv"
}

// Session is a parsed SDP body. Lines are kept verbatim (without their line
// ending) so that Marshal reproduces what was parsed apart from the rewrites.
type Session struct {
	// Lines are the session-level lines, v= to the first m=.
	Lines []string
	// Media are the media sections in order.
	Media []*Media
}

// Media is one m= section.
type Media struct {
	Type    string   // audio, video, application...
	Port    int      // 0 means the stream is rejected or disabled
	Proto   string   // RTP/AVP, RTP/SAVP...
	Formats []string // payload types, as written
	// Lines are the lines after the m= line, up to the next m=.
	Lines []string
}

// Parse parses an SDP body. It accepts CRLF or LF line endings and checks
// only what rewriting needs: a v= line first and well-formed m= and c=
// lines. Errors wrap ErrMalformed.
func Parse(b []byte) (*Session, error) {
	if len(b) > MaxSize {
		return nil, fmt.Errorf("parse sdp: %w: too large", ErrMalformed)
	}
	s := &Session{}
	var cur *Media
	first := true
	for len(b) > 0 {
		var line []byte
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			line, b = b[:i], b[i+1:]
		} else {
			line, b = b, nil
		}
		line = bytes.TrimRight(line, "\r")
		if len(line) == 0 {
			continue
		}
		if len(line) < 2 || line[1] != '=' {
			return nil, fmt.Errorf("parse sdp: %w: bad line %q", ErrMalformed, truncate(line))
		}
		l := string(line)
		if first {
			if line[0] != 'v' {
				return nil, fmt.Errorf("parse sdp: %w: must start with v=", ErrMalformed)
			}
			first = false
		}
		switch line[0] {
		case 'm':
			m, err := parseMediaLine(l)
			if err != nil {
				return nil, err
			}
			s.Media = append(s.Media, m)
			cur = m
			continue
		case 'c':
			if _, err := parseConnection(l); err != nil {
				return nil, err
			}
		}
		if cur == nil {
			s.Lines = append(s.Lines, l)
		} else {
			cur.Lines = append(cur.Lines, l)
		}
	}
	if first {
		return nil, fmt.Errorf("parse sdp: %w: empty", ErrMalformed)
	}
	return s, nil
}

func truncate(b []byte) string {
	if len(b) > 40 {
		b = b[:40]
	}
	return string(b)
}

func parseMediaLine(l string) (*Media, error) {
	f := strings.Fields(l[2:])
	if len(f) < 3 {
		return nil, fmt.Errorf("parse sdp: %w: bad m= line", ErrMalformed)
	}
	portStr, _, _ := strings.Cut(f[1], "/") // port/count: keep the port only
	port, err := strconv.Atoi(portStr)
	if err != nil || port < 0 || port > 65535 {
		return nil, fmt.Errorf("parse sdp: %w: bad m= port %q", ErrMalformed, f[1])
	}
	return &Media{Type: f[0], Port: port, Proto: f[2], Formats: f[3:]}, nil
}

// parseConnection parses "c=IN IP4 addr[/ttl]". An unparsable address (a
// host name) is the zero Addr, not an error: it cannot be relayed to, but
// it is not ours to reject either.
func parseConnection(l string) (netip.Addr, error) {
	f := strings.Fields(l[2:])
	if len(f) != 3 || f[0] != "IN" || (f[1] != "IP4" && f[1] != "IP6") {
		return netip.Addr{}, fmt.Errorf("parse sdp: %w: bad c= line", ErrMalformed)
	}
	host, _, _ := strings.Cut(f[2], "/")
	a, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}, nil
	}
	return a, nil
}

// Connection returns the address media stream i is to be sent to: its own
// c= line, else the session's. It is the zero Addr when there is none.
func (s *Session) Connection(i int) netip.Addr {
	if a, ok := findConnection(s.Media[i].Lines); ok {
		return a
	}
	a, _ := findConnection(s.Lines)
	return a
}

func findConnection(lines []string) (netip.Addr, bool) {
	for _, l := range lines {
		if strings.HasPrefix(l, "c=") {
			a, _ := parseConnection(l)
			return a, true
		}
	}
	return netip.Addr{}, false
}

// Direction returns the direction of media stream i: its own attribute,
// else the session's, else SendRecv.
func (s *Session) Direction(i int) Direction {
	if d, ok := findDirection(s.Media[i].Lines); ok {
		return d
	}
	d, _ := findDirection(s.Lines)
	return d
}

func findDirection(lines []string) (Direction, bool) {
	for _, l := range lines {
		switch l {
		case "a=sendrecv":
			return SendRecv, true
		case "a=sendonly":
			return SendOnly, true
		case "a=recvonly":
			return RecvOnly, true
		case "a=inactive":
			return Inactive, true
		}
	}
	return SendRecv, false
}

// RTCP returns where media stream i wants RTCP: the a=rtcp attribute
// (RFC 3605) when present, the RTP address when a=rtcp-mux is, else the
// next port up. The zero AddrPort means the stream has no usable address.
func (s *Session) RTCP(i int) netip.AddrPort {
	m := s.Media[i]
	addr := s.Connection(i)
	if !addr.IsValid() || m.Port == 0 {
		return netip.AddrPort{}
	}
	port := m.Port + 1
	for _, l := range m.Lines {
		if l == "a=rtcp-mux" {
			port = m.Port
		}
	}
	for _, l := range m.Lines {
		v, ok := strings.CutPrefix(l, "a=rtcp:")
		if !ok {
			continue
		}
		f := strings.Fields(v)
		if len(f) == 0 {
			continue
		}
		if p, err := strconv.Atoi(f[0]); err == nil && p > 0 && p < 65536 {
			port = p
		}
		if len(f) == 4 {
			if a, err := netip.ParseAddr(f[3]); err == nil {
				addr = a
			}
		}
	}
	return netip.AddrPortFrom(addr, uint16(port))
}

// RTP returns where media stream i wants RTP, or the zero AddrPort.
func (s *Session) RTP(i int) netip.AddrPort {
	addr := s.Connection(i)
	if !addr.IsValid() || s.Media[i].Port == 0 {
		return netip.AddrPort{}
	}
	return netip.AddrPortFrom(addr, uint16(s.Media[i].Port))
}

// Rewrite points the session at the relay: every c= line (one at session
// level is added if none exists), the o= address, the port of each media
// stream i to ports[i] and its a=rtcp attribute to ports[i]+1 at addr.
// Streams whose port is 0 stay disabled. ICE candidates are dropped because
// they would lead the peer around the relay. It panics if ports is shorter
// than s.Media.
func (s *Session) Rewrite(addr netip.Addr, ports []int) {
	ipv := "IP4"
	if addr.Is6() && !addr.Is4In6() {
		ipv = "IP6"
	}
	conn := "c=IN " + ipv + " " + addr.Unmap().String()
	hasSessionConn := false
	out := s.Lines[:0]
	for _, l := range s.Lines {
		switch {
		case strings.HasPrefix(l, "o="):
			f := strings.Fields(l)
			if len(f) == 6 {
				f[4], f[5] = ipv, addr.Unmap().String()
				l = strings.Join(f, " ")
			}
		case strings.HasPrefix(l, "c="):
			l, hasSessionConn = conn, true
		case isICE(l):
			continue
		}
		out = append(out, l)
	}
	s.Lines = out
	if !hasSessionConn {
		// c= goes after o= and s= (and i=, u=, e=, p=): before the first t=
		// or b= or a=, or at the end.
		at := len(s.Lines)
		for i, l := range s.Lines {
			if strings.HasPrefix(l, "t=") || strings.HasPrefix(l, "b=") || strings.HasPrefix(l, "a=") {
				at = i
				break
			}
		}
		s.Lines = append(s.Lines[:at], append([]string{conn}, s.Lines[at:]...)...)
	}
	for i, m := range s.Media {
		if m.Port == 0 {
			continue
		}
		m.Port = ports[i]
		out := m.Lines[:0]
		for _, l := range m.Lines {
			switch {
			case strings.HasPrefix(l, "c="):
				continue // the session-level c= now applies
			case strings.HasPrefix(l, "a=rtcp:"):
				l = fmt.Sprintf("a=rtcp:%d IN %s %s", ports[i]+1, ipv, addr.Unmap())
			case isICE(l):
				continue
			}
			out = append(out, l)
		}
		m.Lines = out
	}
}

func isICE(l string) bool {
	return strings.HasPrefix(l, "a=candidate:") || strings.HasPrefix(l, "a=remote-candidates") ||
		strings.HasPrefix(l, "a=ice-") || l == "a=end-of-candidates"
}

// Marshal returns the body with CRLF line endings.
func (s *Session) Marshal() []byte {
	var b bytes.Buffer
	for _, l := range s.Lines {
		b.WriteString(l)
		b.WriteString("\r\n")
	}
	for _, m := range s.Media {
		b.WriteString("m=")
		b.WriteString(m.Type)
		b.WriteByte(' ')
		b.WriteString(strconv.Itoa(m.Port))
		b.WriteByte(' ')
		b.WriteString(m.Proto)
		for _, f := range m.Formats {
			b.WriteByte(' ')
			b.WriteString(f)
		}
		b.WriteString("\r\n")
		for _, l := range m.Lines {
			b.WriteString(l)
			b.WriteString("\r\n")
		}
	}
	return b.Bytes()
}
