package load

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/gopbx/gopbx/internal/media/audio"
)

// Recording is what RecordingGaps found in one recording of a stream the
// generator sent (8 kHz PCMU, PatternCode payloads).
type Recording struct {
	Duration time.Duration
	// Frames is how many 20 ms frames of the pattern it holds; Foreign
	// counts samples that are not the pattern's (other audio, or frames
	// cut short).
	Frames, Foreign int
	// MaxGap is the largest distance between two consecutive frames of
	// the recording, in stream time: 20 ms when none is missing, 40 ms
	// when one is. Gaps longer than the pattern's cycle (5.08 s) are not
	// seen.
	MaxGap time.Duration
}

// RecordingGaps reads a WAV recording of a stream that Run sent and finds
// the frames missing from it.
func RecordingGaps(r io.Reader) (Recording, error) {
	wr, err := audio.NewWAVReader(r)
	if err != nil {
		return Recording{}, fmt.Errorf("recording gaps: %w", err)
	}
	if f := wr.Format(); f.Rate != 8000 {
		return Recording{}, fmt.Errorf("recording gaps: want 8 kHz, got %d Hz", f.Rate)
	}
	// Each pattern code decodes to a sample value of its own.
	index := make(map[int16]int, patternCycle)
	var dec []int16
	for i := range patternCycle {
		dec = audio.PCMU{}.Decode(dec[:0], []byte{PatternCode(uint32(i))})
		index[dec[0]] = i
	}
	var (
		rec      Recording
		samples  int
		cur, run = -1, 0 // the code of the current run of samples, its length
		prev     = -1    // the code of the last whole frame
		maxStep  = 1
		buf      = make([]int16, 4096)
	)
	// end closes the current run: a whole frame of one code, or foreign
	// samples. Consecutive frames' codes step by one; a frame of the same
	// code as the last (5.08 s of loss, or a repeat) is not measured.
	end := func() {
		if cur < 0 || run != 160 {
			rec.Foreign += run
			return
		}
		rec.Frames++
		if prev >= 0 {
			maxStep = max(maxStep, (cur-prev+patternCycle)%patternCycle)
		}
		prev = cur
	}
	for {
		n, err := wr.Read(buf)
		for _, v := range buf[:n] {
			i, ok := index[v]
			if !ok {
				i = -1
			}
			if i == cur && run < 160 {
				run++
				continue
			}
			end()
			cur, run = i, 1
		}
		samples += n
		if errors.Is(err, io.EOF) || (err == nil && n == 0) {
			break
		}
		if err != nil {
			return Recording{}, fmt.Errorf("recording gaps: %w", err)
		}
	}
	end()
	rec.Duration = time.Duration(samples) * time.Second / 8000
	if rec.Frames > 1 {
		rec.MaxGap = time.Duration(maxStep) * 20 * time.Millisecond
	}
	return rec, nil
}

// RecordingsReport sums up the recordings under a folder.
type RecordingsReport struct {
	Files, Unreadable int
	// DurationMin, DurationP50 and DurationMax are the recordings' lengths.
	DurationMin, DurationP50, DurationMax time.Duration
	// GapP50, GapP99 and GapMax are over each recording's MaxGap; GapFiles
	// counts the recordings whose MaxGap exceeds the limit.
	GapP50, GapP99, GapMax time.Duration
	GapFiles               int
	Foreign                int
}

func (r RecordingsReport) String() string {
	return fmt.Sprintf("recordings %d (unreadable %d): duration min %v p50 %v max %v; largest gap per recording p50 %v p99 %v max %v, recordings over the limit %d; foreign samples %d",
		r.Files, r.Unreadable, r.DurationMin.Round(time.Millisecond), r.DurationP50.Round(time.Millisecond), r.DurationMax.Round(time.Millisecond),
		r.GapP50, r.GapP99, r.GapMax, r.GapFiles, r.Foreign)
}

// Recordings runs RecordingGaps on every .wav file under dir; a gap over
// limit counts in GapFiles.
func Recordings(dir string, limit time.Duration) (RecordingsReport, error) {
	var rep RecordingsReport
	var durs, gaps []time.Duration
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".wav") {
			return err
		}
		rep.Files++
		f, err := os.Open(path)
		if err != nil {
			rep.Unreadable++
			return nil
		}
		defer f.Close()
		rec, err := RecordingGaps(f)
		if err != nil {
			rep.Unreadable++
			return nil
		}
		durs, gaps = append(durs, rec.Duration), append(gaps, rec.MaxGap)
		rep.Foreign += rec.Foreign
		if rec.MaxGap > limit {
			rep.GapFiles++
		}
		return nil
	})
	if err != nil {
		return rep, fmt.Errorf("recordings: %w", err)
	}
	slices.Sort(durs)
	slices.Sort(gaps)
	if n := len(durs); n > 0 {
		rep.DurationMin, rep.DurationP50, rep.DurationMax = durs[0], durs[n/2], durs[n-1]
		rep.GapP50, rep.GapP99, rep.GapMax = gaps[n/2], gaps[min(n-1, n*99/100)], gaps[n-1]
	}
	return rep, nil
}
