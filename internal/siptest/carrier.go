//go:build unix

package siptest

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	_ "embed"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"text/template"
	"time"
)

// carrierConfig is the Kamailio configuration of the stand-in carrier, a
// text/template rendered with a carrierTemplate. It is embedded rather than
// read at run time so that tests in any package can start a carrier.
//
//go:embed carrier.cfg
var carrierConfig string

// errPortTaken means Kamailio could not bind a port picked for it: the
// caller may try again with other ports.
var errPortTaken = errors.New("port taken")

// DefaultCarrierDomain is the carrier's SIP domain and digest realm when
// CarrierConfig.Domain is empty.
const DefaultCarrierDomain = "carrier.test"

// The carrier's two sockets live on their own loopback addresses, so that
// what gopbx receives can be told apart by source address alone: every
// 127.0.0.0/8 address is on lo without any setup.
const (
	carrierIPA = "127.0.0.2"
	carrierIPB = "127.0.0.3"
)

// CarrierConfig says what the stand-in carrier accepts.
type CarrierConfig struct {
	// TrunkUser and TrunkPassword are the account gopbx's REGISTER_AUTH
	// trunk registers with at A and authenticates its INVITEs with (407
	// proxy challenge, realm = Domain). An empty TrunkUser means no trunk
	// account.
	TrunkUser, TrunkPassword string
	// PBX is gopbx's SIP UDP address ("127.0.0.1:PORT"): the carrier sends
	// calls for DIDs of trunk B there (IP_AUTH: no registration) and accepts
	// unauthenticated INVITEs on B only from PBX's IP. Empty means nobody
	// may send to B and DIDPrefixB is not routed.
	PBX string
	// Phones are PSTN phone accounts (user -> password); users are phone
	// numbers such as "14155550123". They register at A with digest auth
	// (realm Domain) and their INVITEs are proxy-authenticated.
	Phones map[string]string
	// DIDPrefixA: numbers dialled at A that start with it go to gopbx's
	// REGISTER_AUTH trunk: to the Contact gopbx registered as TrunkUser,
	// with the Request-URI user set back to the dialled DID, sent from A's
	// socket. DIDPrefixB: numbers dialled at A that start with it go to PBX
	// with Request-URI sip:DID@PBX, sent from B's socket. Empty disables.
	DIDPrefixA, DIDPrefixB string
	// FailPrefixA: an INVITE from TrunkUser arriving at A whose
	// Request-URI user starts with it is answered 503 (to test failover);
	// empty disables.
	FailPrefixA string
	// Domain is the carrier's SIP domain and digest realm;
	// DefaultCarrierDomain when empty. It is an alias of both sockets.
	Domain string
	// TLS makes B also listen for SIP over TLS, on another port
	// (Carrier.BTLS), with a server certificate for 127.0.0.3 issued by a
	// test CA (Carrier.CAPEM) that StartCarrier makes. Kamailio's tls
	// module (Debian: kamailio-tls-modules) must be installed, or the test
	// is skipped.
	TLS bool
}

// Carrier is a running Kamailio acting as a SIP carrier with two trunk
// endpoints: A, a registrar and digest-authenticating proxy, and B, a proxy
// that trusts gopbx's IP. StartCarrier stops it when the test ends; its
// methods are safe for concurrent use.
type Carrier struct {
	// A is "127.0.0.2:PORT": registrar and auth proxy for phones and for
	// gopbx's REGISTER_AUTH trunk.
	A string
	// B is "127.0.0.3:PORT": the IP-authenticated proxy for gopbx's IP_AUTH
	// trunk.
	B string
	// Domain is the carrier's SIP domain and digest realm
	// (DefaultCarrierDomain unless the config said otherwise).
	Domain string
	// Dir holds kamailio.cfg (the rendered config), the log and the
	// runtime files.
	Dir string
	// LogPath is Kamailio's log: its stderr, with one "carrier:" line per
	// routing decision.
	LogPath string
	// BTLS is "127.0.0.3:PORT", B's SIP over TLS socket, when
	// CarrierConfig.TLS; empty otherwise.
	BTLS string
	// CAPEM is the PEM certificate of the CA that issued BTLS's server
	// certificate (IP SAN 127.0.0.3), for clients to trust; nil without TLS.
	CAPEM []byte

	cmd  *exec.Cmd
	done chan struct{} // closed when the process has exited
	stop sync.Once
}

