// Package logtriage turns raw container log lines into a few templates of what
// is going wrong: it classifies levels across common formats, folds stack
// traces into their head line, and masks the variable parts of messages.
// It is pure: no Docker, no database.
package logtriage

import (
	"encoding/json"
	"regexp"
	"strings"
)

// Level is the severity of a log entry, as found in the line.
type Level string

// Levels, most severe first. Info covers every line that is not an issue.
const (
	Fatal     Level = "fatal"
	Panic     Level = "panic"
	Exception Level = "exception"
	Error     Level = "error"
	Warn      Level = "warn"
	Info      Level = "info"
)

// IssueLevels are the levels reported as issues, most severe first.
var IssueLevels = []Level{Fatal, Panic, Exception, Error, Warn}

// Rank orders levels: higher is more severe.
func (l Level) Rank() int {
	switch l {
	case Fatal:
		return 6
	case Panic:
		return 5
	case Exception:
		return 4
	case Error:
		return 3
	case Warn:
		return 2
	}
	return 1
}

// IsIssue reports whether the level is warn or worse.
func (l Level) IsIssue() bool { return l.Rank() >= Warn.Rank() }

// Parsed is one classified line: its level and the message to template
// (for structured lines the message field, not the whole document).
type Parsed struct {
	Level   Level
	Message string
	Format  string // json, logfmt, access, plain
}

var (
	// nginx/apache combined or common access log: "GET /x HTTP/1.1" 502 …
	accessRe = regexp.MustCompile(`"(?:GET|POST|PUT|DELETE|PATCH|HEAD|OPTIONS|CONNECT|TRACE) (\S+) HTTP/[0-9.]+" (\d{3}) `)
	// logfmt level key.
	logfmtLevelRe = regexp.MustCompile(`(?:^|\s)(?:level|lvl|severity)=("?)([A-Za-z]+)`)
	logfmtMsgRe   = regexp.MustCompile(`(?:^|\s)(?:msg|message)=("(?:[^"\\]|\\.)*"|\S+)`)
	logfmtErrRe   = regexp.MustCompile(`(?:^|\s)(?:err|error)=("(?:[^"\\]|\\.)*"|\S+)`)
	// klog/glog: E0102 15:04:05.000000 …
	klogRe = regexp.MustCompile(`^([IWEF])\d{4} \d{2}:\d{2}:\d{2}\.\d+`)
	// Redis: "1:M 01 Jan 2024 12:00:00.000 # message" (# = warning).
	redisRe   = regexp.MustCompile(`^\d+:[XCSM] \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2}\.\d+ ([.\-*#]) `)
	goPanicRe = regexp.MustCompile(`^panic: |^fatal error: `)
)

// Classify finds the level and message of one (already folded) line.
func Classify(line string) Parsed {
	trimmed := strings.TrimSpace(line)
	if strings.HasPrefix(trimmed, "{") {
		if p, ok := classifyJSON(trimmed); ok {
			return p
		}
	}
	if m := matchIf(strings.HasPrefix(trimmed, "panic: ") || strings.HasPrefix(trimmed, "fatal error: "), goPanicRe, trimmed); m != nil {
		if strings.HasPrefix(m[0], "panic") {
			return Parsed{Level: Panic, Message: trimmed, Format: "plain"}
		}
		return Parsed{Level: Fatal, Message: trimmed, Format: "plain"}
	}
	if strings.HasPrefix(trimmed, "Traceback (most recent call last)") {
		return Parsed{Level: Exception, Message: trimmed, Format: "plain"}
	}
	// Each pattern below is tried only when a cheap test says it may match:
	// Classify runs on every line.
	if m := matchIf(strings.Contains(trimmed, "HTTP/"), accessRe, trimmed); m != nil {
		lvl := Info
		switch m[2][0] {
		case '5':
			lvl = Error
		}
		return Parsed{Level: lvl, Message: trimmed, Format: "access"}
	}
	if m := matchIf(hasLevelKey(trimmed), logfmtLevelRe, trimmed); m != nil {
		msg := trimmed
		if mm := logfmtMsgRe.FindStringSubmatch(trimmed); mm != nil {
			msg = unquote(mm[1])
			if me := logfmtErrRe.FindStringSubmatch(trimmed); me != nil {
				msg += ": " + unquote(me[1])
			}
		}
		return Parsed{Level: normalize(m[2]), Message: msg, Format: "logfmt"}
	}
	if m := matchIf(len(trimmed) > 1 && strings.IndexByte("IWEF", trimmed[0]) >= 0 && isDigit(trimmed[1]), klogRe, trimmed); m != nil {
		return Parsed{Level: map[string]Level{"I": Info, "W": Warn, "E": Error, "F": Fatal}[m[1]], Message: trimmed, Format: "plain"}
	}
	if m := matchIf(redisLike(trimmed), redisRe, trimmed); m != nil {
		lvl := Info
		if m[1] == "#" {
			lvl = Warn
		}
		// Redis marks warnings with '#', but its own text still says which.
		if l := plainLevel(trimmed); l.Rank() > lvl.Rank() {
			lvl = l
		}
		return Parsed{Level: lvl, Message: trimmed, Format: "plain"}
	}
	if p, ok := classifySystem(trimmed); ok {
		return p
	}
	return Parsed{Level: plainLevel(trimmed), Message: trimmed, Format: "plain"}
}

