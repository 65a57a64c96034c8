package main

import (
	"context"
	"log/slog"
)

// quieter is a slog.Handler that logs what another handler logs one step
// down: warnings and infos as debug. sipgo's own package messages ("UDP ref
// went negative on try close") are its internal bookkeeping, nothing an
// administrator can act on, so they must not read as warnings.
type quieter struct{ h slog.Handler }

func (q quieter) Enabled(ctx context.Context, l slog.Level) bool {
	return q.h.Enabled(ctx, demote(l))
}

func (q quieter) Handle(ctx context.Context, r slog.Record) error {
	r.Level = demote(r.Level)
	return q.h.Handle(ctx, r)
}

func (q quieter) WithAttrs(a []slog.Attr) slog.Handler { return quieter{q.h.WithAttrs(a)} }
func (q quieter) WithGroup(n string) slog.Handler      { return quieter{q.h.WithGroup(n)} }

// demote maps warnings and infos to debug; errors stay errors.
func demote(l slog.Level) slog.Level {
	if l >= slog.LevelError {
		return l
	}
	return slog.LevelDebug
}
