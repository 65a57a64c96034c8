package siptest

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// LinphoneConfig says how a linphonec phone is set up. linphonec talks
// UDP only here: it is the second, independent softphone of the tests.
type LinphoneConfig struct {
	// Dir holds the phone's config, database and log; empty means a fresh
	// tb.TempDir() (or a folder under $GOPBX_TEST_KEEP).
	Dir string
	// Ext, Password and Domain are the extension, its SIP password and
	// the tenant's SIP domain.
	Ext, Password, Domain string
	// PBX is the "ip:port" of the PBX's UDP listener.
	PBX string
	// AutoAnswer makes the phone answer incoming calls by itself.
	AutoAnswer bool
}

// Linphone is a running linphonec, driven through its standard input and
// watched through its standard output. Its methods are safe for concurrent
// use. StartLinphone stops it when the test ends.
type Linphone struct {
	cfg     LinphoneConfig
	dir     string
	sipPort int
	cmd     *exec.Cmd
	stdin   io.WriteCloser
	done    chan struct{}
	stop    sync.Once

	mu      sync.Mutex
	lines   []string // every line printed
	newLine chan struct{}
}

// NeedLinphone skips the test when linphonec is not installed.
func NeedLinphone(tb testing.TB) {
	tb.Helper()
	if _, err := exec.LookPath("linphonec"); err != nil {
		tb.Skip("linphonec is not installed (apt-get install linphone-cli): skipping the linphone test")
	}
}

// StartLinphone starts linphonec for tb with files instead of a sound card
// (silence is sent, nothing is played), on kernel-chosen ports, and
// registers it to the PBX; it does not wait for the registration: call
// WaitRegistered. It skips the test when linphonec is not installed.
func StartLinphone(tb testing.TB, cfg LinphoneConfig) *Linphone {
	tb.Helper()
	NeedLinphone(tb)
	dir := cfg.Dir
	if dir == "" {
		if keep := os.Getenv("GOPBX_TEST_KEEP"); keep != "" {
			dir = filepath.Join(keep, strings.ReplaceAll(tb.Name(), "/", "_"), "linphone-"+cfg.Ext)
			os.RemoveAll(dir)
		} else {
			dir = tb.TempDir()
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		tb.Fatal(err)
	}
	for attempt := 1; ; attempt++ {
		p, err := launchLinphone(cfg, dir)
		if err == nil {
			tb.Cleanup(p.Stop)
			return p
		}
		if attempt == 3 {
			tb.Fatalf("siptest: linphonec %s: %v", cfg.Ext, err)
		}
		tb.Logf("siptest: linphonec %s: %v; retrying", cfg.Ext, err)
	}
}

func launchLinphone(cfg LinphoneConfig, dir string) (*Linphone, error) {
	sipPort, err := freeUDPPort()
	if err != nil {
		return nil, err
	}
	rtpPort, err := freeUDPRange(2) // RTP and RTCP
	if err != nil {
		return nil, err
	}
	// Port 0 turns the TCP and TLS listeners off; the RTP port is set so
	// that linphone never takes its default 7078, which parallel phones
	// would share.
	rc := fmt.Sprintf(`[sip]
sip_tcp_port=0
sip_tls_port=0
register_only_when_network_is_up=0
[rtp]
audio_rtp_port=%d
audio_adaptive_jitt_comp_enabled=0
[sound]
echocancellation=0
[video]
enabled=0
capture=0
display=0
`, rtpPort)
	rcPath := filepath.Join(dir, "linphonerc")
	if err := os.WriteFile(rcPath, []byte(rc), 0o644); err != nil {
		return nil, err
	}
	args := []string{"-c", rcPath, "-d", "0", "-S"}
	if os.Getenv("GOPBX_TEST_LOG") != "" {
		args = []string{"-c", rcPath, "-d", "6", "-l", filepath.Join(dir, "debug.log"), "-S"}
	}
	if cfg.AutoAnswer {
		args = append(args, "-a")
	}
	p := &Linphone{cfg: cfg, dir: dir, sipPort: sipPort, done: make(chan struct{}), newLine: make(chan struct{})}
	p.cmd = exec.Command("linphonec", args...)
	// linphonec keeps its database under $HOME.
	p.cmd.Env = append(os.Environ(), "HOME="+dir)
	p.cmd.Dir = dir
	if p.stdin, err = p.cmd.StdinPipe(); err != nil {
		return nil, err
	}
	pr, pw := io.Pipe()
	p.cmd.Stdout, p.cmd.Stderr = pw, pw
	if err := p.cmd.Start(); err != nil {
		return nil, err
	}
	logf, err := os.Create(filepath.Join(dir, "log"))
	if err != nil {
		p.cmd.Process.Kill()
		p.cmd.Wait()
		return nil, err
	}
	go p.read(pr, logf)
	go func() {
		p.cmd.Wait()
		pw.Close()
		close(p.done)
	}()
	// linphonec 5.1 does not listen on the sip_port of its config file
	// (with TCP and TLS off it listens nowhere): the command opens the UDP
	// listener.
	for _, c := range []string{"soundcard use files", fmt.Sprintf("ports sip %d", sipPort)} {
		if err := p.Command(c); err != nil {
			p.Stop()
			return nil, err
		}
	}
	// The listener opens a moment later: register only once it answers.
	if err := p.waitListening(); err != nil {
		p.Stop()
		return nil, err
	}
	if err := p.Command(fmt.Sprintf("register sip:%s@%s sip:%s %s", cfg.Ext, cfg.Domain, cfg.PBX, cfg.Password)); err != nil {
		p.Stop()
		return nil, err
	}
	return p, nil
}

// waitListening sends OPTIONS to linphonec's SIP port until it answers.
func (p *Linphone) waitListening() error {
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		return err
	}
	defer c.Close()
	to := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: p.sipPort}
	local := c.LocalAddr().String()
	buf := make([]byte, 4096)
	deadline := time.Now().Add(10 * time.Second)
	for i := 0; time.Now().Before(deadline); i++ {
		req := fmt.Sprintf("OPTIONS sip:%s SIP/2.0\r\nVia: SIP/2.0/UDP %s;branch=z9hG4bKprobe%d;rport\r\nMax-Forwards: 70\r\n"+
			"From: <sip:probe@127.0.0.1>;tag=probe\r\nTo: <sip:%s>\r\nCall-ID: probe%d@siptest\r\nCSeq: %d OPTIONS\r\nContent-Length: 0\r\n\r\n",
			to, local, i, to, i, i+1)
		if _, err := c.WriteToUDP([]byte(req), to); err != nil {
			return err
		}
		c.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
		if n, _, err := c.ReadFromUDP(buf); err == nil && strings.HasPrefix(string(buf[:n]), "SIP/2.0 ") {
			return nil
		}
		select {
		case <-p.done:
			return fmt.Errorf("exited: %s", p.Output())
		default:
		}
	}
	return fmt.Errorf("no answer on sip port %d: %s", p.sipPort, p.Output())
}

