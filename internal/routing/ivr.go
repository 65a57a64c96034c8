package routing

import (
	"context"

	"github.com/gopbx/gopbx/internal/call"
	"github.com/gopbx/gopbx/internal/pbx"
)

// IVRs is what routing needs of the virtual receptionists: their App (the
// call's Target is the IVR's ID), and a tenant's IVRs by extension number,
// compiled with the tenant (API writes of IVRs say Changed).
type IVRs interface {
	App() call.App
	Numbers(ctx context.Context, tenant pbx.TenantID) (map[string]string, error)
}

// toIVR aims p at the virtual receptionist whose extension number is
// number, if there is one.
func (r *Router) toIVR(tc *tenantConfig, p call.Plan, number string) (call.Plan, bool) {
	id, ok := tc.ivrs[number]
	if r.d.IVRs == nil || !ok {
		return p, false
	}
	p.App, p.Target, p.Callee, p.Extension = r.d.IVRs.App(), id, number, ""
	return p, true
}

var _ call.VoicemailRouter = (*Router)(nil)

// VoicemailPlan is the plan that leaves a message in box of tenant: where
// an App (the virtual receptionist) sends a caller with AppCall.Voicemail.
// It is false without voicemail.
func (r *Router) VoicemailPlan(tenant pbx.Tenant, box string) (call.Plan, bool) {
	if r.d.Voicemail == nil || box == "" {
		return call.Plan{}, false
	}
	return call.Plan{Tenant: tenant, Direction: call.ExtensionCall, App: r.d.Voicemail.Deposit(), Target: box, Callee: box}, true
}
