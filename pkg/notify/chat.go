package notify

import (
	"context"
	"net/http"
	"strings"

	"github.com/cyberbrain/cyberbrain/pkg/store"
)

// Chat services cap message sizes; longer texts are cut, not refused.
const (
	discordContentMax = 2000
	discordDescMax    = 4096
	slackTextMax      = 3000
)

// slackBody is a Slack incoming-webhook payload: text (the notification
// fallback) and one mrkdwn section block.
func slackBody(m Message) map[string]any {
	text := "*" + m.Title + "*"
	if m.Text != "" {
		text += "\n" + m.Text
	}
	if m.URL != "" {
		text += "\n<" + m.URL + "|Open in cyberbrain>"
	}
	text = truncate(text, slackTextMax)
	return map[string]any{
		"text": truncate(m.Title, slackTextMax),
		"blocks": []any{map[string]any{
			"type": "section",
			"text": map[string]any{"type": "mrkdwn", "text": text},
		}},
	}
}

// severityColour is the Discord embed colour of a severity.
var severityColour = map[string]int{"critical": 0x8B0000, "high": 0xE01E5A, "medium": 0xECB22E, "low": 0x2EB67D}

// discordBody is a Discord execute-webhook payload: content and one embed;
// allowed_mentions is empty so a message never pings anyone.
func discordBody(m Message) map[string]any {
	embed := map[string]any{"title": truncate(m.Title, 256), "description": truncate(m.Text, discordDescMax),
		"color": severityColour[m.Severity]}
	if m.URL != "" {
		embed["url"] = m.URL
	}
	return map[string]any{
		"content":          truncate(m.Title, discordContentMax),
		"embeds":           []any{embed},
		"allowed_mentions": map[string]any{"parse": []string{}},
	}
}

// ntfyPriority maps a severity to ntfy's 1 (min) … 5 (max).
var ntfyPriority = map[string]int{"critical": 5, "high": 4, "medium": 3, "low": 2}

// ntfy publishes as JSON to the server's root (ntfy's "publish as JSON"),
// which carries any title text, unlike headers.
func (s *Sender) ntfy(ctx context.Context, set Settings, sec Secrets, d store.Delivery, m Message) store.SendResult {
	server := strings.TrimRight(set.Server, "/")
	if server == "" {
		server = "https://ntfy.sh"
	}
	prio := set.Priority
	if prio == 0 {
		prio = ntfyPriority[m.Severity]
	}
	body := map[string]any{"topic": set.Topic, "title": m.Title, "message": m.Text, "priority": prio,
		"tags": []string{string(d.Event)}}
	if m.Text == "" {
		body["message"] = m.Title
	}
	if m.URL != "" {
		body["click"] = m.URL
	}
	return s.postJSON(ctx, server+"/", body, d, func(h http.Header, _ []byte) {
		if sec.Token != "" {
			h.Set("Authorization", "Bearer "+sec.Token)
		}
	})
}