// carrierTemplate is what carrier.cfg is rendered with.
type carrierTemplate struct {
	A, B, BIP                           string
	Domain, PBX, PBXIP                  string
	TrunkUser                           string
	DIDPrefixA, DIDPrefixB, FailPrefixA string
	Creds                               []carrierCred
	Secret                              string
	ModulesDir                          string
	// TLS: BTLS is B's TLS socket, TLSConfig the tls module's config file.
	TLS             bool
	BTLS, TLSConfig string
}

type carrierCred struct{ User, Password string }

// NeedKamailio skips the test when the kamailio binary or its modules are
// not installed.
func NeedKamailio(tb testing.TB) {
	tb.Helper()
	if _, _, err := findKamailio(); err != nil {
		tb.Skipf("%v (apt-get install kamailio): skipping the carrier test", err)
	}
}

// findKamailio returns the kamailio binary and its modules folder: the
// first of the places distributions use that holds tm.so.
func findKamailio() (bin, modules string, err error) {
	bin, err = exec.LookPath("kamailio")
	if err != nil {
		return "", "", errors.New("kamailio is not installed")
	}
	for _, dir := range []string{
		"/usr/lib/x86_64-linux-gnu/kamailio/modules",
		"/usr/lib/aarch64-linux-gnu/kamailio/modules",
		"/usr/lib64/kamailio/modules",
		"/usr/lib/kamailio/modules",
		"/usr/local/lib64/kamailio/modules",
		"/usr/local/lib/kamailio/modules",
	} {
		if _, err := os.Stat(filepath.Join(dir, "tm.so")); err == nil {
			return bin, dir, nil
		}
	}
	return "", "", errors.New("kamailio modules (tm.so) not found")
}

// StartCarrier starts Kamailio as a stand-in carrier for tb, in the
// foreground as a child process, and waits until both sockets answer
// OPTIONS. It skips the test when Kamailio is not installed and fails it
// when cfg is invalid or Kamailio does not start. Kamailio is stopped (and
// waited for) when tb ends; if tb failed, the tail of its log is logged.
func StartCarrier(tb testing.TB, cfg CarrierConfig) *Carrier {
	tb.Helper()
	bin, modules, err := findKamailio()
	if err != nil {
		tb.Skipf("%v (apt-get install kamailio): skipping the carrier test", err)
	}
	data, err := newCarrierTemplate(cfg, modules)
	if err != nil {
		tb.Fatalf("siptest: carrier: %v", err)
	}
	dir := tb.TempDir()
	var caPEM []byte
	if cfg.TLS {
		if _, err := os.Stat(filepath.Join(modules, "tls.so")); err != nil {
			tb.Skipf("kamailio tls module not found (apt-get install kamailio-tls-modules): skipping the carrier test")
		}
		if caPEM, data.TLSConfig, err = writeCarrierTLS(dir); err != nil {
			tb.Fatalf("siptest: carrier: %v", err)
		}
	}
	var c *Carrier
	tb.Cleanup(func() {
		if c != nil && tb.Failed() {
			tb.Logf("siptest: carrier log %s (tail):\n%s", c.LogPath, c.LogTail(60))
		}
	})
	// The ports are free when picked, but another process may take them
	// before Kamailio binds them: try again with others.
	for attempt := 1; ; attempt++ {
		c, err = launchCarrier(bin, dir, data, caPEM)
		if err == nil {
			tb.Cleanup(c.Stop)
			return c
		}
		if attempt == 3 || !errors.Is(err, errPortTaken) {
			tb.Fatalf("siptest: carrier: %v", err)
		}
		tb.Logf("siptest: carrier: %v; retrying", err)
	}
}

// plainName reports whether s is non-empty and made only of letters,
// digits, '.', '_', '+' and '-': safe inside Kamailio pseudo-variables and
// strings without quoting.
func plainName(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', strings.ContainsRune("._+-", r):
		default:
			return false
		}
	}
	return true
}

