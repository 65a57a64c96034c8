package call

import (
	"io"

	"github.com/gopbx/gopbx/internal/pbx"
)

// SetMusicOnHold sets m's Deps.MusicOnHold, before any call.
func SetMusicOnHold(m *Manager, f func(pbx.TenantID) (io.ReadCloser, error)) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.d.MusicOnHold = f
}