// normalize maps the many spellings of levels onto ours.
func normalize(word string) Level {
	switch strings.ToLower(word) {
	case "fatal", "critical", "crit", "emerg", "emergency", "alert", "severe", "dpanic":
		return Fatal
	case "panic":
		return Panic
	case "exception":
		return Exception
	case "error", "err", "e":
		return Error
	case "warning", "warn", "w":
		return Warn
	}
	return Info
}

func classifyJSON(s string) (Parsed, bool) {
	var doc map[string]any
	if err := json.Unmarshal([]byte(s), &doc); err != nil {
		return Parsed{}, false
	}
	lvl := Info
	for _, k := range []string{"level", "lvl", "severity", "log.level", "@l", "loglevel"} {
		if v, ok := doc[k]; ok {
			switch t := v.(type) {
			case string:
				lvl = normalize(t)
			case float64:
				// bunyan/pino numeric levels: 40 warn, 50 error, 60 fatal.
				switch {
				case t >= 60:
					lvl = Fatal
				case t >= 50:
					lvl = Error
				case t >= 40:
					lvl = Warn
				}
			}
			break
		}
	}
	msg := ""
	for _, k := range []string{"msg", "message", "@m", "@mt", "event"} {
		if v, ok := doc[k].(string); ok && v != "" {
			msg = v
			break
		}
	}
	for _, k := range []string{"error", "err", "exception"} {
		if v, ok := doc[k].(string); ok && v != "" {
			if msg != "" {
				msg += ": "
			}
			msg += firstLine(v)
			break
		}
	}
	if msg == "" {
		msg = s
	}
	if lvl == Info && doc["level"] == nil && doc["severity"] == nil {
		// Unstructured level: fall back to the message text.
		lvl = plainLevel(msg)
	}
	return Parsed{Level: lvl, Message: msg, Format: "json"}, true
}

func unquote(s string) string {
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		return strings.ReplaceAll(s[1:len(s)-1], `\"`, `"`)
	}
	return s
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// matchIf runs re only when the cheap precondition holds.
func matchIf(ok bool, re *regexp.Regexp, s string) []string {
	if !ok {
		return nil
	}
	return re.FindStringSubmatch(s)
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// hasLevelKey is the cheap test for logfmt's level keys.
func hasLevelKey(s string) bool {
	return strings.Contains(s, "level=") || strings.Contains(s, "lvl=") || strings.Contains(s, "severity=")
}

// redisLike is the cheap test for Redis's "pid:role " opening.
func redisLike(s string) bool {
	i := 0
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	return i > 0 && i+2 < len(s) && s[i] == ':' && strings.IndexByte("XCSM", s[i+1]) >= 0 && s[i+2] == ' '
}
