package api

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"
)

type auditLogItem struct {
	ID         string  `json:"id"`
	CreatedAt  *string `json:"created_at"`
	Source     *string `json:"source"`
	IP         *string `json:"ip"`
	Action     string  `json:"action" enum:"CREATE,UPDATE,DELETE,LOGIN,LOGOUT,RECHARGE"`
	ObjectType string  `json:"object_type"`
	UserName   *string `json:"user_name"`
	ObjectName *string `json:"object_name"`
	OldState   *string `json:"old_state"`
	NewState   *string `json:"new_state"`
}

type eventLogItem struct {
	ID        string  `json:"id"`
	CreatedAt *string `json:"created_at"`
	Level     string  `json:"level" enum:"DEBUG,INFO,WARN,ERROR"`
	Source    *string `json:"source"`
	Message   string  `json:"message"`
}

// registerLogs serves /audit_logs and /event_logs. The system admin outside
// any tenant sees the system's logs; inside a tenant (switched, or a tenant
// admin) the tenant's. A user of a custom role reads its tenant's logs when
// the role grants company.full_access (see permissionTable).
func (s *Server) registerLogs() {
	tags := []string{"Troubleshooting"}
	logsAccess := func(p *principal) bool { return p.isSystemAdmin() || tenantAdmin(p) }
	handle(s, huma.Operation{OperationID: "list_audit_logs", Method: http.MethodGet, Path: "/audit_logs", Tags: tags, Summary: "List audit logs"},
		logsAccess, func(ctx context.Context, p *principal, in *listParams) (*listBody[auditLogItem], error) {
			opts, err := in.options()
			if err != nil {
				return nil, err
			}
			logs, n, err := s.db.ListAuditLogs(ctx, p.scope, opts)
			if err != nil {
				return nil, err
			}
			items := make([]auditLogItem, 0, len(logs))
			for _, l := range logs {
				items = append(items, auditLogItem{ID: l.ID.String(), CreatedAt: timeOrNil(l.CreatedAt), Source: strOrNil(l.Source),
					IP: strOrNil(l.IP), Action: l.Action, ObjectType: l.ObjectType, UserName: strOrNil(l.UserName),
					ObjectName: strOrNil(l.ObjectName), OldState: strOrNil(l.OldState), NewState: strOrNil(l.NewState)})
			}
			return newList(items, n), nil
		})
	handle(s, huma.Operation{OperationID: "list_event_logs", Method: http.MethodGet, Path: "/event_logs", Tags: tags, Summary: "List event logs"},
		logsAccess, func(ctx context.Context, p *principal, in *listParams) (*listBody[eventLogItem], error) {
			opts, err := in.options()
			if err != nil {
				return nil, err
			}
			logs, n, err := s.db.ListEventLogs(ctx, p.scope, opts)
			if err != nil {
				return nil, err
			}
			items := make([]eventLogItem, 0, len(logs))
			for _, l := range logs {
				items = append(items, eventLogItem{ID: l.ID.String(), CreatedAt: timeOrNil(l.CreatedAt), Level: l.Level,
					Source: strOrNil(l.Source), Message: l.Message})
			}
			return newList(items, n), nil
		})
}
