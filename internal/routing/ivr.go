package routing

import (
	"context"
	"fmt"

	"github.com/gopbx/gopbx/internal/call"
	"github.com/gopbx/gopbx/internal/pbx"
)

// IVRs is what routing needs of the virtual receptionists: their App (the
// call's Target is the IVR's ID), and which of a tenant's numbers is one.
type IVRs interface {
	App() call.App
	ByExtension(ctx context.Context, tenant pbx.TenantID, number string) (id string, ok bool, err error)
}

// toIVR aims p at the virtual receptionist whose extension number is
// number, if there is one.
func (r *Router) toIVR(ctx context.Context, tc *tenantConfig, p call.Plan, number string) (call.Plan, bool, error) {
	if r.d.IVRs == nil || number == "" {
		return p, false, nil
	}
	id, ok, err := r.d.IVRs.ByExtension(ctx, tc.tenant.ID, number)
	if err != nil {
		return p, false, fmt.Errorf("look up virtual receptionist %s of tenant %s: %w", number, tc.tenant.ID, err)
	}
	if !ok {
		return p, false, nil
	}
	p.App, p.Target, p.Callee, p.Extension = r.d.IVRs.App(), id, number, ""
	return p, true, nil
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
