package audio

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestMix(t *testing.T) {
	for _, tt := range []struct {
		name string
		dst  []int16
		srcs [][]int16
		want []int16
	}{
		{"none is silence", []int16{5, 5}, nil, []int16{0, 0}},
		{"one is a copy", []int16{5, 5, 5}, [][]int16{{1, 2}}, []int16{1, 2, 0}},
		{"two", make([]int16, 3), [][]int16{{1, 2, 3}, {10, 20, 30}}, []int16{11, 22, 33}},
		{"saturates up", make([]int16, 1), [][]int16{{30000}, {30000}}, []int16{32767}},
		{"saturates down", make([]int16, 1), [][]int16{{-30000}, {-30000}}, []int16{-32768}},
		{"no intermediate clipping", make([]int16, 1), [][]int16{{30000}, {30000}, {-30000}}, []int16{30000}},
		{"short source", make([]int16, 3), [][]int16{{1, 1, 1}, {2}}, []int16{3, 1, 1}},
		{"three", make([]int16, 2), [][]int16{{1, 1}, {2, 2}, {3, 3}}, []int16{6, 6}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			Mix(tt.dst, tt.srcs...)
			if !cmp.Equal(tt.dst, tt.want) {
				t.Errorf("got %v, want %v", tt.dst, tt.want)
			}
		})
	}
}

func TestMixInPlace(t *testing.T) {
	dst := []int16{100, -100, 32000}
	Mix(dst, dst, []int16{1, 1, 1000})
	if want := []int16{101, -99, 32767}; !cmp.Equal(dst, want) {
		t.Errorf("got %v, want %v", dst, want)
	}
}

func TestMixZeroAllocs(t *testing.T) {
	a, b, dst := make([]int16, 160), make([]int16, 160), make([]int16, 160)
	if allocs := testing.AllocsPerRun(100, func() { Mix(dst, a, b) }); allocs != 0 {
		t.Errorf("%v allocs, want 0", allocs)
	}
}
