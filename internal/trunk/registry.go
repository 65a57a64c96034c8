package trunk

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"reflect"
	"sort"
	"sync"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/gopbx/gopbx/internal/call"
	"github.com/gopbx/gopbx/internal/pbx"
	"github.com/gopbx/gopbx/internal/store"
)

// Store is where the Registry reads trunks from.
type Store interface {
	// Providers returns every trunk of the system.
	Providers(ctx context.Context) ([]store.Provider, error)
}

var _ Store = (*store.DB)(nil)

// Defaults of Deps.
const (
	DefaultRetryMin = 30 * time.Second
	DefaultRetryMax = 10 * time.Minute
	// DefaultTimeout is SIP's timer B (64·T1): how long a REGISTER or an
	// OPTIONS waits for its final answer.
	DefaultTimeout = 32 * time.Second
)

// unregisterTimeout bounds the REGISTER with Expires: 0 a stopping trunk
// sends: shutdown must not wait on a carrier that does not answer.
const unregisterTimeout = 2 * time.Second

// resolveTimeout bounds the lookup of one trunk host name on load.
const resolveTimeout = 5 * time.Second

// Deps are what a Registry needs.
type Deps struct {
	// Client sends the Registry's REGISTERs and OPTIONS. It must be the
	// SIP edge's client, so that requests leave from the PBX's listening
	// sockets and carriers answer (and send calls) to them.
	Client *sipgo.Client
	Store  Store
	Logger *slog.Logger
	Now    func() time.Time
	// Contacts are the PBX's own contact URIs per transport ("UDP", "TCP",
	// "TLS"), as the call manager gets them (cmd/gopbx/sip.go). A trunk on
	// a transport without one uses the UDP one.
	Contacts map[string]sip.Uri
	// RetryMin and RetryMax bound the back-off after a failed registration
	// (defaults 30 s and 10 min); tests shorten them.
	RetryMin, RetryMax time.Duration
	// Timeout bounds one REGISTER or OPTIONS exchange (default 32 s); a
	// keepalive is also bounded by its interval.
	Timeout time.Duration
	// OnEvent is told when a trunk registers, fails to, comes up or goes
	// down. It is called from the trunk's goroutine (for an
	// ACCEPT_REGISTER trunk, from the caller of Accept) and must not
	// block. It may be nil.
	OnEvent func(Event)
	// Resolve looks up a trunk's host name; the default is
	// net.DefaultResolver.
	Resolve func(ctx context.Context, host string) ([]netip.Addr, error)
}

// Kinds of Event.
const (
	EventRegistered         = "registered"
	EventRegistrationFailed = "registration_failed"
	EventUp                 = "up"
	EventDown               = "down"
)

// Event is a change of a trunk's state. Registered and
// registration_failed are sent when the registration state changes, not on
// every refresh or retry; up and down when the trunk starts or stops
// answering (its first answer or timeout counts as a change).
type Event struct {
	Trunk  pbx.ID
	Name   string
	Kind   string
	Detail string
	At     time.Time
}

// States of Status.State.
const (
	StateRegistered    = "REGISTERED"
	StateUnregistered  = "UNREGISTERED"
	StateFailed        = "FAILED"
	StateDisabled      = "DISABLED"
	StateNotApplicable = "NOT_APPLICABLE"
)

// Status is what the PBX knows of a trunk at the moment.
type Status struct {
	Registered bool
	// State is REGISTERED, UNREGISTERED (not yet tried), FAILED, DISABLED
	// (disabled, or a mode that is not SIP) or NOT_APPLICABLE (a trunk that
	// does not register, or one the Registry does not know).
	State          string
	LastError      string
	LastStatusCode int
	ExpiresAt      time.Time
	// Up is whether the trunk answered the last OPTIONS or REGISTER.
	Up        bool
	LiveCalls int
	LastCheck time.Time
}

