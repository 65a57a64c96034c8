package api

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"github.com/gopbx/gopbx/internal/call"
	"github.com/gopbx/gopbx/internal/pbx"
)

// CDRFields are the fields every view of a call detail record shares.
// (Exported: huma flattens only exported embedded structs.)
type CDRFields struct {
	Caller            string  `json:"caller"`
	CallerDomain      *string `json:"caller_domain"`
	CallerDisplayName *string `json:"caller_display_name"`
	Callee            string  `json:"callee"`
	CalleeDomain      *string `json:"callee_domain"`
	CalleeDisplayName *string `json:"callee_display_name"`
	StartedAt         *string `json:"started_at"`
	RangAt            *string `json:"rang_at"`
	AnsweredAt        *string `json:"answered_at"`
	EndedAt           *string `json:"ended_at"`
	CallID            string  `json:"call_id"`
	Direction         string  `json:"direction" enum:"INBOUND_CALL,OUTBOUND_CALL,EXTENSION_CALL,INBOUND_OUTBOUND_CALL"`
	EndReason         *string `json:"end_reason" enum:"CALLER_DISCONNECTED,CALLEE_DISCONNECTED,BLIND_TRANSFER_COMPLETED,CONSULT_TRANSFER_COMPLETED,REPLACED,REFERRED,REDIRECTED,CANCELLED"`
	RerouteReason     *string `json:"reroute_reason" enum:"TRANSFER,OVERFLOW"`
	StatusCode        int     `json:"status_code"`
	Destination       *string `json:"destination"`
	OutboundCallerID  *string `json:"outbound_caller_id"`
	DIDCID            *string `json:"did_cid"`
	Trunk             *string `json:"trunk"`
	ServiceNumber     *string `json:"service_number"`
	UserData          *string `json:"user_data"`
}

// cdrItem is a CDR in a list.
type cdrItem struct {
	ID string `json:"id"`
	CDRFields
	Duration int `json:"duration"`
}

// cdrDetail is one part of a CDR as GET /cdrs/{id} shows it. Billing is
// not built yet, so cost and billed_account are null.
type cdrDetail struct {
	CDRFields
	Duration      int      `json:"duration"`
	Cost          *float64 `json:"cost"`
	BilledAccount *string  `json:"billed_account"`
}

// userCDRDetail is a CDR as GET /user/cdrs/{id} shows it to its user.
type userCDRDetail struct {
	CDRFields
	Cost          *float64 `json:"cost"`
	BilledAccount *string  `json:"billed_account"`
}

func cdrFields(c call.CDR) CDRFields {
	return CDRFields{Caller: c.Caller, CallerDomain: strOrNil(c.CallerDomain), CallerDisplayName: strOrNil(c.CallerDisplayName),
		Callee: c.Callee, CalleeDomain: strOrNil(c.CalleeDomain), CalleeDisplayName: strOrNil(c.CalleeDisplayName),
		StartedAt: timeOrNil(c.StartedAt), RangAt: timeOrNil(c.RangAt), AnsweredAt: timeOrNil(c.AnsweredAt), EndedAt: timeOrNil(c.EndedAt),
		CallID: c.CallID, Direction: string(c.Direction), EndReason: strOrNil(string(c.EndReason)), RerouteReason: strOrNil(c.RerouteReason),
		StatusCode: c.StatusCode, Destination: strOrNil(c.Destination), OutboundCallerID: strOrNil(c.OutboundCallerID),
		DIDCID: strOrNil(c.DIDCID), Trunk: strOrNil(c.Trunk), ServiceNumber: strOrNil(c.ServiceNumber), UserData: strOrNil(c.UserData)}
}

func cdrView(c call.CDR) cdrItem {
	return cdrItem{ID: c.ID.String(), CDRFields: cdrFields(c), Duration: c.Duration}
}

// sessionItem is a live call session as PortSIP shows it.
type sessionItem struct {
	ID    string            `json:"id"`
	Calls []sessionCallItem `json:"calls"`
}

type sessionCallItem struct {
	Caller            string  `json:"caller"`
	CallerDisplayName *string `json:"caller_display_name"`
	Callee            string  `json:"callee"`
	Trunk             *string `json:"trunk"`
	StartedAt         *string `json:"started_at"`
	TalkingTime       int     `json:"talking_time"`
}

func sessionView(si call.SessionInfo) sessionItem {
	out := sessionItem{ID: si.ID.String(), Calls: []sessionCallItem{}}
	for _, c := range si.Calls {
		out.Calls = append(out.Calls, sessionCallItem{Caller: c.Caller, CallerDisplayName: strOrNil(c.CallerDisplayName), Callee: c.Callee,
			Trunk: strOrNil(c.Trunk), StartedAt: timeOrNil(c.StartedAt), TalkingTime: c.TalkingTime})
	}
	return out
}

type idPath struct {
	ID string `path:"id"`
}

