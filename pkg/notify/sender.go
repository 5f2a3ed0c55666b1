package notify

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/cyberbrain/cyberbrain/pkg/domain"
	"github.com/cyberbrain/cyberbrain/pkg/store"
)

// Sender sends deliveries to channels. Its zero value works: the default
// HTTP client (with the timeout of ctx) and the system's TLS roots.
type Sender struct {
	HTTP *http.Client
	// TLS is the base TLS configuration of SMTP connections (tests trust
	// their own CA here); ServerName is set per channel.
	TLS *tls.Config
	// PublicURL is the dashboard's base URL for links; empty: no links.
	PublicURL string
}

// Send makes one attempt at delivering d through ch. The result's error
// text never holds a secret of ch.
func (s *Sender) Send(ctx context.Context, ch *store.NotificationChannel, d store.Delivery) store.SendResult {
	start := time.Now()
	var set Settings
	var sec Secrets
	_ = json.Unmarshal(ch.Settings, &set)
	_ = json.Unmarshal(ch.Secrets, &sec)
	msg := Render(d, s.PublicURL)
	var r store.SendResult
	switch ch.Kind {
	case domain.ChannelWebhook:
		r = s.webhook(ctx, sec, d, msg)
	case domain.ChannelSlack:
		r = s.postJSON(ctx, sec.URL, slackBody(msg), d, nil)
	case domain.ChannelDiscord:
		r = s.postJSON(ctx, sec.URL, discordBody(msg), d, nil)
	case domain.ChannelNtfy:
		r = s.ntfy(ctx, set, sec, d, msg)
	case domain.ChannelEmail:
		r = s.email(ctx, set, sec, d, msg)
	default:
		r = store.SendResult{Error: fmt.Sprintf("unknown channel kind %q", ch.Kind), Permanent: true}
	}
	r.Duration = time.Since(start)
	r.Error = scrub(r.Error, sec)
	return r
}

// postJSON posts body to target with the delivery's idempotency headers;
// sign, when set, adds headers computed from the encoded body.
func (s *Sender) postJSON(ctx context.Context, target string, body any, d store.Delivery, sign func(h http.Header, body []byte)) store.SendResult {
	b, err := json.Marshal(body)
	if err != nil {
		return store.SendResult{Error: "encode message: " + err.Error(), Permanent: true}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(b))
	if err != nil {
		return store.SendResult{Error: "bad channel URL", Permanent: true}
	}
	req.Header.Set("Content-Type", "application/json")
	setDeliveryHeaders(req.Header, d)
	if sign != nil {
		sign(req.Header, b)
	}
	return s.do(req)
}

// setDeliveryHeaders names the delivery: a receiver that saw the
// idempotency key before is looking at a resend of the same message.
func setDeliveryHeaders(h http.Header, d store.Delivery) {
	h.Set("Idempotency-Key", d.IdempotencyKey)
	h.Set("X-Cyberbrain-Event", string(d.Event))
	h.Set("X-Cyberbrain-Delivery", fmt.Sprint(d.ID))
	h.Set("X-Cyberbrain-Attempt", fmt.Sprint(d.Attempt))
	h.Set("User-Agent", "cyberbrain-notify/1")
}

// do sends req and classifies the answer: 2xx sent; 408, 429 and 5xx
// retried; other statuses permanent.
func (s *Sender) do(req *http.Request) store.SendResult {
	client := s.HTTP
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return store.SendResult{Error: redactURLError(err)}
	}
	defer resp.Body.Close()
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20)) // reuse the connection
	r := store.SendResult{StatusCode: resp.StatusCode}
	switch c := resp.StatusCode; {
	case c >= 200 && c < 300:
		r.OK = true
	default:
		r.Error = fmt.Sprintf("HTTP %d: %s", c, truncate(string(bytes.TrimSpace(snippet)), 200))
		r.Permanent = c < 500 && c != http.StatusRequestTimeout && c != http.StatusTooManyRequests
	}
	return r
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}
