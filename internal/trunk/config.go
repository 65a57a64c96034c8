package trunk

import (
	"encoding/json"
	"fmt"
	"math"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/gopbx/gopbx/internal/pbx"
	"github.com/gopbx/gopbx/internal/store"
)

// Authentication modes of a trunk, PortSIP's auth_mode.
const (
	// IPAuth trunks are recognised by the source address of their requests
	// and take calls without credentials.
	IPAuth = "IP_AUTH"
	// RegisterAuth trunks are a SIP account at the carrier: the PBX
	// registers to the carrier and answers its challenges.
	RegisterAuth = "REGISTER_AUTH"
	// AcceptRegister trunks register to the PBX, as a phone would.
	AcceptRegister = "ACCEPT_REGISTER"
)

// PortSIP's defaults for fields a stored trunk does not carry; they are the
// API's defaultProviderSettings.
const (
	DefaultRegisterInterval  = 600 * time.Second
	DefaultKeepAliveInterval = 360 * time.Second
	DefaultAuthMode          = IPAuth
	DefaultTransport         = "UDP"
)

// Config is one trunk's settings as the SIP side uses them. It is a value:
// the Registry hands out copies, and nothing in it changes after
// FromProvider.
type Config struct {
	ID         pbx.ID
	Name       string
	Enabled    bool
	Hostname   string
	Port       int
	DIDNumbers string
	// AuthMode is IP_AUTH, REGISTER_AUTH or ACCEPT_REGISTER; any other mode
	// (TEAMS, WHATS_APP) is not a SIP trunk of ours and is treated as
	// disabled.
	AuthMode string
	// Transport is UDP, TCP or TLS.
	Transport                  string
	AuthID, Username, Password string
	// Registration says a REGISTER_AUTH trunk registers; PortSIP's default
	// is true.
	Registration     bool
	RegisterInterval time.Duration
	// OutboundServer and OutboundServerPort, when set, are where requests
	// go instead of Hostname and Port (a carrier's SBC or proxy).
	OutboundServer     string
	OutboundServerPort int
	KeepAlive          bool
	KeepAliveInterval  time.Duration
	// Concurrency is the most calls the trunk carries at once; 0 is no
	// limit.
	Concurrency int
	// AdditionalIPs are further addresses or CIDR prefixes the trunk's
	// requests come from.
	AdditionalIPs []string
	Inbound       InboundParameters
	Outbound      OutboundParameters
	// Local is the PBX's own contact URI on the trunk's transport. The
	// Registry sets it from Deps.Contacts; CONTACT_URI host parts use its
	// host and port, and fall back to DEFAULT when it is empty.
	Local sip.Uri
}

// InboundParameters say where a trunk's incoming INVITEs carry the caller
// and called numbers: each is one of the header-field names of PortSIP's
// enum (REQUEST_LINE_URI_USER_PART, TO_USER_PART, ...), and empty is
// DEFAULT. The JSON tags are the API's.
type InboundParameters struct {
	CallerNum             string `json:"caller_num,omitempty"`
	CallerDisplayName     string `json:"caller_display_name,omitempty"`
	CalledNum             string `json:"called_num,omitempty"`
	PrivacyTypesSupported string `json:"privacy_types_supported,omitempty"`
}

// UserPart says what a trunk puts in a user or display-name part of an
// outgoing request: Value is one of AUTH_ID, CALLER_NUM, CALLED_NUM,
// CALLER_DISPLAY_NAME, OUTBOUND_CALLER_ID, ORIGINATOR_CALLER_ID,
// OUTBOUND_CALLER_ID_AND_ORIGINATOR_CALLER_ID, ANONYMOUS, DEFAULT or CUSTOM
// (then Custom is the text). A nil *UserPart is DEFAULT.
type UserPart struct {
	Value  string `json:"value,omitempty"`
	Custom string `json:"custom_value,omitempty"`
}

// HostPart says what a trunk puts in a host part of an outgoing request:
// Value is one of TRUNK_HOST_PORT, OUT_HOST_PORT, CONTACT_URI, SIP_DOMAIN,
// DEFAULT or CUSTOM (then Custom is "host" or "host:port"). A nil *HostPart
// is DEFAULT.
type HostPart struct {
	Value  string `json:"value,omitempty"`
	Custom string `json:"custom_value,omitempty"`
}

