package signaling_test

import (
	"runtime"

	"github.com/emiago/sipgo/sip"

	"github.com/gopbx/gopbx/internal/signaling"
)

func toHeader(user string) *sip.ToHeader {
	return &sip.ToHeader{Address: sip.Uri{Scheme: "sip", User: user, Host: domain}}
}

type signalingConfig = signaling.Config

func testingProcs() int { return runtime.GOMAXPROCS(0) }
