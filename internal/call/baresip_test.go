package call_test

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/gopbx/gopbx/internal/call"
	"github.com/gopbx/gopbx/internal/media"
	"github.com/gopbx/gopbx/internal/pbx"
	"github.com/gopbx/gopbx/internal/signaling"
	"github.com/gopbx/gopbx/internal/store"
	"github.com/gopbx/gopbx/internal/store/storetest"
)

// The Manager is what signalling hands calls to.
var _ signaling.CallHandler = (*call.Manager)(nil)

// TestBaresipCallThroughSignaling is the end-to-end check with real
// phones: two baresip instances register to gopbx's SIP edge with digest
// authentication, 101 calls 102, 102 answers by itself, each sends its own
// tone, and each must have heard the other's tone through the relay.
func TestBaresipCallThroughSignaling(t *testing.T) {
	needBaresip(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	dir := testDir(t)

	db := storetest.OpenSQLite(t)
	tn := mustAcme(ctx, t, db)
	// baresip 1.0.0 (libre) fails a 401 that offers any algorithm it does
	// not know (ENOSYS on SHA-256, whatever the order), so only MD5 is
	// offered, as cmd/gopbx configures by default.
	sig, err := signaling.New(signaling.Config{UDP: "127.0.0.1:0", RateLimit: -1, AuthFailures: -1, Logger: testLogger(t),
		DigestAlgorithms: []string{"MD5"}}, signaling.Deps{Store: db})
	if err != nil {
		t.Fatal(err)
	}
	pbxAddr := netip.MustParseAddrPort(sig.Addr("udp"))
	lo, hi := freeRange(t, 20)
	pool, err := media.NewPortPool(media.PortPoolConfig{IP: netip.MustParseAddr("127.0.0.1"), MinPort: lo, MaxPort: hi})
	if err != nil {
		t.Fatal(err)
	}
	mgr, err := call.New(call.Deps{
		Logger: testLogger(t), Client: sig.Client(), Locator: sig.Registrar(), Users: db, CDRs: db, NewID: db.NewID, Ports: pool,
		Contacts: map[string]sip.Uri{"UDP": {Scheme: "sip", Host: pbxAddr.Addr().String(), Port: int(pbxAddr.Port())}},
	})
	if err != nil {
		t.Fatal(err)
	}
	sig.SetCallHandler(mgr)
	runDone := make(chan error, 1)
	go func() { runDone <- sig.Run(ctx) }()
	defer func() {
		cctx, ccancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer ccancel()
		mgr.Close(cctx)
		cancel()
		<-runDone
	}()

	a := startBaresip(ctx, t, dir, "101", 440, pbxAddr, true)
	b := startBaresip(ctx, t, dir, "102", 1000, pbxAddr, true)
	deadline := time.Now().Add(10 * time.Second)
	for {
		ca, _ := sig.Registrar().Contacts(ctx, tn.ID, "101")
		cb, _ := sig.Registrar().Contacts(ctx, tn.ID, "102")
		if len(ca) > 0 && len(cb) > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("baresip did not register")
		}
		time.Sleep(50 * time.Millisecond)
	}
	baresipCall(ctx, t, db, tn, mgr, a, b)
}

// TestBaresipCallDirect runs the same call with the stand-in signalling
// of the other tests (no registration, no authentication) and the fake
// locator pointing at the callee baresip: it proves the B2BUA and the
// media relay with real phones whatever the state of the SIP edge.
func TestBaresipCallDirect(t *testing.T) {
	needBaresip(t)
	e := newEnv(t, envOpts{})
	ctx, cancel := context.WithTimeout(e.ctx, 60*time.Second)
	defer cancel()
	dir := testDir(t)
	a := startBaresip(ctx, t, dir, "101", 440, e.addr, false)
	b := startBaresip(ctx, t, dir, "102", 1000, e.addr, false)
	e.loc.mu.Lock()
	e.loc.m["102"] = []pbx.Binding{{Tenant: e.tenant.ID, Extension: "102", Transport: "UDP",
		Contact: fmt.Sprintf("<sip:102@127.0.0.1:%d;transport=udp>", b.sipPort), Source: fmt.Sprintf("127.0.0.1:%d", b.sipPort)}}
	e.loc.mu.Unlock()
	baresipCall(ctx, t, e.db, e.tenant, e.mgr, a, b)
}

func needBaresip(t *testing.T) {
	for _, bin := range []string{"baresip", "sox"} {
		if _, err := exec.LookPath(bin); err != nil {
			t.Skipf("%s not installed", bin)
		}
	}
}