// Registry keeps the trunks of the system: their configs for the call
// path, their registrations and keepalives, and their live calls. Its
// lookups are safe for concurrent use and never do I/O; Run owns every
// goroutine and must be called once.
type Registry struct {
	d      Deps
	log    *slog.Logger
	reload chan struct{}

	mu       sync.RWMutex
	configs  map[pbx.ID]Config
	idents   []ident
	states   map[pbx.ID]*state
	counters map[pbx.ID]*counter
	// accepts are the registrations of ACCEPT_REGISTER trunks' devices.
	accepts map[pbx.ID]Binding
}

// ident is a source prefix that identifies a trunk.
type ident struct {
	prefix netip.Prefix
	trunk  pbx.ID
}

// New returns a Registry. Client and Store are required.
func New(d Deps) (*Registry, error) {
	if d.Client == nil || d.Store == nil {
		return nil, errors.New("new trunk registry: client and store are required")
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.RetryMin <= 0 {
		d.RetryMin = DefaultRetryMin
	}
	if d.RetryMax <= 0 {
		d.RetryMax = DefaultRetryMax
	}
	d.RetryMax = max(d.RetryMax, d.RetryMin)
	if d.Timeout <= 0 {
		d.Timeout = DefaultTimeout
	}
	if d.Resolve == nil {
		d.Resolve = func(ctx context.Context, host string) ([]netip.Addr, error) {
			return net.DefaultResolver.LookupNetIP(ctx, "ip", host)
		}
	}
	return &Registry{
		d: d, log: d.Logger, reload: make(chan struct{}, 1),
		configs: map[pbx.ID]Config{}, states: map[pbx.ID]*state{}, counters: map[pbx.ID]*counter{},
		accepts: map[pbx.ID]Binding{},
	}, nil
}

// Reload tells Run that providers changed. It does not block; Run reads
// the providers again and starts, stops and restarts trunks to match.
func (r *Registry) Reload() {
	select {
	case r.reload <- struct{}{}:
	default:
	}
}

// runner is a trunk's goroutine as Run sees it.
type runner struct {
	cfg    Config
	cancel context.CancelFunc
	done   chan struct{}
}

// Run loads the trunks and runs one goroutine per trunk that registers or
// sends keepalives, until ctx ends. On Reload it reconciles: new trunks
// start, removed or disabled ones stop, changed ones restart. A stopping
// trunk that is registered unregisters (Expires: 0) within a short timeout,
// also when ctx ends. Run returns when all its goroutines have exited: nil
// after ctx ends, or the error of the first load. A later load that fails
// is logged and keeps the trunks as they were.
func (r *Registry) Run(ctx context.Context) error {
	running := map[pbx.ID]*runner{}
	defer func() {
		for _, rn := range running {
			rn.cancel()
		}
		for _, rn := range running {
			<-rn.done
		}
	}()
	if err := r.reconcile(ctx, running); err != nil {
		return fmt.Errorf("run trunks: %w", err)
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-r.reload:
			if err := r.reconcile(ctx, running); err != nil {
				if ctx.Err() != nil {
					return nil
				}
				r.log.Warn("trunk reload failed", "err", err)
			}
		}
	}
}

// wantsRunner reports whether a trunk needs a goroutine: it registers, or
// it sends keepalives. An ACCEPT_REGISTER trunk is reached at the contact
// its device registered (Accept), so it has none.
func wantsRunner(c Config) bool {
	return c.Registers() || (c.SIP() && c.KeepAlive && c.AuthMode != AcceptRegister)
}

