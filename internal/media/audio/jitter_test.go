package audio

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// frameOf returns a 4-sample frame whose samples all equal v, so the test
// can tell which packet was played.
func frameOf(v int16) []int16 { return []int16{v, v, v, v} }

func TestJitterBuffer(t *testing.T) {
	type step struct {
		push []uint16 // sequence numbers to push before the pop; frame value = seq
		want FrameKind
		val  int16 // first sample of the popped frame
	}
	for _, tt := range []struct {
		name  string
		steps []step
		stats JitterStats
	}{
		{"in order", []step{
			{[]uint16{10}, FrameSilence, 0},
			{[]uint16{11}, FrameAudio, 10}, // depth 2 buffered: playout starts
			{[]uint16{12}, FrameAudio, 11},
			{[]uint16{13}, FrameAudio, 12},
			{nil, FrameAudio, 13},
		}, JitterStats{Pushed: 4}},
		{"reordered within the window", []step{
			{[]uint16{10}, FrameSilence, 0},
			{[]uint16{12, 11}, FrameAudio, 10},
			{[]uint16{14}, FrameAudio, 11},
			{[]uint16{13}, FrameAudio, 12},
			{nil, FrameAudio, 13},
			{nil, FrameAudio, 14},
		}, JitterStats{Pushed: 5}},
		{"lost frame concealed", []step{
			{[]uint16{10, 11}, FrameAudio, 10},
			{[]uint16{13}, FrameAudio, 11},
			{nil, FrameConcealed, 5}, // 12 lost: 11 at half level
			{nil, FrameAudio, 13},
		}, JitterStats{Pushed: 3, Concealed: 1}},
		{"late frame dropped", []step{
			{[]uint16{10, 11}, FrameAudio, 10},
			{[]uint16{13}, FrameAudio, 11},
			{nil, FrameConcealed, 5},
			{[]uint16{12}, FrameAudio, 13},
		}, JitterStats{Pushed: 3, Late: 1, Concealed: 1}},
		{"duplicate dropped", []step{
			{[]uint16{10, 11, 11}, FrameAudio, 10},
			{[]uint16{10}, FrameAudio, 11},
		}, JitterStats{Pushed: 2, Duplicate: 1, Late: 1}},
		{"concealment fades, then silence and a restart", []step{
			{[]uint16{10, 11}, FrameAudio, 10},
			{nil, FrameAudio, 11},
			{nil, FrameConcealed, 5},
			{nil, FrameConcealed, 2},
			{nil, FrameConcealed, 1},
			{nil, FrameSilence, 0},
			// The stream resumes after a pause: its frames are not late.
			{[]uint16{40}, FrameSilence, 0},
			{[]uint16{41}, FrameAudio, 40},
			{nil, FrameAudio, 41},
		}, JitterStats{Pushed: 4, Concealed: 3, Silent: 1}},
		{"jump ahead restarts", []step{
			{[]uint16{10, 11}, FrameAudio, 10},
			{[]uint16{5000}, FrameSilence, 0},
			{[]uint16{5001}, FrameAudio, 5000},
		}, JitterStats{Pushed: 4, Resets: 1}},
		{"sequence wraps", []step{
			{[]uint16{65534, 65535}, FrameAudio, -2},
			{[]uint16{0}, FrameAudio, -1},
			{[]uint16{1}, FrameAudio, 0},
			{nil, FrameAudio, 1},
		}, JitterStats{Pushed: 4}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			b, err := NewJitterBuffer(4, 2)
			if err != nil {
				t.Fatal(err)
			}
			var out []int16
			for i, s := range tt.steps {
				for _, seq := range s.push {
					b.Push(seq, frameOf(int16(seq)))
				}
				var kind FrameKind
				out, kind = b.Pop(out[:0])
				if kind != s.want || len(out) != 4 || out[0] != s.val {
					t.Errorf("pop %d: %v %v, want %v starting %d", i, kind, out, s.want, s.val)
				}
			}
			if diff := cmp.Diff(tt.stats, b.Stats()); diff != "" {
				t.Errorf("stats (-want +got):\n%s", diff)
			}
		})
	}
	if _, err := NewJitterBuffer(0, 3); err == nil {
		t.Error("NewJitterBuffer(0, 3) succeeded, want an error")
	}
}

// TestJitterBufferRestartBehind checks that a sender that restarted with
// lower sequence numbers is followed: at once when it jumped far back, and
// after a run of late frames as long as the capacity when it jumped a little.
func TestJitterBufferRestartBehind(t *testing.T) {
	for _, tt := range []struct {
		name       string
		from, to   uint16
		firstAudio int16
	}{
		{"far behind", 10, 14, 10},
		{"a little behind", 995, 1001, 1000}, // 995..999 are late, 1000 restarts
	} {
		t.Run(tt.name, func(t *testing.T) {
			b, _ := NewJitterBuffer(4, 2)
			b.Push(1010, frameOf(1))
			b.Push(1011, frameOf(1))
			b.Pop(nil)
			for seq := tt.from; seq <= tt.to; seq++ {
				b.Push(seq, frameOf(int16(seq)))
			}
			if got := b.Stats().Resets; got != 1 {
				t.Fatalf("resets %d, want 1", got)
			}
			out, kind := b.Pop(nil)
			if kind != FrameAudio || out[0] != tt.firstAudio {
				t.Errorf("after restart popped %v %v, want audio %d", kind, out, tt.firstAudio)
			}
		})
	}
}

func TestJitterBufferShortAndLongFrames(t *testing.T) {
	b, _ := NewJitterBuffer(4, 1)
	b.Push(1, []int16{1, 2})
	b.Push(2, []int16{1, 2, 3, 4, 5, 6})
	out, _ := b.Pop(nil)
	out, _ = b.Pop(out)
	if want := []int16{1, 2, 0, 0, 1, 2, 3, 4}; !cmp.Equal(out, want) {
		t.Errorf("popped %v, want %v", out, want)
	}
}

func TestFrameKindString(t *testing.T) {
	for k, want := range map[FrameKind]string{FrameSilence: "silence", FrameAudio: "audio", FrameConcealed: "concealed", 9: "FrameKind(9)"} {
		if got := k.String(); got != want {
			t.Errorf("FrameKind(%d).String() = %q, want %q", k, got, want)
		}
	}
}
