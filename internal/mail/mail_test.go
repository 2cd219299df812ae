package mail

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func TestMailboxWritesReadableEML(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "mail")
	s, err := New("", "Plaza <no-reply@plaza.test>", filepath.Dir(dir), quiet())
	if err != nil {
		t.Fatal(err)
	}
	link := "https://plaza.test/verify-email?email=a%40b.co&token=" + strings.Repeat("x", 60)
	if err := s.Send(context.Background(), Message{To: "a@b.co", Subject: "Code 123456", Text: "open " + link}); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.eml"))
	if len(files) != 1 {
		t.Fatalf("files %v", files)
	}
	b, _ := os.ReadFile(files[0])
	for _, want := range []string{"To: <a@b.co>", "Subject: Code 123456", link} {
		if !strings.Contains(string(b), want) {
			t.Errorf("eml lacks %q:\n%s", want, b)
		}
	}
	if err := s.Send(context.Background(), Message{To: "not an address", Subject: "x"}); err == nil {
		t.Error("bad recipient accepted")
	}
}

// smtpSink is a minimal SMTP server: it speaks the protocol far enough for
// a client to deliver one plain mail, and records what it got.
func smtpSink(t *testing.T) (addr string, got chan string) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	got = make(chan string, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		r := bufio.NewReader(c)
		say := func(s string) { io.WriteString(c, s+"\r\n") }
		say("220 sink ready")
		var data strings.Builder
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			cmd := strings.ToUpper(strings.TrimSpace(line))
			switch {
			case strings.HasPrefix(cmd, "EHLO"), strings.HasPrefix(cmd, "HELO"):
				say("250-sink")
				say("250 8BITMIME")
			case strings.HasPrefix(cmd, "MAIL"), strings.HasPrefix(cmd, "RCPT"), strings.HasPrefix(cmd, "RSET"), strings.HasPrefix(cmd, "NOOP"):
				say("250 ok")
			case cmd == "DATA":
				say("354 go on")
				for {
					l, err := r.ReadString('\n')
					if err != nil || l == ".\r\n" {
						break
					}
					data.WriteString(l)
				}
				say("250 queued")
				got <- data.String()
			case cmd == "QUIT":
				say("221 bye")
				return
			default:
				say("502 unknown")
			}
		}
	}()
	return ln.Addr().String(), got
}

func TestSMTPDelivers(t *testing.T) {
	addr, got := smtpSink(t)
	s, err := New("smtp://"+addr+"?tls=none", "Plaza <no-reply@plaza.test>", t.TempDir(), quiet())
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Send(context.Background(), Message{To: "ann@example.com", Subject: "Hello", Text: "body text"}); err != nil {
		t.Fatal(err)
	}
	msg := <-got
	if !strings.Contains(msg, "Subject: Hello") || !strings.Contains(msg, "body text") {
		t.Fatalf("delivered:\n%s", msg)
	}
}

func TestSMTPURLErrors(t *testing.T) {
	for _, u := range []string{"smtp://", "smtp://host:notaport"} {
		if _, err := NewSMTP(u, "a@b.co"); err == nil {
			t.Errorf("NewSMTP(%q) accepted", u)
		}
	}
}
