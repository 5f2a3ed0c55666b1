package logtriage

import "strings"

// wildcard stands for a variable token in a template.
const wildcard = "<*>"

// maxTokens bounds the tokens of one line that are mined: a megabyte-long line
// must not cost a megabyte of template, and its tail rarely tells templates apart.
const maxTokens = 64

// splitTokens cuts a line on blanks and on '|', the field separator of many
// pipe-delimited formats. It appends to buf to spare an allocation per line.
func splitTokens(s string, buf []string) []string {
	start := -1
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == ' ' || c == '\t' || c == '|' || c == '\r' || c == '\n' {
			if start >= 0 {
				buf = append(buf, s[start:i])
				start = -1
				if len(buf) == maxTokens {
					return buf
				}
			}
			continue
		}
		if start < 0 {
			start = i
		}
	}
	if start >= 0 {
		buf = append(buf, s[start:])
	}
	return buf
}

// hasDigit reports whether s holds an ASCII digit.
func hasDigit(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= '0' && s[i] <= '9' {
			return true
		}
	}
	return false
}

// maskToken hides the variable part of a token. Any token holding a digit is
// variable — numbers, ids like blk_-695… or attempt_1445_m_000001_0, addresses,
// versions, timestamps — because telling a version from a counter needs
// knowledge a general miner does not have, and both vary between runs or
// hosts. A key=value token keeps its key and loses its value, digits or
// not: the key is what the program wrote, the value what it was given
// ("user=root", "rhost=host.example.com"); "uid=0" and "uid=42" share
// "uid=<*>" but stay apart from "euid=<*>".
func maskToken(t string) string {
	if i := strings.IndexByte(t, '='); i > 0 && i < len(t)-1 && !hasDigit(t[:i]) {
		return t[:i+1] + wildcard
	}
	if !hasDigit(t) {
		if isDateName(t) {
			return wildcard
		}
		return t
	}
	if strings.Count(t, "/") >= 2 && !strings.Contains(t, "//") {
		// A path keeps its fixed parts: /api/users/42 → /api/users/<*>.
		parts := strings.Split(t, "/")
		for i, p := range parts {
			if hasDigit(p) {
				parts[i] = wildcard
			}
		}
		return strings.Join(parts, "/")
	}
	// Brackets around the variable stay: "(1.0 KB)" masks to "(<*> KB)", so
	// the miner still sees where an optional group opens and closes.
	i, j := 0, len(t)
	for i < j && strings.IndexByte(openers, t[i]) >= 0 {
		i++
	}
	for j > i && strings.IndexByte(closers, t[j-1]) >= 0 {
		j--
	}
	if i == 0 && j == len(t) {
		return wildcard
	}
	return t[:i] + wildcard + t[j:]
}

const (
	openers = "([{<"
	closers = ")]}>,;"
)

// isDateName reports whether t is a capitalised month or weekday name
// ("Jun", "Fri,", "MON"): the word part of a date inside a message ("at Fri
// Jun 17 07:07:00 2005"), which varies like the digits beside it. Lower-case
// words stay ("may" is English).
func isDateName(t string) bool {
	for len(t) > 0 && (t[len(t)-1] == ',' || t[len(t)-1] == '.' || t[len(t)-1] == ':') {
		t = t[:len(t)-1]
	}
	if len(t) == 4 && (t[0] == '[' || t[0] == '(') {
		t = t[1:] // "[Sun Dec 04 …]"
	}
	return len(t) == 3 && isUpper(t[0]) && foldedIn(dateNames, t)
}
