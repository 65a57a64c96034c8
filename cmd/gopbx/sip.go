package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/gopbx/gopbx/internal/api"
	"github.com/gopbx/gopbx/internal/call"
	"github.com/gopbx/gopbx/internal/media"
	"github.com/gopbx/gopbx/internal/pbx"
	"github.com/gopbx/gopbx/internal/routing"
	"github.com/gopbx/gopbx/internal/signaling"
	"github.com/gopbx/gopbx/internal/trunk"
)

// startSIP starts the SIP edge, the registrar and the B2BUA on the
// listeners the configuration names. With every SIP listener disabled it
// starts nothing.
func (m *Main) startSIP(ctx context.Context) error {
	c := &m.Config
	if c.SIPUDP == "" && c.SIPTCP == "" && c.SIPTLS == "" && c.SIPWS == "" && c.SIPWSS == "" {
		return nil
	}
	var trustCA []byte
	if c.SIPTrustCA != "" {
		var err error
		if trustCA, err = os.ReadFile(c.SIPTrustCA); err != nil {
			return fmt.Errorf("--sip-trust-ca: %w", err)
		}
	}
	srv, err := signaling.New(signaling.Config{
		UDP:              c.SIPUDP,
		TCP:              c.SIPTCP,
		TLS:              c.SIPTLS,
		WS:               c.SIPWS,
		WSS:              c.SIPWSS,
		TLSCert:          filepath.Join(c.Data, "tls", "sip.crt"),
		TLSKey:           filepath.Join(c.Data, "tls", "sip.key"),
		TrustCA:          trustCA,
		PublicAddr:       c.SIPPublicAddr,
		DigestAlgorithms: splitList(c.SIPDigest, strings.ToUpper),
		AllowList:        splitList(c.SIPAllow, nil),
		MaxBindings:      c.SIPMaxBindings,
		Now:              m.Now,
		Logger:           m.Log.With("component", "sip"),
	}, signaling.Deps{Store: m.DB})
	if err != nil {
		return err
	}
	m.SIP = srv
	m.closers = append(m.closers, srv.Close)
	// The voicemail app reports mailbox changes; the edge turns them into
	// message-summary NOTIFYs.
	m.mwi = srv

	host, err := m.advertisedIP(srv)
	if err != nil {
		return err
	}
	lo, hi, _ := c.rtpRange()
	bind := host
	if c.SIPPublicAddr != "" {
		// Behind NAT the public address is not local: bind every interface
		// and write the public address into SDP.
		bind = netip.IPv4Unspecified()
	}
	pool, err := media.NewPortPool(media.PortPoolConfig{IP: bind, MinPort: lo, MaxPort: hi, Now: m.Now, Start: rand.IntN})
	if err != nil {
		return err
	}
	contacts := map[string]sip.Uri{}
	for _, tr := range []string{"UDP", "TCP", "TLS", "WS", "WSS"} {
		addr := srv.Addr(strings.ToLower(tr))
		if addr == "" {
			continue
		}
		_, p, _ := net.SplitHostPort(addr)
		port, _ := strconv.Atoi(p)
		u := sip.Uri{Scheme: "sip", Host: host.String(), Port: port}
		switch tr {
		case "TCP":
			u.UriParams = sip.HeaderParams{{K: "transport", V: "tcp"}}
		case "TLS":
			// sip: with transport=tls rather than sips: phones such as
			// baresip 1.0.0 (libre 1.1) send to sip: URIs only.
			u.UriParams = sip.HeaderParams{{K: "transport", V: "tls"}}
		case "WS", "WSS":
			// RFC 7118 section 5: a WebSocket phone reaches the PBX's
			// Contact over its own connection; the URI only names it.
			u.UriParams = sip.HeaderParams{{K: "transport", V: strings.ToLower(tr)}}
		}
		contacts[tr] = u
	}
	if _, ok := contacts["UDP"]; !ok {
		for _, u := range contacts {
			contacts["UDP"] = u
			break
		}
	}
	tlog := m.Log.With("component", "trunk")
	reg, err := trunk.New(trunk.Deps{
		Client: srv.Client(), Store: m.DB, Logger: tlog, Now: m.Now, Contacts: contacts,
		OnEvent: func(e trunk.Event) {
			tlog.Info("trunk "+e.Kind, "trunk", e.Name, "trunk_id", e.Trunk.String(), "detail", e.Detail)
		},
	})
	if err != nil {
		return err
	}
	tr := trunks{reg}
	vm, err := m.startApps()
	if err != nil {
		return err
	}
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		vm.RunSweeps(ctx, m.DB, time.Hour) // retain_days
	}()
	// One tick paces every stream the PBX sends itself (apps, music on
	// hold), so 300 of them wake the process once per 20 ms, not 300 times.
	pacer := media.NewPacer(media.PacerConfig{})
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		pacer.Run(ctx)
	}()
	router := routing.New(routing.Deps{Store: m.DB, Trunks: tr, Now: m.Now, Logger: m.Log.With("component", "routing"), Voicemail: vm,
		IVRs: m.startIVR()})
	mgr, err := call.New(call.Deps{
		Logger: m.Log.With("component", "call"), Now: m.Now,
		Client: srv.Client(), Locator: srv.Registrar(), Users: m.DB, CDRs: m.DB, NewID: m.DB.NewID,
		Ports: pool, Pacer: pacer, MediaIP: host, Contacts: contacts, Router: router, Codecs: codecs, AppCodecs: appCodecs(),
		InBandDTMF: inBandDTMF,
		Recordings: recordings{m.DB}, DataDir: m.Config.Data, // call recording (recordings.go)
		MusicOnHold: m.musicOnHold(ctx), // the tenant's /moh_server (moh.go)
		RingTimeout: c.RingTimeout, MediaTimeout: c.MediaTimeout,
	})
	if err != nil {
		return err
	}
	srv.SetCallHandler(mgr)
	srv.SetTrunks(tr)
	srv.SetTrunkAccounts(tr)
	// On shutdown live calls are drained or hung up (their BYEs sent, CDRs
	// written) before the SIP edge stops.
	m.calls = mgr
	m.API.AttachSIP(api.SIP{Registrations: srv.Registrar(), ReloadIPFilters: srv.ReloadIPFilters, Calls: mgr, Trunks: tr,
		MailboxChanged: srv.MailboxChanged,
		ConfigChanged: func(tenant pbx.TenantID, trunksChanged bool) {
			router.Changed(tenant)
			srv.InvalidateCredentials(tenant) // a changed password, user, tenant or domain applies at once
			if trunksChanged {
				reg.Reload()
			}
		}})

	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		if err := reg.Run(ctx); err != nil {
			tlog.Error("trunks stopped", "err", err)
		}
	}()

	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		if err := srv.Run(ctx); err != nil {
			m.Log.Error("sip edge stopped", "err", err)
		}
	}()
	return nil
}

