package siptest

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// BaresipConfig says how a baresip phone is set up: which PBX it talks to,
// over which transport, as which extension, and which tone it sends.
type BaresipConfig struct {
	// Dir holds the phone's config, log, tone and recordings; empty means a
	// fresh tb.TempDir(). Set $GOPBX_TEST_KEEP to a folder to keep them
	// under it (in a subfolder named after the test and the extension).
	Dir string
	// Ext is the extension number: the user part of the AOR and the
	// digest user name.
	Ext string
	// Password is the extension's SIP password.
	Password string
	// Domain is the tenant's SIP domain, the host of the AOR.
	Domain string
	// PBX is the "ip:port" of the PBX listener for Transport; baresip sends
	// everything there (its outbound proxy) whatever Domain resolves to.
	PBX string
	// Transport is "udp" (default), "tcp" or "tls". baresip 1.0.0 does not
	// verify the PBX's TLS certificate, so a self-signed one works.
	Transport string
	// ToneHz is the frequency of the sine the phone sends in calls (440 by
	// default). The WAV lasts ToneSeconds (60 by default): baresip 1.0.0
	// hangs up when it ends, so make it longer than any call of the test.
	ToneHz, ToneSeconds int
	// Register makes the phone register (every 300 s); without it the phone
	// only answers on its own port and authenticates the calls it places.
	Register bool
	// ManualAnswer leaves incoming calls ringing until Accept; by default
	// the phone answers by itself.
	ManualAnswer bool
	// Codecs are the codecs the phone offers and accepts, in its order of
	// preference: "PCMU", "PCMA", "G722" or "opus"; empty means PCMU and
	// PCMA. The phone's tone file has the first one's rate and channels.
	Codecs []string
}

// Baresip is a running baresip 1.0.0 softphone, driven over its ctrl_tcp
// control port. Its methods are safe for concurrent use. StartBaresip
// stops it when the test ends.
type Baresip struct {
	cfg     BaresipConfig
	dir     string
	logPath string
	sipPort int
	ctrl    net.Conn
	cmd     *exec.Cmd
	done    chan struct{} // closed when the process has exited
	stop    sync.Once

	cmdMu   sync.Mutex // one command at a time
	replies chan BaresipReply

	mu       sync.Mutex
	events   []BaresipEvent // not yet taken by WaitEvent
	all      []BaresipEvent // every event, for failure messages
	newEvent chan struct{}  // closed and replaced on each event
	readErr  error
}

// BaresipEvent is an event baresip reported on its control port, such as
// REGISTER_OK, CALL_INCOMING, CALL_ESTABLISHED or CALL_CLOSED.
type BaresipEvent struct {
	Type       string `json:"type"`
	Class      string `json:"class"`
	AccountAOR string `json:"accountaor"`
	Direction  string `json:"direction"`
	PeerURI    string `json:"peeruri"`
	ID         string `json:"id"`
	Param      string `json:"param"`
}

// BaresipReply is baresip's answer to a command.
type BaresipReply struct {
	OK    bool   `json:"ok"`
	Data  string `json:"data"`
	Token string `json:"token"`
}

// Event types the helpers wait for.
const (
	EventRegisterOK      = "REGISTER_OK"
	EventRegisterFail    = "REGISTER_FAIL"
	EventCallIncoming    = "CALL_INCOMING"
	EventCallEstablished = "CALL_ESTABLISHED"
	EventCallClosed      = "CALL_CLOSED"
)

// NeedBaresip skips the test when baresip or sox (which makes the tone
// files) is not installed.
func NeedBaresip(tb testing.TB) {
	tb.Helper()
	for _, bin := range []string{"baresip", "sox"} {
		if _, err := exec.LookPath(bin); err != nil {
			tb.Skipf("%s is not installed (apt-get install baresip baresip-core sox): skipping the real-phone test", bin)
		}
	}
}