// OutboundParameters are a trunk's rewrites of outgoing SIP headers. The
// JSON tags are the API's; the API package writes them, this one reads.
// ContactHostPart is decoded but not applied: the B2BUA writes the Contact
// host itself (call.TrunkRoute has no field for it).
type OutboundParameters struct {
	RequestURIUser *UserPart `json:"request_line_uri_user_part,omitempty"`
	RequestURIHost *HostPart `json:"request_line_uri_host_part,omitempty"`
	ContactUser    *UserPart `json:"contact_user_part,omitempty"`
	ContactHost    *HostPart `json:"contact_host_part,omitempty"`
	ToDisplayName  *UserPart `json:"to_display_name,omitempty"`
	ToUser         *UserPart `json:"to_user_part,omitempty"`
	ToHost         *HostPart `json:"to_host_part,omitempty"`
	FromDisplay    *UserPart `json:"from_display_name,omitempty"`
	FromUser       *UserPart `json:"from_user_part,omitempty"`
	FromHost       *HostPart `json:"from_host_part,omitempty"`

	RPIDCalledDisplay  *UserPart `json:"remote_party_id_called_party_display_name,omitempty"`
	RPIDCalledUser     *UserPart `json:"remote_party_id_called_party_user_part,omitempty"`
	RPIDCalledHost     *HostPart `json:"remote_party_id_called_party_host_part,omitempty"`
	RPIDCallingDisplay *UserPart `json:"remote_party_id_calling_party_display_name,omitempty"`
	RPIDCallingUser    *UserPart `json:"remote_party_id_calling_party_user_part,omitempty"`
	RPIDCallingHost    *HostPart `json:"remote_party_id_calling_party_host_part,omitempty"`
	PAIDisplay         *UserPart `json:"p_asserted_identity_display_name,omitempty"`
	PAIUser            *UserPart `json:"p_asserted_identity_user_part,omitempty"`
	PAIHost            *HostPart `json:"p_asserted_identity_host_part,omitempty"`
	PPIDisplay         *UserPart `json:"p_preferred_identify_display_name,omitempty"`
	PPIUser            *UserPart `json:"p_preferred_identify_user_part,omitempty"`
	PPIHost            *HostPart `json:"p_preferred_identify_host_part,omitempty"`
	PCPIDDisplay       *UserPart `json:"p_called_party_id_display_name,omitempty"`
	PCPIDUser          *UserPart `json:"p_called_party_id_user_part,omitempty"`
	PCPIDHost          *HostPart `json:"p_called_party_id_host_part,omitempty"`

	// PrivacyTypesSupported is DEFAULT, NONE, ID, USER, HEADER or SESSION;
	// see Config.Route.
	PrivacyTypesSupported string `json:"privacy_types_supported,omitempty"`
}

// settings is the subset of the API's ProviderSettings the SIP side reads.
// Intervals are seconds; they decode as numbers so that a fraction (which
// the API never writes) works, which lets tests run keepalives in
// milliseconds through the same path as production.
type settings struct {
	AuthMode           string             `json:"auth_mode"`
	Transport          string             `json:"transport"`
	AuthID             string             `json:"auth_id"`
	Username           string             `json:"username"`
	Registration       *bool              `json:"registration"`
	RegisterInterval   *float64           `json:"register_interval"`
	OutboundServer     string             `json:"outbound_server"`
	OutboundServerPort int                `json:"outbound_server_port"`
	KeepAlive          *bool              `json:"keep_alive"`
	KeepAliveInterval  *float64           `json:"keep_alive_interval"`
	Concurrency        int                `json:"concurrency"`
	AdditionalIPs      string             `json:"additional_ips"`
	InboundParameters  InboundParameters  `json:"inbound_parameters"`
	OutboundParameters OutboundParameters `json:"outbound_parameters"`
}

