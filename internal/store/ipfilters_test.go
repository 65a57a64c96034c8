package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/gopbx/gopbx/internal/pbx"
	"github.com/gopbx/gopbx/internal/query"
	"github.com/gopbx/gopbx/internal/store"
	"github.com/gopbx/gopbx/internal/store/storetest"
)

func TestIPFilters(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		now := time.UnixMilli(1_800_000_000_000).UTC()
		deny := store.IPFilter{CIDR: "192.0.2.7", Target: store.IPFilterDeny, ExpireAt: now.Add(time.Hour), Description: "sip brute force"}
		if err := db.CreateIPFilter(ctx, &deny); err != nil {
			t.Fatal(err)
		}
		if deny.CIDR != "192.0.2.7/32" {
			t.Fatalf("cidr = %q, want 192.0.2.7/32", deny.CIDR)
		}
		accept := store.IPFilter{CIDR: "10.1.2.3/8", Target: store.IPFilterAccept}
		if err := db.CreateIPFilter(ctx, &accept); err != nil {
			t.Fatal(err)
		}
		if accept.CIDR != "10.0.0.0/8" {
			t.Fatalf("cidr = %q, want 10.0.0.0/8", accept.CIDR)
		}
		old := store.IPFilter{CIDR: "2001:db8::1", Target: store.IPFilterDeny, ExpireAt: now.Add(-time.Second)}
		if err := db.CreateIPFilter(ctx, &old); err != nil {
			t.Fatal(err)
		}
		for _, bad := range []store.IPFilter{
			{CIDR: "nope", Target: store.IPFilterDeny},
			{CIDR: "192.0.2.1", Target: "DROP"},
		} {
			if err := db.CreateIPFilter(ctx, &bad); pbx.ErrorCode(err) != pbx.EINVALID {
				t.Fatalf("create %+v: got %v, want invalid", bad, err)
			}
		}
		got, err := db.IPFilter(ctx, deny.ID)
		if err != nil || got.CIDR != deny.CIDR || got.Target != store.IPFilterDeny || !got.ExpireAt.Equal(deny.ExpireAt) || got.Description != "sip brute force" {
			t.Fatalf("IPFilter = %+v, %v", got, err)
		}
		active, err := db.ActiveIPFilters(ctx, now)
		if err != nil || len(active) != 2 {
			t.Fatalf("ActiveIPFilters = %v, %v; want 2", active, err)
		}
		f, _ := query.Parse("target eq 'DENY'")
		list, total, err := db.ListIPFilters(ctx, store.ListOptions{Filter: f})
		if err != nil || total != 2 || len(list) != 2 {
			t.Fatalf("ListIPFilters = %d %d %v", len(list), total, err)
		}
		accept.Description = "office"
		if err := db.UpdateIPFilter(ctx, &accept); err != nil {
			t.Fatal(err)
		}
		if err := db.DeleteIPFilter(ctx, deny.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := db.IPFilter(ctx, deny.ID); pbx.ErrorCode(err) != pbx.ENOTFOUND {
			t.Fatalf("after delete: %v", err)
		}
		if err := db.DeleteIPFilter(ctx, deny.ID); pbx.ErrorCode(err) != pbx.ENOTFOUND {
			t.Fatalf("second delete: %v", err)
		}
	})
}