// StartBaresip starts a baresip phone for tb and waits until its control
// port answers; it skips the test when baresip is not installed and fails
// it when baresip does not start. The phone is stopped when tb ends. It
// does not wait for the registration: call WaitRegistered.
func StartBaresip(tb testing.TB, cfg BaresipConfig) *Baresip {
	tb.Helper()
	NeedBaresip(tb)
	if cfg.Transport == "" {
		cfg.Transport = "udp"
	}
	cfg.Transport = strings.ToLower(cfg.Transport)
	switch cfg.Transport {
	case "udp", "tcp", "tls":
	default:
		tb.Fatalf("siptest: baresip transport %q not supported", cfg.Transport)
	}
	if cfg.ToneHz == 0 {
		cfg.ToneHz = 440
	}
	if cfg.ToneSeconds == 0 {
		cfg.ToneSeconds = 60
	}
	dir := cfg.Dir
	if dir == "" {
		if keep := os.Getenv("GOPBX_TEST_KEEP"); keep != "" {
			dir = filepath.Join(keep, strings.ReplaceAll(tb.Name(), "/", "_"), cfg.Ext)
			os.RemoveAll(dir)
		} else {
			dir = tb.TempDir()
		}
	}
	if err := os.MkdirAll(filepath.Join(dir, "snd"), 0o755); err != nil {
		tb.Fatal(err)
	}
	wav := filepath.Join(dir, "tone.wav")
	// baresip 1.0.0's aufile does not convert: the file must have the
	// rate and channels of the first codec (48 kHz stereo for Opus).
	rate, channels := "8000", "1"
	if len(cfg.Codecs) > 0 {
		if c, ok := baresipCodecs[strings.ToLower(cfg.Codecs[0])]; ok {
			rate, channels = c.rate, c.channels
		}
	}
	if out, err := exec.Command("sox", "-n", "-r", rate, "-c", channels, "-b", "16", wav,
		"synth", strconv.Itoa(cfg.ToneSeconds), "sine", strconv.Itoa(cfg.ToneHz)).CombinedOutput(); err != nil {
		tb.Fatalf("siptest: sox: %v %s", err, out)
	}
	// The ports are free when picked, but another process may take them
	// before baresip binds them: try again with others.
	for attempt := 1; ; attempt++ {
		p, err := launchBaresip(cfg, dir, wav)
		if err == nil {
			tb.Cleanup(p.Stop)
			return p
		}
		if attempt == 3 {
			tb.Fatalf("siptest: baresip %s: %v", cfg.Ext, err)
		}
		tb.Logf("siptest: baresip %s: %v; retrying", cfg.Ext, err)
	}
}

