package logtriage

import "strings"

// Syslog and Android logcat lines carry their level in a place of their own:
// a syslog PRI (<11>), a logcat letter (W/Tag, or "W Tag:" in threadtime),
// or, for BSD syslog as files hold it, a level word opening the message after
// "host prog[pid]:". Each test below starts with a byte check: Classify runs
// on every line.

// classifySystem recognises syslog and logcat lines.
func classifySystem(s string) (Parsed, bool) {
	if len(s) < 4 {
		return Parsed{}, false
	}
	var lvl Level
	format := ""
	switch {
	case s[0] == '<':
		if sev, ok := syslogPRI(s); ok {
			lvl, format = syslogSeverity(sev), "syslog"
		}
	case s[1] == '/' && isLogcatBrief(s):
		lvl, format = logcatLevel(s[0]), "logcat"
	case isDigit(s[0]):
		if c, ok := threadtimeLetter(s); ok {
			lvl, format = logcatLevel(c), "logcat"
		}
	case isUpper(s[0]):
		if msg, ok := bsdSyslogMessage(s); ok {
			lvl, format = Info, "syslog"
			if l := leadLevel(msg); l != "" {
				lvl = normalize(l)
			}
		}
	}
	if format == "" {
		return Parsed{}, false
	}
	// The text may say worse than the level field ("E/Tag: FATAL …").
	if l := plainLevel(s); l.Rank() > lvl.Rank() {
		lvl = l
	}
	return Parsed{Level: lvl, Message: s, Format: format}, true
}

// logcatLetters are logcat's priorities: verbose, debug, info, warn, error,
// fatal and assert.
const logcatLetters = "VDIWEFA"

func logcatLevel(c byte) Level {
	switch c {
	case 'W':
		return Warn
	case 'E':
		return Error
	case 'F', 'A':
		return Fatal
	}
	return Info
}

// isLogcatBrief tells "W/Tag( 1234): msg" and "E/Tag: msg" from text that
// merely starts like them ("I/O error", "A/B test").
func isLogcatBrief(s string) bool {
	if strings.IndexByte(logcatLetters, s[0]) < 0 {
		return false
	}
	end := strings.IndexAny(s, "(: ")
	if end <= 2 {
		return false
	}
	if s[end] == ' ' {
		// logcat pads short tags: "F/libc    ( 2345): …"
		rest := strings.TrimLeft(s[end:], " ")
		return rest != "" && rest[0] == '('
	}
	return true
}

// threadtimeLetter reads logcat's threadtime and time formats,
// "01-02 15:04:05.123  1234  5678 W Tag: msg" and "01-02 15:04:05.123 W/Tag( 1234): msg".
func threadtimeLetter(s string) (byte, bool) {
	if len(s) < 21 || s[2] != '-' || s[5] != ' ' || s[8] != ':' || s[11] != ':' || s[14] != '.' {
		return 0, false
	}
	f := strings.Fields(s[15:min(len(s), 60)])
	for i, w := range f {
		if i > 3 {
			break
		}
		if len(w) == 1 && strings.IndexByte(logcatLetters, w[0]) >= 0 && i+1 < len(f) {
			return w[0], true
		}
		if len(w) > 2 && w[1] == '/' && strings.IndexByte(logcatLetters, w[0]) >= 0 {
			return w[0], true
		}
	}
	return 0, false
}

// syslogPRI reads "<N>" (RFC 3164 and 5424) and returns N's severity.
func syslogPRI(s string) (int, bool) {
	n, i := 0, 1
	for ; i < len(s) && i <= 4 && isDigit(s[i]); i++ {
		n = n*10 + int(s[i]-'0')
	}
	if i == 1 || i >= len(s) || s[i] != '>' || n > 191 {
		return 0, false
	}
	return n % 8, true
}

// syslogSeverity maps syslog's 0 (emerg) … 7 (debug) onto levels.
func syslogSeverity(sev int) Level {
	switch {
	case sev <= 2:
		return Fatal
	case sev == 3:
		return Error
	case sev == 4:
		return Warn
	}
	return Info
}

// bsdSyslogMessage is the message of "Jan  2 15:04:05 host prog[pid]: msg".
func bsdSyslogMessage(s string) (string, bool) {
	if len(s) < 20 || s[3] != ' ' || !foldedIn(dateNames, s[:3]) {
		return "", false
	}
	rest := strings.TrimLeft(s[4:], " ")
	day, rest, _ := strings.Cut(rest, " ")
	clock, rest, _ := strings.Cut(rest, " ")
	if len(day) == 0 || len(day) > 2 || !isDigit(day[0]) || len(clock) != 8 || clock[2] != ':' || clock[5] != ':' {
		return "", false
	}
	_, rest, _ = strings.Cut(rest, " ") // the host
	tag, msg, ok := strings.Cut(rest, ": ")
	if !ok || tag == "" || strings.IndexByte(tag, ' ') >= 0 {
		return "", false
	}
	return strings.TrimLeft(msg, " "), true
}
