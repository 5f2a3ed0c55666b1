package logtriage

import "unicode/utf8"

// truncate caps s at n bytes plus an ellipsis, never cutting a UTF-8
// sequence in two (a report must stay valid UTF-8 for JSON and Markdown).
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
