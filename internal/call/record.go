package call

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/gopbx/gopbx/internal/media"
	"github.com/gopbx/gopbx/internal/media/sdp"
	"github.com/gopbx/gopbx/internal/pbx"
)

// Recording is a recorded call, as the Manager hands it to its
// RecordingWriter when the call ends. CDR is the ID of the call's CDR,
// written just after. CallerUser and CalleeUser are the tenant's users on
// either side, 0 for a party that is none (a trunk's). Files are relative
// to Deps.DataDir: one WAV of both sides mixed, or two (DualTrack: the
// caller's side, then the callee's).
type Recording struct {
	SessionID  pbx.ID
	CDR        pbx.ID
	Caller     string
	Callee     string
	CallerUser pbx.ID
	CalleeUser pbx.ID
	StartedAt  time.Time // when the call was answered
	EndedAt    time.Time
	Duration   time.Duration // of the audio
	DualTrack  bool
	Files      []RecordingFile
}

// RecordingFile is one WAV file of a Recording.
type RecordingFile struct {
	Path string // relative to Deps.DataDir
	Size int64
}

// RecordingWriter keeps the rows of recorded calls (the store, adapted in
// cmd/gopbx).
type RecordingWriter interface {
	CreateRecording(ctx context.Context, tenant pbx.TenantID, r *Recording) error
}

// recordSettings is the part of PortSIP's tenant and user fields, stored
// as JSON in pbx.Tenant.Settings and pbx.User.Settings, that recording
// reads. Users have no dual-track switch in PortSIP: that is the
// tenant's.
type recordSettings struct {
	EnableAudioRecording     bool `json:"enable_audio_recording"`
	EnableDualTrackRecording bool `json:"enable_dual_track_recording"`
}

func readRecordSettings(raw json.RawMessage) (recordSettings, error) {
	var st recordSettings
	if len(raw) == 0 {
		return st, nil
	}
	err := json.Unmarshal(raw, &st)
	return st, err
}

// recordPlan is what a session decided, when it started, about recording
// the call once it is answered.
type recordPlan struct {
	on, dual               bool
	callerUser, calleeUser pbx.ID
}

// recordingFor decides whether a call is recorded: when its tenant has
// enable_audio_recording (every call of the tenant), or the caller's or
// the callee's user has it. The tenant's enable_dual_track_recording makes
// the recording two files, one per side; otherwise it is one file of both
// sides mixed. caller and callee are zero when the party is not a user (a
// trunk). Settings that do not decode count as off, and are logged.
func recordingFor(t pbx.Tenant, caller, callee pbx.User, log *slog.Logger) recordPlan {
	p := recordPlan{callerUser: caller.ID, calleeUser: callee.ID}
	ts, err := readRecordSettings(t.Settings)
	if err != nil {
		log.Warn("tenant settings unreadable, not recording", "error", err)
	}
	p.on, p.dual = ts.EnableAudioRecording, ts.EnableDualTrackRecording
	for _, u := range []pbx.User{caller, callee} {
		if u.ID == 0 {
			continue
		}
		us, err := readRecordSettings(u.Settings)
		if err != nil {
			log.Warn("user settings unreadable, not recording for the user", "user", u.ExtensionNumber, "error", err)
		}
		p.on = p.on || us.EnableAudioRecording
	}
	return p
}

// withCallee is p once the call is put through to callee, a user the
// session did not know when it started (an App's Transfer): the callee's
// enable_audio_recording counts as a direct call's callee's does, and the
// recording is the callee's too.
func (p recordPlan) withCallee(callee pbx.User, log *slog.Logger) recordPlan {
	p.on = p.on || recordingFor(pbx.Tenant{}, pbx.User{}, callee, log).on
	p.calleeUser = callee.ID
	return p
}

// callRecorder is a recording in progress: the recorder the relay taps
// and the files it writes.
type callRecorder struct {
	rec       *media.Recorder
	files     []*os.File
	paths     []string // relative to Deps.DataDir
	rate      int
	startedAt time.Time
}

// recordTap is a session's recording in progress, which the relays' Tap
// reads on their goroutines without the session's lock.
type recordTap struct{ p atomic.Pointer[callRecorder] }

// tap is the relays' RelayConfig.Tap: it hands every RTP packet to the
// recording, if there is one.
func (s *session) tap(from media.Side, pkt []byte) {
	if cr := s.recording.p.Load(); cr != nil {
		cr.rec.Feed(from, pkt)
	}
}

