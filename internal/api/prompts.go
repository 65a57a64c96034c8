package api

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"slices"

	"github.com/danielgtaylor/huma/v2"

	"github.com/gopbx/gopbx/internal/pbx"
	"github.com/gopbx/gopbx/internal/prompts"
)

// promptItem is one system prompt as a tenant hears it: the language and
// origin of the file that plays for the language asked for.
type promptItem struct {
	Name     string `json:"name" doc:"The prompt's name, such as vm/leave-message"`
	Language string `json:"language" doc:"The language of the file that plays: the one asked for, or en where it lacks the prompt"`
	Source   string `json:"source" enum:"TENANT,SYSTEM,BUILT_IN" doc:"TENANT: the tenant's replacement; SYSTEM: the server's; BUILT_IN: shipped with gopbx"`
}

type promptListInput struct {
	Language string `query:"language" doc:"A language tag such as en or pt-br (default en)"`
}

type promptReplace struct {
	Name     string `json:"name" doc:"The prompt to replace, one of GET /prompts"`
	Language string `json:"language,omitempty" doc:"The language the replacement is for (default en); a language gopbx does not ship adds it"`
	FileID   string `json:"file_id" doc:"A WAV file of the tenant (uploaded through /blobs/uploads): 16-bit PCM, mono, 8, 16, 32 or 48 kHz"`
}

type promptRestore struct {
	Name     string `json:"name"`
	Language string `json:"language,omitempty"`
}

// registerPrompts serves /prompts, gopbx's own addition to PortSIP's API:
// PortSIP keeps its system prompts on the server's disk, where a tenant of a
// shared PBX cannot reach them. Here a tenant's administrator lists the
// prompts with where each comes from, replaces any of them in any language
// with one of the tenant's WAV files, and restores the original. The
// replacement is a copy, so deleting the file later keeps the prompt, and it
// plays from the next call on (internal/prompts reads files at each play).
// System-wide replacements stay a server administrator's files under the
// data folder (docs/PROMPTS.md).
func (s *Server) registerPrompts() {
	tags := []string{"Prompts"}
	handle(s, huma.Operation{OperationID: "list_prompts", Method: http.MethodGet, Path: "/prompts", Tags: tags,
		Summary: "List system prompts (gopbx)"},
		tenantAdmin, func(ctx context.Context, p *principal, in *promptListInput) (*listBody[promptItem], error) {
			lang, err := prompts.CheckLang(in.Language)
			if err != nil {
				return nil, pbx.FieldErrorf("language", "%q is not a language tag of letters, digits and '-'", in.Language)
			}
			names := prompts.Names()
			items := make([]promptItem, 0, len(names))
			for _, name := range names {
				rc, found, err := s.prompts.Find(p.scope, lang, name)
				if err != nil {
					return nil, err
				}
				rc.Close()
				items = append(items, promptItem{Name: name, Language: found.Lang, Source: string(found.Origin)})
			}
			return newList(items, len(items)), nil
		})
	handle(s, huma.Operation{OperationID: "replace_prompt", Method: http.MethodPost, Path: "/prompts/replace", Tags: tags,
		Summary: "Replace a system prompt for the tenant (gopbx)"},
		tenantAdmin, func(ctx context.Context, p *principal, in *struct{ Body promptReplace }) (*noContent, error) {
			name, lang, err := promptKey(in.Body.Name, in.Body.Language)
			if err != nil {
				return nil, err
			}
			id, err := pbx.ParseID(in.Body.FileID)
			if err != nil {
				return nil, pbx.FieldErrorf("file_id", "no file %q", in.Body.FileID)
			}
			f, err := s.db.File(ctx, p.scope, id)
			if pbx.ErrorCode(err) == pbx.ENOTFOUND {
				return nil, pbx.FieldErrorf("file_id", "no file %q", in.Body.FileID)
			} else if err != nil {
				return nil, err
			}
			if err := s.checkWAVFile(f); err != nil {
				return nil, err
			}
			path, err := s.dataPath(f.Path)
			if err != nil {
				return nil, err
			}
			fh, err := os.Open(path)
			if err != nil {
				return nil, fmt.Errorf("replace prompt: %w", err)
			}
			defer fh.Close()
			if err := s.prompts.Replace(p.scope, lang, name, fh); err != nil {
				return nil, err
			}
			s.audit(ctx, p, "UPDATE", "PROMPT", lang+"/"+name, nil, map[string]string{"file_id": f.ID.String(), "file_name": f.Name})
			return &noContent{}, nil
		})
	handle(s, huma.Operation{OperationID: "restore_prompt", Method: http.MethodPost, Path: "/prompts/destroy", Tags: tags,
		Summary: "Remove the tenant's replacement of a system prompt (gopbx)"},
		tenantAdmin, func(ctx context.Context, p *principal, in *struct{ Body promptRestore }) (*noContent, error) {
			name, lang, err := promptKey(in.Body.Name, in.Body.Language)
			if err != nil {
				return nil, err
			}
			if err := s.prompts.Restore(p.scope, lang, name); err != nil {
				return nil, err
			}
			s.audit(ctx, p, "DELETE", "PROMPT", lang+"/"+name, nil, nil)
			return &noContent{}, nil
		})
}

// promptKey checks a prompt's name and language, naming the field at fault.
// Only the names gopbx ships can be replaced: a replacement of any other
// name would never play.
func promptKey(name, lang string) (string, string, error) {
	if _, found := slices.BinarySearch(prompts.Names(), name); !found {
		return "", "", pbx.FieldErrorf("name", "no system prompt is named %q", name)
	}
	dir, err := prompts.CheckLang(lang)
	if err != nil {
		return "", "", pbx.FieldErrorf("language", "%q is not a language tag of letters, digits and '-'", lang)
	}
	return name, dir, nil
}
