package certs

import (
	"path/filepath"
	"testing"
)

func TestLoadOrCreate(t *testing.T) {
	dir := t.TempDir()
	c, k := filepath.Join(dir, "tls", "a.crt"), filepath.Join(dir, "tls", "a.key")
	first, err := LoadOrCreate(c, k, []string{"pbx.test"})
	if err != nil {
		t.Fatal(err)
	}
	again, err := LoadOrCreate(c, k, nil)
	if err != nil {
		t.Fatal(err)
	}
	if string(first.Certificate[0]) != string(again.Certificate[0]) {
		t.Error("certificate was made again instead of loaded")
	}
	if first.Leaf == nil || first.Leaf.DNSNames[0] != "pbx.test" {
		t.Errorf("leaf names: %+v", first.Leaf)
	}
}