// advertisedIP is the address the PBX gives phones for its Contact and its
// media: --sip-public-addr when set, else the SIP listener's address, else
// (for a wildcard listener) the address of the interface the default route
// leaves by.
func (m *Main) advertisedIP(srv *signaling.Server) (netip.Addr, error) {
	if a := m.Config.SIPPublicAddr; a != "" {
		ip, err := netip.ParseAddr(a)
		if err != nil {
			ips, lerr := net.LookupIP(a)
			if lerr != nil || len(ips) == 0 {
				return netip.Addr{}, fmt.Errorf("--sip-public-addr %s: not an address that resolves", a)
			}
			ip, _ = netip.AddrFromSlice(ips[0])
		}
		return ip.Unmap(), nil
	}
	for _, tr := range []string{"udp", "tcp", "tls", "ws", "wss"} {
		if ap, err := netip.ParseAddrPort(srv.Addr(tr)); err == nil && !ap.Addr().IsUnspecified() {
			return ap.Addr().Unmap(), nil
		}
	}
	// A UDP "connection" sends nothing; it only asks the kernel for the
	// source address of the default route.
	conn, err := net.Dial("udp", "192.0.2.1:9")
	if err == nil {
		defer conn.Close()
		if ap, err := netip.ParseAddrPort(conn.LocalAddr().String()); err == nil {
			return ap.Addr().Unmap(), nil
		}
	}
	return netip.MustParseAddr("127.0.0.1"), nil
}

// splitList splits a comma-separated flag value, trimming and optionally
// mapping each element and dropping empty ones.
func splitList(s string, f func(string) string) []string {
	var out []string
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			if f != nil {
				v = f(v)
			}
			out = append(out, v)
		}
	}
	return out
}