func (r *Registry) reconcile(ctx context.Context, running map[pbx.ID]*runner) error {
	cfgs, idents, err := r.load(ctx)
	if err != nil {
		return err
	}
	var stopping []*runner
	for id, rn := range running {
		if c, ok := cfgs[id]; !ok || !wantsRunner(c) || !reflect.DeepEqual(c, rn.cfg) {
			rn.cancel()
			stopping = append(stopping, rn)
			delete(running, id)
		}
	}
	// A changed trunk unregisters before it registers again, so that the
	// carrier does not end with the old binding after the new one.
	for _, rn := range stopping {
		<-rn.done
	}
	r.mu.Lock()
	r.keepAccepted(r.configs, cfgs)
	r.configs, r.idents = cfgs, idents
	for id := range r.states {
		if running[id] == nil {
			delete(r.states, id)
		}
	}
	for id := range r.counters {
		if _, ok := cfgs[id]; !ok {
			delete(r.counters, id)
		}
	}
	for id := range cfgs {
		if r.counters[id] == nil {
			r.counters[id] = &counter{}
		}
	}
	for id, c := range cfgs {
		if running[id] != nil || !wantsRunner(c) {
			continue
		}
		st := newState(c)
		r.states[id] = st
		rctx, cancel := context.WithCancel(ctx)
		rn := &runner{cfg: c, cancel: cancel, done: make(chan struct{})}
		running[id] = rn
		a := r.newAgent(c, st)
		go func() {
			defer close(rn.done)
			a.run(rctx)
		}()
	}
	r.mu.Unlock()
	return nil
}

// load reads the providers, decodes them and resolves the addresses that
// identify them. A trunk whose settings do not decode is left out and
// logged: one bad row must not stop the others.
func (r *Registry) load(ctx context.Context) (map[pbx.ID]Config, []ident, error) {
	ps, err := r.d.Store.Providers(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("load providers: %w", err)
	}
	cfgs := make(map[pbx.ID]Config, len(ps))
	for _, p := range ps {
		c, err := FromProvider(p)
		if err != nil {
			r.log.Warn("trunk skipped", "trunk", p.Name, "trunk_id", p.ID, "err", err)
			continue
		}
		c.Local = r.contact(c.Transport)
		cfgs[c.ID] = c
	}
	resolved := map[string][]netip.Addr{}
	var idents []ident
	for _, c := range cfgs {
		if !c.SIP() || (c.AuthMode != IPAuth && c.AuthMode != RegisterAuth) {
			continue
		}
		for _, h := range []string{c.Hostname, c.OutboundServer} {
			if h == "" {
				continue
			}
			addrs, ok := resolved[h]
			if !ok {
				addrs = r.resolve(ctx, h)
				resolved[h] = addrs
			}
			for _, a := range addrs {
				idents = append(idents, ident{netip.PrefixFrom(a, a.BitLen()), c.ID})
			}
		}
		for _, s := range c.AdditionalIPs {
			if p, err := store.ParsePrefix(s); err == nil {
				idents = append(idents, ident{p, c.ID})
			}
		}
	}
	// The most specific prefix wins; equal ones go to the oldest trunk, so
	// that the answer does not depend on map order.
	sort.Slice(idents, func(i, j int) bool {
		if bi, bj := idents[i].prefix.Bits(), idents[j].prefix.Bits(); bi != bj {
			return bi > bj
		}
		return idents[i].trunk < idents[j].trunk
	})
	return cfgs, idents, nil
}

func (r *Registry) resolve(ctx context.Context, host string) []netip.Addr {
	if a, err := netip.ParseAddr(host); err == nil {
		return []netip.Addr{a.Unmap()}
	}
	ctx, cancel := context.WithTimeout(ctx, resolveTimeout)
	defer cancel()
	addrs, err := r.d.Resolve(ctx, host)
	if err != nil {
		r.log.Warn("trunk host not resolved", "host", host, "err", err)
		return nil
	}
	for i, a := range addrs {
		addrs[i] = a.Unmap()
	}
	return addrs
}

// contact is the PBX's contact URI for a transport.
func (r *Registry) contact(transport string) sip.Uri {
	if u, ok := r.d.Contacts[transport]; ok {
		return u
	}
	return r.d.Contacts["UDP"]
}

