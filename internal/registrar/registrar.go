package registrar

import (
	"context"
	"fmt"
	"hash/maphash"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/gopbx/gopbx/internal/pbx"
)

// Defaults of Config, in seconds as REGISTER carries them. DefaultExpires is
// PortSIP's register_expiration_time.
const (
	DefaultMinExpires     = 60
	DefaultDefaultExpires = 300
	DefaultMaxExpires     = 3600
	DefaultSweepInterval  = 30 * time.Second
	DefaultFlushInterval  = 200 * time.Millisecond
	DefaultFlushBatch     = 512
	// DefaultMaxBindings bounds the contacts of one extension, as
	// PortSIP bounds the registrations of one.
	DefaultMaxBindings = 10
)

// shutdownFlushTimeout bounds the last write of Run once its ctx has ended.
const shutdownFlushTimeout = 30 * time.Second

// Store is what the registrar needs of the database. *store.DB implements it.
type Store interface {
	// NewID returns a new unique ID for a binding.
	NewID() pbx.ID
	// LiveBindings returns the bindings of every tenant expiring after t,
	// oldest first.
	LiveBindings(ctx context.Context, t time.Time) ([]pbx.Binding, error)
	// ApplyBindings deletes the bindings of deletes and stores upserts under
	// their IDs, replacing those of the same user and key, in one
	// transaction. It skips, and lists, upserts whose user is gone.
	ApplyBindings(ctx context.Context, upserts []pbx.Binding, deletes []pbx.ID) (skipped []pbx.ID, err error)
	DeleteExpiredBindings(ctx context.Context, t time.Time) (int, error)
}

// Config bounds registrations. Zero fields take the Default* values.
type Config struct {
	// MinExpires is the shortest registration accepted, in seconds; a
	// shorter one is refused with 423 and Min-Expires.
	MinExpires int
	// DefaultExpires is used when a REGISTER names no expiry, in seconds.
	DefaultExpires int
	// MaxExpires caps a longer requested expiry, in seconds.
	MaxExpires int
	// SweepInterval is how often Run deletes expired bindings.
	SweepInterval time.Duration
	// FlushInterval is how often Run writes changed bindings to the
	// database; FlushBatch pending changes make it write sooner.
	FlushInterval time.Duration
	FlushBatch    int
	// MaxBindings is the most contacts one user may have registered at
	// once (DefaultMaxBindings when zero, no limit when negative). A
	// REGISTER that would exceed it replaces the user's oldest bindings;
	// see Register.
	MaxBindings int
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Logger receives registration events; nil discards them.
	Logger *slog.Logger
}

// userBindings are the bindings of one user, oldest first. mu serialises
// the requests of the user.
type userBindings struct {
	mu sync.Mutex
	bs []pbx.Binding
}

type shard struct {
	mu    sync.RWMutex
	users map[pbx.ID]*userBindings
}

// extKey names an extension of a tenant, for Contacts.
type extKey struct {
	tenant    pbx.TenantID
	extension string
}

// change is a binding to write, or the deletion of one.
type change struct {
	b   pbx.Binding
	del bool
}

// Registrar handles REGISTER and looks up contacts.
type Registrar struct {
	cfg    Config
	st     Store
	now    func() time.Time
	log    *slog.Logger
	seed   maphash.Seed
	shards [64]shard

	// exts lists the users that have (or had) a binding of each extension.
	// Lock order: a user's mu, then extMu.
	extMu sync.RWMutex
	exts  map[extKey][]pbx.ID

	// flows lists the users that registered a binding over each TCP, TLS,
	// WS or WSS connection, so that RemoveFlow finds them without a scan.
	// An entry lives until its connection's RemoveFlow; a user listed
	// there may since have refreshed over another connection.
	// Lock order: a user's mu, then flowMu.
	flowMu sync.Mutex
	flows  map[flowKey][]pbx.ID

	// pend holds the changes not written yet, by binding ID: a binding
	// refreshed many times between flushes is written once.
	pendMu  sync.Mutex
	pend    map[pbx.ID]change
	kick    chan struct{}
	flushMu sync.Mutex // serialises flushes, so that batches apply in order
}

