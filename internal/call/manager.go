package call

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/gopbx/gopbx/internal/media"
	"github.com/gopbx/gopbx/internal/pbx"
)

// Defaults for Deps.
const (
	DefaultRingTimeout  = 60 * time.Second
	DefaultMediaTimeout = 60 * time.Second
	// DefaultSessionExpires is the session interval offered to callees.
	DefaultSessionExpires = 1800 * time.Second
)

// Locator finds where an extension's phones are: the registrar's live
// bindings.
type Locator interface {
	Contacts(ctx context.Context, tenant pbx.TenantID, extension string) ([]pbx.Binding, error)
}

// Users finds the user that owns an extension number; ENOTFOUND when none.
type Users interface {
	UserByExtension(ctx context.Context, tenant pbx.TenantID, number string) (pbx.User, error)
}

// CDRWriter keeps call detail records.
type CDRWriter interface {
	CreateCDR(ctx context.Context, tenant pbx.TenantID, r *CDR) error
}

// Deps are what a Manager needs. Logger, Now, RingTimeout and MediaTimeout
// have defaults; the rest are required.
type Deps struct {
	Logger *slog.Logger
	Now    func() time.Time
	// Client sends the requests of the legs the Manager creates. It should
	// send from the SIP listener's socket (sipgo.WithClientConnectionAddr
	// or the UA's connection reuse) so that phones behind NAT answer.
	Client  *sipgo.Client
	Locator Locator
	Users   Users
	CDRs    CDRWriter
	// Recordings keeps the rows of recorded calls, whose WAV files go
	// under DataDir (recordings/<tenant>/<date>/); with either unset no
	// call is recorded (record.go).
	Recordings RecordingWriter
	DataDir    string
	// Router decides where each new call goes; nil rings the dialled
	// extension of the caller's tenant.
	Router Router
	// Codecs makes one stream's encoder, decoder and DTMF receiver for a
	// codec name (PCMU, PCMA, G722), for calls an App answers and for
	// music on hold; nil leaves apps without media and holds silent.
	Codecs func(name string) (enc, dec media.Codec, dtmf media.DTMFReceiver, err error)
	// AppCodecs are the codecs Apps answer callers with (names Codecs
	// makes), in the PBX's order of preference where the caller's offer
	// leaves a choice; nil means PCMU, PCMA and G722.
	AppCodecs []string
	// MusicOnHold opens the WAV file a tenant's callers hear while the
	// other phone holds the call (hold.go); it should seek, to loop. Nil
	// plays no music: the held phone hears what the holding one sends.
	MusicOnHold func(tenant pbx.TenantID) (io.ReadCloser, error)
	// InBandDTMF makes a detector of DTMF tones in audio at a sample rate,
	// for callers that negotiated no telephone-event; nil detects none.
	InBandDTMF func(rate int) (media.InBandDetector, error)
	// NewID returns session IDs (store.DB.NewID).
	NewID func() pbx.ID
	// Ports hands out the relay's sockets.
	Ports *media.PortPool
	// Pacer, when set, paces what apps' endpoints and music on hold send
	// on one shared tick (its owner runs it); nil gives each stream a
	// timer of its own.
	Pacer *media.Pacer
	// MediaIP is the address written into SDP for the relay: the public
	// address when the PBX is behind 1:1 NAT. Zero means Ports.IP(), which
	// must then be a reachable address (the pool may bind 0.0.0.0 when
	// MediaIP is set).
	MediaIP netip.Addr
	// Contacts is the PBX's own Contact URI for each transport ("UDP",
	// "TCP", "TLS", "WS", "WSS"); "UDP" is used for any transport missing.
	Contacts map[string]sip.Uri
	// RingTimeout ends an unanswered call with 480.
	RingTimeout time.Duration
	// MediaTimeout ends an answered call when no RTP or RTCP arrived from
	// either phone for that long (not while on hold); negative disables it.
	MediaTimeout time.Duration
	// MinSessionExpires is the smallest session timer interval accepted
	// (Min-SE); zero means MinSessionExpires.
	MinSessionExpires time.Duration
	// SessionExpires is the session timer interval (RFC 4028) the PBX
	// offers callees, as their refresher: it refreshes at half of it.
	// Zero means DefaultSessionExpires; negative offers no timer.
	SessionExpires time.Duration
}

