package notify

import (
	"errors"
	"net/url"
	"strings"
)

// redactURLError renders an HTTP client error without its URL's path and
// query, where Slack, Discord and most webhooks keep their tokens.
func redactURLError(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Op + " " + redactURL(ue.URL) + ": " + ue.Err.Error()
	}
	return err.Error()
}

// redactURL keeps a URL's scheme and host only.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "[redacted URL]"
	}
	return u.Scheme + "://" + u.Host + "/[redacted]"
}

// scrub removes every secret of a channel from text, whatever put it there
// (a server echoing its URL, a library quoting a password).
func scrub(text string, sec Secrets) string {
	for _, v := range []string{sec.URL, sec.Secret, sec.Token, sec.Password} {
		if len(v) >= 4 {
			text = strings.ReplaceAll(text, v, "[redacted]")
		}
	}
	if u, err := url.Parse(sec.URL); err == nil && len(u.Path) > 8 {
		text = strings.ReplaceAll(text, u.Path, "/[redacted]")
	}
	return text
}
