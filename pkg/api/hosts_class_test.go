package api

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/cyberbrain/cyberbrain/pkg/store"
)

// TestHealthAnswersAClassOnly: a health check's raw error (which tells a
// closed port from an open one and quotes what answered) is logged, while
// the API answers and records only its class: pointing a worker host at an
// address and checking it is not a port scanner.
func TestHealthAnswersAClassOnly(t *testing.T) {
	t.Parallel()
	fc := newFakeChecker()
	e := newEnv(t, func(c *Config) { c.HostChecker = fc })
	e.must(201, "POST", "/api/worker-hosts/", `{"name":"probe","type":"docker_tcp","base_url":"tcp://127.0.0.1:5432"}`)
	raw := "ping: Get \"http://127.0.0.1:5432/_ping\": net/http: HTTP/1.x transport connection broken: malformed HTTP response \"\\x00\\x00\""
	fc.set("probe", store.HostHealth{Error: "not a Docker engine", Detail: raw}, nil)
	r := e.must(200, "GET", "/api/worker-hosts/2/health/?check=true", "")
	if !contains(r.Body, `"last_error":"not a Docker engine"`) || contains(r.Body, "malformed") || contains(r.Body, "5432/_ping") {
		t.Errorf("health answer: %s", r.Body)
	}
	fc.set("probe", store.HostHealth{}, errors.New("dial tcp 127.0.0.1:5432: connect: connection refused"))
	r = e.must(200, "GET", "/api/worker-hosts/2/health/?check=true", "")
	list := e.must(200, "GET", "/api/worker-hosts/", "")
	for _, b := range [][]byte{r.Body, list.Body} {
		if contains(b, "refused") || !contains(b, `"last_error":"engine unreachable"`) {
			t.Errorf("raw error reached the client: %s", b)
		}
	}
	logged := 0
	for _, l := range e.logs.All() {
		if d, _ := l.ContextMap()["detail"].(string); strings.Contains(d, "connection refused") || strings.Contains(d, "malformed HTTP") {
			logged++
		}
	}
	if logged != 2 {
		t.Errorf("%d log lines carry the raw detail, want 2", logged)
	}
}

// TestDockerSocketAllowList: a docker_socket host may name only the sockets
// the operator allows (--docker-socket-allow, default the Docker socket);
// a host stored with another path is never contacted by a check.
func TestDockerSocketAllowList(t *testing.T) {
	t.Parallel()
	fc := newFakeChecker()
	e := newEnv(t, func(c *Config) {
		c.HostChecker = fc
		c.SocketPaths = []string{"/var/run/docker.sock", "unix:///run/user/1000/docker.sock"}
	})
	for i, tc := range []struct {
		url string
		ok  bool
	}{
		{"", true},
		{"unix:///var/run/docker.sock", true},
		{"unix:///run/user/1000/docker.sock", true},
		{"unix:///run/user/1000/../1000/docker.sock", true}, // cleaned
		{"unix:///run/postgresql/.s.PGSQL.5432", false},
		{"unix:///var/run/docker.sock.bak", false},
		{"unix://var/run/docker.sock", false}, // relative
		{"unix:///var/run/docker.sock?x=1", false},
	} {
		r := e.do(http.MethodPost, "/api/worker-hosts/", fmt.Sprintf(`{"name":"s%d","base_url":%q}`, i, tc.url))
		if tc.ok != (r.Status == http.StatusCreated) {
			t.Errorf("%q: %d %s", tc.url, r.Status, r.Body)
		}
		if !tc.ok && len(fieldErrors(t, r)["base_url"]) == 0 {
			t.Errorf("%q: 400 does not name base_url: %s", tc.url, r.Body)
		}
	}
	// PATCH is held to the same rule.
	e.must(400, "PATCH", "/api/worker-hosts/2/", `{"base_url":"unix:///tmp/other.sock"}`)

	// A row written before the list was narrowed is not contacted.
	e.exec(`UPDATE worker_hosts SET base_url = 'unix:///tmp/other.sock' WHERE id = 2`)
	r := e.must(200, "GET", "/api/worker-hosts/2/health/?check=true", "")
	if fc.n("s1") != 0 || !contains(r.Body, `"last_error":"socket path not allowed"`) {
		t.Errorf("disallowed socket checked (%d calls): %s", fc.n("s1"), r.Body)
	}
}
