package media

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/gopbx/gopbx/internal/media/sdp"
)

// Format is an audio format of an SDP offer: payload type, encoding name,
// RTP clock rate and channels.
type Format struct {
	PT    uint8
	Name  string // upper case: PCMU, PCMA, G722, OPUS, TELEPHONE-EVENT...
	Clock int
	// Channels is the rtpmap's encoding parameter, 0 when it has none
	// (one channel). Opus always says 2 (RFC 7587 7), whatever it sends.
	Channels int
}

// staticFormats are RFC 3551's static payload types an offer may list
// without an rtpmap.
var staticFormats = map[uint8]Format{
	0: {PT: 0, Name: "PCMU", Clock: 8000},
	8: {PT: 8, Name: "PCMA", Clock: 8000},
	9: {PT: 9, Name: "G722", Clock: 8000},
}

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
		clockS, chS, _ := strings.Cut(rest, "/")
		clock, _ := strconv.Atoi(clockS)
		ch, _ := strconv.Atoi(chS)
		maps[uint8(pt)] = Format{PT: uint8(pt), Name: strings.ToUpper(name), Clock: clock, Channels: ch}
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

// rtpmap is the encoding of f as an a=rtpmap line writes it. Opus is
// "opus/48000/2" whatever the offer wrote (RFC 7587 7: lower case is the
// registered spelling, and some stacks compare it case-sensitively).
func rtpmap(f Format) string {
	if f.Name == "OPUS" {
		return "opus/48000/2"
	}
	s := f.Name + "/" + strconv.Itoa(f.Clock)
	if f.Channels > 1 {
		s += "/" + strconv.Itoa(f.Channels)
	}
	return s
}

// PayloadAs returns c with payload type pt instead of its own: the number
// the SDP gave a codec of dynamic payload type (Opus), which the Endpoint
// and the Player then send and expect. It returns c itself when pt is
// already c's.
func PayloadAs(c Codec, pt uint8) Codec {
	if c.PayloadType() == pt {
		return c
	}
	return dynamicCodec{c, pt}
}

// dynamicCodec is a Codec under another payload type.
type dynamicCodec struct {
	Codec
	pt uint8
}

func (d dynamicCodec) PayloadType() uint8 { return d.pt }

// AnswerSDP is the PBX's answer to one audio offer: c's codec (and
// telephone-event) at addr:port, sendrecv, 20 ms packets. Opus is answered
// without fmtp: its defaults (mono, no in-band FEC asked of the sender,
// any bandwidth) are what the apps take.
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
	fmt.Fprintf(&b, "a=rtpmap:%d %s\r\n", c.Codec.PT, rtpmap(c.Codec))
	if c.EventPT >= 0 {
		fmt.Fprintf(&b, "a=rtpmap:%d telephone-event/8000\r\na=fmtp:%d 0-16\r\n", c.EventPT, c.EventPT)
	}
	b.WriteString("a=ptime:20\r\na=sendrecv\r\n")
	return []byte(b.String())
}
