// Package menu holds the building blocks of voice menus that media
// applications (voicemail, the virtual receptionist) are made of: playing
// prompts and files to the caller with barge-in, collecting keys, and
// recording what the caller says.
package menu

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/gopbx/gopbx/internal/media/audio"
	"github.com/gopbx/gopbx/internal/pbx"
)

// Media is what the building blocks need of a call's audio;
// *media.Endpoint has it.
type Media interface {
	SampleRate() int
	FrameSamples() int
	Read(ctx context.Context) ([]int16, error)
	Release(frame []int16)
	Write(ctx context.Context, frame []int16) error
	Flush()
	Digits() <-chan rune
}

// Prompts opens a system or tenant prompt by name; *prompts.Library has it.
type Prompts interface {
	Open(tenant pbx.TenantID, lang, name string) (io.ReadCloser, error)
}

// Source is something to play: a prompt by name, or a WAV file opened by
// the caller (a greeting, a message).
type Source struct {
	Prompt string
	Open   func() (io.ReadCloser, error)
}

// P is a prompt Source; Ps a sequence of them.
func P(name string) Source { return Source{Prompt: name} }

// Ps makes prompt Sources of names.
func Ps(names ...string) []Source {
	out := make([]Source, len(names))
	for i, n := range names {
		out[i] = P(n)
	}
	return out
}

// Caller is one caller's side of a menu: its media, and where prompts come
// from for its tenant and language.
type Caller struct {
	Media   Media
	Prompts Prompts
	Tenant  pbx.TenantID
	Lang    string
	// pending is a key pressed while nothing was waiting for it (during
	// a prompt played without barge-in): the next Key or Collect sees it.
	pending []rune
}

// ErrTimeout is returned when the caller pressed nothing in time.
var ErrTimeout = errors.New("no key pressed")

// Play plays sources one after another. With bargeIn a key press stops
// the playing and is returned (and kept for the next Collect); without, keys
// are kept for later. A prompt missing from the library is skipped, so a
// tenant's incomplete language never silences a menu.
func (c *Caller) Play(ctx context.Context, bargeIn bool, sources ...Source) (rune, error) {
	for _, src := range sources {
		rc, err := c.open(src)
		if err != nil {
			if pbx.ErrorCode(err) == pbx.ENOTFOUND {
				continue
			}
			return 0, err
		}
		key, err := c.playOne(ctx, rc, bargeIn)
		rc.Close()
		if err != nil || key != 0 {
			return key, err
		}
	}
	return 0, nil
}

// TailSilence is how long PlayLast goes on sending silence after the last
// words, before the caller is put through or hung up on. A phone's jitter
// buffer holds the last tens of milliseconds of a stream until more
// packets push them out, and drops them when the stream changes (the
// callee's audio) or the call ends: without it, callers heard "please
// hold" and "goodbye" clipped.
const TailSilence = 300 * time.Millisecond

// PlayLast plays sources without barge-in as the call's last words before
// a transfer or a hang-up, then TailSilence of silence so that the
// caller's phone plays them to the end.
func (c *Caller) PlayLast(ctx context.Context, sources ...Source) error {
	if _, err := c.Play(ctx, false, sources...); err != nil {
		return err
	}
	silence := make([]int16, c.Media.FrameSamples())
	frame := time.Duration(c.Media.FrameSamples()) * time.Second / time.Duration(c.Media.SampleRate())
	for range int((TailSilence + frame - 1) / frame) {
		if err := c.Media.Write(ctx, silence); err != nil {
			return err
		}
	}
	return nil
}

func (c *Caller) open(src Source) (io.ReadCloser, error) {
	if src.Open != nil {
		return src.Open()
	}
	return c.Prompts.Open(c.Tenant, c.Lang, src.Prompt)
}