// Manager is the B2BUA for calls between extensions of one tenant. It
// implements signaling's CallHandler: Invite for new calls, InDialog for
// requests inside them. Its methods are safe for concurrent use.
type Manager struct {
	d     Deps
	log   *slog.Logger
	clock clock

	mu       sync.Mutex
	sessions map[pbx.ID]*session
	live     map[pbx.TenantID]int // sessions per tenant
	dialogs  map[string]dialogRef // by Call-ID and our tag
	closed   bool
	// running counts the goroutines of goWait; idle is closed when it
	// drops to zero while Close waits. A counter under mu rather than a
	// WaitGroup: request handlers start goroutines at any time, also when
	// none runs, which a WaitGroup only allows before Wait.
	running int
	idle    chan struct{}
	// drained is closed when the last session ends while Drain waits.
	drained chan struct{}
}

type dialogRef struct {
	s    *session
	side media.Side
	// detached is the dialog of a phone that transferred its call away.
	detached bool
}

// New returns a Manager.
func New(d Deps) (*Manager, error) {
	if d.Client == nil || d.Locator == nil || d.Users == nil || d.CDRs == nil || d.NewID == nil || d.Ports == nil {
		return nil, errors.New("new call manager: missing dependency")
	}
	if _, ok := d.Contacts["UDP"]; !ok {
		return nil, errors.New("new call manager: no UDP contact")
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.RingTimeout == 0 {
		d.RingTimeout = DefaultRingTimeout
	}
	if d.MediaTimeout == 0 {
		d.MediaTimeout = DefaultMediaTimeout
	}
	if d.MinSessionExpires <= 0 {
		d.MinSessionExpires = MinSessionExpires
	}
	if d.SessionExpires == 0 {
		d.SessionExpires = DefaultSessionExpires
	}
	if d.SessionExpires > 0 {
		d.SessionExpires = max(d.SessionExpires, d.MinSessionExpires)
	}
	if !d.MediaIP.IsValid() {
		d.MediaIP = d.Ports.IP()
	}
	if d.MediaIP.IsUnspecified() {
		// 0.0.0.0 in SDP means "hold": the relay needs an address phones
		// can send to.
		return nil, errors.New("new call manager: media ip must be a reachable address, not " + d.MediaIP.String())
	}
	return &Manager{d: d, log: d.Logger, clock: realClock{}, sessions: map[pbx.ID]*session{}, live: map[pbx.TenantID]int{}, dialogs: map[string]dialogRef{}}, nil
}

func dialogKey(callID, tag string) string { return callID + "\x00" + tag }

func (m *Manager) contact(transport string) sip.Uri {
	if u, ok := m.d.Contacts[strings.ToUpper(transport)]; ok {
		return u
	}
	return m.d.Contacts["UDP"]
}

// Invite handles a new call from origin. It answers req through tx and
// returns once the call is answered or has failed; an answered call lives
// on until a BYE, Hangup, media timeout or ctx ends (ctx must live as long
// as the SIP server).
func (m *Manager) Invite(ctx context.Context, origin Origin, req *sip.Request, tx sip.ServerTransaction) {
	m.mu.Lock()
	closed := m.closed
	m.mu.Unlock()
	if closed {
		respond(tx, req, sip.StatusServiceUnavailable, "Service Unavailable")
		return
	}
	if to := req.To(); to != nil {
		if _, ok := to.Params.Get("tag"); ok {
			// An in-dialog INVITE that signalling did not recognise.
			respond(tx, req, sip.StatusCallTransactionDoesNotExists, "Call/Transaction Does Not Exist")
			return
		}
	}
	if v, ok := replaceHeader(req); ok {
		m.inviteReplaces(ctx, origin, req, tx, v) // replaceinvite.go
		return
	}
	if m.tooSmall(tx, req) {
		return
	}
	start := m.d.Now()
	plan, err := m.plan(ctx, origin, req)
	if err != nil {
		m.log.Error("route call", "call_id", callID(req), "error", err)
		respond(tx, req, sip.StatusInternalServerError, reasonFor(sip.StatusInternalServerError))
		return
	}
	if plan.Reject != 0 {
		m.log.Info("call rejected", "call_id", callID(req), "status", plan.Reject, "reason", plan.Reason)
		respond(tx, req, plan.Reject, reasonFor(plan.Reject))
		m.writeRejected(ctx, origin, plan, req, plan.Reject, start)
		return
	}
	s, code, err := m.newSession(ctx, origin, plan, req, tx)
	if err != nil {
		m.log.Info("call rejected", "call_id", callID(req), "status", code, "error", err)
		respond(tx, req, code, reasonFor(code))
		m.writeRejected(ctx, origin, plan, req, code, start)
		return
	}
	s.run()
}

// InDialog handles a request inside a call of the Manager. It returns false
// when no call of the Manager has req's dialog.
func (m *Manager) InDialog(ctx context.Context, req *sip.Request, tx sip.ServerTransaction) bool {
	tag := ""
	if to := req.To(); to != nil {
		tag, _ = to.Params.Get("tag")
	}
	m.mu.Lock()
	ref, ok := m.dialogs[dialogKey(callID(req), tag)]
	m.mu.Unlock()
	if !ok {
		return false
	}
	if ref.detached {
		ref.s.detachedRequest(req, tx)
		return true
	}
	ref.s.inDialog(ctx, ref.side, req, tx)
	return true
}

// SessionInfo is a live call as GET /api/sessions shows it.
type SessionInfo struct {
	ID     pbx.ID
	Tenant pbx.TenantID
	Calls  []CallInfo
}

// CallInfo is one call of a session.
type CallInfo struct {
	Caller            string
	CallerDisplayName string
	Callee            string
	Trunk             string
	StartedAt         time.Time
	// TalkingTime is how many seconds the call has been answered.
	TalkingTime int
	Answered    bool
}

// Sessions returns tenant's live calls, oldest first.
func (m *Manager) Sessions(tenant pbx.TenantID) []SessionInfo {
	m.mu.Lock()
	var list []*session
	for _, s := range m.sessions {
		if s.tenant.ID == tenant {
			list = append(list, s)
		}
	}
	m.mu.Unlock()
	out := make([]SessionInfo, 0, len(list))
	for _, s := range list {
		out = append(out, s.info())
	}
	sortInfos(out)
	return out
}

// Session returns one live call of tenant, or ENOTFOUND.
func (m *Manager) Session(tenant pbx.TenantID, id pbx.ID) (SessionInfo, error) {
	s, err := m.session(tenant, id)
	if err != nil {
		return SessionInfo{}, err
	}
	return s.info(), nil
}

func (m *Manager) session(tenant pbx.TenantID, id pbx.ID) (*session, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, ok := m.sessions[id]
	if !ok || s.tenant.ID != tenant {
		return nil, pbx.Errorf(pbx.ENOTFOUND, "session not found")
	}
	return s, nil
}

// Hangup ends a live call of tenant (POST /api/sessions/{id}/destroy): a
// ringing call is cancelled, an answered one gets a BYE on both legs.
func (m *Manager) Hangup(ctx context.Context, tenant pbx.TenantID, id pbx.ID) error {
	s, err := m.session(tenant, id)
	if err != nil {
		return fmt.Errorf("hangup: %w", err)
	}
	s.hangup(ctx, "")
	return nil
}

// Drain refuses new calls with 503 and waits until every live call has
// ended by itself, or until ctx ends (then it returns ctx's error and the
// calls still up are left to Close). It is the graceful half of a shutdown.
func (m *Manager) Drain(ctx context.Context) error {
	m.mu.Lock()
	m.closed = true
	if len(m.sessions) == 0 {
		m.mu.Unlock()
		return nil
	}
	if m.drained == nil {
		m.drained = make(chan struct{})
	}
	drained := m.drained
	m.mu.Unlock()
	select {
	case <-drained:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("drain call manager: %w", ctx.Err())
	}
}

// Close refuses new calls, hangs up every live call and waits for the
// Manager's goroutines, or for ctx.
func (m *Manager) Close(ctx context.Context) error {
	m.mu.Lock()
	m.closed = true
	var list []*session
	for _, s := range m.sessions {
		list = append(list, s)
	}
	m.mu.Unlock()
	for _, s := range list {
		s.hangup(ctx, "")
	}
	for {
		m.mu.Lock()
		if m.running == 0 {
			m.mu.Unlock()
			return nil
		}
		if m.idle == nil {
			m.idle = make(chan struct{})
		}
		idle := m.idle
		m.mu.Unlock()
		select {
		case <-idle:
		case <-ctx.Done():
			return fmt.Errorf("close call manager: %w", ctx.Err())
		}
	}
}

// goWait runs fn as a goroutine that Close waits for.
func (m *Manager) goWait(fn func()) {
	m.mu.Lock()
	m.running++
	m.mu.Unlock()
	go func() {
		defer func() {
			m.mu.Lock()
			if m.running--; m.running == 0 && m.idle != nil {
				close(m.idle)
				m.idle = nil
			}
			m.mu.Unlock()
		}()
		fn()
	}()
}

func (m *Manager) addDialog(key string, ref dialogRef) {
	m.mu.Lock()
	m.dialogs[key] = ref
	m.mu.Unlock()
}

func (m *Manager) removeDialog(key string) {
	m.mu.Lock()
	delete(m.dialogs, key)
	m.mu.Unlock()
}

// addSession registers s unless its tenant is at its maximum of
// concurrent calls (PortSIP's max_concurrent_calls; 0 is no limit).
func (m *Manager) addSession(s *session) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if max := s.tenant.MaxConcurrentCalls; max > 0 && m.live[s.tenant.ID] >= max {
		return false
	}
	m.sessions[s.id] = s
	m.live[s.tenant.ID]++
	return true
}