// startRecording starts recording an answered call if recordingFor said
// so, with the codecs of the SDPs both phones were sent (answer is what
// the caller gets; nil when it already had it). A caller an App answered
// and then put through keeps the App's answer, whatever the callee
// answered. The caller holds s.mu. Failures are logged: a call is never
// refused for its recording.
func (s *session) startRecording(answer []byte) {
	d := s.m.d
	if !s.recordPlan.on || d.Recordings == nil || d.DataDir == "" || s.recording.p.Load() != nil {
		return
	}
	if answer == nil || s.aDone {
		answer = s.sdpTo[media.A]
	}
	// A phone sends with the payload types of the SDP it was sent.
	codecs := [2]map[uint8]string{recordCodecs(answer, s.sdpTo[media.B]), recordCodecs(s.sdpTo[media.B], answer)}
	rate := media.DefaultRecordRate
	for _, body := range [][]byte{answer, s.sdpTo[media.B]} {
		if firstCodec(body) == "G722" {
			rate = 16000 // keep the wideband side wide
		}
	}
	now := d.Now()
	base := filepath.Join("recordings", s.tenant.ID.String(), now.UTC().Format("2006-01-02"), s.id.String())
	paths := []string{base + ".wav"}
	if s.recordPlan.dual {
		paths = []string{base + "-a.wav", base + "-b.wav"}
	}
	cr := &callRecorder{paths: paths, rate: rate, startedAt: now}
	err := func() error {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(d.DataDir, base)), 0o750); err != nil {
			return err
		}
		for _, p := range paths {
			f, err := os.OpenFile(filepath.Join(d.DataDir, p), os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o640)
			if err != nil {
				return err
			}
			cr.files = append(cr.files, f)
		}
		cfg := media.RecorderConfig{Rate: rate, Codecs: codecs, Now: d.Now}
		if len(cr.files) == 1 {
			cfg.Mixed = cr.files[0]
		} else {
			cfg.Tracks = [2]io.WriteSeeker{cr.files[0], cr.files[1]}
		}
		r, err := media.NewRecorder(cfg)
		cr.rec = r
		return err
	}()
	if err != nil {
		s.log.Error("recording not started", "error", err)
		cr.discard(d.DataDir)
		return
	}
	s.recording.p.Store(cr)
	s.log.Info("recording started", "path", paths[0])
}

// stopRecording ends the call's recording, if any, and writes its row
// linked to the CDR rec, which it gives an ID first if it has none. It is
// called by finish once the relays are closed, before the CDR is written.
func (s *session) stopRecording(ctx context.Context, rec *CDR) {
	cr := s.recording.p.Swap(nil)
	if cr == nil {
		return
	}
	d := s.m.d
	st, err := cr.rec.Close()
	r := Recording{
		SessionID: s.id, Caller: rec.Caller, Callee: rec.Callee,
		CallerUser: s.recordPlan.callerUser, CalleeUser: s.recordPlan.calleeUser,
		StartedAt: cr.startedAt, EndedAt: rec.EndedAt, DualTrack: len(cr.files) == 2,
		Duration: time.Duration(st.Samples) * time.Second / time.Duration(cr.rate),
	}
	for i, f := range cr.files {
		size, serr := f.Seek(0, io.SeekEnd)
		err = errors.Join(err, serr, f.Close())
		r.Files = append(r.Files, RecordingFile{Path: cr.paths[i], Size: size})
	}
	if err != nil {
		s.log.Error("recording failed", "error", err)
		cr.discard(d.DataDir)
		return
	}
	if st.Dropped > 0 || st.Late > 0 {
		s.log.Warn("recording lost packets", "dropped", st.Dropped, "late", st.Late)
	}
	if rec.ID == 0 {
		rec.ID = d.NewID()
	}
	r.CDR = rec.ID
	if err := d.Recordings.CreateRecording(ctx, s.tenant.ID, &r); err != nil {
		s.log.Error("write recording", "error", err)
		cr.discard(d.DataDir)
		return
	}
	s.log.Info("recording saved", "path", cr.paths[0], "duration", r.Duration)
}

// discard closes and removes the files of a recording that failed.
func (cr *callRecorder) discard(dir string) {
	if cr.rec != nil {
		cr.rec.Close()
	}
	for i, f := range cr.files {
		f.Close()
		os.Remove(filepath.Join(dir, cr.paths[i]))
	}
}

// recordCodecs maps the payload types of the first audio stream of an
// SDP to encoding names, with other's filling payload types body lacks
// (a phone that sends with the offer's numbering).
func recordCodecs(body, other []byte) map[uint8]string {
	m := map[uint8]string{}
	for _, b := range [][]byte{other, body} {
		if a := recordAudio(b); a != nil {
			for _, f := range media.Formats(a) {
				m[f.PT] = f.Name
			}
		}
	}
	return m
}

// firstCodec returns the encoding name of the first audio format of an
// SDP that is not telephone-event, or "".
func firstCodec(body []byte) string {
	if a := recordAudio(body); a != nil {
		for _, f := range media.Formats(a) {
			if f.Name != "TELEPHONE-EVENT" {
				return f.Name
			}
		}
	}
	return ""
}

func recordAudio(body []byte) *sdp.Media {
	if len(body) == 0 {
		return nil
	}
	d, err := sdp.Parse(body)
	if err != nil {
		return nil
	}
	for _, m := range d.Media {
		if m.Type == "audio" && m.Port != 0 {
			return m
		}
	}
	return nil
}
