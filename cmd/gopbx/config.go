package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/gopbx/gopbx/internal/api"
	"github.com/gopbx/gopbx/internal/call"
)

// Config is everything `gopbx serve` can be told, by flag or by the
// environment variable GOPBX_<FLAG NAME> (upper case, '-' as '_'). A flag
// given on the command line wins over the environment.
type Config struct {
	Data            string
	DB              string
	Node            int
	APIListen       string
	APIInsecureHTTP bool
	ProvisionListen string
	AdminPassword   string
	LogFormat       string
	LogLevel        string
	APIRateLimit    int
	TokenTTL        time.Duration

	SIPUDP         string
	SIPTCP         string
	SIPTLS         string
	SIPWS          string
	SIPWSS         string
	SIPPublicAddr  string
	SIPDigest      string
	SIPAllow       string
	SIPMaxBindings int
	// SIPTrustCA is a PEM file of CA certificates trusted, besides the
	// system roots, when gopbx dials TLS to carriers.
	SIPTrustCA   string
	RTPPorts     string
	RingTimeout  time.Duration
	MediaTimeout time.Duration
	DrainTimeout time.Duration
	// Pprof is a loopback address serving net/http/pprof, for debugging;
	// empty (the default) serves nothing.
	Pprof string
}

// NewConfig returns the defaults: PortSIP's ports and an SQLite database in
// ./data.
func NewConfig() Config {
	return Config{
		Data:            "./data",
		APIListen:       ":8887",
		ProvisionListen: ":8888",
		LogFormat:       "text",
		LogLevel:        "info",
		APIRateLimit:    api.DefaultRateLimit,
		TokenTTL:        api.DefaultTokenTTL,
		SIPUDP:          ":5060",
		SIPTCP:          ":5063",
		SIPTLS:          ":5061",
		SIPDigest:       "MD5",
		RTPPorts:        "45000-65000",
		RingTimeout:     call.DefaultRingTimeout,
		MediaTimeout:    call.DefaultMediaTimeout,
		DrainTimeout:    5 * time.Minute,
	}
}

func (c *Config) flagSet(out io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("gopbx serve", flag.ContinueOnError)
	fs.SetOutput(io.Discard) // errors are reported once, by the caller
	fs.StringVar(&c.Data, "data", c.Data, "data folder: database, certificates, files")
	fs.StringVar(&c.DB, "db", c.DB, "database: postgres://... for PostgreSQL; default an SQLite file in the data folder")
	fs.IntVar(&c.Node, "node", c.Node, "node number (0-1023) for IDs when several nodes share a database")
	fs.StringVar(&c.APIListen, "api-listen", c.APIListen, "REST API address (HTTPS unless --api-insecure-http)")
	fs.BoolVar(&c.APIInsecureHTTP, "api-insecure-http", c.APIInsecureHTTP, "serve the REST API over plain HTTP")
	fs.StringVar(&c.ProvisionListen, "provision-listen", c.ProvisionListen, "phone provisioning address (empty disables)")
	fs.StringVar(&c.AdminPassword, "admin-password", c.AdminPassword, "system admin password, used only when the database is new (default: generated and printed)")
	fs.StringVar(&c.LogFormat, "log-format", c.LogFormat, "log format: text or json")
	fs.StringVar(&c.LogLevel, "log-level", c.LogLevel, "log level: debug, info, warn or error")
	fs.IntVar(&c.APIRateLimit, "api-rate-limit", c.APIRateLimit, "REST API requests per minute per client address (-1: no limit)")
	fs.DurationVar(&c.TokenTTL, "token-ttl", c.TokenTTL, "lifetime of API access tokens")
	fs.StringVar(&c.SIPUDP, "sip-udp", c.SIPUDP, "SIP over UDP address (empty disables)")
	fs.StringVar(&c.SIPTCP, "sip-tcp", c.SIPTCP, "SIP over TCP address (empty disables)")
	fs.StringVar(&c.SIPTLS, "sip-tls", c.SIPTLS, "SIP over TLS address (empty disables)")
	fs.StringVar(&c.SIPWS, "sip-ws", c.SIPWS, "SIP over WebSocket (RFC 7118) address for browsers (empty, the default, disables)")
	fs.StringVar(&c.SIPWSS, "sip-wss", c.SIPWSS, "SIP over secure WebSocket address, with the SIP TLS certificate (empty, the default, disables)")
	fs.StringVar(&c.SIPPublicAddr, "sip-public-addr", c.SIPPublicAddr, "public address for Via, Contact and SDP when behind NAT")
	fs.StringVar(&c.SIPDigest, "sip-digest", c.SIPDigest, "digest algorithms challenges offer, in order: MD5, SHA-256 (RFC 8760)")
	fs.StringVar(&c.SIPAllow, "sip-allow", c.SIPAllow, "IPs and CIDRs never rate limited or blocked, comma separated")
	fs.IntVar(&c.SIPMaxBindings, "sip-max-bindings", c.SIPMaxBindings, "most contacts one extension may register; a new one replaces the oldest (0: 10, negative: no limit)")
	fs.StringVar(&c.SIPTrustCA, "sip-trust-ca", c.SIPTrustCA, "PEM file of CA certificates trusted, besides the system roots, for TLS to carriers")
	fs.StringVar(&c.RTPPorts, "rtp-ports", c.RTPPorts, "RTP port range, LOW-HIGH")
	fs.DurationVar(&c.RingTimeout, "ring-timeout", c.RingTimeout, "an unanswered call ends with 480 after this long")
	fs.DurationVar(&c.MediaTimeout, "media-timeout", c.MediaTimeout, "an answered call with no RTP for this long is ended (negative: never)")
	fs.DurationVar(&c.DrainTimeout, "drain-timeout", c.DrainTimeout, "on SIGTERM, how long live calls may go on before they are hung up (SIGINT hangs up at once)")
	fs.StringVar(&c.Pprof, pprofFlag, c.Pprof, "debugging: serve net/http/pprof on this loopback address")
	return fs
}