func (m *Manager) removeSession(s *session, keys []string) {
	m.mu.Lock()
	if _, ok := m.sessions[s.id]; ok {
		delete(m.sessions, s.id)
		if m.live[s.tenant.ID]--; m.live[s.tenant.ID] <= 0 {
			delete(m.live, s.tenant.ID)
		}
	}
	for _, k := range keys {
		delete(m.dialogs, k)
	}
	if len(m.sessions) == 0 && m.drained != nil {
		close(m.drained)
		m.drained = nil
	}
	m.mu.Unlock()
}

func callID(req *sip.Request) string {
	if h := req.CallID(); h != nil {
		return h.Value()
	}
	return ""
}

// plan asks the Router where the call goes; without one the call rings
// the dialled extension of the caller's tenant.
func (m *Manager) plan(ctx context.Context, origin Origin, req *sip.Request) (Plan, error) {
	if m.d.Router == nil {
		if origin.Trunk != 0 {
			return Plan{Reject: sip.StatusNotFound, Reason: "no router for trunk calls"}, nil
		}
		return Plan{Tenant: origin.Tenant, Direction: ExtensionCall, Extension: req.Recipient.User}, nil
	}
	p, err := m.d.Router.Route(ctx, origin, req)
	if err != nil {
		return Plan{}, fmt.Errorf("route call: %w", err)
	}
	if p.Tenant.ID == 0 {
		p.Tenant = origin.Tenant
	}
	if p.Direction == "" {
		p.Direction = ExtensionCall
	}
	return p, nil
}