// testDir is where the phones keep config and recordings:
// $GOPBX_TEST_KEEP to look at them afterwards, else a temp dir.
func testDir(t *testing.T) string {
	if d := os.Getenv("GOPBX_TEST_KEEP"); d != "" {
		d = filepath.Join(d, t.Name())
		os.RemoveAll(d)
		return d
	}
	return t.TempDir()
}

func mustAcme(ctx context.Context, t *testing.T, db *store.DB) pbx.Tenant {
	tn := pbx.Tenant{Name: "acme", Domain: "acme.test", Enabled: true, Timezone: "UTC", Currency: "USD", Region: "US", MaxExtensions: 100}
	if err := db.CreateTenant(ctx, &tn); err != nil {
		t.Fatal(err)
	}
	for _, ext := range []string{"101", "102"} {
		u := pbx.User{Name: "u" + ext, DisplayName: "User " + ext, Role: pbx.RoleStandardUser, ExtensionNumber: ext,
			ExtensionPassword: "pw" + ext, Enabled: true}
		if err := db.CreateUser(ctx, tn.ID, &u); err != nil {
			t.Fatal(err)
		}
	}
	return tn
}

// baresipCall has a call 101 to 102 and checks that each phone heard the
// other's tone and that the CDR was written.
func baresipCall(ctx context.Context, t *testing.T, db *store.DB, tn pbx.Tenant, mgr *call.Manager, a, b *baresip) {
	t.Helper()
	a.command(t, "dial", "sip:102@acme.test")
	waitFor(t, "answered call", func() bool {
		s := mgr.Sessions(tn.ID)
		return len(s) == 1 && s[0].Calls[0].Answered
	})
	time.Sleep(3 * time.Second) // let the tones flow
	a.command(t, "hangup", "")
	waitFor(t, "cdr", func() bool {
		_, n, _ := db.ListCDRs(ctx, tn.ID, store.ListOptions{})
		return n == 1
	})
	list, _, _ := db.ListCDRs(ctx, tn.ID, store.ListOptions{})
	if r := list[0]; r.Caller != "101" || r.Callee != "102" || r.AnsweredAt.IsZero() || r.EndReason != call.EndCallerDisconnected || r.Duration < 2 {
		t.Errorf("cdr: %+v", r)
	}
	// Give baresip a moment to close its recordings, then stop it.
	time.Sleep(300 * time.Millisecond)
	a.stop()
	b.stop()

	heard := func(p *baresip) (f440, f1000 float64) {
		files, _ := filepath.Glob(filepath.Join(p.dir, "snd", "*-dec.wav"))
		if len(files) == 0 {
			t.Fatalf("%s recorded nothing (log %s)", p.ext, p.logPath)
		}
		samples := readWAV(t, files[0])
		if len(samples) < 8000 {
			t.Fatalf("%s heard only %d samples", p.ext, len(samples))
		}
		samples = samples[len(samples)/4:] // skip the start of the call
		return goertzel(samples, 440, 8000), goertzel(samples, 1000, 8000)
	}
	a440, a1000 := heard(a)
	b440, b1000 := heard(b)
	t.Logf("101 heard 440 Hz %.3g, 1000 Hz %.3g; 102 heard 440 Hz %.3g, 1000 Hz %.3g", a440, a1000, b440, b1000)
	if a1000 < 10*a440 {
		t.Errorf("101 did not hear 102's 1000 Hz tone")
	}
	if b440 < 10*b1000 {
		t.Errorf("102 did not hear 101's 440 Hz tone")
	}
}

type baresip struct {
	ext, dir, logPath string
	sipPort           int
	ctrl              net.Conn
	cmd               *exec.Cmd
	done              chan struct{}
}

func startBaresip(ctx context.Context, t *testing.T, root, ext string, tone int, pbxAddr netip.AddrPort, register bool) *baresip {
	t.Helper()
	dir := filepath.Join(root, ext)
	if err := os.MkdirAll(filepath.Join(dir, "snd"), 0o755); err != nil {
		t.Fatal(err)
	}
	wav := filepath.Join(dir, "tone.wav")
	if out, err := exec.Command("sox", "-n", "-r", "8000", "-c", "1", "-b", "16", wav, "synth", "40", "sine", strconv.Itoa(tone)).CombinedOutput(); err != nil {
		t.Fatalf("sox: %v %s", err, out)
	}
	// The ports are free when picked but another process may take them
	// before baresip binds them: try again with others.
	for attempt := 1; ; attempt++ {
		p, err := launchBaresip(ctx, dir, ext, wav, pbxAddr, register)
		if err == nil {
			t.Cleanup(p.stop)
			return p
		}
		if attempt == 3 {
			t.Fatalf("baresip %s: %v", ext, err)
		}
		t.Logf("baresip %s: %v; retrying", ext, err)
	}
}

