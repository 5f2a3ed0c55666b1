package logtriage

import (
	"crypto/sha256"
	"encoding/hex"
	"regexp"
	"strings"
	"unicode/utf8"
)

// Masks are applied in order: the specific shapes (timestamps, UUIDs, IPs)
// before the generic ones (hex, durations, numbers) that would eat them.
var masks = []struct {
	re   *regexp.Regexp
	with string
}{
	// 2024-01-02T15:04:05.123Z, 2024-01-02 15:04:05,123 +0100, … UTC
	{regexp.MustCompile(`\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:[.,]\d+)?(?:Z|\s?[+-]\d{2}:?\d{2}|\s?UTC)?`), "<ts>"},
	// nginx error log 2024/01/02 15:04:05
	{regexp.MustCompile(`\d{4}/\d{2}/\d{2} \d{2}:\d{2}:\d{2}`), "<ts>"},
	// access logs [02/Jan/2024:15:04:05 +0000]
	{regexp.MustCompile(`\d{2}/[A-Z][a-z]{2}/\d{4}:\d{2}:\d{2}:\d{2}(?: [+-]\d{4})?`), "<ts>"},
	// Redis 02 Jan 2024 15:04:05.123, syslog Jan  2 15:04:05
	{regexp.MustCompile(`\d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2}(?:\.\d+)?`), "<ts>"},
	{regexp.MustCompile(`[A-Z][a-z]{2} [ \d]\d \d{2}:\d{2}:\d{2}`), "<ts>"},
	// klog I0102 15:04:05.000000 and bare clock times
	{regexp.MustCompile(`\b\d{2}:\d{2}:\d{2}(?:\.\d+)?\b`), "<ts>"},
	{regexp.MustCompile(`(?i)\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b`), "<uuid>"},
	{regexp.MustCompile(`\b(?:\d{1,3}\.){3}\d{1,3}(?::\d{1,5})?\b`), "<ip>"},
	{regexp.MustCompile(`\[?\b(?:[0-9a-fA-F]{1,4}:){1,7}:?(?:[0-9a-fA-F]{1,4})?\]?(?::\d+)?`), "<ip6>"},
	{regexp.MustCompile(`\b0x[0-9a-fA-F]+\b`), "<hex>"},
	// Long hex runs with at least one digit: ids, hashes, container ids.
	{regexp.MustCompile(`\b[0-9a-f]*[0-9][0-9a-f]*[a-f][0-9a-f]*\b|\b[0-9a-f]*[a-f][0-9a-f]*[0-9][0-9a-f]*\b`), "<hexid>"},
	// Go-style and unit durations: 1h2m3.5s, 250ms, 1.5s, 30µs
	{regexp.MustCompile(`\b\d+(?:\.\d+)?(?:h\d+m)?(?:\d+(?:\.\d+)?)?(?:ns|us|µs|ms|s|m|h)\b`), "<dur>"},
	{regexp.MustCompile(`\b\d+(?:\.\d+)?\b`), "<num>"},
}

var spaceRe = regexp.MustCompile(`\s+`)

const maxTemplateLen = 300

// Templatize masks the variable parts of a message so that lines differing
// only in numbers, ids, addresses, durations or timestamps share a template.
func Templatize(msg string) string {
	s := msg
	for _, m := range masks {
		s = m.re.ReplaceAllStringFunc(s, func(match string) string {
			switch {
			case m.with == "<hexid>" && len(match) < 8:
				return match // short words like "dead" or "a1" stay
			case m.with == "<ip6>":
				// Only real IPv6 addresses: two colons or more and a digit,
				// not "pkg::name" paths.
				if strings.Count(match, ":") < 2 || !strings.ContainsAny(match, "0123456789") {
					return match
				}
				return "<ip>"
			}
			return m.with
		})
	}
	s = strings.ReplaceAll(s, "<hexid>", "<hex>")
	s = strings.TrimSpace(spaceRe.ReplaceAllString(s, " "))
	if len(s) > maxTemplateLen {
		s = cutUTF8(s, maxTemplateLen) + "…"
	}
	return s
}

// cutUTF8 returns the longest prefix of s of at most n bytes that does not
// split a multi-byte character: templates and examples are stored and shown
// as text, and a cut mid-character would leave invalid UTF-8.
func cutUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// TemplateKey is a stable short id of a level+template pair, remembered
// between triages to tell new templates from known ones.
func TemplateKey(level Level, template string) string {
	sum := sha256.Sum256([]byte(string(level) + "\x00" + template))
	return hex.EncodeToString(sum[:8])
}