// registerCalls serves the live calls (/sessions) and the call detail
// records (/cdrs, /user/cdrs). A tenant sees only its own; a user only the
// calls its extension took part in.
func (s *Server) registerCalls() {
	handle(s, huma.Operation{OperationID: "list_sessions", Method: http.MethodGet, Path: "/sessions", Tags: []string{"Call Session"},
		Summary: "List current active call sessions.", DefaultStatus: http.StatusCreated},
		tenantAdmin, func(ctx context.Context, p *principal, _ *struct{}) (*listBody[sessionItem], error) {
			var items []sessionItem
			if c := s.sipDeps().Calls; c != nil {
				for _, si := range c.Sessions(p.scope) {
					items = append(items, sessionView(si))
				}
			}
			return newList(items, len(items)), nil
		})
	handle(s, huma.Operation{OperationID: "get_session", Method: http.MethodGet, Path: "/sessions/{id}", Tags: []string{"Call Session"},
		Summary: "Retrieve call session by ID."},
		tenantAdmin, func(ctx context.Context, p *principal, in *idPath) (*struct{ Body sessionItem }, error) {
			id, err := parseID(in.ID, "session")
			if err != nil {
				return nil, err
			}
			c := s.sipDeps().Calls
			if c == nil {
				return nil, pbx.Errorf(pbx.ENOTFOUND, "session not found")
			}
			si, err := c.Session(p.scope, id)
			if err != nil {
				return nil, err
			}
			return &struct{ Body sessionItem }{Body: sessionView(si)}, nil
		})
	handle(s, huma.Operation{OperationID: "destroy_session", Method: http.MethodPost, Path: "/sessions/{id}/destroy", Tags: []string{"Call Session"},
		Summary: "Destroy call session"},
		tenantAdmin, func(ctx context.Context, p *principal, in *idPath) (*noContent, error) {
			id, err := parseID(in.ID, "session")
			if err != nil {
				return nil, err
			}
			c := s.sipDeps().Calls
			if c == nil {
				return nil, pbx.Errorf(pbx.ENOTFOUND, "session not found")
			}
			if err := c.Hangup(ctx, p.scope, id); err != nil {
				return nil, err
			}
			s.audit(ctx, p, "DELETE", "SYSTEM", "session "+in.ID, nil, nil)
			return &noContent{}, nil
		})
	handle(s, huma.Operation{OperationID: "list_cdrs", Method: http.MethodGet, Path: "/cdrs", Tags: []string{"CDR"}, Summary: "List CDRs"},
		tenantStaff, func(ctx context.Context, p *principal, in *listParams) (*listBody[cdrItem], error) {
			opts, err := in.options()
			if err != nil {
				return nil, err
			}
			cdrs, n, err := s.db.ListCDRs(ctx, p.scope, opts)
			if err != nil {
				return nil, err
			}
			return newList(cdrViews(cdrs), n), nil
		})
	handle(s, huma.Operation{OperationID: "get_cdr", Method: http.MethodGet, Path: "/cdrs/{id}", Tags: []string{"CDR"}, Summary: "Retrieve CDR detailed information."},
		tenantStaff, func(ctx context.Context, p *principal, in *idPath) (*struct {
			Body struct {
				Items []cdrDetail `json:"items"`
			}
		}, error) {
			id, err := parseID(in.ID, "cdr")
			if err != nil {
				return nil, err
			}
			c, err := s.db.CDR(ctx, p.scope, id)
			if err != nil {
				return nil, err
			}
			// PortSIP answers one CDR as a list of its parts (one per leg).
			out := &struct {
				Body struct {
					Items []cdrDetail `json:"items"`
				}
			}{}
			out.Body.Items = []cdrDetail{{CDRFields: cdrFields(c), Duration: c.Duration}}
			return out, nil
		})
	handle(s, huma.Operation{OperationID: "list_user_cdrs", Method: http.MethodGet, Path: "/user/cdrs", Tags: []string{"CDR"}, Summary: "List user call detail records"},
		anyUser, func(ctx context.Context, p *principal, in *listParams) (*listBody[cdrItem], error) {
			opts, err := in.options()
			if err != nil {
				return nil, err
			}
			u, err := s.db.User(ctx, p.scope, p.id)
			if err != nil {
				return nil, err
			}
			cdrs, n, err := s.db.ListExtensionCDRs(ctx, p.scope, u.ExtensionNumber, opts)
			if err != nil {
				return nil, err
			}
			return newList(cdrViews(cdrs), n), nil
		})
	handle(s, huma.Operation{OperationID: "get_user_cdr", Method: http.MethodGet, Path: "/user/cdrs/{id}", Tags: []string{"CDR"}, Summary: "Retrieve user call detail record"},
		anyUser, func(ctx context.Context, p *principal, in *idPath) (*struct {
			Body struct {
				Items userCDRDetail `json:"items"`
			}
		}, error) {
			id, err := parseID(in.ID, "cdr")
			if err != nil {
				return nil, err
			}
			u, err := s.db.User(ctx, p.scope, p.id)
			if err != nil {
				return nil, err
			}
			c, err := s.db.ExtensionCDR(ctx, p.scope, u.ExtensionNumber, id)
			if err != nil {
				return nil, err
			}
			out := &struct {
				Body struct {
					Items userCDRDetail `json:"items"`
				}
			}{}
			out.Body.Items = userCDRDetail{CDRFields: cdrFields(c)}
			return out, nil
		})
}

func cdrViews(cdrs []call.CDR) []cdrItem {
	items := make([]cdrItem, 0, len(cdrs))
	for _, c := range cdrs {
		items = append(items, cdrView(c))
	}
	return items
}
