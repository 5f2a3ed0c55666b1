package api

import (
	"net/http"
	"strings"
	"testing"
)

// TestPageLinksIgnoreHost: next/previous links come from --public-url, else
// the listen address; a client's Host header (or X-Forwarded-Host) never
// reaches a link another client may follow.
func TestPageLinksIgnoreHost(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for i := range 3 {
		e.must(201, "POST", "/api/directives/", `{"name":"d`+string(rune('a'+i))+`"}`)
	}
	r := e.do(http.MethodGet, "/api/directives/?page_size=1&page=2", "", "Host", "evil.example", "X-Forwarded-Host", "evil.example",
		"X-Forwarded-Proto", "https")
	m := r.json(t)
	for _, k := range []string{"next", "previous"} {
		link, _ := m[k].(string)
		if !strings.HasPrefix(link, e.url+"/api/directives/?") || strings.Contains(link, "evil") {
			t.Errorf("%s = %q, want a link on %s", k, link, e.url)
		}
	}

	pub := newEnv(t, func(c *Config) { c.PublicURL = "https://cb.example.com/cyberbrain/" })
	pub.must(201, "POST", "/api/directives/", `{"name":"a"}`)
	pub.must(201, "POST", "/api/directives/", `{"name":"b"}`)
	m = pub.do(http.MethodGet, "/api/directives/?page_size=1", "", "Host", "evil.example").json(t)
	if next, _ := m["next"].(string); next != "https://cb.example.com/cyberbrain/api/directives/?page=2&page_size=1" {
		t.Errorf("next = %q", next)
	}
}

// TestLinkBase: the listen address stands in for a public URL; an address
// on every interface names the loopback one; a bad --public-url is refused.
func TestLinkBase(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ public, addr, want string }{
		{"", "127.0.0.1:9595", "http://127.0.0.1:9595"},
		{"", "0.0.0.0:9595", "http://localhost:9595"},
		{"", ":9595", "http://localhost:9595"},
		{"", "[::]:9595", "http://localhost:9595"},
		{"", "[::1]:9595", "http://[::1]:9595"},
		{"", "", "http://localhost"},
		{"http://api.internal:8080", "0.0.0.0:9595", "http://api.internal:8080"},
		{"https://cb.example.com/base", "", "https://cb.example.com/base"},
	} {
		u, err := linkBase(tc.public, tc.addr)
		if err != nil || u.String() != tc.want {
			t.Errorf("linkBase(%q, %q) = %v, %v; want %s", tc.public, tc.addr, u, err, tc.want)
		}
	}
	for _, bad := range []string{"cb.example.com", "ftp://cb.example.com", "https://", "https://cb.example.com/?x=1",
		"https://u:p@cb.example.com", "https://cb.example.com/#f", "http://%zz"} {
		if _, err := linkBase(bad, ""); err == nil {
			t.Errorf("linkBase(%q) accepted", bad)
		}
	}
}
