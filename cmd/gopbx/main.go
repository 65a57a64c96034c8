// Command gopbx is the gopbx PBX: `gopbx serve` runs every role in one
// process on embedded defaults; `gopbx version` prints the version.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"
)

// Version is set at build time with -ldflags "-X main.Version=...".
var Version = "dev"

func main() {
	// SIGTERM drains: no new calls, live calls end by themselves (up to
	// --drain-timeout). SIGINT hangs every call up at once.
	ctx, cancel := context.WithCancel(context.Background())
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	var drain atomic.Bool
	go func() {
		s := <-sigs
		drain.Store(s == syscall.SIGTERM)
		cancel()
		signal.Stop(sigs)
	}()
	os.Exit(run(ctx, os.Args[1:], drain.Load))
}

// run is main without the process: it returns the exit code. drain tells,
// once ctx has ended, whether to let live calls finish.
func run(ctx context.Context, args []string, drain func() bool) int {
	if len(args) == 0 {
		fmt.Fprint(os.Stderr, usage)
		return 2
	}
	switch args[0] {
	case "version", "--version", "-version":
		fmt.Println("gopbx", Version)
		return 0
	case "help", "-h", "--help", "-help":
		fmt.Print(usage)
		return 0
	case "serve":
	default:
		fmt.Fprintf(os.Stderr, "gopbx: unknown command %q\n%s", args[0], usage)
		return 2
	}
	m := NewMain()
	m.Stdout = os.Stdout
	if err := m.ParseFlags(args[1:], os.Getenv); errors.Is(err, flag.ErrHelp) {
		return 0
	} else if err != nil {
		fmt.Fprintln(os.Stderr, "gopbx:", err)
		return 2
	}
	if err := m.Run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "gopbx:", err)
		m.Close()
		return 1
	}
	<-ctx.Done()
	m.Drain = drain()
	if err := m.Close(); err != nil {
		fmt.Fprintln(os.Stderr, "gopbx:", err)
		return 1
	}
	return 0
}

const usage = `usage: gopbx <command> [flags]

commands:
  serve     run the PBX (gopbx serve --help lists its flags)
  version   print the version
`
