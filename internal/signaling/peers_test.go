package signaling_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gopbx/gopbx/internal/pbx"
	"github.com/gopbx/gopbx/internal/signaling"
	"github.com/gopbx/gopbx/internal/store"
)

// peer returns the path of a real SIP tool, or skips t.
func peer(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Skipf("%s is not on PATH (Debian package %s): skipping the real-peer test", name, map[string]string{
			"sipsak": "sipsak", "svwar": "sipvicious", "svcrack": "sipvicious"}[name])
	}
	return p
}

// run runs a peer with a deadline and returns its combined output; a
// non-zero exit is returned as err for the caller to judge.
func run(t *testing.T, timeout time.Duration, bin string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = t.TempDir()
	cmd.Env = append(os.Environ(), "HOME="+cmd.Dir)
	cmd.WaitDelay = time.Second
	out, err := cmd.CombinedOutput()
	t.Logf("%s %s\n%s", filepath.Base(bin), strings.Join(args, " "), out)
	return string(out), err
}

func port(addr string) string { return addr[strings.LastIndex(addr, ":")+1:] }

func TestSipsak(t *testing.T) {
	bin := peer(t, "sipsak")
	// sipsak 0.9.8 reads only the first challenge and knows only MD5.
	e := newEnv(t, func(c *signaling.Config) { c.DigestAlgorithms = []string{"MD5", "SHA-256"} })
	udp := e.srv.Addr("udp")
	if _, err := run(t, 20*time.Second, bin, "-s", "sip:"+udp); err != nil {
		t.Fatalf("sipsak OPTIONS: %v", err)
	}
	// sipsak resolves the domain it registers in, so this tenant is "localhost".
	ctx := context.Background()
	tn := pbx.Tenant{Name: "local", Domain: "localhost", Enabled: true, Timezone: "UTC", Currency: "USD", Region: "US"}
	if err := e.db.CreateTenant(ctx, &tn); err != nil {
		t.Fatal(err)
	}
	u := pbx.User{Name: "l", Email: "l@localhost", DisplayName: "l", Role: pbx.RoleStandardUser, ExtensionNumber: "101",
		ExtensionPassword: password, Enabled: true}
	if err := e.db.CreateUser(ctx, tn.ID, &u); err != nil {
		t.Fatal(err)
	}
	_, err := run(t, 20*time.Second, bin, "-U", "-s", "sip:101@localhost", "-p", udp, "-u", "101", "-a", password, "-x", "60", "-vv")
	bs, _ := e.srv.Registrar().Contacts(ctx, tn.ID, "101")
	if len(bs) == 0 {
		t.Fatalf("sipsak REGISTER left no binding (exit %v)", err)
	}
	if !strings.Contains(bs[0].UserAgent, "sipsak") && bs[0].Transport != "UDP" {
		t.Fatalf("binding = %+v", bs[0])
	}
}

// TestSipviciousWar scans extensions 100-200, which include 101-103: the
// scanner must find none, because every extension, known or not, gets the
// same challenge.
func TestSipviciousWar(t *testing.T) {
	bin := peer(t, "svwar")
	e := newEnv(t, nil)
	for _, args := range [][]string{
		{"-e100-200", "-m", "REGISTER", "127.0.0.1", "-p", port(e.srv.Addr("udp"))},
		{"-e100-200", "-m", "REGISTER", "--domain", domain, "127.0.0.1", "-p", port(e.srv.Addr("udp"))},
		{"-e100-200", "-m", "INVITE", "--domain", domain, "127.0.0.1", "-p", port(e.srv.Addr("udp"))},
		{"-e100-200", "-m", "REGISTER", "--force", "--domain", domain, "127.0.0.1", "-p", port(e.srv.Addr("udp"))},
	} {
		out, _ := run(t, 50*time.Second, bin, args...)
		if regexp.MustCompile(`\|\s*1[0-9][0-9]\s*\|`).MatchString(out) {
			t.Fatalf("svwar %v found extensions:\n%s", args, out)
		}
	}
}