// parse reads the environment, then the command line, then checks values.
func (c *Config) parse(args []string, getenv func(string) string, out io.Writer) error {
	fs := c.flagSet(out)
	var envErr error
	fs.VisitAll(func(f *flag.Flag) {
		name := "GOPBX_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v := getenv(name); v != "" && envErr == nil {
			if err := f.Value.Set(v); err != nil {
				envErr = fmt.Errorf("%s: invalid value %q: %w", name, v, err)
			}
		}
	})
	if envErr != nil {
		return envErr
	}
	if err := fs.Parse(args); errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(out, "usage: gopbx serve [flags]")
		// The debugging flags stay out of the help (see pprofFlag).
		shown := flag.NewFlagSet(fs.Name(), flag.ContinueOnError)
		fs.VisitAll(func(f *flag.Flag) {
			if f.Name != pprofFlag {
				shown.Var(f.Value, f.Name, f.Usage)
				shown.Lookup(f.Name).DefValue = f.DefValue
			}
		})
		shown.SetOutput(out)
		shown.PrintDefaults()
		return err
	} else if err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	switch c.LogFormat {
	case "text", "json":
	default:
		return fmt.Errorf("--log-format: want text or json, got %q", c.LogFormat)
	}
	if _, err := c.level(); err != nil {
		return err
	}
	if c.Node < 0 || c.Node > 1023 {
		return fmt.Errorf("--node: want 0-1023, got %d", c.Node)
	}
	if _, _, err := c.rtpRange(); err != nil {
		return err
	}
	for _, a := range strings.Split(c.SIPDigest, ",") {
		switch strings.ToUpper(strings.TrimSpace(a)) {
		case "MD5", "SHA-256":
		default:
			return fmt.Errorf("--sip-digest: want MD5 and/or SHA-256, got %q", a)
		}
	}
	if c.Data == "" {
		return fmt.Errorf("--data: must not be empty")
	}
	if err := checkPprofAddr(c.Pprof); err != nil {
		return err
	}
	return nil
}

func (c *Config) level() (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(c.LogLevel)); err != nil {
		return 0, fmt.Errorf("--log-level: want debug, info, warn or error, got %q", c.LogLevel)
	}
	return l, nil
}

// rtpRange parses --rtp-ports.
func (c *Config) rtpRange() (lo, hi int, err error) {
	a, b, ok := strings.Cut(c.RTPPorts, "-")
	lo, err1 := strconv.Atoi(strings.TrimSpace(a))
	hi, err2 := strconv.Atoi(strings.TrimSpace(b))
	if !ok || err1 != nil || err2 != nil || lo < 1024 || hi > 65535 || hi-lo < 3 {
		return 0, 0, fmt.Errorf("--rtp-ports: want LOW-HIGH within 1024-65535, got %q", c.RTPPorts)
	}
	return lo, hi, nil
}
