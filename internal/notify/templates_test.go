package notify_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gopbx/gopbx/internal/notify"
)

func sprintf(format string, args ...any) string { return fmt.Sprintf(format, args...) }

func TestTemplates(t *testing.T) {
	ts, err := notify.NewTemplates(notify.DefaultTemplates()...)
	if err != nil {
		t.Fatal(err)
	}
	date := time.Date(2025, 1, 2, 15, 4, 5, 0, time.FixedZone("CET", 3600))
	for _, tc := range []struct {
		name        string
		data        notify.Voicemail
		wantSubject string
		wantText    []string
	}{
		{"named caller", notify.Voicemail{Caller: "+4930123", CallerName: "Alice", Extension: "101", Date: date, Duration: 1500 * time.Millisecond},
			"New voicemail from Alice <+4930123> to 101", []string{"Caller:   Alice <+4930123>", "Callee:   101", "Date:     2025-01-02 15:04:05 CET", "Duration: 0:02"}},
		{"number only", notify.Voicemail{Caller: "anonymous", Extension: "102", Date: date, Duration: 2*time.Hour + 3*time.Second},
			"New voicemail from anonymous to 102", []string{"Caller:   anonymous\n", "Duration: 120:03"}},
		{"header injection", notify.Voicemail{Caller: "1", CallerName: "Eve\r\nBcc: x@example.com", Extension: "103", Date: date},
			"New voicemail from Eve Bcc: x@example.com <1> to 103", nil},
	} {
		msg, err := ts.Render(notify.VoicemailReceived, tc.data)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if msg.Subject != tc.wantSubject {
			t.Errorf("%s: subject %q, want %q", tc.name, msg.Subject, tc.wantSubject)
		}
		for _, w := range tc.wantText {
			if !strings.Contains(msg.Text, w) {
				t.Errorf("%s: text %q lacks %q", tc.name, msg.Text, w)
			}
		}
	}
	if _, err := ts.Render("NO_SUCH", nil); err == nil {
		t.Error("unknown template rendered")
	}

	custom, err := notify.NewTemplates(append(notify.DefaultTemplates(),
		notify.Template{Name: notify.VoicemailReceived, Subject: "VM {{.Caller}}", Text: "{{.Extension}}"})...)
	if err != nil {
		t.Fatal(err)
	}
	if msg, _ := custom.Render(notify.VoicemailReceived, notify.Voicemail{Caller: "7", Extension: "8"}); msg.Subject != "VM 7" || msg.Text != "8" {
		t.Errorf("custom template: %+v", msg)
	}
	if _, err := notify.NewTemplates(notify.Template{Name: "BAD", Subject: "{{.X"}); err == nil {
		t.Error("bad template parsed")
	}
	if _, err := custom.Render(notify.VoicemailReceived, struct{}{}); err == nil {
		t.Error("rendering with the wrong data did not fail")
	}
}