// Identify returns the trunk that requests from src come from: the enabled
// ACCEPT_REGISTER trunk whose device has a live registration from src, else
// the enabled IP_AUTH or REGISTER_AUTH trunk whose hostname, outbound
// server or additional_ips covers src. Host names were resolved when the
// trunks were loaded. A registration wins over configured addresses
// because it is the most specific proof there is: the device proved the
// trunk's password from that very address. Among configured addresses the
// most specific prefix wins.
func (r *Registry) Identify(src netip.Addr) (Config, bool) {
	src = src.Unmap()
	now := r.d.Now()
	r.mu.RLock()
	defer r.mu.RUnlock()
	if c, ok := r.acceptedAtLocked(src, now); ok {
		return c, true
	}
	for _, id := range r.idents {
		if id.prefix.Contains(src) {
			return r.configs[id.trunk], true
		}
	}
	return Config{}, false
}

// Trunk returns a trunk's config, enabled or not.
func (r *Registry) Trunk(id pbx.ID) (Config, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	c, ok := r.configs[id]
	return c, ok
}

// Route builds the route of tc through trunk id (Config.Route) with
// Acquire bound to the trunk's live calls: it refuses when the trunk
// carries its concurrency already (0 is no limit). An ACCEPT_REGISTER
// trunk is reached at its device's registration (see Binding). Route
// returns false for a trunk that is unknown, disabled or not a SIP trunk,
// and for an ACCEPT_REGISTER trunk whose device is not registered.
func (r *Registry) Route(id pbx.ID, tc call.TrunkCall) (call.TrunkRoute, bool) {
	now := r.d.Now()
	r.mu.RLock()
	c, ok := r.configs[id]
	cnt := r.counters[id]
	b, bound := r.liveBindingLocked(id, now)
	r.mu.RUnlock()
	if !ok || !c.SIP() || cnt == nil || (c.AuthMode == AcceptRegister && !bound) {
		return call.TrunkRoute{}, false
	}
	rt := c.Route(tc)
	if c.AuthMode == AcceptRegister {
		rt = c.acceptRoute(rt, b)
	}
	limit := c.Concurrency
	rt.Acquire = func() (func(), bool) { return cnt.acquire(limit) }
	return rt, true
}

// Status returns what the Registry knows of trunk id now. An
// ACCEPT_REGISTER trunk is REGISTERED and up while its device's
// registration lives (ExpiresAt is its end), UNREGISTERED and down
// otherwise.
func (r *Registry) Status(id pbx.ID) Status {
	now := r.d.Now()
	r.mu.RLock()
	c, ok := r.configs[id]
	st := r.states[id]
	cnt := r.counters[id]
	b, bound := r.liveBindingLocked(id, now)
	r.mu.RUnlock()
	var s Status
	switch {
	case !ok:
		return Status{State: StateNotApplicable}
	case !c.SIP():
		s.State = StateDisabled
	case c.AuthMode == AcceptRegister && bound:
		s = Status{Registered: true, State: StateRegistered, ExpiresAt: b.ExpiresAt, Up: true}
	case c.AuthMode == AcceptRegister:
		s.State = StateUnregistered
	case st != nil:
		s = st.get()
	default:
		s.State = StateNotApplicable
	}
	if cnt != nil {
		s.LiveCalls = cnt.live()
	}
	return s
}

// counter is a trunk's live calls. It outlives restarts of the trunk, so
// that calls placed before a change are still counted after it.
type counter struct {
	mu sync.Mutex
	n  int
}

func (c *counter) acquire(limit int) (func(), bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if limit > 0 && c.n >= limit {
		return nil, false
	}
	c.n++
	var once sync.Once
	return func() {
		once.Do(func() {
			c.mu.Lock()
			c.n--
			c.mu.Unlock()
		})
	}, true
}

func (c *counter) live() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n
}

// state is a running trunk's Status, written by its goroutine.
type state struct {
	mu      sync.Mutex
	s       Status
	upKnown bool
}

func newState(c Config) *state {
	st := &state{s: Status{State: StateNotApplicable}}
	if c.Registers() {
		st.s.State = StateUnregistered
	}
	return st
}

func (st *state) get() Status {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.s
}
