package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/smtp"
	"net/url"
	"strings"
	"time"

	"github.com/orgd/orgd/orgmodel"
)

// smtpSender delivers outbox mail through one SMTP server; it implements
// orgmodel.MailSender. The outbox (orgmodel.DeliverMail) decides what to
// send, retries with backoff and marks what was sent; the sender makes one
// attempt per call.
//
// It uses the standard library's net/smtp: one recipient, text/plain, and
// explicit control of the dial timeout, STARTTLS and the exact headers (the
// stable Message-ID) is all orgd needs, which no dependency improves on.
type smtpSender struct {
	addr        string // host:port
	host        string // for TLS verification and PLAIN auth
	implicitTLS bool   // smtps://
	auth        smtp.Auth
	from        string // envelope sender and From:
	domain      string // EHLO name and Message-ID right-hand side
	timeout     time.Duration
	roots       *x509.CertPool // trusted CAs for the server's certificate; nil: the system's
}

// SMTP timing: how long one connection attempt and one whole delivery may take.
const (
	smtpDialTimeout = 10 * time.Second
	smtpSendTimeout = 10 * time.Second
)

// newSMTPSender parses --smtp: smtp://[user:pass@]host[:port][?from=addr]
// (STARTTLS when the server offers it) or smtps://… (TLS from the first
// byte). The sender address is from, else ?from=, else orgd@ the host of
// baseURL.
func newSMTPSender(raw, from, baseURL string) (*smtpSender, error) {
	bad := func(why string) error {
		return &usageError{fmt.Sprintf("--smtp %q: %s (want smtp://[user:pass@]host[:port][?from=orgd@corp.example])", redactURL(raw), why)}
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, bad("not a URL")
	}
	s := &smtpSender{timeout: smtpSendTimeout}
	port := "25"
	switch u.Scheme {
	case "smtp":
	case "smtps":
		s.implicitTLS, port = true, "465"
	default:
		return nil, bad("the scheme must be smtp or smtps")
	}
	if u.Hostname() == "" || (u.Path != "" && u.Path != "/") || u.Fragment != "" {
		return nil, bad("it needs a host and no path")
	}
	if u.Port() != "" {
		port = u.Port()
	}
	s.host = u.Hostname()
	s.addr = net.JoinHostPort(s.host, port)
	if u.User != nil {
		pw, _ := u.User.Password()
		// PlainAuth refuses to send the password over a connection that is
		// not TLS, except to localhost.
		s.auth = smtp.PlainAuth("", u.User.Username(), pw, s.host)
	}
	q := u.Query()
	for k := range q {
		if k != "from" {
			return nil, bad(fmt.Sprintf("unknown parameter %q", k))
		}
	}
	if from == "" {
		from = q.Get("from")
	}
	if from == "" {
		host := "localhost"
		if b, err := url.Parse(baseURL); err == nil && b.Hostname() != "" && net.ParseIP(b.Hostname()) == nil {
			host = b.Hostname()
		}
		from = "orgd@" + host
	}
	addr, err := mail.ParseAddress(from)
	if err != nil || addr.Name != "" || addr.Address != from {
		return nil, &usageError{fmt.Sprintf("--mail-from %q is not a bare email address", from)}
	}
	s.from = from
	s.domain = from[strings.LastIndexByte(from, '@')+1:]
	return s, nil
}

// redactURL hides a password in a URL shown back to the operator.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		return raw
	}
	return u.Redacted()
}

// Send makes one delivery attempt of m. A nil error means the server
// accepted the message (its final reply to DATA); only then may the outbox
// mark it sent, so a failure after that point is not reported.
func (s *smtpSender) Send(ctx context.Context, m *orgmodel.Mail) error {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	d := net.Dialer{Timeout: smtpDialTimeout}
	conn, err := d.DialContext(ctx, "tcp", s.addr)
	if err != nil {
		return fmt.Errorf("smtp: %w", err)
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Now()) })
	defer stop()
	if s.implicitTLS {
		conn = tls.Client(conn, s.tlsConfig())
	}
	c, err := smtp.NewClient(conn, s.host)
	if err != nil {
		return fmt.Errorf("smtp: greeting: %w", err)
	}
	defer c.Close()
	if err := c.Hello(s.domain); err != nil {
		return fmt.Errorf("smtp: EHLO: %w", err)
	}
	if ok, _ := c.Extension("STARTTLS"); ok && !s.implicitTLS {
		if err := c.StartTLS(s.tlsConfig()); err != nil {
			return fmt.Errorf("smtp: STARTTLS: %w", err)
		}
	}
	if s.auth != nil {
		if err := c.Auth(s.auth); err != nil {
			return fmt.Errorf("smtp: AUTH: %w", err)
		}
	}
	if err := c.Mail(s.from); err != nil {
		return fmt.Errorf("smtp: MAIL FROM: %w", err)
	}
	if err := c.Rcpt(m.To); err != nil {
		return fmt.Errorf("smtp: RCPT TO: %w", err)
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("smtp: DATA: %w", err)
	}
	if _, err := w.Write(s.compose(m)); err != nil {
		return fmt.Errorf("smtp: DATA: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("smtp: DATA: %w", err)
	}
	_ = c.Quit() // accepted already: a failed QUIT must not cause a second copy
	return nil
}

func (s *smtpSender) tlsConfig() *tls.Config {
	return &tls.Config{ServerName: s.host, RootCAs: s.roots, MinVersion: tls.VersionTLS12}
}

// compose renders m as an RFC 5322 message. Its Message-ID depends only on
// the outbox row, so that every attempt of one mail carries the same ID and
// a receiver can drop a duplicate.
func (s *smtpSender) compose(m *orgmodel.Mail) []byte {
	var b bytes.Buffer
	// Header values come from the service (CheckName forbids control
	// characters); dropping CR and LF here keeps that true regardless.
	oneLine := strings.NewReplacer("\r", "", "\n", "").Replace
	header := func(k, v string) { fmt.Fprintf(&b, "%s: %s\r\n", k, oneLine(v)) }
	header("Message-ID", messageID(m, s.domain))
	header("Date", m.CreatedAt.UTC().Format(time.RFC1123Z))
	header("From", s.from)
	header("To", m.To)
	header("Subject", mime.QEncoding.Encode("utf-8", oneLine(m.Subject)))
	header("MIME-Version", "1.0")
	header("Content-Type", "text/plain; charset=UTF-8")
	header("Content-Transfer-Encoding", "quoted-printable")
	header("Auto-Submitted", "auto-generated")
	b.WriteString("\r\n")
	qp := quotedprintable.NewWriter(&b)
	_, _ = qp.Write([]byte(m.Body))
	_ = qp.Close()
	return b.Bytes()
}

// messageID is <outbox-ID.created@domain>.
func messageID(m *orgmodel.Mail, domain string) string {
	return fmt.Sprintf("<%d.%d@%s>", m.ID, m.CreatedAt.UnixMilli(), domain)
}