// newCarrierTemplate checks cfg and turns it into template data. User
// names, the domain and prefixes end up inside Kamailio pseudo-variables
// and strings, so they are restricted to characters that need no quoting
// there; passwords are quoted.
func newCarrierTemplate(cfg CarrierConfig, modules string) (carrierTemplate, error) {
	d := carrierTemplate{
		BIP:         carrierIPB,
		Domain:      cfg.Domain,
		TrunkUser:   cfg.TrunkUser,
		DIDPrefixA:  cfg.DIDPrefixA,
		DIDPrefixB:  cfg.DIDPrefixB,
		FailPrefixA: cfg.FailPrefixA,
		ModulesDir:  modules,
		TLS:         cfg.TLS,
	}
	if d.Domain == "" {
		d.Domain = DefaultCarrierDomain
	}
	if !plainName(d.Domain) {
		return d, fmt.Errorf("domain %q: use letters, digits, '.', '_', '+', '-'", d.Domain)
	}
	for name, v := range map[string]string{"DIDPrefixA": d.DIDPrefixA, "DIDPrefixB": d.DIDPrefixB, "FailPrefixA": d.FailPrefixA} {
		if v != "" && !plainName(v) {
			return d, fmt.Errorf("%s %q: use letters, digits, '.', '_', '+', '-'", name, v)
		}
	}
	if cfg.PBX != "" {
		host, _, err := net.SplitHostPort(cfg.PBX)
		if err != nil || net.ParseIP(host).To4() == nil {
			return d, fmt.Errorf("pbx %q: want an IPv4 ip:port", cfg.PBX)
		}
		d.PBX, d.PBXIP = cfg.PBX, host
	} else {
		// Nobody's address: B refuses every initial request.
		d.PBXIP = "0.0.0.0"
	}
	creds := map[string]string{}
	for user, pw := range cfg.Phones {
		creds[user] = pw
	}
	if cfg.TrunkUser != "" {
		if pw, ok := creds[cfg.TrunkUser]; ok && pw != cfg.TrunkPassword {
			return d, fmt.Errorf("trunk user %q is also a phone with another password", cfg.TrunkUser)
		}
		creds[cfg.TrunkUser] = cfg.TrunkPassword
	}
	for user, pw := range creds {
		if !plainName(user) {
			return d, fmt.Errorf("user %q: use letters, digits, '.', '_', '+', '-'", user)
		}
		if strings.ContainsFunc(pw, func(r rune) bool { return r < ' ' || r == 0x7f }) {
			return d, fmt.Errorf("password of %q: control characters", user)
		}
		d.Creds = append(d.Creds, carrierCred{user, pw})
	}
	sort.Slice(d.Creds, func(i, j int) bool { return d.Creds[i].User < d.Creds[j].User })
	secret := make([]byte, 16)
	rand.Read(secret)
	d.Secret = hex.EncodeToString(secret)
	return d, nil
}

// kamailioString quotes s as a Kamailio config string literal.
func kamailioString(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

// renderCarrierConfig renders carrier.cfg with d.
func renderCarrierConfig(d carrierTemplate) ([]byte, error) {
	t, err := template.New("carrier.cfg").Funcs(template.FuncMap{"q": kamailioString}).Parse(carrierConfig)
	if err != nil {
		return nil, fmt.Errorf("parse carrier.cfg: %w", err)
	}
	var b bytes.Buffer
	if err := t.Execute(&b, d); err != nil {
		return nil, fmt.Errorf("render carrier.cfg: %w", err)
	}
	return b.Bytes(), nil
}

// carrierPorts returns two ports, free a moment ago on A's and on B's
// address respectively.
func carrierPorts() (a, b int, err error) {
	for try := 0; try < 20; try++ {
		lo, err := freeUDPRange(2)
		if err != nil {
			return 0, 0, err
		}
		if udpFree(carrierIPA, lo) && udpFree(carrierIPB, lo+1) {
			return lo, lo + 1, nil
		}
	}
	return 0, 0, errors.New("no free udp ports on the carrier's addresses")
}

func udpFree(ip string, port int) bool {
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.ParseIP(ip), Port: port})
	if err != nil {
		return false
	}
	c.Close()
	return true
}

