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
	redisRe = regexp.MustCompile(`^\d+:[XCSM] \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2}\.\d+ ([.\-*#]) `)
	// Upper-case level words anywhere near the start (ERROR, WARN, FATAL…),
	// PostgreSQL's "ERROR:  …", bracketed forms in any case ([error], <warn>).
	upperLevelRe   = regexp.MustCompile(`(?:^|[^A-Za-z0-9_])(FATAL|PANIC|CRITICAL|CRIT|EMERG|EMERGENCY|ALERT|SEVERE|ERROR|ERR|EXCEPTION|WARNING|WARN)(?:[^A-Za-z0-9_]|$)`)
	bracketLevelRe = regexp.MustCompile(`(?i)[\[<(](fatal|panic|critical|crit|emerg|alert|error|err|exception|warning|warn)[\]>)]`)
	// "error: …" / "Warning: …" as the line's first word.
	leadLevelRe = regexp.MustCompile(`(?i)^(fatal|panic|error|warning|warn)\s*:`)
	// An exception head: java.lang.IllegalStateException: …, ValueError: …
	exceptionRe = regexp.MustCompile(`(?:^|\s)((?:[a-zA-Z_$][\w$]*\.)*[A-Z][\w$]*(?:Exception|Error|Throwable))(?::|$)`)
	goPanicRe   = regexp.MustCompile(`^panic: |^fatal error: `)
)

// Classify finds the level and message of one (already folded) line.
func Classify(line string) Parsed {
	trimmed := strings.TrimSpace(line)
	if strings.HasPrefix(trimmed, "{") {
		if p, ok := classifyJSON(trimmed); ok {
			return p
		}
	}
	if m := goPanicRe.FindString(trimmed); m != "" {
		if strings.HasPrefix(m, "panic") {
			return Parsed{Level: Panic, Message: trimmed, Format: "plain"}
		}
		return Parsed{Level: Fatal, Message: trimmed, Format: "plain"}
	}
	if strings.HasPrefix(trimmed, "Traceback (most recent call last)") {
		return Parsed{Level: Exception, Message: trimmed, Format: "plain"}
	}
	if m := accessRe.FindStringSubmatch(trimmed); m != nil {
		lvl := Info
		switch m[2][0] {
		case '5':
			lvl = Error
		}
		return Parsed{Level: lvl, Message: trimmed, Format: "access"}
	}
	if m := logfmtLevelRe.FindStringSubmatch(trimmed); m != nil && strings.Contains(trimmed, "=") {
		msg := trimmed
		if mm := logfmtMsgRe.FindStringSubmatch(trimmed); mm != nil {
			msg = unquote(mm[1])
			if me := logfmtErrRe.FindStringSubmatch(trimmed); me != nil {
				msg += ": " + unquote(me[1])
			}
		}
		return Parsed{Level: normalize(m[2]), Message: msg, Format: "logfmt"}
	}
	if m := klogRe.FindStringSubmatch(trimmed); m != nil {
		return Parsed{Level: map[string]Level{"I": Info, "W": Warn, "E": Error, "F": Fatal}[m[1]], Message: trimmed, Format: "plain"}
	}
	if m := redisRe.FindStringSubmatch(trimmed); m != nil {
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
	return Parsed{Level: plainLevel(trimmed), Message: trimmed, Format: "plain"}
}

// plainLevel looks for level words in free text. Only the first part of a
// line is searched so a message that merely mentions "error" further on
// (an echoed query, a URL) does not count.
func plainLevel(s string) Level {
	head := s
	if len(head) > 160 {
		head = head[:160]
	}
	best := Info
	consider := func(word string) {
		if l := normalize(word); l.Rank() > best.Rank() {
			best = l
		}
	}
	for _, m := range upperLevelRe.FindAllStringSubmatch(head, -1) {
		consider(m[1])
	}
	for _, m := range bracketLevelRe.FindAllStringSubmatch(head, -1) {
		consider(m[1])
	}
	if m := leadLevelRe.FindStringSubmatch(head); m != nil {
		consider(m[1])
	}
	if best.Rank() < Exception.Rank() && exceptionRe.MatchString(head) {
		best = Exception
	}
	return best
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
