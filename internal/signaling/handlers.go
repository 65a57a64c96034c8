package signaling

import (
	"context"
	"runtime/debug"
	"strings"

	"github.com/emiago/sipgo/sip"

	"github.com/gopbx/gopbx/internal/call"
	"github.com/gopbx/gopbx/internal/registrar"
)

// allowed is the Allow header: the methods the PBX takes.
const allowed = "INVITE, ACK, CANCEL, BYE, OPTIONS, REGISTER, UPDATE, INFO, PRACK, REFER, NOTIFY, MESSAGE, SUBSCRIBE"

// known are the methods the PBX recognises; others get 501.
var known = map[sip.RequestMethod]bool{
	sip.INVITE: true, sip.ACK: true, sip.CANCEL: true, sip.BYE: true, sip.OPTIONS: true, sip.REGISTER: true,
	sip.UPDATE: true, sip.INFO: true, sip.PRACK: true, sip.REFER: true, sip.NOTIFY: true, sip.MESSAGE: true,
	sip.SUBSCRIBE: true, sip.PUBLISH: true,
}

func (s *Server) route() {
	for m := range known {
		s.srv.OnRequest(m, s.handle)
	}
	s.srv.OnNoRoute(s.handle)
}

// handle is the entry of every request sipgo's transaction layer passes up.
// A REGISTER is served by an idle register worker when there is one (see
// registerWorker), anything else on the goroutine sipgo started for it.
func (s *Server) handle(req *sip.Request, tx sip.ServerTransaction) {
	if req.Method == sip.REGISTER {
		j := registerJob{req: req, tx: tx, done: make(chan struct{})}
		select {
		case s.regq <- j:
			<-j.done
			return
		default:
		}
	}
	s.guarded(req, tx)
}

// registerJob is a REGISTER handed to a register worker; done is closed
// once it is served.
type registerJob struct {
	req  *sip.Request
	tx   sip.ServerTransaction
	done chan struct{}
}

// registerWorker serves the REGISTERs handed to it until ctx ends. sipgo
// serves each request on a goroutine of its own, which starts with a small
// stack: serving a REGISTER (digest, SQLite reads of modernc's deep C-like
// frames) grew and copied that stack several times per request, 15% of the
// CPU under load. A worker's stack has grown once for all. Run starts
// registerWorkers of them; when none is idle the request is served where it
// came, so a slow database read never queues others behind it.
func (s *Server) registerWorker(ctx context.Context) error {
	for {
		select {
		case <-ctx.Done():
			return nil
		case j := <-s.regq:
			s.guarded(j.req, j.tx)
			close(j.done)
		}
	}
}

// guarded serves one request. A panic below it is answered 500 and logged,
// never a crash.
func (s *Server) guarded(req *sip.Request, tx sip.ServerTransaction) {
	defer func() {
		if r := recover(); r != nil {
			s.log.Error("request handler panicked", "method", string(req.Method), "panic", r, "stack", string(debug.Stack()))
			if req.Method != sip.ACK {
				s.respond(tx, sip.NewResponseFromRequest(req, sip.StatusInternalServerError, "Server Internal Error", nil))
			}
		}
	}()
	s.serve(s.ctx, req, tx)
}

// serve dispatches one request; it is handle without the panic guard, so
// that the fuzz target sees panics.
func (s *Server) serve(ctx context.Context, req *sip.Request, tx sip.ServerTransaction) {
	if s.guard.isBlocked(sourceIP(req)) {
		// Blocked while the request was queued: no answer.
		return
	}
	if res := validate(req); res != nil {
		if req.Method != sip.ACK {
			s.respond(tx, res)
		}
		return
	}
	if !known[req.Method] {
		res := sip.NewResponseFromRequest(req, sip.StatusNotImplemented, "Not Implemented", nil)
		res.AppendHeader(sip.NewHeader("Allow", allowed))
		s.respond(tx, res)
		return
	}
	if res := checkRequire(req); res != nil {
		s.respond(tx, res)
		return
	}
	if req.Method == sip.OPTIONS {
		s.respond(tx, s.optionsResponse(req))
		return
	}
	if req.Method == sip.SUBSCRIBE && inDialog(req) {
		s.resubscribe(ctx, req, tx)
		return
	}
	if inDialog(req) || req.Method == sip.ACK || req.Method == sip.CANCEL || req.Method == sip.BYE ||
		req.Method == sip.PRACK || req.Method == sip.UPDATE || req.Method == sip.INFO || req.Method == sip.NOTIFY {
		s.inDialog(ctx, req, tx)
		return
	}
	switch req.Method {
	case sip.REGISTER:
		s.register(ctx, req, tx)
	case sip.INVITE:
		s.invite(ctx, req, tx)
	default:
		// MESSAGE, REFER and PUBLISH outside a dialog: only an
		// authenticated caller learns that they are not served yet.
		// SUBSCRIBE serves message-summary (mwi.go) and refuses other events.
		tenant, user, res := s.authenticate(ctx, req)
		if res == nil && s.guard.isBlocked(sourceIP(req)) {
			return
		}
		if res != nil {
			s.respond(tx, res)
			return
		}
		if req.Method == sip.SUBSCRIBE {
			s.subscribe(ctx, req, tx, tenant, user)
			return
		}
		s.respond(tx, sip.NewResponseFromRequest(req, sip.StatusNotImplemented, "Not Implemented", nil))
	}
}