func launchBaresip(cfg BaresipConfig, dir, wav string) (*Baresip, error) {
	sipPort, err := freeSIPPorts()
	if err != nil {
		return nil, err
	}
	ctrlPort, err := freeTCPPort()
	if err != nil {
		return nil, err
	}
	config := fmt.Sprintf(`poll_method epoll
sip_listen 127.0.0.1:%d
net_interface 127.0.0.1
audio_player aubridge,nil
audio_source aufile,%s
audio_alert aubridge,nil
module_path /usr/lib/baresip/modules
module g711.so
module aufile.so
module aubridge.so
module sndfile.so
snd_path %s
module_app account.so
module_app menu.so
module_app ctrl_tcp.so
ctrl_tcp_listen 127.0.0.1:%d
`, sipPort, wav, filepath.Join(dir, "snd"), ctrlPort)
	for _, c := range cfg.Codecs {
		if m := baresipCodecs[strings.ToLower(c)].module; m != "" {
			config += "module " + m + "\n"
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "config"), []byte(config), 0o644); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "accounts"), []byte(baresipAccount(cfg)+"\n"), 0o644); err != nil {
		return nil, err
	}
	p := &Baresip{cfg: cfg, dir: dir, sipPort: sipPort, logPath: filepath.Join(dir, "log"), done: make(chan struct{}),
		replies: make(chan BaresipReply, 1), newEvent: make(chan struct{})}
	logf, err := os.Create(p.logPath)
	if err != nil {
		return nil, err
	}
	args := []string{"-4", "-f", dir}
	if os.Getenv("GOPBX_TEST_LOG") != "" {
		args = append(args, "-s") // SIP trace in the log
	}
	p.cmd = exec.Command("baresip", args...)
	p.cmd.Stdout, p.cmd.Stderr = logf, logf
	if err := p.cmd.Start(); err != nil {
		logf.Close()
		return nil, err
	}
	go func() {
		p.cmd.Wait()
		logf.Close()
		close(p.done)
	}()
	deadline := time.Now().Add(5 * time.Second)
	for {
		c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", ctrlPort))
		if err == nil {
			p.ctrl = c
			go p.read()
			return p, nil
		}
		select {
		case <-p.done:
			return nil, fmt.Errorf("exited: %s", p.Log())
		default:
		}
		if time.Now().After(deadline) {
			p.Stop()
			return nil, fmt.Errorf("no control port: %s", p.Log())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// baresipCodecs are the codecs BaresipConfig.Codecs may name: how
// audio_codecs must spell them (baresip reads a bare name as name/8000/1,
// which matches neither G.722 nor Opus), the module that has them and the
// format aufile then needs.
var baresipCodecs = map[string]struct{ name, module, rate, channels string }{
	"pcmu": {"PCMU/8000/1", "", "8000", "1"},
	"pcma": {"PCMA/8000/1", "", "8000", "1"},
	"g722": {"G722/16000/1", "g722.so", "16000", "1"},
	"opus": {"opus/48000/2", "opus.so", "48000", "2"},
}

// baresipAccount is the accounts line of cfg.
func baresipAccount(cfg BaresipConfig) string {
	regint, answer := 300, "auto"
	if !cfg.Register {
		regint = 0
	}
	if cfg.ManualAnswer {
		answer = "manual"
	}
	codecs := "PCMU,PCMA"
	if len(cfg.Codecs) > 0 {
		var names []string
		for _, c := range cfg.Codecs {
			if b, ok := baresipCodecs[strings.ToLower(c)]; ok {
				c = b.name
			}
			names = append(names, c)
		}
		codecs = strings.Join(names, ",")
	}
	return fmt.Sprintf(`<sip:%s@%s;transport=%s>;auth_user=%s;auth_pass=%s;outbound="sip:%s;transport=%s";answermode=%s;regint=%d;audio_codecs=%s`,
		cfg.Ext, cfg.Domain, cfg.Transport, cfg.Ext, cfg.Password, cfg.PBX, cfg.Transport, answer, regint, codecs)
}

// read reads the control connection: replies go to the command waiting
// for them, events to the queue WaitEvent takes from.
func (p *Baresip) read() {
	r := bufio.NewReader(p.ctrl)
	err := func() error {
		for {
			n, err := r.ReadString(':')
			if err != nil {
				return err
			}
			size, err := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(n, ":")))
			if err != nil || size < 0 || size > 1<<20 {
				return fmt.Errorf("bad netstring length %q", n)
			}
			body := make([]byte, size+1) // and the trailing comma
			if _, err := io.ReadFull(r, body); err != nil {
				return err
			}
			var msg struct {
				Event    bool `json:"event"`
				Response bool `json:"response"`
				BaresipEvent
				BaresipReply
			}
			if err := json.Unmarshal(body[:size], &msg); err != nil {
				return fmt.Errorf("bad message %q: %w", body[:size], err)
			}
			switch {
			case msg.Response:
				select {
				case p.replies <- msg.BaresipReply:
				default: // nobody waits any more (timed out)
				}
			case msg.Event:
				p.mu.Lock()
				p.events = append(p.events, msg.BaresipEvent)
				p.all = append(p.all, msg.BaresipEvent)
				close(p.newEvent)
				p.newEvent = make(chan struct{})
				p.mu.Unlock()
			}
		}
	}()
	p.mu.Lock()
	p.readErr = err
	close(p.newEvent)
	p.newEvent = make(chan struct{})
	p.mu.Unlock()
}

// Command sends a ctrl_tcp command (such as "dial", "accept", "hangup",
// "reginfo" or "sndcode") with its parameters and returns baresip's
// answer. A command baresip reports as failed is an error.
func (p *Baresip) Command(ctx context.Context, cmd, params string) (string, error) {
	p.cmdMu.Lock()
	defer p.cmdMu.Unlock()
	// Drop a late reply to an earlier command that timed out.
	select {
	case <-p.replies:
	default:
	}
	msg, _ := json.Marshal(map[string]string{"command": cmd, "params": params, "token": cmd})
	p.ctrl.SetWriteDeadline(time.Now().Add(5 * time.Second))
	if _, err := fmt.Fprintf(p.ctrl, "%d:%s,", len(msg), msg); err != nil {
		return "", fmt.Errorf("baresip %s: %s: %w", p.cfg.Ext, cmd, err)
	}
	timer := time.NewTimer(10 * time.Second)
	defer timer.Stop()
	select {
	case r := <-p.replies:
		if !r.OK {
			return r.Data, fmt.Errorf("baresip %s: %s %s: %s", p.cfg.Ext, cmd, params, r.Data)
		}
		return r.Data, nil
	case <-p.done:
		return "", fmt.Errorf("baresip %s: %s: baresip exited: %s", p.cfg.Ext, cmd, p.Log())
	case <-timer.C:
		return "", fmt.Errorf("baresip %s: %s: no reply", p.cfg.Ext, cmd)
	case <-ctx.Done():
		return "", fmt.Errorf("baresip %s: %s: %w", p.cfg.Ext, cmd, ctx.Err())
	}
}

