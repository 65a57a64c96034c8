package notify

import (
	"bytes"
	"fmt"
	"strings"
	"text/template"
	"time"
)

// Template names, as PortSIP names its email templates.
const (
	VoicemailReceived = "VOICEMAIL_RECEIVED"
)

// Template is the source of an email template: text/template text for the
// subject and the plain body.
type Template struct {
	Name    string
	Subject string
	Text    string
}

// Voicemail is the data of the VOICEMAIL_RECEIVED template.
type Voicemail struct {
	Caller     string // the caller's number
	CallerName string // the caller's display name; may be blank
	Extension  string // the mailbox's extension number
	Date       time.Time
	Duration   time.Duration
}

// DefaultTemplates are the built-in templates.
func DefaultTemplates() []Template {
	return []Template{{
		Name:    VoicemailReceived,
		Subject: `New voicemail from {{caller .CallerName .Caller}} to {{.Extension}}`,
		Text: `You have a new voicemail.

Caller:   {{caller .CallerName .Caller}}
Callee:   {{.Extension}}
Date:     {{.Date.Format "2006-01-02 15:04:05 MST"}}
Duration: {{duration .Duration}}

The message is attached.
`,
	}}
}

// Templates is a set of parsed templates, safe for concurrent use.
type Templates struct {
	byName map[string]parsed
}

type parsed struct {
	subject, text *template.Template
}

// templateFuncs are the functions templates may call.
func templateFuncs() template.FuncMap {
	return template.FuncMap{
		// caller renders "Name <number>", or the number alone.
		"caller": func(name, number string) string {
			if name = strings.TrimSpace(name); name == "" || name == number {
				return number
			}
			return name + " <" + number + ">"
		},
		// duration renders minutes and seconds, "1:05".
		"duration": func(d time.Duration) string {
			s := int(d.Round(time.Second) / time.Second)
			return fmt.Sprintf("%d:%02d", s/60, s%60)
		},
	}
}

// NewTemplates parses ts; a later template replaces an earlier one of the
// same name, so custom templates can follow DefaultTemplates().
func NewTemplates(ts ...Template) (*Templates, error) {
	out := &Templates{byName: map[string]parsed{}}
	funcs := templateFuncs()
	for _, t := range ts {
		subj, err := template.New(t.Name + " subject").Funcs(funcs).Option("missingkey=error").Parse(t.Subject)
		if err != nil {
			return nil, fmt.Errorf("template %s subject: %w", t.Name, err)
		}
		text, err := template.New(t.Name + " text").Funcs(funcs).Option("missingkey=error").Parse(t.Text)
		if err != nil {
			return nil, fmt.Errorf("template %s text: %w", t.Name, err)
		}
		out.byName[t.Name] = parsed{subject: subj, text: text}
	}
	return out, nil
}

// Render renders the template name with data into a Message's Subject and
// Text; the caller adds the recipients and attachments. The subject is
// folded onto one line.
func (ts *Templates) Render(name string, data any) (Message, error) {
	p, ok := ts.byName[name]
	if !ok {
		return Message{}, fmt.Errorf("render %s: no such template", name)
	}
	var subj, text bytes.Buffer
	if err := p.subject.Execute(&subj, data); err != nil {
		return Message{}, fmt.Errorf("render %s subject: %w", name, err)
	}
	if err := p.text.Execute(&text, data); err != nil {
		return Message{}, fmt.Errorf("render %s text: %w", name, err)
	}
	return Message{Subject: oneLine(subj.String()), Text: text.String()}, nil
}
