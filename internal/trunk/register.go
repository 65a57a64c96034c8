package trunk

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// agent is one trunk's goroutine: it keeps the trunk registered and sends
// its keepalives, and writes what it learns into the trunk's state.
type agent struct {
	cfg     Config
	st      *state
	client  *sipgo.Client
	log     *slog.Logger
	now     func() time.Time
	emit    func(Event)
	timeout time.Duration
	min     time.Duration
	max     time.Duration

	// The registration keeps one Call-ID and From tag for the trunk's
	// life, with CSeq rising on every REGISTER (RFC 3261 10.2.4).
	callID  string
	tag     string
	cseq    uint32
	expires time.Duration // asked for; raised by a 423
	bound   bool          // the carrier may hold our binding
	backoff time.Duration
}

func (r *Registry) newAgent(c Config, st *state) *agent {
	emit := r.d.OnEvent
	if emit == nil {
		emit = func(Event) {}
	}
	return &agent{
		cfg: c, st: st, client: r.d.Client, now: r.d.Now, emit: emit,
		log:     r.log.With("trunk", c.Name, "trunk_id", c.ID),
		timeout: r.d.Timeout, min: r.d.RetryMin, max: r.d.RetryMax,
		callID: sip.GenerateTagN(20) + "@gopbx", tag: sip.GenerateTagN(12),
		expires: c.RegisterInterval,
	}
}

// run registers and pings until ctx ends, then unregisters when the
// carrier may hold a binding. Both start at once; a registration that
// fails is retried after the back-off, one that succeeds is refreshed at
// 85% of the granted time.
func (a *agent) run(ctx context.Context) {
	var regT, kaT *time.Timer
	var regC, kaC <-chan time.Time
	if a.cfg.Registers() {
		regT = time.NewTimer(0)
		defer regT.Stop()
		regC = regT.C
	}
	if a.cfg.KeepAlive {
		kaT = time.NewTimer(0)
		defer kaT.Stop()
		kaC = kaT.C
	}
	for {
		select {
		case <-ctx.Done():
			if a.bound {
				// ctx has ended; the unregister gets a short life of its own.
				uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), unregisterTimeout)
				a.unregister(uctx)
				cancel()
			}
			return
		case <-regC:
			regT.Reset(a.register(ctx))
		case <-kaC:
			a.ping(ctx)
			kaT.Reset(a.cfg.KeepAliveInterval)
		}
	}
}

// register sends one REGISTER (answering a challenge, and a 423 once) and
// returns when the next one is due.
func (a *agent) register(ctx context.Context) time.Duration {
	res, err := a.exchange(ctx, a.expires)
	if err == nil && res.StatusCode == sip.StatusIntervalToBrief {
		if minExp, ok := headerSeconds(res, "Min-Expires"); ok && minExp > a.expires {
			a.expires = minExp
			res, err = a.exchange(ctx, a.expires)
		}
	}
	if ctx.Err() != nil {
		// Stopping in the middle of an exchange: the carrier may have
		// bound us without our seeing the 2xx, so unregister to be sure.
		a.bound = true
		return a.min
	}
	now := a.now()
	if err != nil {
		a.failed(now, 0, err.Error())
		a.setUp(now, false, err.Error())
		return a.retry()
	}
	a.setUp(now, true, "")
	if !res.IsSuccess() {
		a.failed(now, res.StatusCode, strconv.Itoa(res.StatusCode)+" "+res.Reason)
		return a.retry()
	}
	granted := a.granted(res)
	a.bound, a.backoff = true, 0
	a.st.mu.Lock()
	was := a.st.s.State
	a.st.s.Registered, a.st.s.State = true, StateRegistered
	a.st.s.LastError, a.st.s.LastStatusCode = "", res.StatusCode
	a.st.s.ExpiresAt, a.st.s.LastCheck = now.Add(granted), now
	a.st.mu.Unlock()
	if was != StateRegistered {
		a.log.Info("trunk registered", "expires", granted)
		a.emit(Event{Trunk: a.cfg.ID, Name: a.cfg.Name, Kind: EventRegistered, At: now})
	}
	return granted * 85 / 100
}

// failed records a failed registration; code is 0 when nothing answered.
func (a *agent) failed(now time.Time, code int, detail string) {
	a.st.mu.Lock()
	was := a.st.s.State
	a.st.s.Registered, a.st.s.State = false, StateFailed
	a.st.s.LastError, a.st.s.LastStatusCode, a.st.s.LastCheck = detail, code, now
	a.st.mu.Unlock()
	if was != StateFailed {
		a.log.Warn("trunk registration failed", "status", code, "err", detail)
		a.emit(Event{Trunk: a.cfg.ID, Name: a.cfg.Name, Kind: EventRegistrationFailed, Detail: detail, At: now})
	}
}

// retry is the wait before the next attempt: RetryMin, doubling to
// RetryMax while attempts keep failing.
func (a *agent) retry() time.Duration {
	if a.backoff == 0 {
		a.backoff = a.min
	} else {
		a.backoff = min(a.backoff*2, a.max)
	}
	return a.backoff
}

