package main

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
)

func TestQuieterDemotesBelowError(t *testing.T) {
	var buf bytes.Buffer
	base := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo}))
	q := slog.New(quieter{base.Handler()}).With("component", "sipgo")
	q.Warn("UDP ref went negative on try close")
	q.Info("chatter")
	if buf.Len() != 0 {
		t.Fatalf("warnings and infos still logged at info level: %s", buf.String())
	}
	q.Error("transport failed")
	if !strings.Contains(buf.String(), "level=ERROR") || !strings.Contains(buf.String(), "component=sipgo") {
		t.Fatalf("errors must stay errors: %s", buf.String())
	}
	buf.Reset()
	debug := slog.New(quieter{slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})})
	debug.Warn("ref")
	if !strings.Contains(buf.String(), "level=DEBUG") {
		t.Fatalf("at debug level the message shows as debug: %s", buf.String())
	}
}
