package trunk

import (
	"context"
	"time"

	"github.com/emiago/sipgo/sip"
)

// ping sends one OPTIONS to the trunk. Any answer, even 405 or 404, shows
// the trunk is up; no answer within the keepalive interval (or the
// Registry's timeout, whichever is shorter) shows it is down.
func (a *agent) ping(ctx context.Context) {
	c := a.cfg
	req := sip.NewRequest(sip.OPTIONS, sip.Uri{Scheme: "sip", Host: trimBrackets(c.Hostname), Port: c.Port})
	req.SetDestination(c.Dest())
	req.SetTransport(c.Transport)
	fromHost := c.Local.Host
	if fromHost == "" {
		fromHost = trimBrackets(c.Hostname)
	}
	user := c.AccountUser()
	if user == "" {
		user = "gopbx"
	}
	from := &sip.FromHeader{Address: sip.Uri{Scheme: "sip", User: user, Host: fromHost}, Params: sip.NewParams()}
	from.Params.Add("tag", sip.GenerateTagN(12))
	req.AppendHeader(from)
	req.AppendHeader(&sip.ToHeader{Address: sip.Uri{Scheme: "sip", Host: trimBrackets(c.Hostname), Port: c.Port}})

	rctx, cancel := context.WithTimeout(ctx, min(a.timeout, c.KeepAliveInterval))
	defer cancel()
	res, err := a.client.Do(rctx, req)
	if ctx.Err() != nil {
		return
	}
	if err != nil {
		a.setUp(a.now(), false, "options: "+err.Error())
		return
	}
	a.setUp(a.now(), true, res.Short())
}

// setUp records whether the trunk answered and tells OnEvent when that
// changed (or was not known before).
func (a *agent) setUp(now time.Time, up bool, detail string) {
	a.st.mu.Lock()
	changed := !a.st.upKnown || a.st.s.Up != up
	a.st.s.Up, a.st.upKnown, a.st.s.LastCheck = up, true, now
	a.st.mu.Unlock()
	if !changed {
		return
	}
	kind := EventDown
	if up {
		kind = EventUp
		a.log.Info("trunk up")
	} else {
		a.log.Warn("trunk down", "err", detail)
	}
	a.emit(Event{Trunk: a.cfg.ID, Name: a.cfg.Name, Kind: kind, Detail: detail, At: now})
}

func trimBrackets(h string) string {
	if len(h) > 1 && h[0] == '[' && h[len(h)-1] == ']' {
		return h[1 : len(h)-1]
	}
	return h
}
