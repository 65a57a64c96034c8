package media

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/gopbx/gopbx/internal/media/sdp"
)

// Format is an audio format of an SDP offer: payload type, encoding name
// and RTP clock rate.
type Format struct {
	PT    uint8
	Name  string // upper case: PCMU, PCMA, G722, TELEPHONE-EVENT...
	Clock int
}

// staticFormats are RFC 3551's static payload types an offer may list
// without an rtpmap.
var staticFormats = map[uint8]Format{0: {0, "PCMU", 8000}, 8: {8, "PCMA", 8000}, 9: {9, "G722", 8000}}

// Formats lists the formats of an audio stream in the offer's order of
// preference.
func Formats(m *sdp.Media) []Format {
	maps := map[uint8]Format{}
	for _, l := range m.Lines {
		v, ok := strings.CutPrefix(l, "a=rtpmap:")
		if !ok {
			continue
		}
		ptS, enc, ok := strings.Cut(v, " ")
		pt, err := strconv.Atoi(ptS)
		if !ok || err != nil || pt < 0 || pt > 127 {
			continue
		}
		name, rest, _ := strings.Cut(enc, "/")
		clockS, _, _ := strings.Cut(rest, "/")
		clock, _ := strconv.Atoi(clockS)
		maps[uint8(pt)] = Format{PT: uint8(pt), Name: strings.ToUpper(name), Clock: clock}
	}
	var out []Format
	for _, f := range m.Formats {
		pt, err := strconv.Atoi(f)
		if err != nil || pt < 0 || pt > 127 {
			continue
		}
		if mf, ok := maps[uint8(pt)]; ok {
			out = append(out, mf)
		} else if sf, ok := staticFormats[uint8(pt)]; ok {
			out = append(out, sf)
		}
	}
	return out
}

// Choice is the outcome of answering an audio offer: the codec both ends
// use and the telephone-event payload type (negative when the offer has
// none at 8000 Hz).
type Choice struct {
	Codec   Format
	EventPT int
}

// Choose picks the first format of the offer that the PBX supports
// (supported names, upper case) and the offer's telephone-event, whatever
// payload type it has.
func Choose(m *sdp.Media, supported ...string) (Choice, error) {
	c := Choice{EventPT: -1}
	found := false
	for _, f := range Formats(m) {
		if f.Name == "TELEPHONE-EVENT" {
			if c.EventPT < 0 && (f.Clock == 8000 || f.Clock == 0) {
				c.EventPT = int(f.PT)
			}
			continue
		}
		if found {
			continue
		}
		for _, s := range supported {
			if f.Name == s {
				c.Codec, found = f, true
				break
			}
		}
	}
	if !found {
		return Choice{}, fmt.Errorf("choose codec: none of %v offered", supported)
	}
	return c, nil
}

// AnswerSDP is the PBX's answer to one audio offer: c's codec (and
// telephone-event) at addr:port, sendrecv, 20 ms packets.
func AnswerSDP(addr netip.Addr, port int, c Choice, sessionID string) []byte {
	ip := "IP4"
	if addr.Is6() {
		ip = "IP6"
	}
	fmts := strconv.Itoa(int(c.Codec.PT))
	if c.EventPT >= 0 {
		fmts += " " + strconv.Itoa(c.EventPT)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "v=0\r\no=gopbx %s 1 IN %s %s\r\ns=gopbx\r\nc=IN %s %s\r\nt=0 0\r\n", sessionID, ip, addr, ip, addr)
	fmt.Fprintf(&b, "m=audio %d RTP/AVP %s\r\n", port, fmts)
	fmt.Fprintf(&b, "a=rtpmap:%d %s/%d\r\n", c.Codec.PT, c.Codec.Name, c.Codec.Clock)
	if c.EventPT >= 0 {
		fmt.Fprintf(&b, "a=rtpmap:%d telephone-event/8000\r\na=fmtp:%d 0-16\r\n", c.EventPT, c.EventPT)
	}
	b.WriteString("a=ptime:20\r\na=sendrecv\r\n")
	return []byte(b.String())
}
