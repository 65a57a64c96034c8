package main

import (
	"context"
	"path/filepath"
	"strings"

	"github.com/gopbx/gopbx/internal/api"
	"github.com/gopbx/gopbx/internal/signaling"
)

// startSIP starts the SIP edge and registrar (and, when wired, the B2BUA)
// on the listeners the configuration names. With every SIP listener
// disabled it starts nothing.
func (m *Main) startSIP(ctx context.Context) error {
	c := &m.Config
	if c.SIPUDP == "" && c.SIPTCP == "" && c.SIPTLS == "" {
		return nil
	}
	var algs []string
	for _, a := range strings.Split(c.SIPDigest, ",") {
		if a = strings.TrimSpace(a); a != "" {
			algs = append(algs, strings.ToUpper(a))
		}
	}
	var allow []string
	for _, a := range strings.Split(c.SIPAllow, ",") {
		if a = strings.TrimSpace(a); a != "" {
			allow = append(allow, a)
		}
	}
	srv, err := signaling.New(signaling.Config{
		UDP:              c.SIPUDP,
		TCP:              c.SIPTCP,
		TLS:              c.SIPTLS,
		TLSCert:          filepath.Join(c.Data, "tls", "sip.crt"),
		TLSKey:           filepath.Join(c.Data, "tls", "sip.key"),
		PublicAddr:       c.SIPPublicAddr,
		DigestAlgorithms: algs,
		AllowList:        allow,
		Now:              m.Now,
		Logger:           m.Log.With("component", "sip"),
	}, signaling.Deps{Store: m.DB})
	if err != nil {
		return err
	}
	m.SIP = srv
	m.API.AttachSIP(api.SIP{Registrations: srv.Registrar(), ReloadIPFilters: srv.ReloadIPFilters})
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		if err := srv.Run(ctx); err != nil {
			m.Log.Error("sip edge stopped", "err", err)
		}
	}()
	return nil
}