// TestSipviciousCrack guesses 101's password from a list that holds it at
// the 20th place: the guard blocks the source after 5 failures, so the
// scanner never gets there, and the block is in the IP filter list.
func TestSipviciousCrack(t *testing.T) {
	bin := peer(t, "svcrack")
	// svcrack 0.3.3 reads only the first challenge and crashes on SHA-256,
	// so offer MD5 first to make it try.
	e := newEnv(t, func(c *signaling.Config) { c.AuthFailures, c.DigestAlgorithms = 5, []string{"MD5", "SHA-256"} })
	var words []string
	for i := 0; i < 30; i++ {
		words = append(words, fmt.Sprintf("guess%02d", i))
	}
	words[19] = password
	list := filepath.Join(t.TempDir(), "words.txt")
	if err := os.WriteFile(list, []byte(strings.Join(words, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, _ := run(t, 50*time.Second, bin, "-u", "101", "-d", list, "--domain", domain, "127.0.0.1", "-p", port(e.srv.Addr("udp")))
	if strings.Contains(out, password) {
		t.Fatalf("svcrack found the password:\n%s", out)
	}
	fs, _, err := e.db.ListIPFilters(context.Background(), store.ListOptions{})
	if err != nil || len(fs) != 1 || fs[0].CIDR != "127.0.0.1/32" {
		t.Fatalf("ip filters = %+v, %v; want a block of 127.0.0.1", fs, err)
	}
}

// freePort returns a loopback port that was free a moment ago, for peers
// that cannot be told to bind port 0. baresip also takes the next port for
// TLS, so both are checked.
func freePort(t *testing.T) int {
	t.Helper()
	for i := 0; i < 20; i++ {
		l, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		p := l.LocalAddr().(*net.UDPAddr).Port
		l.Close()
		ok := true
		for _, q := range []int{p, p + 1} {
			if c, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", q)); err != nil {
				ok = false
			} else {
				c.Close()
			}
		}
		if ok {
			return p
		}
	}
	t.Fatal("no free port pair")
	return 0
}

// TestBaresipRegisters has a real softphone register over UDP. baresip
// 1.0.0 (libre) gives up with ENOSYS on any non-MD5 challenge in the
// response, wherever it stands, so this server offers MD5 only.
func TestBaresipRegisters(t *testing.T) {
	bin := peer(t, "baresip")
	e := newEnv(t, func(c *signaling.Config) { c.DigestAlgorithms = []string{"MD5"} })
	dir := t.TempDir()
	cfg := fmt.Sprintf("sip_listen 127.0.0.1:%d\nnet_interface 127.0.0.1\naudio_player aubridge,nil\naudio_source aubridge,nil\n"+
		"audio_alert aubridge,nil\nmodule_path /usr/lib/baresip/modules\nmodule g711.so\nmodule aubridge.so\nmodule_app account.so\n", freePort(t))
	acct := fmt.Sprintf("<sip:101@%s;transport=udp>;auth_user=101;auth_pass=%s;outbound=\"sip:%s;transport=udp\";regint=300\n",
		domain, password, e.srv.Addr("udp"))
	if err := os.WriteFile(filepath.Join(dir, "config"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "accounts"), []byte(acct), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "-4", "-f", dir, "-t", "10")
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cancel(); cmd.Wait(); t.Logf("baresip output:\n%s", out.String()) }()
	for {
		bs, _ := e.srv.Registrar().Contacts(ctx, e.tenant.ID, "101")
		if len(bs) > 0 {
			if !strings.Contains(strings.ToLower(bs[0].UserAgent), "baresip") {
				t.Fatalf("binding = %+v", bs[0])
			}
			return
		}
		select {
		case <-ctx.Done():
			t.Fatal("baresip did not register")
		case <-time.After(50 * time.Millisecond):
		}
	}
}
