package api

import (
	"context"
	"net/http"
	"strings"

	"github.com/danielgtaylor/huma/v2"
)

// infoBody is PortSIP's public metadata: the system's network identity and,
// when a domain is asked for, the tenant's public face (for login pages).
type infoBody struct {
	WebDomain          nullText `json:"web_domain"`
	PrivateIPv4        nullText `json:"private_ipv4"`
	PublicIPv4         nullText `json:"public_ipv4"`
	EnableIPv6         bool     `json:"enable_ipv6" default:"true"`
	PrivateIPv6        nullText `json:"private_ipv6"`
	PublicIPv6         nullText `json:"public_ipv6"`
	PrimaryDNSServer   nullText `json:"primary_dns_server"`
	SecondaryDNSServer nullText `json:"secondary_dns_server"`

	Name                       *nullText `json:"name,omitempty" maxLength:"1024"`
	Domain                     *nullText `json:"domain,omitempty" maxLength:"280"`
	Website                    *nullText `json:"website,omitempty" maxLength:"255"`
	AvatarURL                  *nullText `json:"avatar_url,omitempty"`
	EnableMS365Integration     *bool     `json:"enable_ms365_integration,omitempty"`
	MS365AuthorizationEndpoint *nullText `json:"ms365_authorization_endpoint,omitempty"`
}

type infoInput struct {
	Domain string `query:"domain" maxLength:"280" doc:"A tenant's SIP domain, to add the tenant's name, domain and website"`
}

// registerInfo serves the public GET /info. The network part is null until
// a network configuration exists to read it from.
func (s *Server) registerInfo() {
	handle(s, huma.Operation{OperationID: "get_info", Method: http.MethodGet, Path: "/info", Tags: []string{"Authentication"}, Summary: "Retrieve metadata."},
		public, func(ctx context.Context, _ *principal, in *infoInput) (*struct{ Body infoBody }, error) {
			out := &struct{ Body infoBody }{}
			if d := strings.TrimSpace(in.Domain); d != "" {
				t, err := s.db.TenantByDomain(ctx, d)
				if err != nil {
					return nil, err
				}
				name, domain, website, none, off := nullText(t.Name), nullText(t.Domain), nullText(t.Website), nullText(""), false
				out.Body.Name, out.Body.Domain, out.Body.Website = &name, &domain, &website
				out.Body.AvatarURL, out.Body.MS365AuthorizationEndpoint, out.Body.EnableMS365Integration = &none, &none, &off
			}
			return out, nil
		})
}
