package notify

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/cyberbrain/cyberbrain/pkg/domain"
	"github.com/cyberbrain/cyberbrain/pkg/store"
)

// WebhookBody is the JSON a generic webhook receives (docs/NOTIFICATIONS.md).
type WebhookBody struct {
	ID         string           `json:"id"` // the idempotency key, as in the Idempotency-Key header
	DeliveryID int64            `json:"delivery_id"`
	Attempt    int              `json:"attempt"`
	Event      domain.EventKind `json:"event"`
	Key        string           `json:"key"`
	Subject    string           `json:"subject"`
	OccurredAt *time.Time       `json:"occurred_at"` // null for a digest
	Title      string           `json:"title"`
	Text       string           `json:"text"`
	URL        string           `json:"url,omitempty"`
	Severity   string           `json:"severity"`
	Data       json.RawMessage  `json:"data"`
}

// Signature headers: the timestamp is signed with the body so a captured
// request cannot be replayed later with a new timestamp.
const (
	HeaderSignature = "X-Cyberbrain-Signature"
	HeaderTimestamp = "X-Cyberbrain-Timestamp"
)

// webhookBody builds the generic webhook's JSON for d.
func webhookBody(d store.Delivery, msg Message) WebhookBody {
	b := WebhookBody{ID: d.IdempotencyKey, DeliveryID: d.ID, Attempt: d.Attempt, Event: d.Event, Key: d.EventKey,
		Subject: d.Subject, Title: msg.Title, Text: msg.Text, URL: msg.URL, Severity: msg.Severity, Data: json.RawMessage(d.Payload)}
	if d.Event != domain.EventDigest {
		var env store.Envelope
		if json.Unmarshal(d.Payload, &env) == nil {
			b.Data, b.OccurredAt = env.Data, &env.OccurredAt
		}
	}
	if len(b.Data) == 0 {
		b.Data = json.RawMessage(`{}`)
	}
	return b
}

func (s *Sender) webhook(ctx context.Context, sec Secrets, d store.Delivery, msg Message) store.SendResult {
	var sign func(http.Header, []byte)
	if sec.Secret != "" {
		sign = func(h http.Header, body []byte) {
			ts := strconv.FormatInt(time.Now().Unix(), 10)
			h.Set(HeaderTimestamp, ts)
			h.Set(HeaderSignature, Sign(sec.Secret, ts, body))
		}
	}
	return s.postJSON(ctx, sec.URL, webhookBody(d, msg), d, sign)
}

// Sign is the signature header's value: "sha256=" and the hex HMAC-SHA256,
// keyed with the channel's secret, of the timestamp, a dot and the body.
func Sign(secret, timestamp string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(timestamp + "."))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// Verify checks a signature as a receiver would, in constant time.
func Verify(secret, timestamp string, body []byte, signature string) bool {
	return hmac.Equal([]byte(Sign(secret, timestamp, body)), []byte(signature))
}