// tcpFreePort returns a TCP port free a moment ago on ip.
func tcpFreePort(ip string) (int, error) {
	l, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func launchCarrier(bin, dir string, d carrierTemplate, caPEM []byte) (*Carrier, error) {
	aPort, bPort, err := carrierPorts()
	if err != nil {
		return nil, err
	}
	d.A = net.JoinHostPort(carrierIPA, strconv.Itoa(aPort))
	d.B = net.JoinHostPort(carrierIPB, strconv.Itoa(bPort))
	if d.TLS {
		var p int
		for try := 0; try < 20; try++ {
			if p, err = tcpFreePort(carrierIPB); err != nil {
				return nil, err
			}
			if p != bPort {
				break
			}
		}
		d.BTLS = net.JoinHostPort(carrierIPB, strconv.Itoa(p))
	}
	conf, err := renderCarrierConfig(d)
	if err != nil {
		return nil, err
	}
	c := &Carrier{A: d.A, B: d.B, BTLS: d.BTLS, CAPEM: caPEM, Domain: d.Domain, Dir: dir, LogPath: filepath.Join(dir, "kamailio.log"), done: make(chan struct{})}
	cfgPath := filepath.Join(dir, "kamailio.cfg")
	if err := os.WriteFile(cfgPath, conf, 0o644); err != nil {
		return nil, fmt.Errorf("write config: %w", err)
	}
	run := filepath.Join(dir, "run")
	if err := os.MkdirAll(run, 0o755); err != nil {
		return nil, fmt.Errorf("runtime dir: %w", err)
	}
	logf, err := os.Create(c.LogPath)
	if err != nil {
		return nil, fmt.Errorf("create log: %w", err)
	}
	// -DD keeps the main process in the foreground as our child; small
	// memory pools keep several carriers per test run cheap.
	c.cmd = exec.Command(bin, "-f", cfgPath, "-DD", "-E", "-m", "32", "-M", "4",
		"-Y", run, "-P", filepath.Join(run, "kamailio.pid"))
	c.cmd.Stdout, c.cmd.Stderr = logf, logf
	// Its own process group, so that Stop can kill the workers too should
	// the main process not take them down.
	c.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := c.cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("start kamailio: %w", err)
	}
	go func() {
		c.cmd.Wait()
		logf.Close()
		close(c.done)
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, addr := range []string{c.A, c.B} {
		if err := c.waitOptions(ctx, addr); err != nil {
			c.Stop()
			log := c.LogTail(30)
			if strings.Contains(log, "already in use") {
				err = fmt.Errorf("%w: %w", errPortTaken, err)
			}
			return nil, fmt.Errorf("kamailio at %s: %w\n%s", addr, err, log)
		}
	}
	if c.BTLS != "" {
		if err := c.waitTLS(ctx); err != nil {
			c.Stop()
			log := c.LogTail(30)
			if strings.Contains(log, "already in use") {
				err = fmt.Errorf("%w: %w", errPortTaken, err)
			}
			return nil, fmt.Errorf("kamailio tls at %s: %w\n%s", c.BTLS, err, log)
		}
	}
	return c, nil
}

// waitTLS dials BTLS, trusting CAPEM only and checking the certificate is
// for 127.0.0.3, until a handshake succeeds, Kamailio exits or ctx ends.
func (c *Carrier) waitTLS(ctx context.Context) error {
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(c.CAPEM)
	conf := &tls.Config{RootCAs: pool, ServerName: carrierIPB, MinVersion: tls.VersionTLS12}
	var last error
	for {
		select {
		case <-c.done:
			return errors.New("exited")
		default:
		}
		d := tls.Dialer{NetDialer: &net.Dialer{Timeout: 500 * time.Millisecond}, Config: conf}
		conn, err := d.DialContext(ctx, "tcp", c.BTLS)
		if err == nil {
			conn.Close()
			return nil
		}
		last = err
		select {
		case <-ctx.Done():
			return fmt.Errorf("no tls handshake: %w (last: %v)", ctx.Err(), last)
		case <-c.done:
			return errors.New("exited")
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// writeCarrierTLS makes a test CA and a server certificate for 127.0.0.3
// (ECDSA P-256), writes the certificate, its key and the tls module's
// config into dir, and returns the CA's PEM and the config's path.
func writeCarrierTLS(dir string) (caPEM []byte, cfgPath string, err error) {
	now := time.Now()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, "", err
	}
	caTmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "siptest carrier CA"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return nil, "", err
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		return nil, "", err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, "", err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject:      pkix.Name{CommonName: carrierIPB},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		IPAddresses:  []net.IP{net.ParseIP(carrierIPB)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		return nil, "", err
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, "", err
	}
	caPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER})
	certPath, keyPath := filepath.Join(dir, "carrier.crt"), filepath.Join(dir, "carrier.key")
	cfgPath = filepath.Join(dir, "tls.cfg")
	files := []struct {
		path string
		data []byte
	}{
		{filepath.Join(dir, "ca.crt"), caPEM},
		{certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})},
		{keyPath, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})},
		{cfgPath, []byte("[server:default]\nmethod = TLSv1.2+\nverify_certificate = no\nrequire_certificate = no\n" +
			"certificate = " + certPath + "\nprivate_key = " + keyPath + "\n\n" +
			"[client:default]\nmethod = TLSv1.2+\nverify_certificate = no\nrequire_certificate = no\n")},
	}
	for _, f := range files {
		if err := os.WriteFile(f.path, f.data, 0o600); err != nil {
			return nil, "", fmt.Errorf("tls files: %w", err)
		}
	}
	return caPEM, cfgPath, nil
}

