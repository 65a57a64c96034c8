package api

import (
	"context"
	"encoding/json"

	"github.com/gopbx/gopbx/internal/store"
)

// audit records a change or login in the audit log of the principal's
// scope. old and new are rendered as JSON; secrets must be removed by the
// caller. A failure to write the log is logged, never returned: the change
// it describes has already happened.
func (s *Server) audit(ctx context.Context, p *principal, action, objectType, objectName string, old, new any) {
	l := store.AuditLog{Action: action, ObjectType: objectType, ObjectName: objectName, IP: remoteFrom(ctx), Source: "api"}
	if p != nil {
		l.Tenant = p.scope
		l.UserName = s.principalName(ctx, p)
	}
	if old != nil {
		b, _ := json.Marshal(old)
		l.OldState = string(b)
	}
	if new != nil {
		b, _ := json.Marshal(new)
		l.NewState = string(b)
	}
	if err := s.db.AddAuditLog(ctx, &l); err != nil {
		s.log.Warn("audit log write failed", "err", err)
	}
}

// principalName is the account name shown in audit logs.
func (s *Server) principalName(ctx context.Context, p *principal) string {
	switch p.kind {
	case store.PrincipalAdmin:
		if a, err := s.db.Admin(ctx, p.id); err == nil {
			return a.Name
		}
	case store.PrincipalUser:
		if u, err := s.db.User(ctx, p.tenant, p.id); err == nil {
			return u.Name
		}
	case store.PrincipalDealer:
		return "dealer:" + p.id.String()
	}
	return ""
}
