package media

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"time"
)

// Default port range (PortSIP's) and minimum rest of a freed pair.
const (
	DefaultMinPort = 45000
	DefaultMaxPort = 65000
	// DefaultQuarantine is the least a freed pair rests before reuse. Pairs
	// are handed out least recently freed first, so at any load below the
	// pool's capacity a pair rests far longer: the whole cycle through the
	// range (at 100 calls/s over the default range, 50 s).
	DefaultQuarantine = 4 * time.Second
)

// ErrNoPorts is returned when every port pair of the range is in use or
// resting.
var ErrNoPorts = errors.New("no free media ports")

// PortPool hands out RTP/RTCP socket pairs from a port range. It is safe for
// concurrent use.
type PortPool struct {
	ip         netip.Addr
	quarantine time.Duration
	now        func() time.Time

	mu   sync.Mutex
	free []slot // even ports, least recently freed at the front
}

// slot is a pair in the free queue and when it was freed (zero: never used).
type slot struct {
	port  int
	freed time.Time
}

// PortPoolConfig configures a PortPool.
type PortPoolConfig struct {
	// IP is the local address the sockets bind to.
	IP netip.Addr
	// MinPort and MaxPort bound the range (inclusive); zero means the
	// defaults. RTP ports are the even ones.
	MinPort, MaxPort int
	// Quarantine is how long a freed pair rests; zero means
	// DefaultQuarantine, a negative value no rest (tests).
	Quarantine time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Start, when set, picks the pair the pool hands out first: Start(n)
	// is an index in [0, n) among the range's n pairs. gopbx starts at a
	// random pair, so that several PBXs on one machine (cluster nodes, test
	// servers) do not all try the same ports first; nil starts at MinPort.
	Start func(n int) int
}

// NewPortPool returns a pool over cfg's range.
func NewPortPool(cfg PortPoolConfig) (*PortPool, error) {
	if cfg.MinPort == 0 {
		cfg.MinPort = DefaultMinPort
	}
	if cfg.MaxPort == 0 {
		cfg.MaxPort = DefaultMaxPort
	}
	if cfg.Quarantine == 0 {
		cfg.Quarantine = DefaultQuarantine
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if !cfg.IP.IsValid() {
		return nil, fmt.Errorf("new port pool: no ip")
	}
	lo := cfg.MinPort + cfg.MinPort%2
	if lo < 1024 || cfg.MaxPort > 65535 || lo+1 > cfg.MaxPort {
		return nil, fmt.Errorf("new port pool: bad range %d-%d", cfg.MinPort, cfg.MaxPort)
	}
	p := &PortPool{ip: cfg.IP, quarantine: cfg.Quarantine, now: cfg.Now}
	for port := lo; port+1 <= cfg.MaxPort; port += 2 {
		p.free = append(p.free, slot{port: port})
	}
	if cfg.Start != nil {
		i := cfg.Start(len(p.free))
		p.free = append(p.free[i:], p.free[:i]...)
	}
	return p, nil
}

// IP returns the address the pool's sockets bind to.
func (p *PortPool) IP() netip.Addr { return p.ip }

// Pair is a bound RTP socket and the RTCP socket on the next port. Close
// returns the ports to the pool.
type Pair struct {
	RTP, RTCP *net.UDPConn
	Port      int // the RTP port; RTCP is Port+1
	pool      *PortPool
	once      sync.Once
}

// Listen binds a free pair. A port that some other program holds is
// skipped (and put back to rest), so the call still gets a pair: Listen
// tries every free pair once before it gives up.
func (p *PortPool) Listen() (*Pair, error) {
	p.mu.Lock()
	n := len(p.free)
	p.mu.Unlock()
	for tries := 0; tries < n; tries++ {
		port, ok := p.take()
		if !ok {
			return nil, ErrNoPorts
		}
		rtp, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(p.ip, uint16(port))))
		if err != nil {
			p.put(port)
			continue
		}
		rtcp, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(p.ip, uint16(port+1))))
		if err != nil {
			rtp.Close()
			p.put(port)
			continue
		}
		return &Pair{RTP: rtp, RTCP: rtcp, Port: port, pool: p}, nil
	}
	return nil, ErrNoPorts
}

// take hands out the least recently freed pair, if it has rested long
// enough. The queue is in freeing order, so when the front has not rested,
// none has.
func (p *PortPool) take() (int, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.free) == 0 || !p.rested(p.free[0], p.now()) {
		return 0, false
	}
	port := p.free[0].port
	p.free = p.free[1:]
	return port, true
}

func (p *PortPool) rested(s slot, now time.Time) bool {
	return s.freed.IsZero() || p.quarantine < 0 || !now.Before(s.freed.Add(p.quarantine))
}

func (p *PortPool) put(port int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.free = append(p.free, slot{port: port, freed: p.now()})
}

// Available returns how many pairs could be handed out now.
func (p *PortPool) Available() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	n := 0
	for _, s := range p.free {
		if !p.rested(s, now) {
			break
		}
		n++
	}
	return n
}

// Addr returns the local RTP address of the pair.
func (pr *Pair) Addr() netip.AddrPort {
	return netip.AddrPortFrom(pr.pool.ip, uint16(pr.Port))
}

// Close closes both sockets and gives the ports back to the pool to rest.
// It is safe to call more than once.
func (pr *Pair) Close() error {
	var err error
	pr.once.Do(func() {
		err = errors.Join(pr.RTP.Close(), pr.RTCP.Close())
		pr.pool.put(pr.Port)
	})
	return err
}
