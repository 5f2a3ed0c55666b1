package notify

import (
	"encoding/json"
	"fmt"
	"net/mail"
	"net/url"
	"slices"

	"github.com/cyberbrain/cyberbrain/pkg/domain"
)

// Settings are a channel's visible options, per kind; Secrets its
// write-only ones. Unknown keys are refused so a typo is not silently
// ignored.
type Settings struct {
	Server   string   `json:"server,omitempty"`   // ntfy (default https://ntfy.sh)
	Topic    string   `json:"topic,omitempty"`    // ntfy
	Priority int      `json:"priority,omitempty"` // ntfy 1–5 (default by severity)
	Host     string   `json:"host,omitempty"`     // email: SMTP server
	Port     int      `json:"port,omitempty"`     // email (default 587, 465 for tls)
	TLS      string   `json:"tls,omitempty"`      // email: starttls (default), tls (implicit), none
	Username string   `json:"username,omitempty"` // email: SMTP AUTH user
	From     string   `json:"from,omitempty"`     // email
	To       []string `json:"to,omitempty"`       // email
}

// Secrets are the write-only options of a channel.
type Secrets struct {
	URL      string `json:"url,omitempty"`      // webhook, slack, discord: the URL embeds the token
	Secret   string `json:"secret,omitempty"`   // webhook: HMAC-SHA256 key of the signature header
	Token    string `json:"token,omitempty"`    // ntfy: access token
	Password string `json:"password,omitempty"` // email: SMTP AUTH password
}

// allowed lists the setting and secret keys each kind accepts.
var allowed = map[domain.ChannelKind]struct{ settings, secrets []string }{
	domain.ChannelWebhook: {nil, []string{"url", "secret"}},
	domain.ChannelSlack:   {nil, []string{"url"}},
	domain.ChannelDiscord: {nil, []string{"url"}},
	domain.ChannelNtfy:    {[]string{"server", "topic", "priority"}, []string{"token"}},
	domain.ChannelEmail:   {[]string{"host", "port", "tls", "username", "from", "to"}, []string{"password"}},
}

// Validate checks a channel's settings and secrets for its kind and
// returns the problems by field ("settings.topic", "secrets.url").
func Validate(kind domain.ChannelKind, settings, secrets json.RawMessage) map[string][]string {
	bad := map[string][]string{}
	add := func(f, m string) { bad[f] = append(bad[f], m) }
	a, ok := allowed[kind]
	if !ok {
		add("kind", fmt.Sprintf("must be one of %v", domain.ChannelKinds))
		return bad
	}
	var s Settings
	var sec Secrets
	checkKeys(settings, "settings", a.settings, add)
	checkKeys(secrets, "secrets", a.secrets, add)
	_ = json.Unmarshal(settings, &s)
	_ = json.Unmarshal(secrets, &sec)
	switch kind {
	case domain.ChannelWebhook, domain.ChannelSlack, domain.ChannelDiscord:
		if msg := checkURL(sec.URL); msg != "" {
			add("secrets.url", msg)
		}
	case domain.ChannelNtfy:
		if s.Topic == "" {
			add("settings.topic", "required")
		}
		if s.Server != "" {
			if msg := checkURL(s.Server); msg != "" {
				add("settings.server", msg)
			}
		}
		if s.Priority < 0 || s.Priority > 5 {
			add("settings.priority", "must be 1 to 5 (0: by severity)")
		}
	case domain.ChannelEmail:
		validateEmail(s, add)
	}
	return bad
}

func validateEmail(s Settings, add func(f, m string)) {
	if s.Host == "" {
		add("settings.host", "required")
	}
	if s.Port < 0 || s.Port > 65535 {
		add("settings.port", "must be 1 to 65535")
	}
	if !slices.Contains([]string{"", "starttls", "tls", "none"}, s.TLS) {
		add("settings.tls", "must be starttls, tls or none")
	}
	if _, err := mail.ParseAddress(s.From); err != nil {
		add("settings.from", "must be an e-mail address")
	}
	if len(s.To) == 0 {
		add("settings.to", "give at least one recipient")
	}
	for _, to := range s.To {
		if _, err := mail.ParseAddress(to); err != nil {
			add("settings.to", fmt.Sprintf("%q is not an e-mail address", to))
		}
	}
}

// checkKeys refuses keys a kind does not know, and values that do not
// decode (a string where a number belongs).
func checkKeys(raw json.RawMessage, prefix string, known []string, add func(f, m string)) {
	if len(raw) == 0 {
		return
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		add(prefix, "must be a JSON object")
		return
	}
	for k := range m {
		if !slices.Contains(known, k) {
			add(prefix+"."+k, fmt.Sprintf("unknown for this kind (known: %v)", known))
		}
	}
	var probe struct {
		Settings
		Secrets
	}
	if err := json.Unmarshal(raw, &probe); err != nil {
		add(prefix, "a value has the wrong type: "+err.Error())
	}
}

func checkURL(raw string) string {
	if raw == "" {
		return "required"
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "must be an http or https URL"
	}
	return ""
}
