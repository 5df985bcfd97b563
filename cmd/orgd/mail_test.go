package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"math/big"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/orgd/orgd/orgmodel"
)

// TestMail_SMTPDeliveryOnceAndRetried talks SMTP to a real server on
// loopback: the invitation arrives with its link; a restarted sender sends
// nothing twice; with the server down the mail stays in the outbox and is
// delivered, once, when the server is back and the backoff has passed.
func TestMail_SMTPDeliveryOnceAndRetried(t *testing.T) {
	forEachDB(t, func(t *testing.T, dsn string) {
		f := newFixture(t, dsn)
		mx := startSMTP(t)
		clk := &clock{}
		svc := testService(t, dsn, f.dns.addr, clk.Now)
		sender := mustSender(t, "smtp://"+mx.addr)

		inv := f.ok("user", "invite", "--org", f.orgA, "--email", "alice@acme.test")
		n, err := svc.DeliverMail(t.Context(), sender, 10)
		require.NoError(t, err)
		require.Equal(t, 2, n, "the fixture's invitation of ivan and alice's")
		got := mx.received()
		require.Len(t, got, 2)
		m := mailTo(t, got, "alice@acme.test")
		require.Equal(t, []string{"alice@acme.test"}, m.to)
		require.Equal(t, "orgd@localhost", m.from)
		msg := parseMail(t, m.data)
		require.Equal(t, "Invitation to Acme", msg.subject)
		require.Contains(t, msg.body, defaultBaseURL+"/signup?invitation="+inv.str("token"))
		require.Regexp(t, `^<\d+\.\d+@localhost>$`, msg.header.Get("Message-Id"))
		require.False(t, m.tls, "the server offers no STARTTLS, and loopback without TLS must still work")

		// A restarted sender over the same outbox sends nothing twice.
		svc2 := testService(t, dsn, f.dns.addr, clk.Now)
		n, err = svc2.DeliverMail(t.Context(), mustSender(t, "smtp://"+mx.addr), 10)
		require.NoError(t, err)
		require.Zero(t, n)
		require.Len(t, mx.received(), 2)
		for _, m := range f.ok("mail", "list").list("messages") {
			require.NotEmpty(t, m.str("sent_at"), "mail %v", m)
			require.Empty(t, m.str("body"), "a sent mail's body (its link token) is erased")
		}

		// The server is down: the reset link is kept and retried.
		mx.stop()
		reset := f.ok("user", "reset-password", "--org", f.orgA, "--user", f.ownerA)
		require.Equal(t, f.ownerA, reset.str("user_sid"))
		n, err = svc.DeliverMail(t.Context(), sender, 10)
		require.NoError(t, err)
		require.Zero(t, n)
		unsent := f.ok("mail", "list", "--unsent").list("messages")
		require.Len(t, unsent, 1)
		require.Equal(t, 1, unsent[0].num("attempts"))
		require.Contains(t, unsent[0].str("last_error"), "smtp")
		require.Contains(t, unsent[0].str("body"), "/reset?token=", "never lost: the body waits in the outbox")

		mx.start() // on the same port
		n, err = svc.DeliverMail(t.Context(), sender, 10)
		require.NoError(t, err)
		require.Zero(t, n, "not due before its backoff has passed")
		clk.add(time.Minute)
		n, err = svc.DeliverMail(t.Context(), sender, 10)
		require.NoError(t, err)
		require.Equal(t, 1, n)
		n, err = svc.DeliverMail(t.Context(), sender, 10)
		require.NoError(t, err)
		require.Zero(t, n)
		got = mx.received()
		require.Len(t, got, 3)
		msg = parseMail(t, mailTo(t, got, "owner@acme.test").data)
		require.Equal(t, "Reset your orgd password", msg.subject)
		require.Contains(t, msg.body, defaultBaseURL+"/reset?token=rst_")
		require.Empty(t, f.ok("mail", "list", "--unsent").list("messages"))
	})
}

// TestMail_STARTTLS: when the server offers STARTTLS it is used, and a
// certificate the sender does not trust stops delivery rather than
// falling back to plain text.
func TestMail_STARTTLS(t *testing.T) {
	mx := &smtpServer{t: t, addr: "127.0.0.1:0", tls: newTestTLS(t)}
	mx.start()
	t.Cleanup(mx.stop)
	m := &orgmodel.Mail{ID: 7, Kind: "invitation", To: "alice@acme.test", Subject: "Hello", Body: "hi\n", CreatedAt: time.Now()}

	untrusting := mustSender(t, "smtp://"+mx.addr)
	require.ErrorContains(t, untrusting.Send(t.Context(), m), "STARTTLS")
	require.Empty(t, mx.received())

	trusting := mustSender(t, "smtp://"+mx.addr)
	trusting.roots = mx.tls.roots
	require.NoError(t, trusting.Send(t.Context(), m))
	got := mx.received()
	require.Len(t, got, 1)
	require.True(t, got[0].tls, "the message went over TLS")
}

