package ivr

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/icholy/digest"

	"github.com/gopbx/gopbx/internal/pbx"
)

// Action URL types: asked on the caller's number before the menu, or on
// the keys pressed.
const (
	urlCaller = "CALLER"
	urlDTMF   = "DTMF"
)

// actionURL is an action URL's settings as internal/api/ivrs.go stores
// them.
type actionURL struct {
	Enabled           bool   `json:"enabled"`
	Type              string `json:"type"`
	CallerMask        string `json:"caller_mask"`
	DTMFMask          string `json:"dtmf_mask"`
	Method            string `json:"method"`
	Headers           string `json:"headers"`
	ConnectionTimeout int    `json:"connection_timeout"`
	RequestTimeout    int    `json:"request_timeout"`
	Auth              string `json:"auth"`
	Username          string `json:"username"`
	Password          string `json:"password"`
	Token             string `json:"token"`
	URL               string `json:"url"`
}

// actionURLs loads the IVR's enabled action URLs; a store that cannot
// answer leaves the menu without them.
func (s *Service) actionURLs(ctx context.Context, tenant pbx.TenantID, ivr pbx.ID, log *slog.Logger) []actionURL {
	rows, err := s.st.ActionURLs(ctx, tenant, ivr)
	if err != nil {
		log.Warn("ivr action urls not loaded", "error", err)
		return nil
	}
	var out []actionURL
	for _, r := range rows {
		a := actionURL{Type: urlDTMF, Method: http.MethodGet, ConnectionTimeout: 2, RequestTimeout: 2}
		if err := json.Unmarshal(r.Settings, &a); err != nil || !a.Enabled || a.URL == "" {
			continue
		}
		out = append(out, a)
	}
	return out
}

// urlAnswer is an action URL's answer: {"status_code":200,"action":
// "call","destination":"222"}.
type urlAnswer struct {
	StatusCode  *int   `json:"status_code"`
	Action      string `json:"action"`
	Destination string `json:"destination"`
}

// askURLs asks the first action URL of typ whose list matches (the
// caller's number, or input) where the caller goes, and follows its
// answer. ok is false when none matched or none answered usefully (a slow
// or failing endpoint), and the menu goes on as if there were none.
func (x *session) askURLs(ctx context.Context, typ, input string) (o outcome, ok bool, err error) {
	for _, u := range x.urls {
		if u.Type != typ {
			continue
		}
		if typ == urlCaller && !maskMatch(u.CallerMask, x.c.Caller, false) || typ == urlDTMF && !maskMatch(u.DTMFMask, input, true) {
			continue
		}
		ans, err := x.s.ask(ctx, u, x.params(input))
		if err != nil {
			if ctx.Err() != nil {
				return done, false, ctx.Err()
			}
			x.log.Info("ivr action url failed", "url", u.URL, "error", err)
			continue
		}
		switch ans.Action {
		case "call":
			if ans.Destination == "" {
				continue
			}
			o, err := x.transfer(ctx, ans.Destination)
			return o, true, err
		case "hangup":
			o, err := x.forward(ctx, forward{Action: actionHangup})
			return o, true, err
		case "repeat":
			return repeat, true, nil
		}
		x.log.Info("ivr action url answered no action", "url", u.URL, "action", ans.Action)
	}
	return done, false, nil
}

func (x *session) params(input string) url.Values {
	return url.Values{
		"from": {x.c.Caller}, "to": {x.ivr.ExtensionNumber}, "input": {input}, "from_name": {x.c.CallerName},
		"account_name": {x.ivr.Name}, "session_id": {x.c.SessionID.String()},
	}
}

// maxAnswer bounds what is read of an action URL's answer.
const maxAnswer = 64 << 10

