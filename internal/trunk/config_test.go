package trunk

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/google/go-cmp/cmp"

	"github.com/gopbx/gopbx/internal/store"
)

func TestFromProviderDefaults(t *testing.T) {
	got, err := FromProvider(store.Provider{ID: 7, Name: "carrier", Enabled: true, Hostname: " sip.carrier.test ", Port: 5070, Password: "pw", DIDNumbers: "100-199"})
	if err != nil {
		t.Fatal(err)
	}
	want := Config{ID: 7, Name: "carrier", Enabled: true, Hostname: "sip.carrier.test", Port: 5070, Password: "pw", DIDNumbers: "100-199",
		AuthMode: IPAuth, Transport: "UDP", Registration: true, RegisterInterval: 600 * time.Second,
		KeepAlive: true, KeepAliveInterval: 360 * time.Second}
	if diff := cmp.Diff(want, got, uriCmp); diff != "" {
		t.Errorf("FromProvider with no settings (-want +got):\n%s", diff)
	}
}

func TestFromProviderSettings(t *testing.T) {
	settings := `{"auth_mode":"REGISTER_AUTH","transport":"tls","auth_id":"auth1","username":"user1","registration":false,
		"register_interval":120,"outbound_server":"sbc.carrier.test","outbound_server_port":5080,"keep_alive":false,
		"keep_alive_interval":0.5,"concurrency":4,"additional_ips":"10.0.0.0/8, 192.0.2.7;198.51.100.1",
		"inbound_parameters":{"caller_num":"FROM_USER_PART","called_num":"TO_USER_PART","pai_header_parameter_name":"verstat"},
		"outbound_parameters":{"from_user_part":{"value":"CUSTOM","custom_value":"555"},"to_host_part":{"value":"SIP_DOMAIN"},"privacy_types_supported":"NONE"},
		"inlan":true,"verify_port":false}`
	got, err := FromProvider(store.Provider{ID: 9, Name: "c", Hostname: "h", Settings: json.RawMessage(settings)})
	if err != nil {
		t.Fatal(err)
	}
	want := Config{ID: 9, Name: "c", Hostname: "h", AuthMode: RegisterAuth, Transport: "TLS", AuthID: "auth1", Username: "user1",
		RegisterInterval: 120 * time.Second, OutboundServer: "sbc.carrier.test", OutboundServerPort: 5080,
		KeepAliveInterval: 500 * time.Millisecond, Concurrency: 4,
		AdditionalIPs: []string{"10.0.0.0/8", "192.0.2.7", "198.51.100.1"},
		Inbound:       InboundParameters{CallerNum: "FROM_USER_PART", CalledNum: "TO_USER_PART"},
		Outbound: OutboundParameters{FromUser: &UserPart{Value: "CUSTOM", Custom: "555"}, ToHost: &HostPart{Value: "SIP_DOMAIN"},
			PrivacyTypesSupported: "NONE"}}
	if diff := cmp.Diff(want, got, uriCmp); diff != "" {
		t.Errorf("FromProvider (-want +got):\n%s", diff)
	}
}

func TestFromProviderZeroIntervals(t *testing.T) {
	got, err := FromProvider(store.Provider{Hostname: "h", Settings: json.RawMessage(`{"register_interval":0,"keep_alive_interval":-3,"auth_mode":"","transport":""}`)})
	if err != nil {
		t.Fatal(err)
	}
	if got.RegisterInterval != DefaultRegisterInterval || got.KeepAliveInterval != DefaultKeepAliveInterval || got.AuthMode != IPAuth || got.Transport != "UDP" {
		t.Errorf("got %v %v %q %q, want the defaults", got.RegisterInterval, got.KeepAliveInterval, got.AuthMode, got.Transport)
	}
}

func TestFromProviderErrors(t *testing.T) {
	for _, s := range []string{`[1]`, `{"transport":"SCTP"}`, `{"additional_ips":"10.0.0.300"}`, `{"register_interval":"x"}`} {
		if _, err := FromProvider(store.Provider{ID: 1, Hostname: "h", Settings: json.RawMessage(s)}); err == nil {
			t.Errorf("FromProvider(%s) succeeded, want error", s)
		}
	}
}

func TestDest(t *testing.T) {
	tests := []struct {
		name string
		c    Config
		want string
	}{
		{"host and port", Config{Hostname: "sip.carrier.test", Port: 5070, Transport: "UDP"}, "sip.carrier.test:5070"},
		{"port 0 udp", Config{Hostname: "sip.carrier.test", Transport: "UDP"}, "sip.carrier.test:5060"},
		{"port 0 tcp", Config{Hostname: "sip.carrier.test", Transport: "TCP"}, "sip.carrier.test:5060"},
		{"port 0 tls", Config{Hostname: "sip.carrier.test", Transport: "TLS"}, "sip.carrier.test:5061"},
		{"outbound server", Config{Hostname: "h", Port: 5070, OutboundServer: "sbc", OutboundServerPort: 5080}, "sbc:5080"},
		{"outbound server port 0", Config{Hostname: "h", Port: 5070, OutboundServer: "sbc", Transport: "TLS"}, "sbc:5061"},
		{"ipv6", Config{Hostname: "[2001:db8::1]", Port: 5060}, "[2001:db8::1]:5060"},
		{"ipv6 bare", Config{Hostname: "2001:db8::1"}, "[2001:db8::1]:5060"},
	}
	for _, tt := range tests {
		if got := tt.c.Dest(); got != tt.want {
			t.Errorf("%s: Dest() = %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestModes(t *testing.T) {
	tests := []struct {
		c              Config
		sip, registers bool
	}{
		{Config{Enabled: true, AuthMode: IPAuth}, true, false},
		{Config{Enabled: true, AuthMode: RegisterAuth, Registration: true}, true, true},
		{Config{Enabled: true, AuthMode: RegisterAuth}, true, false},
		{Config{Enabled: false, AuthMode: RegisterAuth, Registration: true}, false, false},
		{Config{Enabled: true, AuthMode: AcceptRegister}, true, false},
		{Config{Enabled: true, AuthMode: "TEAMS"}, false, false},
		{Config{Enabled: true, AuthMode: "WHATS_APP"}, false, false},
	}
	for _, tt := range tests {
		if got := tt.c.SIP(); got != tt.sip {
			t.Errorf("%+v SIP() = %v, want %v", tt.c, got, tt.sip)
		}
		if got := tt.c.Registers(); got != tt.registers {
			t.Errorf("%+v Registers() = %v, want %v", tt.c, got, tt.registers)
		}
	}
}

// uriCmp compares sip.Uri by text: the type has unexported fields.
var uriCmp = cmp.Comparer(func(a, b sip.Uri) bool { return a.String() == b.String() })