func TestMail_Compose(t *testing.T) {
	s := mustSender(t, "smtp://127.0.0.1:25?from=noreply@corp.example")
	created := time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC)
	m := &orgmodel.Mail{ID: 42, To: "alice@acme.test", Subject: "Invitation to Zürich\r\nBcc: evil@x.test",
		Body: "Join:\nhttps://orgd.test/signup?invitation=inv_" + strings.Repeat("ab", 40) + "\n.\nbye\n", CreatedAt: created}
	raw := string(s.compose(m))
	require.Equal(t, raw, string(s.compose(m)), "every attempt sends the same message")
	msg := parseMail(t, raw)
	require.Equal(t, "<42."+itoa(created.UnixMilli())+"@corp.example>", msg.header.Get("Message-Id"))
	require.Equal(t, "noreply@corp.example", msg.header.Get("From"))
	require.Equal(t, "alice@acme.test", msg.header.Get("To"))
	require.Empty(t, msg.header.Get("Bcc"), "no header injection")
	require.Equal(t, "Invitation to ZürichBcc: evil@x.test", msg.subject)
	require.Equal(t, "text/plain; charset=UTF-8", msg.header.Get("Content-Type"))
	d, err := msg.header.Date()
	require.NoError(t, err)
	require.True(t, d.Equal(created))
	require.Equal(t, strings.ReplaceAll(m.Body, "\n", "\r\n"), msg.body, "the link survives encoding whole")
}

func TestMail_SMTPURL(t *testing.T) {
	for _, tc := range []struct {
		url, from, base   string
		addr, sender      string
		tls, auth         bool
		wantErr, notInErr string
	}{
		{url: "smtp://mx.corp.example", base: "https://orgd.corp.example", addr: "mx.corp.example:25", sender: "orgd@orgd.corp.example"},
		{url: "smtp://127.0.0.1:2525", base: "http://127.0.0.1:8080", addr: "127.0.0.1:2525", sender: "orgd@localhost"},
		{url: "smtps://mx.corp.example", base: defaultBaseURL, addr: "mx.corp.example:465", sender: "orgd@localhost", tls: true},
		{url: "smtp://u:s3cret@mx.corp.example:587?from=it@corp.example", base: defaultBaseURL, addr: "mx.corp.example:587", sender: "it@corp.example", auth: true},
		{url: "smtp://mx.corp.example?from=it@corp.example", from: "ops@corp.example", base: defaultBaseURL, addr: "mx.corp.example:25", sender: "ops@corp.example"},
		{url: "http://u:s3cret@mx.corp.example", wantErr: "--smtp", notInErr: "s3cret"},
		{url: "smtp://", wantErr: "needs a host"},
		{url: "smtp://mx.corp.example/path", wantErr: "needs a host and no path"},
		{url: "smtp://mx.corp.example?form=x@y.test", wantErr: `unknown parameter "form"`},
		{url: "smtp://mx.corp.example", from: "Ops <ops@corp.example>", wantErr: "--mail-from"},
	} {
		s, err := newSMTPSender(tc.url, tc.from, tc.base)
		if tc.wantErr != "" {
			require.ErrorContains(t, err, tc.wantErr, tc.url)
			var ue *usageError
			require.ErrorAs(t, err, &ue, "a bad --smtp is a usage error (exit 2)")
			if tc.notInErr != "" {
				require.NotContains(t, err.Error(), tc.notInErr)
			}
			continue
		}
		require.NoError(t, err, tc.url)
		require.Equal(t, tc.addr, s.addr, tc.url)
		require.Equal(t, tc.sender, s.from, tc.url)
		require.Equal(t, tc.tls, s.implicitTLS, tc.url)
		require.Equal(t, tc.auth, s.auth != nil, tc.url)
	}
}

func mustSender(t *testing.T, url string) *smtpSender {
	t.Helper()
	s, err := newSMTPSender(url, "", defaultBaseURL)
	require.NoError(t, err)
	return s
}

func mailTo(t *testing.T, ms []receivedMail, to string) receivedMail {
	t.Helper()
	var found []receivedMail
	for _, m := range ms {
		if len(m.to) == 1 && m.to[0] == to {
			found = append(found, m)
		}
	}
	require.Lenf(t, found, 1, "mails to %s", to)
	return found[0]
}

type parsedMail struct {
	header  mail.Header
	subject string
	body    string
}

func parseMail(t *testing.T, raw string) parsedMail {
	t.Helper()
	msg, err := mail.ReadMessage(strings.NewReader(raw))
	require.NoError(t, err)
	subject, err := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	require.NoError(t, err)
	require.Equal(t, "quoted-printable", msg.Header.Get("Content-Transfer-Encoding"))
	body, err := io.ReadAll(quotedprintable.NewReader(msg.Body))
	require.NoError(t, err)
	return parsedMail{header: msg.Header, subject: subject, body: string(body)}
}

// tlsConfig is a test certificate authority's certificate for 127.0.0.1:
// the server side and the pool that trusts it.
type tlsConfig struct {
	server *tls.Config
	roots  *x509.CertPool
}

func newTestTLS(t *testing.T) *tlsConfig {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "orgd test mx"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	cert, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	roots := x509.NewCertPool()
	roots.AddCert(cert)
	return &tlsConfig{
		server: &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}},
		roots:  roots,
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