func (p *Linphone) read(r io.Reader, log *os.File) {
	defer log.Close()
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		// The prompt "linphonec> " has no newline: it starts the next line.
		line := strings.TrimSpace(strings.ReplaceAll(sc.Text(), "linphonec> ", ""))
		fmt.Fprintln(log, line)
		if line == "" {
			continue
		}
		p.mu.Lock()
		p.lines = append(p.lines, line)
		close(p.newLine)
		p.newLine = make(chan struct{})
		p.mu.Unlock()
	}
	io.Copy(io.Discard, r)
}

// Command writes one command line to linphonec, such as "call
// sip:102@acme.test", "answer" or "terminate".
func (p *Linphone) Command(line string) error {
	select {
	case <-p.done:
		return fmt.Errorf("linphonec %s: %s: linphonec exited: %s", p.cfg.Ext, line, p.Output())
	default:
	}
	if _, err := io.WriteString(p.stdin, line+"\n"); err != nil {
		return fmt.Errorf("linphonec %s: %s: %w", p.cfg.Ext, line, err)
	}
	return nil
}

// WaitOutput waits until linphonec has printed, from its line number
// from on (0 is its first), a line that contains every one of parts
// (case-sensitive). It returns the number of the line after it, to pass as
// from to a later wait, and the line. It fails when ctx ends or linphonec
// exits first.
func (p *Linphone) WaitOutput(ctx context.Context, from int, parts ...string) (int, string, error) {
	for {
		p.mu.Lock()
		for i := from; i < len(p.lines); i++ {
			ok := true
			for _, s := range parts {
				ok = ok && strings.Contains(p.lines[i], s)
			}
			if ok {
				line := p.lines[i]
				p.mu.Unlock()
				return i + 1, line, nil
			}
		}
		ch := p.newLine
		p.mu.Unlock()
		select {
		case <-ch:
		case <-p.done:
			return from, "", fmt.Errorf("linphonec %s: exited waiting for %q: %s", p.cfg.Ext, parts, p.Output())
		case <-ctx.Done():
			return from, "", fmt.Errorf("linphonec %s: waiting for %q: %w; output:\n%s", p.cfg.Ext, parts, ctx.Err(), p.Output())
		}
	}
}

// Lines returns how many lines linphonec printed so far: the from of a
// WaitOutput for what a command prints next.
func (p *Linphone) Lines() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.lines)
}

// WaitRegistered waits for the registration to succeed. linphonec 5.1
// prints nothing when it does, so this asks "status register" until the
// answer is "registered, identity=..." rather than "registered=0".
func (p *Linphone) WaitRegistered(ctx context.Context) error {
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		n := p.Lines()
		if err := p.Command("status register"); err != nil {
			return err
		}
		_, line, err := p.WaitOutput(ctx, n, "registered")
		if err != nil {
			return err
		}
		if strings.HasPrefix(line, "registered,") {
			return nil
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
			return fmt.Errorf("linphonec %s: not registered (%q): %w", p.cfg.Ext, line, ctx.Err())
		}
	}
}

// Output returns what linphonec printed so far.
func (p *Linphone) Output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return strings.Join(p.lines, "\n")
}

// SIPPort returns linphonec's UDP SIP port.
func (p *Linphone) SIPPort() int { return p.sipPort }

// Stop ends linphonec ("quit", then SIGKILL after 3 s) and waits for it.
// It is safe to call more than once.
func (p *Linphone) Stop() {
	p.stop.Do(func() {
		io.WriteString(p.stdin, "quit\n")
		p.stdin.Close()
		select {
		case <-p.done:
		case <-time.After(3 * time.Second):
			p.cmd.Process.Kill()
			<-p.done
		}
	})
}

func freeUDPPort() (int, error) {
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port, nil
}
