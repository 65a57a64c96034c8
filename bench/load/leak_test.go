package load_test

import (
	"context"
	"runtime"
	"testing"
	"time"

	"github.com/gopbx/gopbx/bench/load"
)

// TestNoLeak puts calls with RTP and REGISTERs on an in-process PBX and
// checks that, once the load is over, the process is back to the
// goroutines it had before (the PBX keeps running: what is left over is
// the PBX's, or the generator's). bench/sip/run.sh checks the built
// server's sockets and descriptors from outside.
func TestNoLeak(t *testing.T) {
	target := startPBX(t)
	settle := func() int {
		n := runtime.NumGoroutine()
		for i := 0; i < 50; i++ {
			time.Sleep(100 * time.Millisecond)
			m := runtime.NumGoroutine()
			if m == n {
				return m
			}
			n = m
		}
		return n
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	base := settle()
	rep, err := load.Run(ctx, load.Config{
		Target: target, Domain: "acme.test",
		Caller: "101", CallerPassword: "pw101", Callee: "102", CalleePassword: "pw102",
		Calls: 30, Concurrency: 15, Hold: 300 * time.Millisecond, RTP: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Answered != 30 {
		t.Fatalf("answered %d of 30: %v", rep.Answered, rep)
	}
	rrep, err := load.RunRegister(ctx, load.RegisterConfig{Target: target, Domain: "acme.test", First: 101, Users: 2,
		Password: "pw{ext}", Concurrency: 2, Agents: 2})
	if err != nil || rrep.OK != 2 {
		t.Fatalf("register: %v %v", rrep, err)
	}
	// The B2BUA finishes calls (CDRs, port release) a little after the BYE.
	var after int
	for i := 0; i < 30; i++ {
		if after = settle(); after <= base+2 {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Logf("goroutines: %d before, %d after", base, after)
	if after > base+2 {
		buf := make([]byte, 1<<20)
		t.Errorf("goroutines: %d before the load, %d after it\n%s", base, after, buf[:runtime.Stack(buf, true)])
	}
}
