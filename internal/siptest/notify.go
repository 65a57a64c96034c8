package siptest

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// Watcher is a UA that also takes NOTIFYs: a phone that watches its
// mailbox (message waiting indication). It subscribes with Subscribe and
// refreshes or ends the subscription with Resubscribe; every NOTIFY it
// receives, in a dialog or not, lands in Notifies and is answered with the
// status AnswerNotify set (200 by default).
type Watcher struct {
	*UA
	notifies chan *sip.Request
	status   atomic.Int32

	mu     sync.Mutex
	callID string
	from   *sip.FromHeader
	toTag  string
	cseq   uint32
}

// NewWatcher starts a Watcher for tb; it is closed when tb ends.
func NewWatcher(tb testing.TB, cfg Config) *Watcher {
	tb.Helper()
	w := &Watcher{notifies: make(chan *sip.Request, 32)}
	w.status.Store(sip.StatusOK)
	u, err := startWith(cfg, func(srv *sipgo.Server) {
		srv.OnNotify(func(req *sip.Request, tx sip.ServerTransaction) {
			select {
			case w.notifies <- req:
			default:
			}
			status := int(w.status.Load())
			tx.Respond(sip.NewResponseFromRequest(req, status, reasonOf(status), nil))
		})
	})
	if err != nil {
		tb.Fatalf("siptest: %v", err)
	}
	tb.Cleanup(u.Close)
	w.UA = u
	return w
}

// Notifies returns the NOTIFYs the Watcher received, in order; the channel
// holds the last 32 that nobody read.
func (w *Watcher) Notifies() <-chan *sip.Request { return w.notifies }

// AnswerNotify sets the status the Watcher answers NOTIFYs with.
func (w *Watcher) AnswerNotify(status int) { w.status.Store(int32(status)) }

// Subscribe sends a SUBSCRIBE for event (such as "message-summary") to the
// UA's own AOR with Expires: expires (none when negative), answering one
// challenge, and returns the final response. A 2xx starts the dialog that
// Resubscribe continues.
func (w *Watcher) Subscribe(ctx context.Context, event string, expires int) (*sip.Response, error) {
	aor := "sip:" + w.cfg.User + "@" + w.cfg.Domain
	req, err := w.NewRequest(sip.SUBSCRIBE, aor)
	if err != nil {
		return nil, err
	}
	req.AppendHeader(&sip.ToHeader{Address: sip.Uri{Scheme: "sip", User: w.cfg.User, Host: w.cfg.Domain}})
	w.mu.Lock()
	w.callID, w.from, w.toTag, w.cseq = sip.GenerateTagN(20)+"@siptest", req.From(), "", 1
	cid := sip.CallIDHeader(w.callID)
	w.mu.Unlock()
	req.AppendHeader(&cid)
	req.AppendHeader(&sip.CSeqHeader{SeqNo: 1, MethodName: sip.SUBSCRIBE})
	return w.doSubscribe(ctx, req, event, expires)
}

// Resubscribe refreshes the subscription Subscribe started, or ends it
// with expires 0, and returns the final response.
func (w *Watcher) Resubscribe(ctx context.Context, expires int) (*sip.Response, error) {
	w.mu.Lock()
	if w.toTag == "" {
		w.mu.Unlock()
		return nil, fmt.Errorf("resubscribe: no subscription")
	}
	w.cseq++
	to := &sip.ToHeader{Address: sip.Uri{Scheme: "sip", User: w.cfg.User, Host: w.cfg.Domain}, Params: sip.NewParams()}
	to.Params.Add("tag", w.toTag)
	from := &sip.FromHeader{DisplayName: w.from.DisplayName, Address: *w.from.Address.Clone(), Params: w.from.Params.Clone()}
	cid := sip.CallIDHeader(w.callID)
	cseq := w.cseq
	w.mu.Unlock()
	var ruri sip.Uri
	sip.ParseUri("sip:"+w.cfg.User+"@"+w.cfg.Domain, &ruri)
	req := sip.NewRequest(sip.SUBSCRIBE, ruri)
	req.SetDestination(w.cfg.Server)
	req.SetTransport(strings.ToUpper(w.cfg.Transport))
	req.AppendHeader(from)
	req.AppendHeader(to)
	req.AppendHeader(&cid)
	req.AppendHeader(&sip.CSeqHeader{SeqNo: cseq, MethodName: sip.SUBSCRIBE})
	return w.doSubscribe(ctx, req, "message-summary", expires)
}

func (w *Watcher) doSubscribe(ctx context.Context, req *sip.Request, event string, expires int) (*sip.Response, error) {
	c := w.contactHeader()
	req.AppendHeader(&c)
	req.AppendHeader(sip.NewHeader("Event", event))
	req.AppendHeader(sip.NewHeader("Accept", "application/simple-message-summary"))
	if expires >= 0 {
		req.AppendHeader(sip.NewHeader("Expires", strconv.Itoa(expires)))
	}
	res, err := w.Do(ctx, req)
	if err != nil {
		return nil, err
	}
	w.mu.Lock()
	if cs := res.CSeq(); cs != nil && cs.SeqNo > w.cseq {
		w.cseq = cs.SeqNo
	}
	if to := res.To(); res.StatusCode/100 == 2 && to != nil {
		if tag, ok := to.Params.Get("tag"); ok && w.toTag == "" {
			w.toTag = tag
		}
	}
	w.mu.Unlock()
	return res, nil
}
