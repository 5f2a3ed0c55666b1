package notify_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"mime"
	"net"
	"net/http/httptest"
	"net/mail"
	"strings"
	"sync"
	"testing"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/cyberbrain/cyberbrain/pkg/domain"
	"github.com/cyberbrain/cyberbrain/pkg/notify"
)

// smtpMail is one message the test server accepted.
type smtpMail struct {
	From string
	To   []string
	Data []byte
	User string
}

// smtpServer is an in-process SMTP server on loopback: STARTTLS (or
// implicit TLS) with the certificate of an httptest TLS server, AUTH PLAIN
// accepting user/pass only.
type smtpServer struct {
	addr  string
	roots *x509.CertPool
	mu    sync.Mutex
	mails []smtpMail
}

func startSMTP(t *testing.T, implicitTLS bool) *smtpServer {
	t.Helper()
	certSrv := httptest.NewTLSServer(nil) // only for its loopback certificate
	t.Cleanup(certSrv.Close)
	roots := x509.NewCertPool()
	roots.AddCert(certSrv.Certificate())
	ss := &smtpServer{roots: roots}
	srv := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) { return &session{srv: ss}, nil }))
	srv.Domain = "localhost"
	srv.TLSConfig = &tls.Config{Certificates: certSrv.TLS.Certificates}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if implicitTLS {
		ln = tls.NewListener(ln, srv.TLSConfig)
	}
	ss.addr = ln.Addr().String()
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { srv.Close() })
	return ss
}

func (s *smtpServer) got() []smtpMail {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]smtpMail(nil), s.mails...)
}

type session struct {
	srv *smtpServer
	cur smtpMail
}

func (s *session) AuthMechanisms() []string { return []string{sasl.Plain} }
func (s *session) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		if user != "alerts" || pass != "smtp-pa55word" {
			return &smtp.SMTPError{Code: 535, EnhancedCode: smtp.EnhancedCode{5, 7, 8}, Message: "invalid credentials"}
		}
		s.cur.User = user
		return nil
	}), nil
}
func (s *session) Mail(from string, _ *smtp.MailOptions) error { s.cur.From = from; return nil }
func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.cur.To = append(s.cur.To, to)
	return nil
}
func (s *session) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.cur.Data = b
	s.srv.mu.Lock()
	s.srv.mails = append(s.srv.mails, s.cur)
	s.srv.mu.Unlock()
	return nil
}
func (s *session) Reset()        { s.cur = smtpMail{User: s.cur.User} }
func (s *session) Logout() error { return nil }

func emailChannel(t *testing.T, addr, mode string) string {
	t.Helper()
	host, port, _ := net.SplitHostPort(addr)
	return `{"host":"` + host + `","port":` + port + `,"tls":"` + mode + `","username":"alerts",` +
		`"from":"cyberbrain <alerts@example.com>","to":["ops@example.com","oncall@example.com"]}`
}

// E-mail over STARTTLS and over implicit TLS, with AUTH: subject, body,
// recipients and the Message-ID made of the idempotency key.
func TestEmailOverSMTP(t *testing.T) {
	t.Parallel()
	for _, mode := range []string{"starttls", "tls"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			srv := startSMTP(t, mode == "tls")
			s := &notify.Sender{TLS: &tls.Config{RootCAs: srv.roots}, PublicURL: "https://cb.example.com"}
			ch := channel(domain.ChannelEmail, emailChannel(t, srv.addr, mode), `{"password":"smtp-pa55word"}`)
			d := runFailedDelivery(t)
			if r := s.Send(context.Background(), ch, d); !r.OK || r.StatusCode != 250 {
				t.Fatalf("send = %+v", r)
			}
			mails := srv.got()
			if len(mails) != 1 {
				t.Fatalf("%d mails", len(mails))
			}
			m := mails[0]
			if m.User != "alerts" || m.From != "alerts@example.com" || strings.Join(m.To, ",") != "ops@example.com,oncall@example.com" {
				t.Fatalf("envelope %+v", m)
			}
			msg, err := mail.ReadMessage(bytes.NewReader(m.Data))
			if err != nil {
				t.Fatal(err)
			}
			subject, _ := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
			if subject != "[cyberbrain] Run 42 failed (nightly)" {
				t.Fatalf("subject %q", subject)
			}
			if id := msg.Header.Get("Message-ID"); id != "<cb-abc123@example.com>" || id != notify.MessageID(d, "alerts@example.com") {
				t.Fatalf("Message-ID %q", id)
			}
			body, _ := io.ReadAll(msg.Body)
			if !strings.Contains(string(body), "engine unreachable") || !strings.Contains(string(body), "https://cb.example.com/runs/42") {
				t.Fatalf("body %q", body)
			}
		})
	}
}

// A wrong password is a permanent 5xx failure and its error does not
// quote the password; a server without STARTTLS is refused unless the
// channel says none.
func TestEmailFailures(t *testing.T) {
	t.Parallel()
	srv := startSMTP(t, false)
	s := &notify.Sender{TLS: &tls.Config{RootCAs: srv.roots}}
	r := s.Send(context.Background(), channel(domain.ChannelEmail, emailChannel(t, srv.addr, "starttls"), `{"password":"wrong-pa55"}`), runFailedDelivery(t))
	if r.OK || !r.Permanent || r.StatusCode < 500 || strings.Contains(r.Error, "wrong-pa55") {
		t.Fatalf("bad password: %+v", r)
	}
	r = (&notify.Sender{}).Send(context.Background(), channel(domain.ChannelEmail, emailChannel(t, srv.addr, "tls"), `{"password":"smtp-pa55word"}`), runFailedDelivery(t))
	if r.OK || r.Error == "" {
		t.Fatalf("implicit TLS against a plain server: %+v", r)
	}
}
