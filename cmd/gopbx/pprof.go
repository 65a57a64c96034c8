package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"net/netip"
)

// pprofFlag is the one flag -help leaves out: a debugging aid, not a
// setting (README, flags table).
const pprofFlag = "pprof"

// checkPprofAddr accepts only a loopback address for --pprof: the profiles
// show memory contents (SIP passwords among them) to whoever can read them.
func checkPprofAddr(addr string) error {
	if addr == "" {
		return nil
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("--pprof: want a loopback HOST:PORT, got %q", addr)
	}
	if host == "localhost" {
		return nil
	}
	if ip, err := netip.ParseAddr(host); err != nil || !ip.IsLoopback() {
		return fmt.Errorf("--pprof: want a loopback address such as 127.0.0.1:6060, got %q", addr)
	}
	return nil
}

// startPprof serves net/http/pprof on --pprof, when set, until ctx ends.
// It uses its own mux rather than http.DefaultServeMux, so nothing else
// the process serves exposes the profiles.
func (m *Main) startPprof(ctx context.Context) error {
	addr := m.Config.Pprof
	if addr == "" {
		return nil
	}
	ln, err := listen(addr, "pprof")
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	m.serve(ctx, ln, mux)
	m.Log.Info("pprof listening", "addr", ln.Addr().String())
	return nil
}