// Dial calls uri, such as "sip:102@acme.test".
func (p *Baresip) Dial(ctx context.Context, uri string) error {
	_, err := p.Command(ctx, "dial", uri)
	return err
}

// Accept answers the ringing incoming call (with ManualAnswer).
func (p *Baresip) Accept(ctx context.Context) error {
	_, err := p.Command(ctx, "accept", "")
	return err
}

// Hangup ends the current call.
func (p *Baresip) Hangup(ctx context.Context) error {
	_, err := p.Command(ctx, "hangup", "")
	return err
}

// WaitEvent waits for an event of type typ that no earlier WaitEvent took,
// takes it and returns it. Events of other types stay queued. It fails with
// the events seen so far when ctx ends or baresip stops first. A
// REGISTER_FAIL while waiting for REGISTER_OK fails at once, and so does a
// CALL_CLOSED while waiting for CALL_ESTABLISHED (with a *CallClosedError).
func (p *Baresip) WaitEvent(ctx context.Context, typ string) (BaresipEvent, error) {
	for {
		p.mu.Lock()
		for i, e := range p.events {
			if e.Type == typ {
				p.events = append(p.events[:i:i], p.events[i+1:]...)
				p.mu.Unlock()
				return e, nil
			}
			if typ == EventRegisterOK && e.Type == EventRegisterFail {
				p.events = append(p.events[:i:i], p.events[i+1:]...)
				p.mu.Unlock()
				return e, fmt.Errorf("baresip %s: registration failed: %s", p.cfg.Ext, e.Param)
			}
			if typ == EventCallEstablished && e.Type == EventCallClosed {
				p.events = append(p.events[:i:i], p.events[i+1:]...)
				p.mu.Unlock()
				return e, &CallClosedError{Ext: p.cfg.Ext, Want: typ, Event: e}
			}
		}
		ch, readErr := p.newEvent, p.readErr
		p.mu.Unlock()
		if readErr != nil {
			return BaresipEvent{}, fmt.Errorf("baresip %s: waiting for %s: control connection: %v (log: %s)", p.cfg.Ext, typ, readErr, p.Log())
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return BaresipEvent{}, fmt.Errorf("baresip %s: waiting for %s: %w (events %s)", p.cfg.Ext, typ, ctx.Err(), p.eventTypes())
		}
	}
}

func (p *Baresip) eventTypes() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var s []string
	for _, e := range p.all {
		s = append(s, e.Type)
	}
	return "[" + strings.Join(s, " ") + "]"
}

// WaitRegistered waits for the phone's registration to succeed. It asks
// baresip ("reginfo") rather than waiting for REGISTER_OK, which baresip
// may send before the control connection is open.
func (p *Baresip) WaitRegistered(ctx context.Context) error {
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		info, err := p.Command(ctx, "reginfo", "")
		if err != nil {
			return err
		}
		if registered(info) {
			return nil
		}
		select {
		case <-tick.C:
		case <-p.done:
			return fmt.Errorf("baresip %s: exited before registering: %s", p.cfg.Ext, p.Log())
		case <-ctx.Done():
			return fmt.Errorf("baresip %s: not registered (reginfo %q): %w", p.cfg.Ext, info, ctx.Err())
		}
	}
}

// registered reports whether baresip's reginfo shows an account
// registered: its status is "OK" (in colour) where it is otherwise "ERR",
// "zzz" or "-".
func registered(info string) bool {
	for _, line := range strings.Split(info, "\n") {
		if strings.Contains(line, "sip:") && strings.Contains(line, "OK") {
			return true
		}
	}
	return false
}

// WaitEstablished waits for a call to be answered (either direction). A
// call that closes first is an error of type *CallClosedError.
func (p *Baresip) WaitEstablished(ctx context.Context) (BaresipEvent, error) {
	return p.WaitEvent(ctx, EventCallEstablished)
}

// CallClosedError is the error of a wait that a CALL_CLOSED event ended;
// Event.Param says why, as baresip puts it (for example "Function not
// implemented" or "486 Busy Here").
type CallClosedError struct {
	Ext   string
	Want  string
	Event BaresipEvent
}

func (e *CallClosedError) Error() string {
	return fmt.Sprintf("baresip %s: call closed (%s) while waiting for %s", e.Ext, e.Event.Param, e.Want)
}

// WaitClosed waits for a call to end; the event's Param says why (for
// example "Connection reset by user" or "Rejected by user").
func (p *Baresip) WaitClosed(ctx context.Context) (BaresipEvent, error) {
	return p.WaitEvent(ctx, EventCallClosed)
}

