package notify

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/smtp"
	"net/textproto"
	"strconv"
	"strings"
	"time"

	"github.com/cyberbrain/cyberbrain/pkg/store"
)

// email sends one message over SMTP: implicit TLS (tls), STARTTLS
// (starttls, the default; refused when the server does not offer it) or
// plain (none, for a relay on a trusted network). AUTH PLAIN is used when
// a username is set; net/smtp refuses it over an unencrypted connection
// except to localhost.
func (s *Sender) email(ctx context.Context, set Settings, sec Secrets, d store.Delivery, m Message) store.SendResult {
	msg, err := emailBytes(set, d, m)
	if err != nil {
		return store.SendResult{Error: err.Error(), Permanent: true}
	}
	if err := s.smtpSend(ctx, set, sec, msg); err != nil {
		r := store.SendResult{Error: err.Error()}
		var te *textproto.Error
		if errors.As(err, &te) {
			r.StatusCode = te.Code
			r.Permanent = te.Code >= 500 // 4xx replies are transient by definition
		}
		return r
	}
	return store.SendResult{OK: true, StatusCode: 250}
}

// MessageID is the Message-ID of a delivery's e-mail: the idempotency key
// at the sender's domain, so a resend after a crash carries the same one.
func MessageID(d store.Delivery, from string) string {
	domain := "cyberbrain.invalid"
	if a, err := mail.ParseAddress(from); err == nil {
		if i := strings.LastIndexByte(a.Address, '@'); i >= 0 {
			domain = a.Address[i+1:]
		}
	}
	return "<" + d.IdempotencyKey + "@" + domain + ">"
}

func emailBytes(set Settings, d store.Delivery, m Message) ([]byte, error) {
	var b bytes.Buffer
	h := func(k, v string) { fmt.Fprintf(&b, "%s: %s\r\n", k, v) }
	h("From", set.From)
	h("To", strings.Join(set.To, ", "))
	h("Subject", mime.QEncoding.Encode("utf-8", "[cyberbrain] "+m.Title))
	h("Date", time.Now().UTC().Format(time.RFC1123Z))
	h("Message-ID", MessageID(d, set.From))
	h("X-Cyberbrain-Event", string(d.Event))
	h("MIME-Version", "1.0")
	h("Content-Type", "text/plain; charset=utf-8")
	h("Content-Transfer-Encoding", "quoted-printable")
	b.WriteString("\r\n")
	body := m.Title + "\n\n" + m.Text + "\n"
	if m.URL != "" {
		body += "\n" + m.URL + "\n"
	}
	qp := quotedprintable.NewWriter(&b)
	if _, err := qp.Write([]byte(strings.ReplaceAll(body, "\n", "\r\n"))); err != nil {
		return nil, fmt.Errorf("encode e-mail body: %w", err)
	}
	if err := qp.Close(); err != nil {
		return nil, fmt.Errorf("encode e-mail body: %w", err)
	}
	return b.Bytes(), nil
}

func (s *Sender) smtpSend(ctx context.Context, set Settings, sec Secrets, msg []byte) error {
	port := set.Port
	if port == 0 {
		port = 587
		if set.TLS == "tls" {
			port = 465
		}
	}
	addr := net.JoinHostPort(set.Host, strconv.Itoa(port))
	tlsCfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if s.TLS != nil {
		tlsCfg = s.TLS.Clone()
	}
	tlsCfg.ServerName = set.Host
	var dialer net.Dialer
	conn, err := dialer.DialContext(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("connect to %s: %w", addr, err)
	}
	// A cancelled context (a killed replica, a timeout) ends the exchange.
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	if set.TLS == "tls" {
		conn = tls.Client(conn, tlsCfg)
	}
	c, err := smtp.NewClient(conn, set.Host)
	if err != nil {
		conn.Close()
		return fmt.Errorf("smtp greeting from %s: %w", addr, err)
	}
	defer c.Close()
	if err := c.Hello("cyberbrain"); err != nil {
		return fmt.Errorf("smtp hello: %w", err)
	}
	if set.TLS == "" || set.TLS == "starttls" {
		if ok, _ := c.Extension("STARTTLS"); !ok {
			return errors.New("smtp server does not offer STARTTLS (set tls to \"none\" to send in the clear)")
		}
		if err := c.StartTLS(tlsCfg); err != nil {
			return fmt.Errorf("smtp starttls: %w", err)
		}
	}
	if set.Username != "" {
		if err := c.Auth(smtp.PlainAuth("", set.Username, sec.Password, set.Host)); err != nil {
			return fmt.Errorf("smtp auth as %s: %w", set.Username, err)
		}
	}
	return smtpTransaction(c, set, msg)
}

func smtpTransaction(c *smtp.Client, set Settings, msg []byte) error {
	from, _ := mail.ParseAddress(set.From)
	if err := c.Mail(from.Address); err != nil {
		return fmt.Errorf("smtp mail from: %w", err)
	}
	for _, to := range set.To {
		a, _ := mail.ParseAddress(to)
		if err := c.Rcpt(a.Address); err != nil {
			return fmt.Errorf("smtp rcpt to %s: %w", a.Address, err)
		}
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("smtp data: %w", err)
	}
	if _, err := w.Write(msg); err != nil {
		return fmt.Errorf("smtp data: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("smtp data: %w", err)
	}
	return c.Quit()
}
