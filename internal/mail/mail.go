// Package mail sends Plaza's mails: through an SMTP server when SMTP_URL is
// set, otherwise into the dev mailbox, a folder of .eml files under the data
// directory that a person trying Plaza can open to read verification mails.
package mail

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	gomail "github.com/wneessen/go-mail"
)

// Message is one plain-text mail.
type Message struct {
	To      string
	Subject string
	Text    string
}

// Sender delivers messages.
type Sender interface {
	Send(ctx context.Context, m Message) error
}

// New returns the SMTP sender for smtpURL, or the dev mailbox in
// <dataDir>/mail when smtpURL is empty.
func New(smtpURL, from, dataDir string, log *slog.Logger) (Sender, error) {
	if smtpURL == "" {
		return NewMailbox(filepath.Join(dataDir, "mail"), from, log)
	}
	return NewSMTP(smtpURL, from)
}

func build(from string, m Message, opts ...gomail.MsgOption) (*gomail.Msg, error) {
	msg := gomail.NewMsg(opts...)
	if err := msg.From(from); err != nil {
		return nil, fmt.Errorf("mail: from %q: %w", from, err)
	}
	if err := msg.To(m.To); err != nil {
		return nil, fmt.Errorf("mail: to %q: %w", m.To, err)
	}
	msg.Subject(m.Subject)
	msg.SetDate()
	msg.SetMessageID()
	msg.SetBodyString(gomail.TypeTextPlain, m.Text)
	return msg, nil
}

// Mailbox writes each message as an .eml file and logs it.
type Mailbox struct {
	dir  string
	from string
	log  *slog.Logger
	seq  atomic.Int64
}

// NewMailbox returns a dev mailbox writing into dir.
func NewMailbox(dir, from string, log *slog.Logger) (*Mailbox, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("mail: cannot create dev mailbox %s: %w (check PLAZA_DATA_DIR)", dir, err)
	}
	return &Mailbox{dir: dir, from: from, log: log}, nil
}

// Dir is where the mails are written.
func (b *Mailbox) Dir() string { return b.dir }

// Send writes m to <dir>/<time>-<n>-<recipient>.eml.
func (b *Mailbox) Send(_ context.Context, m Message) error {
	// 8bit, not quoted-printable, so the file reads as plain text in any
	// editor and links are not broken by soft line breaks.
	msg, err := build(b.from, m, gomail.WithEncoding(gomail.NoEncoding))
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if _, err := msg.WriteTo(&buf); err != nil {
		return fmt.Errorf("mail: %w", err)
	}
	name := fmt.Sprintf("%s-%04d-%s.eml", time.Now().UTC().Format("20060102T150405.000"), b.seq.Add(1), safeName(m.To))
	path := filepath.Join(b.dir, name)
	// Written aside and renamed, so whoever watches the folder never reads
	// half a mail.
	tmp := filepath.Join(b.dir, "."+name+".tmp")
	if err := os.WriteFile(tmp, buf.Bytes(), 0o640); err != nil {
		return fmt.Errorf("mail: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("mail: %w", err)
	}
	b.log.Info("mail written to dev mailbox", "to", m.To, "subject", m.Subject, "file", path)
	return nil
}

func safeName(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '@' || r == '-' {
			return r
		}
		return '_'
	}, s)
}

// SMTP sends through an SMTP server: smtp:// uses STARTTLS when offered
// (mandatory unless ?tls=opportunistic or ?tls=none), smtps:// implicit TLS.
type SMTP struct {
	host string
	opts []gomail.Option
	from string
}

// NewSMTP parses smtpURL.
func NewSMTP(smtpURL, from string) (*SMTP, error) {
	u, err := url.Parse(smtpURL)
	if err != nil || u.Hostname() == "" {
		return nil, fmt.Errorf("mail: SMTP_URL %q is not smtp://user:pass@host:port", smtpURL)
	}
	opts := []gomail.Option{gomail.WithTimeout(15 * time.Second)}
	port := 587
	if u.Scheme == "smtps" {
		port = 465
		opts = append(opts, gomail.WithSSL())
	} else {
		policy := gomail.TLSMandatory
		switch u.Query().Get("tls") {
		case "opportunistic":
			policy = gomail.TLSOpportunistic
		case "none":
			policy = gomail.NoTLS
		}
		opts = append(opts, gomail.WithTLSPolicy(policy))
	}
	if p := u.Port(); p != "" {
		if port, err = strconv.Atoi(p); err != nil {
			return nil, fmt.Errorf("mail: SMTP_URL port %q: %w", p, err)
		}
	}
	opts = append(opts, gomail.WithPort(port))
	if u.User != nil && u.User.Username() != "" {
		pass, _ := u.User.Password()
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthAutoDiscover),
			gomail.WithUsername(u.User.Username()), gomail.WithPassword(pass))
	}
	return &SMTP{host: u.Hostname(), opts: opts, from: from}, nil
}

// Send delivers m over a new SMTP connection.
func (s *SMTP) Send(ctx context.Context, m Message) error {
	msg, err := build(s.from, m)
	if err != nil {
		return err
	}
	c, err := gomail.NewClient(s.host, s.opts...)
	if err != nil {
		return fmt.Errorf("mail: %w", err)
	}
	if err := c.DialAndSendWithContext(ctx, msg); err != nil {
		return fmt.Errorf("mail: send to %s via %s: %w", m.To, s.host, err)
	}
	return nil
}
