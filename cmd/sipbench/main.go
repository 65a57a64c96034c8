// Command sipbench puts SIP load on a running gopbx: it registers a callee
// extension that answers every call and places calls to it from a caller
// extension (INVITE with digest authentication, ACK, BYE), with G.711 RTP
// both ways while calls are up, then prints what it measured.
//
//	sipbench -target 127.0.0.1:5060 -domain acme.test -caller 101:secret -callee 102:secret \
//		-calls 1000 -concurrency 100 -hold 5s -rtp
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
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
	var caller, callee string
	var verbose bool
	fs.StringVar(&cfg.Target, "target", "127.0.0.1:5060", "the PBX's UDP SIP address")
	fs.StringVar(&cfg.Domain, "domain", "", "the tenant's SIP domain")
	fs.StringVar(&caller, "caller", "", "caller extension:password")
	fs.StringVar(&callee, "callee", "", "callee extension:password (registered by sipbench)")
	fs.IntVar(&cfg.Calls, "calls", 100, "calls to place")
	fs.IntVar(&cfg.Concurrency, "concurrency", 10, "calls up at once")
	fs.Float64Var(&cfg.Rate, "rate", 0, "new calls per second (0: as fast as concurrency allows)")
	fs.DurationVar(&cfg.Hold, "hold", time.Second, "how long each call stays up")
	fs.BoolVar(&cfg.RTP, "rtp", true, "send G.711 RTP both ways")
	fs.StringVar(&cfg.LocalIP, "local", "127.0.0.1", "local address to bind")
	fs.BoolVar(&verbose, "v", false, "log debug messages")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var ok bool
	if cfg.Caller, cfg.CallerPassword, ok = strings.Cut(caller, ":"); !ok || cfg.Domain == "" {
		return errors.New("-domain and -caller ext:password are required")
	}
	if cfg.Callee, cfg.CalleePassword, ok = strings.Cut(callee, ":"); !ok {
		return errors.New("-callee ext:password is required")
	}
	level := slog.LevelInfo
	if verbose {
		level = slog.LevelDebug
	}
	cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	rep, err := load.Run(ctx, cfg)
	fmt.Println(rep)
	return err
}
