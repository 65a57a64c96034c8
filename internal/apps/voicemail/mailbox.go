package voicemail

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/gopbx/gopbx/internal/apps/menu"
	"github.com/gopbx/gopbx/internal/call"
	"github.com/gopbx/gopbx/internal/pbx"
	"github.com/gopbx/gopbx/internal/prompts"
	"github.com/gopbx/gopbx/internal/store"
)

// mailbox is the voicemail service number: the caller's own mailbox,
// behind its PIN, with PortSIP's menus:
//
//	main menu:    1 new messages, 2 saved messages, 9 options
//	each message: 1 replay, 2 save, 3 delete, # next
//	options:      1 record the greeting, 2 change the PIN
//
// A message heard to its end or saved is marked read; the message waiting
// light follows every change.
func (s *Service) mailbox(ctx context.Context, c *call.AppCall) error {
	user, err := s.st.UserByExtension(ctx, c.Tenant.ID, c.Caller)
	if err != nil {
		s.caller(c, pbx.User{}).PlayLast(ctx, menu.P("vm/login-incorrect"), menu.P("goodbye"))
		return fmt.Errorf("voicemail mailbox of %s: %w", c.Caller, err)
	}
	m := s.caller(c, user)
	if err := s.login(ctx, m, user); err != nil {
		return err
	}
	for {
		msgs, err := s.st.Mailbox(ctx, c.Tenant.ID, user.ID)
		if err != nil {
			return fmt.Errorf("voicemail mailbox: %w", err)
		}
		fresh, saved := split(msgs)
		intro := []string{}
		if len(msgs) == 0 {
			intro = append(intro, "vm/no-messages")
		} else {
			intro = append(intro, "vm/you-have")
			intro = append(intro, count(len(fresh), "vm/new-message", "vm/new-messages")...)
			intro = append(intro, count(len(saved), "vm/saved-message", "vm/saved-messages")...)
		}
		intro = append(intro, "vm/main-menu-options")
		key, err := m.Play(ctx, true, menu.Ps(intro...)...)
		if err != nil {
			return err
		}
		if key == 0 {
			if key, err = m.Key(ctx, s.cfg.KeyTimeout); errors.Is(err, menu.ErrTimeout) {
				m.PlayLast(ctx, menu.P("goodbye"))
				return nil
			} else if err != nil {
				return err
			}
		}
		switch key {
		case '1':
			err = s.walk(ctx, m, c, user, fresh)
		case '2':
			err = s.walk(ctx, m, c, user, saved)
		case '9':
			err = s.options(ctx, m, c, user)
		case '*', '#':
			m.PlayLast(ctx, menu.P("goodbye"))
			return nil
		default:
			_, err = m.Play(ctx, false, menu.P("invalid-option"))
		}
		if err != nil {
			return err
		}
	}
}

// count says n messages ("3 new messages", "no saved messages").
func count(n int, singular, plural string) []string {
	if n == 0 {
		return []string{"no", plural}
	}
	return append(prompts.Number(n), map[bool]string{true: singular, false: plural}[n == 1])
}

func split(msgs []store.Voicemail) (fresh, saved []store.Voicemail) {
	for _, v := range msgs {
		if v.Read {
			saved = append(saved, v)
		} else {
			fresh = append(fresh, v)
		}
	}
	return fresh, saved
}

// login asks for the user's PIN, unless the user turned it off; after
// PINAttempts wrong ones the call ends.
func (s *Service) login(ctx context.Context, m *menu.Caller, user pbx.User) error {
	us := settingsOf(user)
	if us.EnablePIN != nil && !*us.EnablePIN {
		return nil
	}
	for try := 0; try < s.cfg.PINAttempts; try++ {
		key, err := m.Play(ctx, true, menu.P("vm/enter-password"))
		if err != nil {
			return err
		}
		pin, err := m.Collect(ctx, key, '#', 16, s.cfg.KeyTimeout)
		if err != nil && !errors.Is(err, menu.ErrTimeout) {
			return err
		}
		if us.PIN != "" && pin == us.PIN {
			return nil
		}
		s.log.Info("voicemail login failed", "user", user.ExtensionNumber)
		if _, err := m.Play(ctx, false, menu.P("vm/login-incorrect")); err != nil {
			return err
		}
	}
	m.PlayLast(ctx, menu.P("vm/too-many-attempts"), menu.P("goodbye"))
	return errHangup
}

// walk plays messages one after another with their menu.
func (s *Service) walk(ctx context.Context, m *menu.Caller, c *call.AppCall, user pbx.User, msgs []store.Voicemail) error {
	for _, v := range msgs {
	again:
		intro := []string{"message"}
		if clock := settingsOf(user).PlayDatetime; clock != "DISABLE" {
			intro = append(intro, "received")
			intro = append(intro, prompts.DateTime(v.CreatedAt.In(zone(c.Tenant)), s.cfg.Now().In(zone(c.Tenant)), clock == "24_HOUR_CLOCK")...)
		}
		intro = append(intro, "from")
		intro = append(intro, prompts.Digits(v.Sender)...)
		path := filepath.Join(s.cfg.Data, v.Path)
		src := append(menu.Ps(intro...), menu.Source{Open: func() (io.ReadCloser, error) { return os.Open(path) }})
		key, err := m.Play(ctx, true, src...)
		if err != nil {
			return err
		}
		if key == 0 {
			s.markRead(ctx, c.Tenant.ID, user.ID, v)
			v.Read = true
			if key, err = m.Play(ctx, true, menu.P("vm/message-options")); err != nil {
				return err
			}
			if key == 0 {
				if key, err = m.Key(ctx, s.cfg.KeyTimeout); errors.Is(err, menu.ErrTimeout) {
					key = '#'
				} else if err != nil {
					return err
				}
			}
		}
		switch key {
		case '1':
			goto again
		case '2':
			s.markRead(ctx, c.Tenant.ID, user.ID, v)
			m.Play(ctx, false, menu.P("vm/message-saved"))
		case '3':
			if _, err := s.st.DeleteVoicemail(ctx, c.Tenant.ID, user.ID, v.ID); err == nil {
				os.Remove(path)
				s.changed(ctx, c.Tenant.ID, user.ID)
			}
			m.Play(ctx, false, menu.P("vm/message-deleted"))
		case '*':
			return nil
		}
	}
	_, err := m.Play(ctx, false, menu.P("vm/no-more-messages"))
	return err
}

