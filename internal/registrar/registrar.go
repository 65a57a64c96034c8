package registrar

import (
	"context"
	"fmt"
	"hash/maphash"
	"log/slog"
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
)

// Store is what the registrar needs of the database. *store.DB implements it.
type Store interface {
	// UpsertBinding stores b, replacing the binding of the same user with
	// the same key (instance and reg-id, else contact), and sets b.ID.
	UpsertBinding(ctx context.Context, b *pbx.Binding) error
	DeleteBinding(ctx context.Context, tenant pbx.TenantID, id pbx.ID) error
	BindingsByExtension(ctx context.Context, tenant pbx.TenantID, extension string) ([]pbx.Binding, error)
	BindingsByUser(ctx context.Context, tenant pbx.TenantID, user pbx.ID) ([]pbx.Binding, error)
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
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Logger receives registration events; nil discards them.
	Logger *slog.Logger
}

// Registrar handles REGISTER and looks up contacts.
type Registrar struct {
	cfg   Config
	st    Store
	now   func() time.Time
	log   *slog.Logger
	seed  maphash.Seed
	locks [64]sync.Mutex
}

// New returns a Registrar on st. It fails when the bounds contradict each
// other.
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
	if cfg.MinExpires < 0 || cfg.MinExpires > cfg.DefaultExpires || cfg.DefaultExpires > cfg.MaxExpires {
		return nil, fmt.Errorf("new registrar: want 0 < min (%d) <= default (%d) <= max (%d) expires",
			cfg.MinExpires, cfg.DefaultExpires, cfg.MaxExpires)
	}
	if st == nil {
		return nil, fmt.Errorf("new registrar: no store")
	}
	r := &Registrar{cfg: cfg, st: st, now: cfg.Now, log: cfg.Logger, seed: maphash.MakeSeed()}
	if r.now == nil {
		r.now = time.Now
	}
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	return r, nil
}

// lock serialises the requests of one user.
func (r *Registrar) lock(user pbx.ID) func() {
	h := maphash.Comparable(r.seed, user)
	m := &r.locks[h%uint64(len(r.locks))]
	m.Lock()
	return m.Unlock
}

// Contacts returns the live bindings of tenant's extension, oldest first:
// the contacts the B2BUA forks a call to. Each binding's Source and Transport
// say where to send the request so that it reaches a phone behind NAT.
func (r *Registrar) Contacts(ctx context.Context, tenant pbx.TenantID, extension string) ([]pbx.Binding, error) {
	all, err := r.st.BindingsByExtension(ctx, tenant, extension)
	if err != nil {
		return nil, fmt.Errorf("contacts of %s: %w", extension, err)
	}
	return live(all, r.now()), nil
}

// Bindings returns the live bindings of one user, for the API's
// GET /users/{id}/status.
func (r *Registrar) Bindings(ctx context.Context, tenant pbx.TenantID, user pbx.ID) ([]pbx.Binding, error) {
	all, err := r.st.BindingsByUser(ctx, tenant, user)
	if err != nil {
		return nil, fmt.Errorf("bindings of user %s: %w", user, err)
	}
	return live(all, r.now()), nil
}

// Remove deletes the user's binding whose +sip.instance or ID is
// instanceOrID (the API's POST /users/{id}/status/{instance_id}/destroy_status).
// No such binding is ENOTFOUND.
func (r *Registrar) Remove(ctx context.Context, tenant pbx.TenantID, user pbx.ID, instanceOrID string) error {
	defer r.lock(user)()
	all, err := r.st.BindingsByUser(ctx, tenant, user)
	if err != nil {
		return fmt.Errorf("remove binding: %w", err)
	}
	want := trimInstance(instanceOrID)
	found := false
	for _, b := range all {
		if b.ID.String() == instanceOrID || (want != "" && b.InstanceID == want) {
			if err := r.st.DeleteBinding(ctx, tenant, b.ID); err != nil {
				return fmt.Errorf("remove binding: %w", err)
			}
			r.log.Info("binding removed", "tenant", tenant, "extension", b.Extension, "contact", b.Contact)
			found = true
		}
	}
	if !found {
		return pbx.Errorf(pbx.ENOTFOUND, "registration not found")
	}
	return nil
}

// Sweep deletes every binding that has expired and says how many.
func (r *Registrar) Sweep(ctx context.Context) (int, error) {
	n, err := r.st.DeleteExpiredBindings(ctx, r.now())
	if err != nil {
		return 0, fmt.Errorf("sweep bindings: %w", err)
	}
	if n > 0 {
		r.log.Debug("expired bindings swept", "count", n)
	}
	return n, nil
}

// Run sweeps expired bindings every SweepInterval until ctx ends, then
// returns nil. Sweep errors are logged and retried at the next tick.
func (r *Registrar) Run(ctx context.Context) error {
	t := time.NewTicker(r.cfg.SweepInterval)
	defer t.Stop()
	for {
		if _, err := r.Sweep(ctx); err != nil && ctx.Err() == nil {
			r.log.Warn("sweep failed", "error", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

func live(all []pbx.Binding, now time.Time) []pbx.Binding {
	out := all[:0:0]
	for _, b := range all {
		if b.ExpiresAt.After(now) {
			out = append(out, b)
		}
	}
	return out
}