// Events returns every event the phone reported so far, in order.
func (p *Baresip) Events() []BaresipEvent {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]BaresipEvent(nil), p.all...)
}

// SIPPort returns the port baresip listens on for UDP and TCP (TLS is on
// the next one).
func (p *Baresip) SIPPort() int { return p.sipPort }

// Dir returns the folder with the phone's config, log and recordings.
func (p *Baresip) Dir() string { return p.dir }

// Log returns what baresip printed so far.
func (p *Baresip) Log() string {
	b, _ := os.ReadFile(p.logPath)
	return string(b)
}

// Recordings returns the files sndfile wrote of what the phone heard
// ("*-dec.wav"), oldest first, one per call.
func (p *Baresip) Recordings() []string {
	files, _ := filepath.Glob(filepath.Join(p.dir, "snd", "*-dec.wav"))
	sort.Slice(files, func(i, j int) bool {
		a, _ := os.Stat(files[i])
		b, _ := os.Stat(files[j])
		if a == nil || b == nil || a.ModTime().Equal(b.ModTime()) {
			return files[i] < files[j]
		}
		return a.ModTime().Before(b.ModTime())
	})
	return files
}

// ErrNoRecording is returned by Heard when the phone recorded no call.
var ErrNoRecording = errors.New("no recording")

// Heard returns the power of each frequency in what the phone heard in
// its last call (see Goertzel), leaving out the first quarter of the
// recording (call set-up). Call it once the call has ended, so that the
// recording is complete; it fails when the recording holds less than a
// second of audio.
func (p *Baresip) Heard(freqs ...float64) ([]float64, error) {
	files := p.Recordings()
	if len(files) == 0 {
		return nil, fmt.Errorf("baresip %s: %w in %s", p.cfg.Ext, ErrNoRecording, filepath.Join(p.dir, "snd"))
	}
	samples, rate, err := ReadWAV(files[len(files)-1])
	if err != nil {
		return nil, err
	}
	if ch := wavChannels(files[len(files)-1]); ch > 1 {
		// Opus calls are recorded in stereo: keep the first channel.
		for i := range len(samples) / ch {
			samples[i] = samples[i*ch]
		}
		samples = samples[:len(samples)/ch]
	}
	if len(samples) < rate {
		return nil, fmt.Errorf("baresip %s: heard only %d samples at %d Hz", p.cfg.Ext, len(samples), rate)
	}
	samples = samples[len(samples)/4:]
	out := make([]float64, len(freqs))
	for i, f := range freqs {
		out[i] = Goertzel(samples, f, rate)
	}
	return out, nil
}

// wavChannels returns the channel count of a canonical WAV file (the fmt
// chunk first, as sndfile writes it), or 1 when it cannot tell.
func wavChannels(path string) int {
	f, err := os.Open(path)
	if err != nil {
		return 1
	}
	defer f.Close()
	var h [24]byte
	if _, err := io.ReadFull(f, h[:]); err != nil || string(h[12:16]) != "fmt " {
		return 1
	}
	if ch := int(h[22]) | int(h[23])<<8; ch > 0 {
		return ch
	}
	return 1
}

// Stop ends baresip (SIGINT, then SIGKILL after 3 s) and waits for it.
// It is safe to call more than once.
func (p *Baresip) Stop() {
	p.stop.Do(func() {
		if p.ctrl != nil {
			p.ctrl.Close()
		}
		if p.cmd.Process != nil {
			p.cmd.Process.Signal(os.Interrupt)
		}
		select {
		case <-p.done:
		case <-time.After(3 * time.Second):
			p.cmd.Process.Kill()
			<-p.done
		}
	})
}

// freeSIPPorts returns a port p where UDP p and TCP p and p+1 are free now:
// baresip's sip_listen takes p for UDP and TCP and p+1 for TLS.
func freeSIPPorts() (int, error) {
	for try := 0; try < 50; try++ {
		c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			return 0, err
		}
		port := c.LocalAddr().(*net.UDPAddr).Port
		ok := port < 65535
		for _, p := range []int{port, port + 1} {
			if !ok {
				break
			}
			l, err := net.ListenTCP("tcp", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: p})
			if err != nil {
				ok = false
				break
			}
			l.Close()
		}
		c.Close()
		if ok {
			return port, nil
		}
	}
	return 0, fmt.Errorf("no free sip port pair")
}

func freeTCPPort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