// inDialog reports whether req carries a To tag, the mark of a request
// within a dialog.
func inDialog(req *sip.Request) bool {
	to := req.To()
	if to == nil || to.Params == nil {
		return false
	}
	tag, ok := to.Params.Get("tag")
	return ok && tag != ""
}

func (s *Server) respond(tx sip.ServerTransaction, res *sip.Response) {
	if res == nil {
		return
	}
	s.finish(res)
	if err := tx.Respond(res); err != nil {
		s.log.Debug("response not sent", "status", res.StatusCode, "error", err)
	}
}

// finish completes a response before it is sent.
func (s *Server) finish(res *sip.Response) {
	// NewResponseFromRequest copies the request's version, which may be
	// anything a hostile sender wrote.
	res.SipVersion = "SIP/2.0"
	if res.GetHeader("Server") == nil {
		res.AppendHeader(sip.NewHeader("Server", s.cfg.UserAgent))
	}
}

func (s *Server) optionsResponse(req *sip.Request) *sip.Response {
	res := sip.NewResponseFromRequest(req, sip.StatusOK, "OK", nil)
	res.AppendHeader(sip.NewHeader("Allow", allowed))
	res.AppendHeader(sip.NewHeader("Accept", "application/sdp"))
	res.AppendHeader(sip.NewHeader("Supported", "outbound, path, replaces, timer"))
	res.AppendHeader(sip.NewHeader("Accept-Language", "en"))
	return res
}

func (s *Server) register(ctx context.Context, req *sip.Request, tx sip.ServerTransaction) {
	if acct, ok := s.trunkAccount(ctx, req); ok {
		s.registerTrunk(ctx, req, tx, acct)
		return
	}
	cred, resent, res := s.authenticateRegister(ctx, req)
	if res != nil || cred.user == 0 {
		s.respondRegister(req, tx, res)
		return
	}
	// The credentials must be those of the AOR being registered: one
	// extension may not move another's calls to itself.
	if to := req.To(); to == nil || to.Address.User != cred.extension {
		s.respond(tx, sip.NewResponseFromRequest(req, sip.StatusForbidden, "Forbidden", nil))
		return
	}
	s.respondRegister(req, tx, s.applyRegister(ctx, registrar.Request{
		SIP: req, Tenant: cred.tenant, User: cred.user, Extension: cred.extension,
		Source: req.Source(), Transport: strings.ToUpper(req.Transport()), Resent: resent,
	}))
}

// respondRegister sends an extension's REGISTER its answer. Over UDP, a
// challenge (401) or a 200 is sent statelessly, as Kamailio's registrar
// answers: the transaction is ended first, instead of sipgo keeping it,
// request and response, for Timer J (32 s) to absorb retransmissions,
// which was most of the memory a registration cost (DECISIONS.md). Until
// then it absorbs the retransmissions of the request being served, and
// ending it before the answer leaves means that every retransmission the
// client sends after the answer reaches the edge again. There a resent
// unauthenticated REGISTER gets a fresh challenge (nonces are stateless)
// and a resent accepted one is recognised by its nonce count and
// transaction (authResent) and gets the current bindings, changing
// nothing. Other answers (403, 423, 500, ...) keep their transaction: a
// retransmitted wrong password must not count twice towards a block.
func (s *Server) respondRegister(req *sip.Request, tx sip.ServerTransaction, res *sip.Response) {
	c, ok := tx.(interface{ Connection() sip.Connection })
	if res == nil || !ok || sip.IsReliable(req.Transport()) ||
		(res.StatusCode != sip.StatusOK && res.StatusCode != sip.StatusUnauthorized) {
		s.respond(tx, res)
		return
	}
	conn := c.Connection()
	tx.Terminate()
	s.finish(res)
	if err := conn.WriteMsg(res); err != nil {
		s.log.Debug("response not sent", "status", res.StatusCode, "error", err)
	}
}