// newCDR starts the CDR of a call from what signalling and the Plan know.
func newCDR(origin Origin, plan Plan, req *sip.Request) CDR {
	r := CDR{
		Tenant: plan.Tenant.ID, CallID: callID(req),
		Caller: plan.Caller, CallerDomain: plan.Tenant.Domain, CallerDisplayName: plan.CallerName,
		Callee: plan.Callee, CalleeDomain: plan.Tenant.Domain,
		Direction: plan.Direction, Destination: req.Recipient.String(),
		DIDCID: plan.DIDCID, OutboundCallerID: plan.OutboundCallerID, Trunk: plan.Trunk,
	}
	if r.Caller == "" {
		r.Caller = origin.User.ExtensionNumber
	}
	if r.CallerDisplayName == "" {
		r.CallerDisplayName = origin.User.DisplayName
	}
	if f := req.From(); f != nil {
		if r.Caller == "" {
			r.Caller = f.Address.User
		}
		if r.CallerDisplayName == "" {
			r.CallerDisplayName = f.DisplayName
		}
	}
	if r.Callee == "" {
		r.Callee = req.Recipient.User
	}
	return r
}

// writeRejected writes the CDR of a call that failed before any leg was
// tried (unknown number, nobody registered, refused by a rule), so that
// every call attempt is on record. A call from a trunk that no tenant
// took has no tenant to keep it: it is only logged.
func (m *Manager) writeRejected(ctx context.Context, origin Origin, plan Plan, req *sip.Request, code int, start time.Time) {
	if plan.Tenant.ID == 0 {
		return
	}
	r := newCDR(origin, plan, req)
	r.SessionID, r.StartedAt, r.EndedAt, r.StatusCode = m.d.NewID(), start, m.d.Now(), code
	if err := m.d.CDRs.CreateCDR(ctx, plan.Tenant.ID, &r); err != nil {
		m.log.Error("write cdr", "call_id", r.CallID, "error", err)
	}
}

// info is the session as the API lists it (Manager.Sessions).
func (s *session) info() SessionInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := CallInfo{
		Caller: s.rec.Caller, CallerDisplayName: s.rec.CallerDisplayName, Callee: s.rec.Callee,
		StartedAt: s.rec.StartedAt, Answered: s.state == answered,
	}
	if !s.rec.AnsweredAt.IsZero() {
		c.TalkingTime = int(s.m.d.Now().Sub(s.rec.AnsweredAt) / time.Second)
	}
	return SessionInfo{ID: s.id, Tenant: s.tenant.ID, Calls: []CallInfo{c}}
}
