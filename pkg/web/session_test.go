package web

import (
	"testing"
	"time"
)

// A session cookie is accepted until it expires, and not at all once its
// expiry or signature is altered or the token changes.
func TestSessionCookie(t *testing.T) {
	now := time.Now()
	k := newSessionKeys("token-1")
	v := k.issue(now.Add(time.Hour))
	if !k.valid(v, now) {
		t.Fatal("fresh session refused")
	}
	if k.valid(v, now.Add(2*time.Hour)) {
		t.Fatal("expired session accepted")
	}
	if newSessionKeys("token-2").valid(v, now) {
		t.Fatal("session survived a token change")
	}
	exp, sig := v[:10], v[11:]
	flipped := "A"
	if sig[len(sig)-1] == 'A' {
		flipped = "B"
	}
	for _, bad := range []string{"", ".", exp, exp + ".", "9999999999." + sig, exp + "." + sig[:len(sig)-1] + flipped, "x." + sig} {
		if k.valid(bad, now) {
			t.Errorf("forged value %q accepted", bad)
		}
	}
}

// The login redirect only ever goes to a path on this site.
func TestSafeNext(t *testing.T) {
	for in, want := range map[string]string{
		"/runs/5":         "/runs/5",
		"/runs?status=ok": "/runs?status=ok",
		"":                "/",
		"//evil.example":  "/",
		"/\\evil.example": "/",
		"https://evil":    "/",
		"/login?next=/x":  "/",
	} {
		if got := safeNext(in); got != want {
			t.Errorf("safeNext(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestParseIDs(t *testing.T) {
	if got := parseIDs("3,1,2"); len(got) != 3 || got[0] != 3 || got[2] != 2 {
		t.Fatalf("parseIDs = %v", got)
	}
	for _, p := range []string{"*", "", "1,x", "1,,2"} {
		if got := parseIDs(p); got != nil {
			t.Errorf("parseIDs(%q) = %v, want nil (refresh everything)", p, got)
		}
	}
}

// A subscriber that stops reading is dropped (its browser reconnects)
// instead of blocking the others.
func TestHubDropsSlowSubscriber(t *testing.T) {
	h := newHub(nil, nil)
	slow, fast := h.subscribe(), h.subscribe()
	for range cap(slow) + 1 {
		h.broadcast(runsEvent{All: true})
		<-fast
	}
	n := 0
	for range slow { // closed after its buffer
		n++
	}
	if n != cap(slow) {
		t.Fatalf("slow subscriber got %d events before being dropped, want %d", n, cap(slow))
	}
	h.broadcast(runsEvent{All: true})
	if _, ok := <-fast; !ok {
		t.Fatal("the reading subscriber was dropped too")
	}
}