// launchBaresip starts one baresip with fresh ports and waits for its
// control port.
func launchBaresip(ctx context.Context, dir, ext, wav string, pbxAddr netip.AddrPort, register bool) (*baresip, error) {
	sipPort, err := freeUDPPair()
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
	if err := os.WriteFile(filepath.Join(dir, "config"), []byte(config), 0o644); err != nil {
		return nil, err
	}
	regint := 300
	if !register {
		regint = 0
	}
	account := fmt.Sprintf(`<sip:%s@acme.test;transport=udp>;auth_user=%s;auth_pass=pw%s;outbound="sip:%s;transport=udp";answermode=auto;regint=%d;audio_codecs=PCMU`+"\n",
		ext, ext, ext, pbxAddr, regint)
	if err := os.WriteFile(filepath.Join(dir, "accounts"), []byte(account), 0o644); err != nil {
		return nil, err
	}
	p := &baresip{ext: ext, dir: dir, sipPort: sipPort, logPath: filepath.Join(dir, "log"), done: make(chan struct{})}
	logf, err := os.Create(p.logPath)
	if err != nil {
		return nil, err
	}
	args := []string{"-4", "-f", dir}
	if os.Getenv("GOPBX_TEST_LOG") != "" {
		args = append(args, "-s")
	}
	p.cmd = exec.CommandContext(ctx, "baresip", args...)
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
			return p, nil
		}
		select {
		case <-p.done:
			log, _ := os.ReadFile(p.logPath)
			return nil, fmt.Errorf("exited: %s", log)
		default:
		}
		if time.Now().After(deadline) {
			p.stop()
			log, _ := os.ReadFile(p.logPath)
			return nil, fmt.Errorf("no control port: %s", log)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (p *baresip) stop() {
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
}

// command sends a ctrl_tcp command (a JSON netstring) and waits for its
// response, skipping events.
func (p *baresip) command(t *testing.T, cmd, params string) {
	t.Helper()
	msg, _ := json.Marshal(map[string]string{"command": cmd, "params": params, "token": cmd})
	if _, err := fmt.Fprintf(p.ctrl, "%d:%s,", len(msg), msg); err != nil {
		t.Fatalf("%s: %v", cmd, err)
	}
	p.ctrl.SetReadDeadline(time.Now().Add(5 * time.Second))
	r := bufio.NewReader(p.ctrl)
	for {
		n, err := r.ReadString(':')
		if err != nil {
			t.Fatalf("%s: read: %v", cmd, err)
		}
		size, err := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(n, ":")))
		if err != nil {
			t.Fatalf("%s: bad netstring length %q", cmd, n)
		}
		body := make([]byte, size+1)
		if _, err := io.ReadFull(r, body); err != nil {
			t.Fatalf("%s: read: %v", cmd, err)
		}
		var res struct {
			Response bool   `json:"response"`
			OK       bool   `json:"ok"`
			Data     string `json:"data"`
		}
		json.Unmarshal(body[:size], &res)
		if res.Response {
			if !res.OK {
				t.Fatalf("%s %s: %s", cmd, params, res.Data)
			}
			return
		}
	}
}

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// freeUDPPair returns a UDP port p where p and p+1 are free now (baresip
// takes PORT+1 for TLS).
func freeUDPPair() (int, error) {
	for try := 0; try < 50; try++ {
		c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			return 0, err
		}
		port := c.LocalAddr().(*net.UDPAddr).Port
		c2, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port + 1})
		c.Close()
		if err == nil {
			c2.Close()
			return port, nil
		}
	}
	return 0, fmt.Errorf("no free udp port pair")
}

func freeTCPPort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// readWAV reads the 16-bit samples of a PCM WAV file.
func readWAV(t *testing.T, path string) []float64 {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// Find the "data" chunk.
	i := 12
	for i+8 <= len(b) {
		id, size := string(b[i:i+4]), int(binary.LittleEndian.Uint32(b[i+4:]))
		i += 8
		if id == "data" {
			end := min(i+size, len(b))
			out := make([]float64, 0, (end-i)/2)
			for j := i; j+1 < end; j += 2 {
				out = append(out, float64(int16(binary.LittleEndian.Uint16(b[j:]))))
			}
			return out
		}
		i += size
	}
	t.Fatalf("%s: no data chunk", path)
	return nil
}

// goertzel returns the power of frequency f in samples at rate.
func goertzel(samples []float64, f, rate float64) float64 {
	k := 2 * math.Cos(2*math.Pi*f/rate)
	var s1, s2 float64
	for _, x := range samples {
		s0 := x + k*s1 - s2
		s2, s1 = s1, s0
	}
	return (s1*s1 + s2*s2 - k*s1*s2) / float64(len(samples))
}
