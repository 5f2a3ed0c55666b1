package logtriage

import "strings"

// plainLevel looks for level words in free text. Only the first part of a
// line is searched so a message that merely mentions "error" further on
// (an echoed query, a URL) does not count. It scans bytes instead of running
// regular expressions: it runs on every line a container writes, and the
// regexps it replaced cost ~40 µs a line.
func plainLevel(s string) Level {
	head := s
	if len(head) > 160 {
		head = head[:160]
	}
	best := Info
	consider := func(l Level) {
		if l.Rank() > best.Rank() {
			best = l
		}
	}
	for i := 0; i < len(head); {
		if !isWordByte(head[i]) {
			i++
			continue
		}
		j := i
		for j < len(head) && isWordByte(head[j]) {
			j++
		}
		w := head[i:j]
		// ERROR, WARN… as a whole word in upper case; the map is asked only
		// about words that could be one (most words are not).
		if len(w) >= 3 && len(w) <= 9 && isUpper(w[0]) && isUpper(w[1]) && upperLevels[w] {
			consider(normalize(w))
		}
		// [error], <warn>, (fatal) in any case.
		if i > 0 && j < len(head) && strings.IndexByte("[<(", head[i-1]) >= 0 && strings.IndexByte("]>)", head[j]) >= 0 {
			if l := strings.ToLower(w); bracketLevels[l] {
				consider(normalize(l))
			}
		}
		i = j
	}
	if l := leadLevel(head); l != "" {
		consider(normalize(l))
	}
	if best.Rank() < Exception.Rank() && hasExceptionToken(head) {
		best = Exception
	}
	return best
}

var upperLevels = map[string]bool{"FATAL": true, "PANIC": true, "CRITICAL": true, "CRIT": true, "EMERG": true,
	"EMERGENCY": true, "ALERT": true, "SEVERE": true, "ERROR": true, "ERR": true, "EXCEPTION": true, "WARNING": true, "WARN": true}

var bracketLevels = map[string]bool{"fatal": true, "panic": true, "critical": true, "crit": true, "emerg": true,
	"alert": true, "error": true, "err": true, "exception": true, "warning": true, "warn": true}

func isWordByte(c byte) bool {
	return c == '_' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
}

// leadLevel is "error" in "error: …" / "Warning : …" as the line's first word.
func leadLevel(head string) string {
	j := 0
	for j < len(head) && isWordByte(head[j]) {
		j++
	}
	rest := strings.TrimLeft(head[j:], " \t")
	if j == 0 || !strings.HasPrefix(rest, ":") {
		return ""
	}
	switch w := strings.ToLower(head[:j]); w {
	case "fatal", "panic", "error", "warning", "warn":
		return w
	}
	return ""
}

// hasExceptionToken finds a word like java.lang.IllegalStateException or
// ValueError at the start of the text or after a blank, followed by ':' or
// the end of the text.
func hasExceptionToken(head string) bool {
	// Three substring scans are far cheaper than looking at every token.
	if !strings.Contains(head, "Exception") && !strings.Contains(head, "Error") && !strings.Contains(head, "Throwable") {
		return false
	}
	for start := 0; start < len(head); {
		end := strings.IndexAny(head[start:], " \t")
		tok := head[start:]
		if end >= 0 {
			tok = head[start : start+end]
		}
		name, colon := strings.CutSuffix(tok, ":")
		if (colon || end < 0) && isExceptionName(name) {
			return true
		}
		if end < 0 {
			break
		}
		start += end + 1
	}
	return false
}

func isExceptionName(name string) bool {
	if !strings.HasSuffix(name, "Exception") && !strings.HasSuffix(name, "Error") && !strings.HasSuffix(name, "Throwable") {
		return false
	}
	parts := strings.Split(name, ".")
	last := parts[len(parts)-1]
	if last == "" || last[0] < 'A' || last[0] > 'Z' {
		return false
	}
	for _, p := range parts {
		if p == "" || !isIdent(p) || (p[0] >= '0' && p[0] <= '9') {
			return false
		}
	}
	return true
}

func isIdent(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isWordByte(s[i]) && s[i] != '$' {
			return false
		}
	}
	return true
}

func isUpper(c byte) bool { return c >= 'A' && c <= 'Z' }
