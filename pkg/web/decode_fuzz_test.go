package web

import (
	"strings"
	"testing"
	"time"
)

// FuzzClientValues feeds what a client controls — the session cookie, the
// login's next target, a notification payload — to their decoders: none
// panics, no forged cookie is accepted, and next always stays on this site.
func FuzzClientValues(f *testing.F) {
	k := newSessionKeys("fuzz-token")
	f.Add(k.issue(time.Now().Add(time.Hour)), "/runs/1", "1,2,3")
	f.Add("1.", "//evil", "*")
	f.Add("", "/\\x", ",")
	f.Fuzz(func(t *testing.T, cookie, next, payload string) {
		if k.valid(cookie, time.Now()) && cookie != k.issue(parseExpiry(cookie)) {
			t.Fatalf("accepted a cookie it did not issue: %q", cookie)
		}
		n := safeNext(next)
		if !strings.HasPrefix(n, "/") || strings.HasPrefix(n, "//") || strings.HasPrefix(n, "/\\") {
			t.Fatalf("safeNext(%q) = %q leaves the site", next, n)
		}
		_ = parseIDs(payload)
	})
}

// parseExpiry reads a cookie's expiry part (for the fuzz check).
func parseExpiry(v string) time.Time {
	e, _, _ := strings.Cut(v, ".")
	var unix int64
	for _, c := range e {
		unix = unix*10 + int64(c-'0')
	}
	return time.Unix(unix, 0)
}