// unregister removes the PBX's binding at the carrier (Expires: 0).
func (a *agent) unregister(ctx context.Context) {
	res, err := a.exchange(ctx, 0)
	switch {
	case err != nil:
		a.log.Warn("trunk unregister failed", "err", err)
	case !res.IsSuccess():
		a.log.Warn("trunk unregister refused", "status", res.StatusCode)
	default:
		a.log.Info("trunk unregistered")
	}
	a.bound = false
}

// exchange sends a REGISTER asking for expires and returns its final
// answer, after answering one 401 or 407 with the trunk's credentials.
func (a *agent) exchange(ctx context.Context, expires time.Duration) (*sip.Response, error) {
	req, err := a.newRegister(expires)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, a.timeout)
	defer cancel()
	res, err := a.client.Do(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("register %s: %w", a.cfg.Dest(), err)
	}
	if (res.StatusCode == sip.StatusUnauthorized || res.StatusCode == sip.StatusProxyAuthRequired) && a.cfg.AuthUser() != "" {
		// A copy: the first transaction still holds req.
		req = req.Clone()
		res, err = a.client.DoDigestAuth(ctx, req, res, sipgo.DigestAuth{Username: a.cfg.AuthUser(), Password: a.cfg.Password})
		if err != nil {
			return nil, fmt.Errorf("register %s with auth: %w", a.cfg.Dest(), err)
		}
	}
	// DoDigestAuth raised the CSeq of the request it resent.
	a.cseq = req.CSeq().SeqNo
	return res, nil
}

// newRegister builds a REGISTER for the trunk's account: Request-URI
// sip:hostname[:port], From and To sip:user@hostname, Contact the PBX's
// contact on the trunk's transport with the account's user, sent to Dest.
func (a *agent) newRegister(expires time.Duration) (*sip.Request, error) {
	c := a.cfg
	if c.Local.Host == "" {
		return nil, fmt.Errorf("register %s: no contact for transport %s", c.Dest(), c.Transport)
	}
	host := strings.Trim(c.Hostname, "[]")
	req := sip.NewRequest(sip.REGISTER, sip.Uri{Scheme: "sip", Host: host, Port: c.Port})
	req.SetDestination(c.Dest())
	req.SetTransport(c.Transport)
	aor := sip.Uri{Scheme: "sip", User: c.AccountUser(), Host: host}
	from := &sip.FromHeader{Address: aor, Params: sip.NewParams()}
	from.Params.Add("tag", a.tag)
	req.AppendHeader(from)
	req.AppendHeader(&sip.ToHeader{Address: aor})
	callID := sip.CallIDHeader(a.callID)
	req.AppendHeader(&callID)
	a.cseq++
	req.AppendHeader(&sip.CSeqHeader{SeqNo: a.cseq, MethodName: sip.REGISTER})
	contact := c.Local
	contact.User = c.AccountUser()
	req.AppendHeader(&sip.ContactHeader{Address: contact})
	req.AppendHeader(sip.NewHeader("Expires", strconv.Itoa(int(secondsUp(expires)))))
	return req, nil
}

// granted is the registration time the carrier gave: the expires of our
// Contact in the 2xx, else its Expires header, else what we asked for
// (RFC 3261 10.2.4).
func (a *agent) granted(res *sip.Response) time.Duration {
	ours := a.cfg.Local
	ours.User = a.cfg.AccountUser()
	var only time.Duration
	contacts := 0
	for _, h := range res.GetHeaders("Contact") {
		for _, v := range splitAddrs(h.Value()) {
			var u sip.Uri
			params := sip.NewParams()
			if _, err := sip.ParseAddressValue(strings.TrimSpace(v), &u, &params); err != nil {
				continue
			}
			e, _ := params.Get("expires")
			n, err := strconv.Atoi(e)
			if err != nil || n <= 0 {
				continue
			}
			contacts++
			only = time.Duration(n) * time.Second
			if u.User == ours.User && u.Host == ours.Host && u.Port == ours.Port {
				return only
			}
		}
	}
	if contacts == 1 {
		// A registrar that rewrote our Contact (a NAT-aware one) still
		// gave its time.
		return only
	}
	if d, ok := headerSeconds(res, "Expires"); ok && d > 0 {
		return d
	}
	return a.expires
}

func headerSeconds(res *sip.Response, name string) (time.Duration, bool) {
	h := res.GetHeader(name)
	if h == nil {
		return 0, false
	}
	n, err := strconv.Atoi(strings.TrimSpace(h.Value()))
	if err != nil || n < 0 {
		return 0, false
	}
	return time.Duration(n) * time.Second, true
}

// secondsUp is d in whole seconds, rounded up so that a fraction asks for
// at least a second (Expires has no fractions).
func secondsUp(d time.Duration) int64 {
	return int64((d + time.Second - 1) / time.Second)
}
