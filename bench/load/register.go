package load

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// RegisterConfig says which users to register where.
type RegisterConfig struct {
	// Target is the registrar's UDP SIP address, ip:port.
	Target string
	// Domain is the tenant's SIP domain (the digest realm).
	Domain string
	// First and Users: extensions First .. First+Users-1 are registered,
	// each once, with digest authentication.
	First, Users int
	// Password is the SIP password pattern: every "{ext}" in it is
	// replaced by the extension number.
	Password string
	// Concurrency is how many REGISTER transactions may be open at once;
	// Agents how many UDP sockets (UAs) share them.
	Concurrency, Agents int
	// Expires is the requested binding lifetime in seconds.
	Expires int
	// LocalIP is the address the generator binds to; default 127.0.0.1.
	LocalIP string
	Logger  *slog.Logger
}

// Password returns pattern with "{ext}" replaced by ext.
func Password(pattern, ext string) string { return strings.ReplaceAll(pattern, "{ext}", ext) }

// RegisterReport is what a REGISTER run measured.
type RegisterReport struct {
	Attempted, OK, Failed int
	Elapsed               time.Duration
	// Rate is successful registrations per second over the run.
	Rate float64
	// P50 and P99 are first-REGISTER-to-200 latencies (both round trips
	// of the digest exchange).
	P50, P99 time.Duration
	// Status counts final statuses of registrations that failed (0: no
	// answer or transport error).
	Status map[int]int
}

func (r RegisterReport) String() string {
	return fmt.Sprintf("registrations %d ok %d failed %d %v in %v: %.1f reg/s, p50 %v p99 %v",
		r.Attempted, r.OK, r.Failed, r.Status, r.Elapsed.Round(time.Millisecond), r.Rate,
		r.P50.Round(time.Microsecond), r.P99.Round(time.Microsecond))
}

// RunRegister registers cfg.Users distinct extensions with digest
// authentication and reports the rate and latency.
func RunRegister(ctx context.Context, cfg RegisterConfig) (RegisterReport, error) {
	if cfg.LocalIP == "" {
		cfg.LocalIP = "127.0.0.1"
	}
	cfg.Concurrency = max(cfg.Concurrency, 1)
	cfg.Agents = max(cfg.Agents, 1)
	if cfg.Expires <= 0 {
		cfg.Expires = 3600
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	target, err := netip.ParseAddrPort(cfg.Target)
	if err != nil {
		return RegisterReport{}, fmt.Errorf("load: target: %w", err)
	}
	agents := make([]*agent, 0, cfg.Agents)
	defer func() {
		for _, a := range agents {
			a.close()
		}
	}()
	for i := 0; i < cfg.Agents; i++ {
		a, err := newAgent(cfg.LocalIP, "sipbench-reg")
		if err != nil {
			return RegisterReport{}, err
		}
		agents = append(agents, a)
		if err := a.serve(); err != nil {
			return RegisterReport{}, err
		}
	}
	var (
		next    atomic.Int64
		mu      sync.Mutex
		rep     = RegisterReport{Status: map[int]int{}}
		lat     = make([]time.Duration, 0, cfg.Users)
		wg      sync.WaitGroup
		started = time.Now()
	)
	for w := 0; w < cfg.Concurrency; w++ {
		a := agents[w%len(agents)]
		wg.Go(func() {
			for ctx.Err() == nil {
				i := int(next.Add(1)) - 1
				if i >= cfg.Users {
					return
				}
				ext := strconv.Itoa(cfg.First + i)
				t0 := time.Now()
				code := registerOne(ctx, a, target, cfg.Domain, ext, Password(cfg.Password, ext), cfg.Expires)
				d := time.Since(t0)
				mu.Lock()
				rep.Attempted++
				if code == 200 {
					rep.OK++
					lat = append(lat, d)
				} else {
					rep.Failed++
					rep.Status[code]++
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	rep.Elapsed = time.Since(started)
	if rep.Elapsed > 0 {
		rep.Rate = float64(rep.OK) / rep.Elapsed.Seconds()
	}
	slices.Sort(lat)
	if n := len(lat); n > 0 {
		rep.P50 = lat[n/2]
		rep.P99 = lat[min(n-1, n*99/100)]
	}
	return rep, ctx.Err()
}

// registerOne registers ext once and returns the final status (0: none).
func registerOne(ctx context.Context, a *agent, target netip.AddrPort, domain, ext, password string, expires int) int {
	req := sip.NewRequest(sip.REGISTER, sip.Uri{Scheme: "sip", Host: domain})
	req.SetDestination(target.String())
	aor := sip.Uri{Scheme: "sip", User: ext, Host: domain}
	from := &sip.FromHeader{Address: aor, Params: sip.NewParams()}
	from.Params.Add("tag", sip.GenerateTagN(8))
	req.AppendHeader(from)
	req.AppendHeader(&sip.ToHeader{Address: aor})
	req.AppendHeader(&sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: ext, Host: a.addr.Addr().String(), Port: int(a.addr.Port())}})
	req.AppendHeader(sip.NewHeader("Expires", strconv.Itoa(expires)))
	rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	res, err := a.client.Do(rctx, req)
	if err != nil {
		return 0
	}
	if res.StatusCode == 401 || res.StatusCode == 407 {
		res, err = a.client.DoDigestAuth(rctx, req, res, sipgo.DigestAuth{Username: ext, Password: password})
		if err != nil {
			return 0
		}
	}
	return res.StatusCode
}
