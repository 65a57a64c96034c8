// Command sipbench puts SIP load on a running gopbx (or any registrar,
// proxy or B2BUA that speaks plain SIP over UDP), in one of three modes:
//
//	register: registers -users distinct extensions starting at -first,
//	  each with digest authentication, password from -password ("{ext}"
//	  is replaced by the extension number), -concurrency transactions open
//	  at once over -agents sockets;
//	calls: registers a callee extension that answers every call and places
//	  -calls calls to it from a caller extension (INVITE with digest
//	  authentication, ACK, BYE), with G.711 RTP both ways if -rtp; with
//	  -did, the caller plays a carrier on an IP-authenticated trunk: -caller
//	  is a number without a password, its calls come from -caller-local and
//	  go to the DID, which the PBX's inbound rule routes to the callee;
//	media: calls with RTP, where all -calls calls are up at once for a
//	  steady -window in which RTP loss and the CPU time and memory of the
//	  -watch processes are measured;
//	recordings: reads the WAV recordings under -dir of calls sipbench
//	  made (voicemail messages) and reports their lengths and the audio
//	  missing from them.
//
// Calls and media report, per call, the largest gap between two RTP
// packets from the PBX (-gap-limit counts the calls over it). Without
// -callee nothing is registered and the calls go to -did: an IVR or a
// voicemail box the PBX answers itself; -did-count spreads them over that
// many numbers. -dtmf sends RFC 4733 keys at offsets from the answer
// ("9@10s,1@12s"); a PBX hang-up within -react of the last counts as
// detected.
//
//	sipbench -mode register -target 127.0.0.1:5060 -domain acme.test -first 10000 -users 10000 -password 'pw{ext}'
//	sipbench -target 127.0.0.1:5060 -domain acme.test -caller 101:secret -callee 102:secret \
//		-calls 1000 -concurrency 100 -hold 5s -rtp
//	sipbench -target 127.0.0.1:5060 -domain acme.test -caller 14155550123 -caller-local 127.0.0.2 \
//		-did 15550100 -callee 102:secret -calls 1000 -concurrency 100
//	sipbench -mode media -target ... -calls 500 -rate 200 -hold 15s -window 8s -watch PID
//	sipbench -mode media -target ... -caller 101:secret -did 800 -dtmf 9@10s -calls 300 -rate 60 -hold 20s -window 4s -watch PID
//	sipbench -mode recordings -dir DATA/voicemail
//
// -json prints the report as JSON (for scripts) instead of a line of text.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"time"

	"github.com/gopbx/gopbx/bench/load"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(2)
		}
		fmt.Fprintln(os.Stderr, "sipbench:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("sipbench", flag.ContinueOnError)
	var cfg load.Config
	var rcfg load.RegisterConfig
	var caller, callee, mode, watch, dtmf, dir string
	var verbose, asJSON bool
	var timeout time.Duration
	fs.StringVar(&mode, "mode", "calls", "register, calls, media or recordings")
	fs.StringVar(&cfg.Target, "target", "127.0.0.1:5060", "the PBX's UDP SIP address")
	fs.StringVar(&cfg.Domain, "domain", "", "the tenant's SIP domain")
	fs.StringVar(&caller, "caller", "", "caller extension:password, or a number alone: no credentials (a carrier, with -did)")
	fs.StringVar(&callee, "callee", "", "callee extension:password (registered by sipbench)")
	fs.StringVar(&cfg.DID, "did", "", "call this number, which the PBX routes to the callee or answers itself, instead of the callee's extension")
	fs.IntVar(&cfg.DIDCount, "did-count", 0, "spread the calls over this many numbers from -did")
	fs.StringVar(&dtmf, "dtmf", "", "RFC 4733 keys each call sends, key@offset from the answer, comma separated (9@10s)")
	fs.DurationVar(&cfg.React, "react", 5*time.Second, "a PBX hang-up this soon after the last -dtmf key counts as detection")
	fs.DurationVar(&cfg.GapLimit, "gap-limit", 40*time.Millisecond, "count calls (recordings) with a larger gap in the PBX's RTP")
	fs.StringVar(&dir, "dir", "", "recordings: folder of WAV recordings")
	fs.IntVar(&cfg.Calls, "calls", 100, "calls to place")
	fs.IntVar(&cfg.Concurrency, "concurrency", 10, "calls up at once (register: transactions open at once)")
	fs.Float64Var(&cfg.Rate, "rate", 0, "new calls per second (0: as fast as concurrency allows)")
	fs.DurationVar(&cfg.Hold, "hold", time.Second, "how long each call stays up")
	fs.BoolVar(&cfg.RTP, "rtp", true, "send G.711 RTP both ways")
	fs.DurationVar(&cfg.Window, "window", 0, "media: steady window measured once all calls are up")
	fs.StringVar(&watch, "watch", "", "pids (comma separated) whose CPU and memory to sample over the window")
	fs.StringVar(&cfg.LocalIP, "local", "127.0.0.1", "local address to bind")
	fs.StringVar(&cfg.CallerIP, "caller-local", "", "local address of the caller's sockets (default: -local); a carrier calls from its trunk's address")
	fs.IntVar(&rcfg.First, "first", 10000, "register: first extension")
	fs.IntVar(&rcfg.Users, "users", 10000, "register: how many extensions from -first")
	fs.StringVar(&rcfg.Password, "password", "pw{ext}", "register: SIP password pattern, {ext} is the extension")
	fs.IntVar(&rcfg.Agents, "agents", 4, "register: UDP sockets the transactions share")
	fs.IntVar(&rcfg.Expires, "expires", 3600, "register: binding lifetime asked for, seconds")
	fs.DurationVar(&timeout, "timeout", 10*time.Minute, "stop after this long")
	fs.BoolVar(&asJSON, "json", false, "print the report as JSON")
	fs.BoolVar(&verbose, "v", false, "log debug messages")
	if err := fs.Parse(args); err != nil {
		return err
	}
	level := slog.LevelInfo
	if verbose {
		level = slog.LevelDebug
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	// sipgo logs through the default logger: retransmitted responses
	// under load are expected, not news.
	// (sipgo also logs its 2xx retransmissions waiting for an ACK as
	// errors: a slow ACK shows in the setup latency already.)
	quiet := slog.LevelError + 4
	if verbose {
		quiet = slog.LevelDebug
	}
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: quiet})))
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	print := func(v fmt.Stringer) {
		if asJSON {
			b, _ := json.Marshal(v)
			fmt.Println(string(b))
			return
		}
		fmt.Println(v)
	}
	if mode == "recordings" {
		if dir == "" {
			return errors.New("-mode recordings needs -dir")
		}
		rep, err := load.Recordings(dir, cfg.GapLimit)
		print(rep)
		return err
	}
	if cfg.Domain == "" {
		return errors.New("-domain is required")
	}
	switch mode {
	case "register":
		rcfg.Target, rcfg.Domain, rcfg.LocalIP, rcfg.Logger = cfg.Target, cfg.Domain, cfg.LocalIP, logger
		rcfg.Concurrency = cfg.Concurrency
		rep, err := load.RunRegister(ctx, rcfg)
		print(rep)
		return err
	case "calls", "media":
	default:
		return fmt.Errorf("-mode: want register, calls, media or recordings, got %q", mode)
	}
	var ok bool
	if cfg.Caller, cfg.CallerPassword, ok = strings.Cut(caller, ":"); !ok && (cfg.DID == "" || caller == "") {
		return errors.New("-caller ext:password is required (a number alone with -did)")
	}
	if cfg.Callee, cfg.CalleePassword, ok = strings.Cut(callee, ":"); !ok && (cfg.DID == "" || callee != "") {
		return errors.New("-callee ext:password is required (or -did alone)")
	}
	if dtmf != "" {
		for _, f := range strings.Split(dtmf, ",") {
			k, at, ok := strings.Cut(strings.TrimSpace(f), "@")
			d, err := time.ParseDuration(at)
			if !ok || len([]rune(k)) != 1 || err != nil {
				return fmt.Errorf("-dtmf: want key@offset, got %q", f)
			}
			cfg.Digits = append(cfg.Digits, load.Digit{Key: []rune(k)[0], At: d})
		}
	}
	if watch != "" {
		for _, f := range strings.Split(watch, ",") {
			pid, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil {
				return fmt.Errorf("-watch: %w", err)
			}
			cfg.Watch = append(cfg.Watch, pid)
		}
	}
	if mode == "media" {
		cfg.RTP = true
		cfg.Concurrency = max(cfg.Concurrency, cfg.Calls)
		if cfg.Window <= 0 {
			return errors.New("-mode media needs -window")
		}
	}
	cfg.Logger = logger
	rep, err := load.Run(ctx, cfg)
	print(rep)
	return err
}
