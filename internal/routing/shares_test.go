package routing

import "testing"

func TestSharesLimitATenantOnATrunk(t *testing.T) {
	var s shares
	trunkFull := false
	trunkTaken := 0
	next := func() (func(), bool) {
		if trunkFull {
			return nil, false
		}
		trunkTaken++
		return func() { trunkTaken-- }, true
	}
	acquire := s.bind(1, 7, 2, next)
	r1, ok1 := acquire()
	r2, ok2 := acquire()
	if !ok1 || !ok2 || trunkTaken != 2 {
		t.Fatalf("two calls within the share: %v %v, trunk holds %d", ok1, ok2, trunkTaken)
	}
	if _, ok := acquire(); ok {
		t.Fatal("a third call went over the tenant's share of 2")
	}
	if _, ok := s.bind(2, 7, 2, next)(); !ok {
		t.Fatal("another tenant's share was taken by the first's calls")
	}
	r1()
	trunkFull = true
	if _, ok := acquire(); ok {
		t.Fatal("a call went through a trunk at its own limit")
	}
	trunkFull = false
	r3, ok := acquire()
	if !ok {
		t.Fatal("the share refused a call after a trunk refusal gave it back")
	}
	r2()
	r3()
	if len(s.live) != 1 || trunkTaken != 1 { // tenant 2's call is still up
		t.Fatalf("after releases: live %v, trunk holds %d", s.live, trunkTaken)
	}
	if s.bind(1, 7, 0, nil) != nil {
		t.Fatal("no share and no trunk limit should need no Acquire")
	}
}