// applyRegister hands an authenticated REGISTER to the registrar unless it
// came over a TCP, TLS, WS or WSS connection that has closed since: its bindings
// would outlive the flow (see flowClosed). It returns the response, or nil
// when there is nobody to answer.
func (s *Server) applyRegister(ctx context.Context, in registrar.Request) *sip.Response {
	release, closed := s.flows.hold(flowKey{in.Transport, in.Source})
	defer release()
	if closed {
		s.log.Debug("register over a closed connection ignored", "transport", in.Transport, "source", in.Source)
		return nil
	}
	return s.reg.Register(ctx, in)
}

func (s *Server) invite(ctx context.Context, req *sip.Request, tx sip.ServerTransaction) {
	if trunk, ok := s.trunkAt(req); ok {
		h := s.callHandler()
		if h == nil {
			s.respond(tx, sip.NewResponseFromRequest(req, sip.StatusServiceUnavailable, "Service Unavailable", nil))
			return
		}
		h.Invite(ctx, call.Origin{Trunk: trunk, Source: req.Source(), Transport: strings.ToUpper(req.Transport())}, req, tx)
		return
	}
	tenant, user, res := s.authenticate(ctx, req)
	if res != nil || user.ID == 0 {
		s.respond(tx, res)
		return
	}
	h := s.callHandler()
	if h == nil {
		s.respond(tx, sip.NewResponseFromRequest(req, sip.StatusServiceUnavailable, "Service Unavailable", nil))
		return
	}
	h.Invite(ctx, call.Origin{Tenant: tenant, User: user, Source: req.Source(), Transport: strings.ToUpper(req.Transport())}, req, tx)
}

func (s *Server) inDialog(ctx context.Context, req *sip.Request, tx sip.ServerTransaction) {
	if h := s.callHandler(); h != nil && h.InDialog(ctx, req, tx) {
		return
	}
	if req.Method == sip.ACK {
		return
	}
	s.respond(tx, sip.NewResponseFromRequest(req, sip.StatusCallTransactionDoesNotExists, "Call/Transaction Does Not Exist", nil))
}

// supported are the option tags of Require the PBX accepts (RFC 3261
// section 8.2.2.3); the Supported header of OPTIONS lists them.
var supported = map[string]bool{"100rel": true, "outbound": true, "path": true, "timer": true}

// checkRequire answers 420 Bad Extension, listing the unknown tags in
// Unsupported, when req requires an extension the PBX lacks. ACK and CANCEL
// are exempt, as RFC 3261 says.
func checkRequire(req *sip.Request) *sip.Response {
	if req.Method == sip.ACK || req.Method == sip.CANCEL {
		return nil
	}
	var bad []string
	for _, name := range []string{"Require", "Proxy-Require"} {
		for _, h := range req.GetHeaders(name) {
			for _, tag := range strings.Split(h.Value(), ",") {
				tag = strings.ToLower(strings.TrimSpace(tag))
				if tag != "" && !supported[tag] {
					bad = append(bad, tag)
				}
			}
		}
	}
	if len(bad) == 0 {
		return nil
	}
	res := sip.NewResponseFromRequest(req, sip.StatusBadExtension, "Bad Extension", nil)
	res.AppendHeader(sip.NewHeader("Unsupported", strings.Join(bad, ", ")))
	return res
}

// validate checks what sipgo's parser leaves to the application (RFC 3261
// section 16.3 and 8.2) and returns the error response for a request that
// cannot be served, or nil.
func validate(req *sip.Request) *sip.Response {
	bad := func(reason string) *sip.Response {
		return sip.NewResponseFromRequest(req, sip.StatusBadRequest, reason, nil)
	}
	if req.SipVersion != "SIP/2.0" {
		return sip.NewResponseFromRequest(req, sip.StatusVersionNotSupported, "Version Not Supported", nil)
	}
	from, to, cseq := req.From(), req.To(), req.CSeq()
	switch {
	case req.Via() == nil:
		return bad("Missing Via")
	case from == nil:
		return bad("Missing From")
	case to == nil:
		return bad("Missing To")
	case req.CallID() == nil || req.CallID().Value() == "":
		return bad("Missing Call-ID")
	case cseq == nil:
		return bad("Missing CSeq")
	case cseq.MethodName != req.Method:
		return bad("CSeq Method Mismatch")
	}
	switch strings.ToLower(req.Recipient.Scheme) {
	case "sip", "sips":
	case "tel":
		if req.Method != sip.INVITE {
			return sip.NewResponseFromRequest(req, 416, "Unsupported URI Scheme", nil)
		}
	default:
		return sip.NewResponseFromRequest(req, 416, "Unsupported URI Scheme", nil)
	}
	if mf := req.MaxForwards(); mf != nil && mf.Val() == 0 && req.Method != sip.OPTIONS && req.Method != sip.REGISTER {
		return sip.NewResponseFromRequest(req, sip.StatusTooManyHops, "Too Many Hops", nil)
	}
	return nil
}
