package logtriage

// Word lists the header learner and the masker look words up in, lower
// case. They are asked about nearly every token, so lookups fold case
// without allocating (see foldedIn).

// levelWords name a log level in any usual spelling (INFO, Info, notice,
// W, E, ...).
var levelWords = set("trace", "debug", "dbg", "info", "inf", "notice", "warn", "warning", "wrn", "error", "err",
	"eror", "fatal", "crit", "critical", "alert", "emerg", "panic", "severe", "fine", "finer", "finest",
	"verbose", "d", "i", "w", "e", "f", "v")

// dateNames are month and weekday names: parts of a date.
var dateNames = set("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
	"mon", "tue", "wed", "thu", "fri", "sat", "sun")

// calendarWords are the words of a time stamp: date names and the rest.
var calendarWords = union(dateNames, set("am", "pm", "utc", "gmt"))

// foldedIn reports whether the lower-case form of w (ASCII) is in m. The
// lowered copy lives on the stack: indexing a map with string(bytes) does
// not allocate.
func foldedIn(m map[string]bool, w string) bool {
	var b [16]byte
	if len(w) > len(b) {
		return false
	}
	for i := 0; i < len(w); i++ {
		c := w[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		b[i] = c
	}
	return m[string(b[:len(w)])]
}

func set(words ...string) map[string]bool {
	m := make(map[string]bool, len(words))
	for _, w := range words {
		m[w] = true
	}
	return m
}

func union(a, b map[string]bool) map[string]bool {
	m := make(map[string]bool, len(a)+len(b))
	for k := range a {
		m[k] = true
	}
	for k := range b {
		m[k] = true
	}
	return m
}