// playOne plays one WAV, resampled to the call's rate.
func (c *Caller) playOne(ctx context.Context, r io.Reader, bargeIn bool) (rune, error) {
	wr, err := audio.NewWAVReader(r)
	if err != nil {
		return 0, fmt.Errorf("play: %w", err)
	}
	rate := c.Media.SampleRate()
	var rs *audio.Resampler
	if from := wr.Format().Rate; from != rate {
		if rs, err = audio.NewResampler(from, rate); err != nil {
			return 0, fmt.Errorf("play: %w", err)
		}
	}
	n := c.Media.FrameSamples()
	in := make([]int16, n*6) // a 48 kHz frame for an 8 kHz call
	var queue, out []int16
	frame := make([]int16, n)
	eof := false
	for {
		if key, ok := c.pollKey(); ok && bargeIn {
			return key, nil
		}
		for len(queue) < n && !eof {
			want := n
			if rs != nil {
				want = n * wr.Format().Rate / rate
			}
			k, err := wr.Read(in[:max(want, 1)])
			if errors.Is(err, io.EOF) || (err == nil && k == 0) {
				eof = true
				break
			}
			if err != nil {
				return 0, fmt.Errorf("play: %w", err)
			}
			if rs != nil {
				out = rs.Process(out[:0], in[:k])
				queue = append(queue, out...)
			} else {
				queue = append(queue, in[:k]...)
			}
		}
		if len(queue) == 0 {
			return 0, nil
		}
		m := copy(frame, queue)
		clear(frame[m:])
		queue = queue[m:]
		if err := c.Media.Write(ctx, frame); err != nil {
			return 0, err
		}
	}
}

// pollKey returns a key pressed so far, without waiting.
func (c *Caller) pollKey() (rune, bool) {
	if len(c.pending) > 0 {
		k := c.pending[0]
		c.pending = c.pending[1:]
		return k, true
	}
	select {
	case k := <-c.Media.Digits():
		return k, true
	default:
		return 0, false
	}
}

// Key waits for one key press for up to timeout, sending silence
// meanwhile so that the caller's phone keeps hearing a stream.
func (c *Caller) Key(ctx context.Context, timeout time.Duration) (rune, error) {
	if k, ok := c.pollKey(); ok {
		return k, nil
	}
	silence := make([]int16, c.Media.FrameSamples())
	frames := int(timeout / (time.Duration(c.Media.FrameSamples()) * time.Second / time.Duration(c.Media.SampleRate())))
	for i := 0; i < max(frames, 1); i++ {
		if k, ok := c.pollKey(); ok {
			return k, nil
		}
		if err := c.Media.Write(ctx, silence); err != nil {
			return 0, err
		}
	}
	return 0, ErrTimeout
}

// Collect reads keys until end (usually '#'), max keys, or timeout between
// keys; first, if not zero, is a key already pressed (a barge-in). It
// returns the keys without end. A timeout after at least one key ends the
// input like end does.
func (c *Caller) Collect(ctx context.Context, first rune, end rune, maxKeys int, timeout time.Duration) (string, error) {
	var got []rune
	if first != 0 {
		if first == end {
			return "", nil
		}
		got = append(got, first)
	}
	for len(got) < maxKeys {
		k, err := c.Key(ctx, timeout)
		if errors.Is(err, ErrTimeout) && len(got) > 0 {
			break
		}
		if err != nil {
			return string(got), err
		}
		if k == end {
			break
		}
		got = append(got, k)
	}
	return string(got), nil
}

// Record writes what the caller says to w until a key (returned), maxLen,
// or the call ends (the recording so far is kept: a caller who hangs up
// after speaking has left a message). What the caller said before Record
// (during the prompts) is not recorded.
func (c *Caller) Record(ctx context.Context, w *audio.WAVWriter, maxLen time.Duration) (rune, error) {
	c.Media.Flush()
	limit := int64(maxLen.Seconds() * float64(c.Media.SampleRate()))
	for w.Samples() < limit {
		if k, ok := c.pollKey(); ok {
			return k, nil
		}
		f, err := c.Media.Read(ctx)
		if err != nil {
			return 0, err
		}
		_, werr := w.Write(f)
		c.Media.Release(f)
		if werr != nil {
			return 0, fmt.Errorf("record: %w", werr)
		}
	}
	return 0, nil
}