// ask sends one action URL request: GET with the parameters in the query,
// or POST with them as a JSON object; the whole exchange must end within
// the URL's connection and request timeouts.
func (s *Service) ask(ctx context.Context, u actionURL, params url.Values) (urlAnswer, error) {
	limit := time.Duration(max(u.ConnectionTimeout, 0)+max(u.RequestTimeout, 0)) * time.Second
	if limit <= 0 {
		limit = 4 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	var req *http.Request
	var err error
	if strings.EqualFold(u.Method, http.MethodPost) {
		body := map[string]string{}
		for k, v := range params {
			body[k] = v[0]
		}
		b, _ := json.Marshal(body)
		req, err = http.NewRequestWithContext(ctx, http.MethodPost, u.URL, bytes.NewReader(b))
		if err == nil {
			req.Header.Set("Content-Type", "application/json")
		}
	} else {
		target, perr := url.Parse(u.URL)
		if perr != nil {
			return urlAnswer{}, fmt.Errorf("action url: %w", perr)
		}
		q := target.Query()
		for k, v := range params {
			q[k] = v
		}
		target.RawQuery = q.Encode()
		req, err = http.NewRequestWithContext(ctx, http.MethodGet, target.String(), nil)
	}
	if err != nil {
		return urlAnswer{}, fmt.Errorf("action url: %w", err)
	}
	for _, kv := range strings.Split(u.Headers, "&") {
		if k, v, ok := strings.Cut(kv, ":"); ok && strings.TrimSpace(k) != "" {
			req.Header.Set(strings.TrimSpace(k), strings.TrimSpace(v))
		}
	}
	client := s.cfg.HTTP
	switch u.Auth {
	case "BASIC":
		req.SetBasicAuth(u.Username, u.Password)
	case "BEARER":
		req.Header.Set("Authorization", "Bearer "+u.Token)
	case "DIGEST":
		// RFC 7616: the server's 401 challenge is answered, and the request
		// sent again, by the digest transport over the usual one.
		c := *client
		c.Transport = &digest.Transport{Username: u.Username, Password: u.Password, Transport: client.Transport}
		client = &c
	}
	res, err := client.Do(req)
	if err != nil {
		return urlAnswer{}, fmt.Errorf("action url: %w", err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return urlAnswer{}, fmt.Errorf("action url: status %d", res.StatusCode)
	}
	var ans urlAnswer
	if err := json.NewDecoder(io.LimitReader(res.Body, maxAnswer)).Decode(&ans); err != nil {
		return urlAnswer{}, fmt.Errorf("action url: answer: %w", err)
	}
	if ans.StatusCode != nil && *ans.StatusCode != http.StatusOK {
		return urlAnswer{}, fmt.Errorf("action url: status_code %d", *ans.StatusCode)
	}
	return ans, nil
}

// maskEntries splits PortSIP's match list: "101;102", ranges
// "860000-880000", '*' for any one digit, and (DTMF only) ALL.
func maskEntries(mask string) []string {
	return strings.FieldsFunc(mask, func(r rune) bool { return r == ';' || r == ',' || r == ' ' })
}

// maskMatch reports whether s matches one of mask's entries.
func maskMatch(mask, s string, all bool) bool {
	if s == "" {
		return false
	}
	for _, e := range maskEntries(mask) {
		if all && e == "ALL" {
			return true
		}
		if lo, hi, ok := strings.Cut(e, "-"); ok {
			if len(lo) == len(s) && len(hi) == len(s) && lo <= s && s <= hi {
				return true
			}
			continue
		}
		if patternMatch(e, s) {
			return true
		}
	}
	return false
}

func patternMatch(p, s string) bool {
	if len(p) != len(s) {
		return false
	}
	for i := range len(p) {
		if p[i] != '*' && p[i] != s[i] {
			return false
		}
	}
	return true
}

// maskMayGrow reports whether keys after seq could still match an entry
// of mask: ALL waits for the caller's whole input.
func maskMayGrow(mask, seq string) bool {
	for _, e := range maskEntries(mask) {
		if e == "ALL" {
			return true
		}
		lo, _, isRange := strings.Cut(e, "-")
		if isRange {
			e = lo
		}
		if len(e) <= len(seq) {
			continue
		}
		if isRange || patternMatch(e[:len(seq)], seq) {
			return true
		}
	}
	return false
}
