package api

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"
)

type extensionNumberInput struct {
	Number string `path:"extension_number" maxLength:"64"`
}

type extensionNumberBody struct {
	ID              string `json:"id"`
	ExtensionNumber string `json:"extension_number" maxLength:"64"`
	Name            string `json:"name"`
	Type            string `json:"type" enum:"EXTENSION,RING_GROUP,CALL_QUEUE,CONFERENCE_ROOM,VIRTUAL_RECEPTIONIST"`
}

// registerExtensionNumbers serves /extension_numbers: what owns a number of
// the tenant's one namespace of extension numbers.
func (s *Server) registerExtensionNumbers() {
	handle(s, huma.Operation{OperationID: "get_extension_number", Method: http.MethodGet, Path: "/extension_numbers/{extension_number}",
		Tags: []string{"Extension"}, Summary: "Get extension number"},
		tenantAdmin, func(ctx context.Context, p *principal, in *extensionNumberInput) (*struct{ Body extensionNumberBody }, error) {
			e, err := s.db.Extension(ctx, p.scope, in.Number)
			if err != nil {
				return nil, err
			}
			return &struct{ Body extensionNumberBody }{Body: extensionNumberBody{ID: e.Owner.String(), ExtensionNumber: e.Number,
				Name: e.Name, Type: string(e.Type)}}, nil
		})
}