// FromProvider decodes a stored trunk. Fields the settings lack take
// PortSIP's defaults: auth_mode IP_AUTH, transport UDP, registration true,
// register_interval 600 s, keep_alive true, keep_alive_interval 360 s. An
// interval of 0 or less is also the default, since neither a REGISTER nor
// a keepalive can run every 0 s. Settings that are not a JSON object, an
// unknown transport or an additional_ips entry that is neither an address
// nor a CIDR prefix is an error.
func FromProvider(p store.Provider) (Config, error) {
	var st settings
	if len(p.Settings) > 0 {
		if err := json.Unmarshal(p.Settings, &st); err != nil {
			return Config{}, fmt.Errorf("decode trunk %s settings: %w", p.ID, err)
		}
	}
	c := Config{
		ID: p.ID, Name: p.Name, Enabled: p.Enabled, Hostname: strings.TrimSpace(p.Hostname), Port: p.Port,
		DIDNumbers: p.DIDNumbers, Password: p.Password,
		AuthMode:  strings.ToUpper(strings.TrimSpace(st.AuthMode)),
		Transport: strings.ToUpper(strings.TrimSpace(st.Transport)),
		AuthID:    st.AuthID, Username: st.Username,
		Registration:     st.Registration == nil || *st.Registration,
		RegisterInterval: seconds(st.RegisterInterval, DefaultRegisterInterval),
		OutboundServer:   strings.TrimSpace(st.OutboundServer), OutboundServerPort: st.OutboundServerPort,
		KeepAlive:         st.KeepAlive == nil || *st.KeepAlive,
		KeepAliveInterval: seconds(st.KeepAliveInterval, DefaultKeepAliveInterval),
		Concurrency:       max(st.Concurrency, 0),
		AdditionalIPs:     splitList(st.AdditionalIPs),
		Inbound:           st.InboundParameters,
		Outbound:          st.OutboundParameters,
	}
	if c.AuthMode == "" {
		c.AuthMode = DefaultAuthMode
	}
	switch c.Transport {
	case "":
		c.Transport = DefaultTransport
	case "UDP", "TCP", "TLS":
	default:
		return Config{}, fmt.Errorf("decode trunk %s: transport %q not supported", p.ID, c.Transport)
	}
	for _, ip := range c.AdditionalIPs {
		if _, err := store.ParsePrefix(ip); err != nil {
			return Config{}, fmt.Errorf("decode trunk %s additional_ips: %w", p.ID, err)
		}
	}
	return c, nil
}

func seconds(v *float64, def time.Duration) time.Duration {
	if v == nil || *v <= 0 || math.IsNaN(*v) || *v > 1e9 {
		return def
	}
	return time.Duration(*v * float64(time.Second))
}

// splitList splits a PortSIP list field on commas, semicolons and blanks,
// as the API does when it validates one.
func splitList(s string) []string {
	out := strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ';' || r == ' ' || r == '\t' || r == '\n' })
	if len(out) == 0 {
		return nil
	}
	return out
}

// SIP reports whether the trunk takes part in SIP at all: it is enabled and
// its mode is one this package knows.
func (c Config) SIP() bool {
	if !c.Enabled {
		return false
	}
	switch c.AuthMode {
	case IPAuth, RegisterAuth, AcceptRegister:
		return true
	}
	return false
}

// Registers reports whether the PBX registers to the trunk: an enabled
// REGISTER_AUTH trunk with registration on.
func (c Config) Registers() bool {
	return c.SIP() && c.AuthMode == RegisterAuth && c.Registration
}

// AuthUser is the user name that answers the trunk's challenges: auth_id,
// else username.
func (c Config) AuthUser() string {
	if c.AuthID != "" {
		return c.AuthID
	}
	return c.Username
}

// AccountUser is the user of the trunk's account, the AOR a registration
// is for: username, else auth_id.
func (c Config) AccountUser() string {
	if c.Username != "" {
		return c.Username
	}
	return c.AuthID
}

// Dest is the host:port requests to the trunk go to: the outbound server
// and its port when an outbound server is set, else the trunk's host name
// and port. A port of 0 is 5060, or 5061 for TLS.
func (c Config) Dest() string {
	host, port := c.Hostname, c.Port
	if c.OutboundServer != "" {
		host, port = c.OutboundServer, c.OutboundServerPort
	}
	if port == 0 {
		port = c.defaultPort()
	}
	return net.JoinHostPort(strings.Trim(host, "[]"), strconv.Itoa(port))
}

func (c Config) defaultPort() int {
	if c.Transport == "TLS" {
		return 5061
	}
	return 5060
}
