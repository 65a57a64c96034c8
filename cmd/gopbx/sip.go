package main

import "context"

// startSIP starts the SIP edge, registrar and B2BUA.
func (m *Main) startSIP(ctx context.Context) error {
	return nil
}