func (s *Service) markRead(ctx context.Context, tenant pbx.TenantID, user pbx.ID, v store.Voicemail) {
	if v.Read {
		return
	}
	if err := s.st.SetVoicemailRead(ctx, tenant, user, v.ID, true); err == nil {
		s.changed(ctx, tenant, user)
	}
}

func (s *Service) changed(ctx context.Context, tenant pbx.TenantID, user pbx.ID) {
	if s.events != nil {
		s.events.MailboxChanged(context.WithoutCancel(ctx), tenant, user)
	}
}

// options records the greeting (1) or changes the PIN (2).
func (s *Service) options(ctx context.Context, m *menu.Caller, c *call.AppCall, user pbx.User) error {
	key, err := m.Play(ctx, true, menu.P("vm/options-menu"))
	if err != nil {
		return err
	}
	if key == 0 {
		if key, err = m.Key(ctx, s.cfg.KeyTimeout); err != nil {
			return nil // back to the main menu
		}
	}
	switch key {
	case '1':
		return s.recordGreeting(ctx, m, c, user)
	case '2':
		return s.changePIN(ctx, m, c, user)
	}
	return nil
}

// recordGreeting records a new greeting after the tone, until '#', and
// makes it the one callers hear.
func (s *Service) recordGreeting(ctx context.Context, m *menu.Caller, c *call.AppCall, user pbx.User) error {
	if _, err := m.Play(ctx, false, menu.P("vm/record-greeting"), menu.P("beep")); err != nil {
		return err
	}
	name := filepath.Join("files", c.Tenant.ID.String(), "greeting-"+c.SessionID.String()+".wav")
	rec, err := s.record(ctx, m, c, name)
	if err != nil {
		return fmt.Errorf("record greeting: %w", err)
	}
	recErr, size := rec.callErr, rec.size
	if rec.writeErr != nil || rec.duration < time.Second/2 {
		os.Remove(filepath.Join(s.cfg.Data, name))
		return recErr
	}
	bg := context.WithoutCancel(ctx)
	sum, err := fileSHA256(filepath.Join(s.cfg.Data, name))
	if err != nil {
		return fmt.Errorf("record greeting: %w", err)
	}
	file := store.File{Name: "greeting.wav", Size: size, MediaType: "audio/wav", Path: name, SHA256: sum}
	if err := s.st.CreateFile(bg, c.Tenant.ID, &file); err != nil {
		return fmt.Errorf("record greeting: %w", err)
	}
	if err := s.st.CreateGreeting(bg, c.Tenant.ID, &store.Greeting{User: user.ID, File: file.ID, Enabled: true}); err != nil {
		return fmt.Errorf("record greeting: %w", err)
	}
	if recErr != nil {
		return recErr
	}
	_, err = m.Play(ctx, false, menu.P("vm/greeting-saved"))
	return err
}

// changePIN asks for a new PIN (digits, 4 to 10 of them) and stores it in
// the user's settings.
func (s *Service) changePIN(ctx context.Context, m *menu.Caller, c *call.AppCall, user pbx.User) error {
	key, err := m.Play(ctx, true, menu.P("vm/enter-new-password"))
	if err != nil {
		return err
	}
	pin, err := m.Collect(ctx, key, '#', 10, s.cfg.KeyTimeout)
	if err != nil && !errors.Is(err, menu.ErrTimeout) {
		return err
	}
	if len(pin) < 4 || !digitsOnly(pin) {
		_, err := m.Play(ctx, false, menu.P("invalid-option"))
		return err
	}
	u, err := s.st.User(ctx, c.Tenant.ID, user.ID)
	if err != nil {
		return fmt.Errorf("change pin: %w", err)
	}
	var st map[string]json.RawMessage
	if len(u.Settings) > 0 {
		if err := json.Unmarshal(u.Settings, &st); err != nil {
			return fmt.Errorf("change pin: %w", err)
		}
	}
	if st == nil {
		st = map[string]json.RawMessage{}
	}
	st["voicemail_pin"], _ = json.Marshal(pin)
	if u.Settings, err = json.Marshal(st); err != nil {
		return fmt.Errorf("change pin: %w", err)
	}
	if err := s.st.UpdateUser(context.WithoutCancel(ctx), c.Tenant.ID, &u); err != nil {
		return fmt.Errorf("change pin: %w", err)
	}
	_, err = m.Play(ctx, false, menu.P("vm/password-changed"))
	return err
}

func digitsOnly(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// fileSHA256 is the hex SHA-256 of a file: a file's blob name (/blobs).
func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