// waitOptions sends OPTIONS to addr until it answers 200, Kamailio exits
// or ctx ends.
func (c *Carrier) waitOptions(ctx context.Context, addr string) error {
	for {
		select {
		case <-c.done:
			return errors.New("exited")
		default:
		}
		status, _, err := exchangeUDP("127.0.0.1", addr, 200*time.Millisecond, func(laddr string) string {
			return optionsRequest(laddr, c.Domain)
		})
		if err == nil && status == 200 {
			return nil
		}
		if err == nil {
			return fmt.Errorf("options: status %d", status)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("no answer to options: %w", ctx.Err())
		case <-c.done:
			return errors.New("exited")
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// optionsRequest is an OPTIONS to the carrier itself, sent from laddr.
func optionsRequest(laddr, domain string) string {
	tag := randomToken()
	return "OPTIONS sip:" + domain + " SIP/2.0\r\n" +
		"Via: SIP/2.0/UDP " + laddr + ";rport;branch=z9hG4bK" + tag + "\r\n" +
		"Max-Forwards: 70\r\n" +
		"From: <sip:probe@" + domain + ">;tag=" + tag + "\r\n" +
		"To: <sip:" + domain + ">\r\n" +
		"Call-ID: " + tag + "@siptest\r\n" +
		"CSeq: 1 OPTIONS\r\n" +
		"Content-Length: 0\r\n\r\n"
}

func randomToken() string {
	b := make([]byte, 8)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// exchangeUDP sends the request build returns for the local address to
// raddr from a new socket on localIP, resending it every 500 ms, and
// returns the status and text of the first final response, or an error if
// none comes within timeout. Provisional responses are skipped.
func exchangeUDP(localIP, raddr string, timeout time.Duration, build func(laddr string) string) (int, string, error) {
	pc, err := net.ListenPacket("udp", net.JoinHostPort(localIP, "0"))
	if err != nil {
		return 0, "", fmt.Errorf("exchange: %w", err)
	}
	defer pc.Close()
	dst, err := net.ResolveUDPAddr("udp", raddr)
	if err != nil {
		return 0, "", fmt.Errorf("exchange: %w", err)
	}
	msg := []byte(build(pc.LocalAddr().String()))
	deadline := time.Now().Add(timeout)
	buf := make([]byte, 65535)
	for time.Now().Before(deadline) {
		if _, err := pc.WriteTo(msg, dst); err != nil {
			return 0, "", fmt.Errorf("exchange: %w", err)
		}
		resend := time.Now().Add(500 * time.Millisecond)
		if resend.After(deadline) {
			resend = deadline
		}
		pc.SetReadDeadline(resend)
		for {
			n, _, err := pc.ReadFrom(buf)
			if err != nil {
				break // resend, or give up at the deadline
			}
			text := string(buf[:n])
			status, ok := statusOf(text)
			if ok && status >= 200 {
				return status, text, nil
			}
		}
	}
	return 0, "", fmt.Errorf("exchange with %s: no final response in %v", raddr, timeout)
}

// statusOf returns the status code of a SIP response's text.
func statusOf(text string) (int, bool) {
	line, _, _ := strings.Cut(text, "\r\n")
	f := strings.Fields(line)
	if len(f) < 2 || f[0] != "SIP/2.0" {
		return 0, false
	}
	n, err := strconv.Atoi(f[1])
	return n, err == nil
}

// Log returns Kamailio's log so far.
func (c *Carrier) Log() string {
	b, _ := os.ReadFile(c.LogPath)
	return string(b)
}

// LogTail returns the last n lines of Kamailio's log.
func (c *Carrier) LogTail(n int) string {
	lines := strings.Split(strings.TrimRight(c.Log(), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// Stop ends Kamailio (SIGTERM, then SIGKILL to its process group after
// 5 s) and waits for it. It is safe to call more than once.
func (c *Carrier) Stop() {
	c.stop.Do(func() {
		pid := c.cmd.Process.Pid
		c.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-c.done:
		case <-time.After(5 * time.Second):
			syscall.Kill(-pid, syscall.SIGKILL)
			<-c.done
		}
		// Workers left behind by a main process that died first.
		syscall.Kill(-pid, syscall.SIGKILL)
	})
}
