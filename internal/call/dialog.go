package call

import (
	"crypto/rand"
	"encoding/hex"
	"slices"

	"github.com/emiago/sipgo/sip"
)

// dialog is the PBX's half of one SIP dialog: with the caller (side A, the
// PBX is the UAS) or with the callee phone that answered (side B, the PBX
// is the UAC). In-dialog requests go to dest over transport, where the
// phone's flow is (its REGISTER or INVITE source), whatever the remote
// target says, so that phones behind NAT and on TCP get them.
type dialog struct {
	callID       string
	localTag     string
	remoteTag    string
	local        sip.Uri
	localName    string
	remote       sip.Uri
	remoteName   string
	remoteTarget sip.Uri
	routeSet     []sip.Uri
	cseq         uint32 // last CSeq the PBX sent
	inviteCSeq   uint32 // CSeq of the INVITE that made the dialog (side B)
	dest         string
	transport    string
	contact      sip.Uri
	sessionID    string
}

// newRequest builds an in-dialog request (RFC 3261 12.2.1.1). The caller
// holds the session lock because it bumps cseq.
func (d *dialog) newRequest(method sip.RequestMethod, body []byte, contentType string) *sip.Request {
	d.cseq++
	return d.build(method, d.cseq, body, contentType)
}

// newACK builds the ACK for a 2xx to the INVITE with CSeq cseq.
func (d *dialog) newACK(cseq uint32, body []byte, contentType string) *sip.Request {
	return d.build(sip.ACK, cseq, body, contentType)
}

func (d *dialog) build(method sip.RequestMethod, cseq uint32, body []byte, contentType string) *sip.Request {
	req := sip.NewRequest(method, *d.remoteTarget.Clone())
	for _, r := range d.routeSet {
		req.AppendHeader(&sip.RouteHeader{Address: *r.Clone()})
	}
	mf := sip.MaxForwardsHeader(70)
	req.AppendHeader(&mf)
	from := &sip.FromHeader{DisplayName: d.localName, Address: *d.local.Clone(), Params: sip.NewParams()}
	from.Params.Add("tag", d.localTag)
	req.AppendHeader(from)
	to := &sip.ToHeader{DisplayName: d.remoteName, Address: *d.remote.Clone(), Params: sip.NewParams()}
	if d.remoteTag != "" {
		to.Params.Add("tag", d.remoteTag)
	}
	req.AppendHeader(to)
	cid := sip.CallIDHeader(d.callID)
	req.AppendHeader(&cid)
	req.AppendHeader(&sip.CSeqHeader{SeqNo: cseq, MethodName: method})
	if method != sip.BYE && method != sip.ACK {
		req.AppendHeader(&sip.ContactHeader{Address: *d.contact.Clone()})
	}
	if d.sessionID != "" {
		req.AppendHeader(sip.NewHeader("X-Session-Id", d.sessionID))
	}
	if len(body) > 0 {
		ct := sip.ContentTypeHeader(contentType)
		req.AppendHeader(&ct)
	}
	req.SetBody(body)
	req.SetDestination(d.dest)
	req.SetTransport(d.transport)
	return req
}

// uasDialog is the dialog with the caller, from its INVITE (RFC 3261
// 12.1.1): the route set is the INVITE's Record-Route in order.
func uasDialog(req *sip.Request, localTag string, contact sip.Uri, dest, transport, sessionID string) *dialog {
	d := &dialog{
		callID:    callID(req),
		localTag:  localTag,
		dest:      dest,
		transport: transport,
		contact:   contact,
		sessionID: sessionID,
		cseq:      1,
	}
	if f := req.From(); f != nil {
		d.remote, d.remoteName = f.Address, f.DisplayName
		d.remoteTag, _ = f.Params.Get("tag")
	}
	if t := req.To(); t != nil {
		d.local, d.localName = t.Address, t.DisplayName
	}
	d.remoteTarget = req.Recipient
	if c := req.Contact(); c != nil {
		d.remoteTarget = c.Address
	}
	for _, h := range req.GetHeaders("Record-Route") {
		if rr, ok := h.(*sip.RecordRouteHeader); ok {
			d.routeSet = append(d.routeSet, rr.Address)
		}
	}
	return d
}

// confirmUAC fills side B's dialog from the callee's 2xx (RFC 3261
// 12.1.2): remote tag and target, route set from Record-Route reversed.
func (d *dialog) confirmUAC(res *sip.Response) {
	if t := res.To(); t != nil {
		d.remoteTag, _ = t.Params.Get("tag")
	}
	if c := res.Contact(); c != nil {
		d.remoteTarget = c.Address
	}
	d.routeSet = nil
	for _, h := range res.GetHeaders("Record-Route") {
		if rr, ok := h.(*sip.RecordRouteHeader); ok {
			d.routeSet = append(d.routeSet, rr.Address)
		}
	}
	slices.Reverse(d.routeSet)
}

func newTag() string { return randHex(8) }

func newCallID() string { return randHex(16) + "@gopbx" }

func randHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