// New returns a Registrar on st, with the live bindings of st loaded. It
// fails when the bounds contradict each other or the bindings cannot be
// read.
func New(cfg Config, st Store) (*Registrar, error) {
	if cfg.MinExpires == 0 {
		cfg.MinExpires = DefaultMinExpires
	}
	if cfg.DefaultExpires == 0 {
		cfg.DefaultExpires = DefaultDefaultExpires
	}
	if cfg.MaxExpires == 0 {
		cfg.MaxExpires = DefaultMaxExpires
	}
	if cfg.SweepInterval <= 0 {
		cfg.SweepInterval = DefaultSweepInterval
	}
	if cfg.FlushInterval <= 0 {
		cfg.FlushInterval = DefaultFlushInterval
	}
	if cfg.FlushBatch <= 0 {
		cfg.FlushBatch = DefaultFlushBatch
	}
	if cfg.MaxBindings == 0 {
		cfg.MaxBindings = DefaultMaxBindings
	}
	if cfg.MinExpires < 0 || cfg.MinExpires > cfg.DefaultExpires || cfg.DefaultExpires > cfg.MaxExpires {
		return nil, fmt.Errorf("new registrar: want 0 < min (%d) <= default (%d) <= max (%d) expires",
			cfg.MinExpires, cfg.DefaultExpires, cfg.MaxExpires)
	}
	if st == nil {
		return nil, fmt.Errorf("new registrar: no store")
	}
	r := &Registrar{cfg: cfg, st: st, now: cfg.Now, log: cfg.Logger, seed: maphash.MakeSeed(),
		exts: map[extKey][]pbx.ID{}, flows: map[flowKey][]pbx.ID{}, pend: map[pbx.ID]change{}, kick: make(chan struct{}, 1)}
	if r.now == nil {
		r.now = time.Now
	}
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	for i := range r.shards {
		r.shards[i].users = map[pbx.ID]*userBindings{}
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	all, err := st.LiveBindings(ctx, r.now())
	if err != nil {
		return nil, fmt.Errorf("new registrar: load bindings: %w", err)
	}
	for _, b := range all {
		ub := r.user(b.User)
		ub.bs = append(ub.bs, b)
		r.indexLocked(b)
	}
	return r, nil
}

// user returns the bindings of user, creating an empty set.
func (r *Registrar) user(user pbx.ID) *userBindings {
	s := &r.shards[maphash.Comparable(r.seed, user)%uint64(len(r.shards))]
	s.mu.RLock()
	ub := s.users[user]
	s.mu.RUnlock()
	if ub != nil {
		return ub
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if ub = s.users[user]; ub == nil {
		ub = &userBindings{}
		s.users[user] = ub
	}
	return ub
}

// lock returns the bindings of user, locked: it serialises the requests of
// one user.
func (r *Registrar) lock(user pbx.ID) *userBindings {
	ub := r.user(user)
	ub.mu.Lock()
	return ub
}

// indexLocked records that b's user has a binding of b's extension. The
// caller holds the user's lock.
func (r *Registrar) indexLocked(b pbx.Binding) {
	k := extKey{b.Tenant, b.Extension}
	r.extMu.RLock()
	has := slices.Contains(r.exts[k], b.User)
	r.extMu.RUnlock()
	if has {
		return
	}
	r.extMu.Lock()
	if !slices.Contains(r.exts[k], b.User) {
		r.exts[k] = append(r.exts[k], b.User)
	}
	r.extMu.Unlock()
}

// unindexLocked forgets the removed binding's extension for its user when
// the user has no other binding of it. The caller holds the user's lock.
func (r *Registrar) unindexLocked(ub *userBindings, removed pbx.Binding) {
	for _, b := range ub.bs {
		if b.Tenant == removed.Tenant && b.Extension == removed.Extension {
			return
		}
	}
	k := extKey{removed.Tenant, removed.Extension}
	r.extMu.Lock()
	users := slices.DeleteFunc(r.exts[k], func(id pbx.ID) bool { return id == removed.User })
	if len(users) == 0 {
		delete(r.exts, k)
	} else {
		r.exts[k] = users
	}
	r.extMu.Unlock()
}

// setLocked replaces the bindings of ub with bs, records the changes to
// write and keeps the extension index. The caller holds ub's lock.
func (r *Registrar) setLocked(ub *userBindings, bs []pbx.Binding) {
	old := ub.bs
	ub.bs = bs
	r.pendMu.Lock()
	for _, b := range bs {
		if i := slices.IndexFunc(old, func(o pbx.Binding) bool { return o.ID == b.ID }); i < 0 || old[i] != b {
			r.pend[b.ID] = change{b: b}
		}
	}
	var gone []pbx.Binding
	for _, o := range old {
		if !slices.ContainsFunc(bs, func(b pbx.Binding) bool { return b.ID == o.ID }) {
			r.pend[o.ID] = change{del: true}
			gone = append(gone, o)
		}
	}
	n := len(r.pend)
	r.pendMu.Unlock()
	if n >= r.cfg.FlushBatch {
		select {
		case r.kick <- struct{}{}:
		default:
		}
	}
	for _, b := range bs {
		r.indexLocked(b)
		r.indexFlowLocked(b)
	}
	for _, o := range gone {
		r.unindexLocked(ub, o)
	}
}

// Contacts returns the live bindings of tenant's extension, oldest first:
// the contacts the B2BUA forks a call to. Each binding's Source and Transport
// say where to send the request so that it reaches a phone behind NAT.
func (r *Registrar) Contacts(ctx context.Context, tenant pbx.TenantID, extension string) ([]pbx.Binding, error) {
	r.extMu.RLock()
	users := slices.Clone(r.exts[extKey{tenant, extension}])
	r.extMu.RUnlock()
	now := r.now()
	var out []pbx.Binding
	for _, u := range users {
		ub := r.lock(u)
		for _, b := range ub.bs {
			if b.Tenant == tenant && b.Extension == extension && b.ExpiresAt.After(now) {
				out = append(out, b)
			}
		}
		ub.mu.Unlock()
	}
	if len(users) > 1 {
		slices.SortStableFunc(out, byAge)
	}
	return out, nil
}

func byAge(a, b pbx.Binding) int {
	if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
		return c
	}
	switch {
	case a.ID < b.ID:
		return -1
	case a.ID > b.ID:
		return 1
	}
	return 0
}

// Bindings returns the live bindings of one user, for the API's
// GET /users/{id}/status.
func (r *Registrar) Bindings(ctx context.Context, tenant pbx.TenantID, user pbx.ID) ([]pbx.Binding, error) {
	ub := r.lock(user)
	defer ub.mu.Unlock()
	return live(ub.bs, tenant, r.now()), nil
}

// Remove deletes the user's binding whose +sip.instance or ID is
// instanceOrID (the API's POST /users/{id}/status/{instance_id}/destroy_status).
// No such binding is ENOTFOUND. Lookups stop seeing it at once; the database
// at the next flush.
func (r *Registrar) Remove(ctx context.Context, tenant pbx.TenantID, user pbx.ID, instanceOrID string) error {
	ub := r.lock(user)
	defer ub.mu.Unlock()
	want := trimInstance(instanceOrID)
	keep := make([]pbx.Binding, 0, len(ub.bs))
	for _, b := range ub.bs {
		if b.Tenant == tenant && (b.ID.String() == instanceOrID || (want != "" && b.InstanceID == want)) {
			r.log.Info("binding removed", "tenant", tenant, "extension", b.Extension, "contact", b.Contact)
			continue
		}
		keep = append(keep, b)
	}
	if len(keep) == len(ub.bs) {
		return pbx.Errorf(pbx.ENOTFOUND, "registration not found")
	}
	r.setLocked(ub, keep)
	return nil
}

// Sweep deletes every binding that has expired, from memory and then from
// the database, and says how many.
func (r *Registrar) Sweep(ctx context.Context) (int, error) {
	now := r.now()
	n := 0
	for i := range r.shards {
		s := &r.shards[i]
		s.mu.RLock()
		users := make([]*userBindings, 0, len(s.users))
		for _, ub := range s.users {
			users = append(users, ub)
		}
		s.mu.RUnlock()
		for _, ub := range users {
			ub.mu.Lock()
			if slices.ContainsFunc(ub.bs, func(b pbx.Binding) bool { return !b.ExpiresAt.After(now) }) {
				keep := make([]pbx.Binding, 0, len(ub.bs))
				for _, b := range ub.bs {
					if b.ExpiresAt.After(now) {
						keep = append(keep, b)
					}
				}
				n += len(ub.bs) - len(keep)
				r.setDeletesLocked(ub, keep)
			}
			ub.mu.Unlock()
		}
	}
	// Write the deletions, then remove what memory did not hold (expired
	// rows of a previous run).
	if err := r.Flush(ctx); err != nil {
		return n, fmt.Errorf("sweep bindings: %w", err)
	}
	m, err := r.st.DeleteExpiredBindings(ctx, now)
	if err != nil {
		return n, fmt.Errorf("sweep bindings: %w", err)
	}
	n += m
	if n > 0 {
		r.log.Debug("expired bindings swept", "count", n)
	}
	return n, nil
}

// setDeletesLocked is setLocked when bs only drops bindings of ub: the kept
// ones need no write.
func (r *Registrar) setDeletesLocked(ub *userBindings, bs []pbx.Binding) {
	old := ub.bs
	ub.bs = bs
	var gone []pbx.Binding
	r.pendMu.Lock()
	for _, o := range old {
		if !slices.ContainsFunc(bs, func(b pbx.Binding) bool { return b.ID == o.ID }) {
			r.pend[o.ID] = change{del: true}
			gone = append(gone, o)
		}
	}
	r.pendMu.Unlock()
	for _, o := range gone {
		r.unindexLocked(ub, o)
	}
}

// Flush writes the pending changes to the database in one transaction. On
// failure they stay pending, under any newer change, for the next flush.
func (r *Registrar) Flush(ctx context.Context) error {
	r.flushMu.Lock()
	defer r.flushMu.Unlock()
	r.pendMu.Lock()
	batch := r.pend
	if len(batch) == 0 {
		r.pendMu.Unlock()
		return nil
	}
	r.pend = make(map[pbx.ID]change, len(batch))
	r.pendMu.Unlock()

	var upserts []pbx.Binding
	var deletes []pbx.ID
	for id, c := range batch {
		if c.del {
			deletes = append(deletes, id)
		} else {
			upserts = append(upserts, c.b)
		}
	}
	skipped, err := r.st.ApplyBindings(ctx, upserts, deletes)
	if err != nil {
		r.pendMu.Lock()
		for id, c := range batch {
			if _, newer := r.pend[id]; !newer {
				r.pend[id] = c
			}
		}
		r.pendMu.Unlock()
		return fmt.Errorf("flush bindings: %w", err)
	}
	// A binding whose user was deleted meanwhile goes from memory too, as
	// the database's cascade took its row.
	for _, id := range skipped {
		c := batch[id]
		ub := r.lock(c.b.User)
		keep := slices.DeleteFunc(slices.Clone(ub.bs), func(b pbx.Binding) bool { return b.ID == id })
		if len(keep) != len(ub.bs) {
			r.setDeletesLocked(ub, keep)
			r.log.Info("binding of a deleted user dropped", "tenant", c.b.Tenant, "extension", c.b.Extension)
		}
		ub.mu.Unlock()
	}
	return nil
}

// Run sweeps expired bindings every SweepInterval and writes changed ones
// every FlushInterval (or sooner when FlushBatch are pending) until ctx
// ends; then it writes what is pending and returns nil. Errors are logged
// and retried at the next tick.
func (r *Registrar) Run(ctx context.Context) error {
	sweep := time.NewTicker(r.cfg.SweepInterval)
	defer sweep.Stop()
	flush := time.NewTicker(r.cfg.FlushInterval)
	defer flush.Stop()
	defer func() {
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownFlushTimeout)
		defer cancel()
		if err := r.Flush(fctx); err != nil {
			r.log.Error("last flush of bindings failed", "error", err)
		}
	}()
	if _, err := r.Sweep(ctx); err != nil && ctx.Err() == nil {
		r.log.Warn("sweep failed", "error", err)
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-sweep.C:
			if _, err := r.Sweep(ctx); err != nil && ctx.Err() == nil {
				r.log.Warn("sweep failed", "error", err)
			}
		case <-flush.C:
			if err := r.Flush(ctx); err != nil && ctx.Err() == nil {
				r.log.Warn("flush of bindings failed", "error", err)
			}
		case <-r.kick:
			if err := r.Flush(ctx); err != nil && ctx.Err() == nil {
				r.log.Warn("flush of bindings failed", "error", err)
			}
		}
	}
}

// live returns the bindings of all that belong to tenant and expire after
// now, in a new slice.
func live(all []pbx.Binding, tenant pbx.TenantID, now time.Time) []pbx.Binding {
	out := all[:0:0]
	for _, b := range all {
		if b.Tenant == tenant && b.ExpiresAt.After(now) {
			out = append(out, b)
		}
	}
	return out
}
