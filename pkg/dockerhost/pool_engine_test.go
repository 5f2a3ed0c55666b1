package dockerhost

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/docker/docker/client"

	"github.com/cyberbrain/cyberbrain/pkg/domain"
	"github.com/cyberbrain/cyberbrain/pkg/store"
)

// fakeEngine answers the two calls of a health check the way dockerd does.
func fakeEngine(version string, versionStatus int) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.HasSuffix(r.URL.Path, "/_ping"):
			w.Header().Set("Api-Version", "1.41")
			w.Header().Set("Ostype", "linux")
			_, _ = w.Write([]byte("OK"))
		case strings.HasSuffix(r.URL.Path, "/version"):
			if versionStatus != http.StatusOK {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(versionStatus)
				_, _ = w.Write([]byte(`{"message":"engine is shutting down"}`))
				return
			}
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(map[string]string{"Version": version, "ApiVersion": "1.41", "MinAPIVersion": "1.12", "Os": "linux"})
		default:
			http.NotFound(w, r)
		}
	})
}

var quietLog = log.New(io.Discard, "", 0)

func certPEM(c *x509.Certificate) string {
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw}))
}

func tcpAddr(srv *httptest.Server) string { return "tcp://" + srv.Listener.Addr().String() }

// TestTLSEngineHealth drives the pool's TLS set-up against a real TLS
// listener: the CA pins the engine, verification can be turned off, and
// mutual TLS presents the host's client certificate.
func TestTLSEngineHealth(t *testing.T) {
	t.Parallel()
	srv := httptest.NewUnstartedServer(fakeEngine("24.0.7-fake", http.StatusOK))
	srv.Config.ErrorLog = quietLog // the failing handshakes are the point
	srv.StartTLS()
	t.Cleanup(srv.Close)
	ca := certPEM(srv.Certificate())
	otherCA, _ := selfSigned(t)

	cases := []struct {
		name    string
		host    store.WorkerHost
		healthy bool
		errHas  string // in the raw detail; the recorded error is ClassTLS
	}{
		{"pinned CA", store.WorkerHost{ID: 1, Name: "pinned", BaseURL: tcpAddr(srv), TLSCA: ca, TLSVerify: true}, true, ""},
		{"https scheme with pinned CA", store.WorkerHost{ID: 2, Name: "https", BaseURL: "https://" + srv.Listener.Addr().String(), TLSCA: ca, TLSVerify: true}, true, ""},
		{"wrong CA", store.WorkerHost{ID: 3, Name: "wrong-ca", BaseURL: tcpAddr(srv), TLSCA: otherCA, TLSVerify: true}, false, "certificate"},
		{"system roots do not know a private CA", store.WorkerHost{ID: 4, Name: "system", BaseURL: "https://" + srv.Listener.Addr().String(), TLSVerify: true}, false, "certificate"},
		{"verification off", store.WorkerHost{ID: 5, Name: "insecure", BaseURL: "https://" + srv.Listener.Addr().String(), TLSVerify: false}, true, ""},
		{"plain http to a TLS engine", store.WorkerHost{ID: 6, Name: "plain", BaseURL: tcpAddr(srv)}, false, `worker host "plain"`},
	}
	pool := NewPool()
	t.Cleanup(pool.Close)
	for _, c := range cases {
		r := pool.Check(context.Background(), &c.host)
		if r.Healthy != c.healthy || !strings.Contains(r.Detail, c.errHas) {
			t.Errorf("%s: healthy=%v detail=%q; want healthy=%v, detail containing %q", c.name, r.Healthy, r.Detail, c.healthy, c.errHas)
		}
		if !c.healthy && r.Error != ClassTLS {
			t.Errorf("%s: error %q, want %q", c.name, r.Error, ClassTLS)
		}
		if c.healthy && r.EngineVersion != "24.0.7-fake" {
			t.Errorf("%s: engine version %q", c.name, r.EngineVersion)
		}
		if !c.healthy && (r.EngineVersion != "" || !strings.Contains(r.Detail, `worker host "`+c.host.Name+`"`)) {
			t.Errorf("%s: unhealthy result %+v must name the host and carry no version", c.name, r)
		}
		if r.GPUs != nil {
			t.Errorf("%s: a remote host got a GPU count %d", c.name, *r.GPUs)
		}
	}
}

func TestMutualTLSEngine(t *testing.T) {
	t.Parallel()
	clientCert, clientKey := selfSigned(t)
	clientPool := x509.NewCertPool()
	clientPool.AppendCertsFromPEM([]byte(clientCert))
	srv := httptest.NewUnstartedServer(fakeEngine("25.0.0-mtls", http.StatusOK))
	srv.Config.ErrorLog = quietLog
	srv.TLS = &tls.Config{ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: clientPool, MinVersion: tls.VersionTLS12}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	ca := certPEM(srv.Certificate())

	pool := NewPool()
	t.Cleanup(pool.Close)
	withCert := store.WorkerHost{ID: 1, Name: "mtls", BaseURL: tcpAddr(srv), TLSCA: ca, TLSCert: clientCert, TLSKey: clientKey, TLSVerify: true}
	if r := pool.Check(context.Background(), &withCert); !r.Healthy || r.EngineVersion != "25.0.0-mtls" {
		t.Errorf("with a client certificate: %+v", r)
	}
	without := withCert
	without.ID, without.Name, without.TLSCert, without.TLSKey = 2, "no-cert", "", ""
	// The recorded error is the class; the raw one (for the log) names the host.
	if r := pool.Check(context.Background(), &without); r.Healthy || r.Error != ClassTLS || !strings.Contains(r.Detail, `worker host "no-cert"`) {
		t.Errorf("without a client certificate: %+v", r)
	}
}

// TestEngineAnsweringPingButNotVersion: healthy needs both answers.
func TestEngineAnsweringPingButNotVersion(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(fakeEngine("", http.StatusServiceUnavailable))
	t.Cleanup(srv.Close)
	pool := NewPool()
	t.Cleanup(pool.Close)
	host := store.WorkerHost{ID: 1, Name: "half", BaseURL: "tcp://" + srv.Listener.Addr().String()}
	r := pool.Check(context.Background(), &host)
	if r.Healthy || r.Error != ClassEngine || !strings.Contains(r.Detail, `worker host "half"`) || !strings.Contains(r.Detail, "version") ||
		!strings.Contains(r.Detail, "engine is shutting down") {
		t.Errorf("result = %+v", r)
	}
	hh, err := pool.Health(context.Background(), host)
	if err != nil || hh.Healthy || hh.Error != r.Error || hh.Detail != r.Detail || hh.EngineVersion != "" {
		t.Errorf("Health = %+v, %v", hh, err)
	}
	// A plain-http engine that answers both calls is healthy.
	ok := httptest.NewServer(fakeEngine("20.10.24", http.StatusOK))
	t.Cleanup(ok.Close)
	hh, err = pool.Health(context.Background(), store.WorkerHost{ID: 2, Name: "ok", BaseURL: "tcp://" + ok.Listener.Addr().String()})
	if err != nil || !hh.Healthy || hh.EngineVersion != "20.10.24" || hh.Error != "" {
		t.Errorf("healthy engine: %+v, %v", hh, err)
	}
}

func TestCheckWithUnbuildableClient(t *testing.T) {
	t.Parallel()
	pool := NewPool()
	t.Cleanup(pool.Close)
	for _, h := range []store.WorkerHost{
		{ID: 1, Name: "ftp", BaseURL: "ftp://box"},
		{ID: 2, Name: "bad-ca", BaseURL: "tcp://10.0.0.1:2376", TLSCA: "not pem", TLSVerify: true},
		{ID: 3, Name: "half-pair", BaseURL: "tcp://10.0.0.1:2376", TLSCert: "x"},
	} {
		r := pool.Check(context.Background(), &h)
		want := map[string]string{"ftp": ClassConfig, "bad-ca": ClassTLS, "half-pair": ClassTLS}[h.Name]
		if r.Healthy || r.Error != want || !strings.Contains(r.Detail, `worker host "`+h.Name+`"`) {
			t.Errorf("%s: %+v, want error %q", h.Name, r, want)
		}
		_, err := pool.Client(&h)
		if err == nil || domain.IsRetryable(err) {
			t.Errorf("%s: client error %v must be permanent", h.Name, err)
		}
	}
	_, err := pool.Client(&store.WorkerHost{ID: 4, Name: "bad-ca", BaseURL: "tcp://10.0.0.1:2376", TLSCA: "not pem"})
	if err == nil || !strings.Contains(err.Error(), "tls_ca holds no PEM certificate") {
		t.Errorf("bad CA: %v", err)
	}
}

func TestTLSSettings(t *testing.T) {
	t.Parallel()
	cert, key := selfSigned(t)
	cases := []struct {
		name     string
		host     store.WorkerHost
		tls      bool
		insecure bool
		certs    int
	}{
		{"plain tcp", store.WorkerHost{BaseURL: "tcp://h:2375"}, false, false, 0},
		{"plain http", store.WorkerHost{BaseURL: "http://h:2375", TLSVerify: true}, false, false, 0},
		{"https without material verifies with system roots", store.WorkerHost{BaseURL: "https://h:2376", TLSVerify: true}, true, false, 0},
		{"CA only", store.WorkerHost{BaseURL: "tcp://h:2376", TLSCA: cert, TLSVerify: true}, true, false, 0},
		{"client pair", store.WorkerHost{BaseURL: "tcp://h:2376", TLSCert: cert, TLSKey: key, TLSVerify: true}, true, false, 1},
		{"verify off", store.WorkerHost{BaseURL: "tcp://h:2376", TLSCA: cert, TLSVerify: false}, true, true, 0},
	}
	for _, c := range cases {
		hc, err := tcpHTTPClient(&c.host)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		cfg := hc.Transport.(*http.Transport).TLSClientConfig
		if (cfg != nil) != c.tls {
			t.Errorf("%s: TLS %v, want %v", c.name, cfg != nil, c.tls)
			continue
		}
		if cfg == nil {
			continue
		}
		if cfg.InsecureSkipVerify != c.insecure || len(cfg.Certificates) != c.certs || cfg.MinVersion != tls.VersionTLS12 {
			t.Errorf("%s: insecure %v certs %d min version %x", c.name, cfg.InsecureSkipVerify, len(cfg.Certificates), cfg.MinVersion)
		}
		if (c.host.TLSCA != "") != (cfg.RootCAs != nil) {
			t.Errorf("%s: root CAs set %v with CA %v", c.name, cfg.RootCAs != nil, c.host.TLSCA != "")
		}
	}
}

// TestPoolCachesPerHostAndSettings: one client per host while its connection
// settings stay the same; any change of address or TLS material rebuilds it.
func TestPoolCachesPerHostAndSettings(t *testing.T) {
	t.Parallel()
	cert, key := selfSigned(t)
	pool := NewPool()
	t.Cleanup(pool.Close)
	base := store.WorkerHost{ID: 1, Name: "remote", Type: "docker_tcp", BaseURL: "tcp://10.0.0.1:2376", TLSCA: cert, TLSVerify: true}
	first, err := pool.Client(&base)
	if err != nil {
		t.Fatal(err)
	}
	// Renaming or disabling a host does not touch its connection.
	renamed := base
	renamed.Name, renamed.Enabled = "renamed", false
	if c, _ := pool.Client(&renamed); c != first {
		t.Error("renaming a host rebuilt its client")
	}
	other := base
	other.ID = 2
	if c, _ := pool.Client(&other); c == first {
		t.Error("two hosts share a client")
	}
	for _, change := range []func(h *store.WorkerHost){
		func(h *store.WorkerHost) { h.TLSVerify = false },
		func(h *store.WorkerHost) { h.TLSCert, h.TLSKey = cert, key },
		func(h *store.WorkerHost) { h.TLSCA = "" },
		func(h *store.WorkerHost) { h.Type = "docker_ssh" },
	} {
		h := base
		change(&h)
		c, err := pool.Client(&h)
		if err != nil {
			t.Fatal(err)
		}
		if c == first {
			t.Errorf("changed settings %+v kept the old client", h)
		}
		first = c
		base = h
	}
	pool.Close()
	if c, err := pool.Client(&base); err != nil || c == first {
		t.Errorf("after Close: client reused %v, err %v", c == first, err)
	}
}

func TestPoolConcurrentUseSharesOneClient(t *testing.T) {
	t.Parallel()
	pool := NewPool()
	t.Cleanup(pool.Close)
	h := store.WorkerHost{ID: 9, Name: "busy", BaseURL: "unix:///tmp/busy.sock"}
	const n = 16
	got := make([]*client.Client, n)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			hc := h // each job loads its own copy of the row
			got[i], _ = pool.Client(&hc)
		}()
	}
	wg.Wait()
	for i := 1; i < n; i++ {
		if got[i] == nil || got[i] != got[0] {
			t.Fatalf("concurrent callers got different clients (%d)", i)
		}
	}
}

// TestPoolFollowsDockerHostForTheLocalHost: a host without base_url uses
// DOCKER_HOST; when the variable changes the client follows.
func TestPoolFollowsDockerHostForTheLocalHost(t *testing.T) {
	t.Setenv("DOCKER_HOST", "unix:///tmp/one.sock")
	pool := NewPool()
	t.Cleanup(pool.Close)
	local := store.WorkerHost{ID: 1, Name: "local", Type: "docker_socket"}
	a, err := pool.Client(&local)
	if err != nil || a.DaemonHost() != "unix:///tmp/one.sock" {
		t.Fatalf("client on %v, %v", a.DaemonHost(), err)
	}
	t.Setenv("DOCKER_HOST", "unix:///tmp/two.sock")
	b, err := pool.Client(&local)
	if err != nil || b == a || b.DaemonHost() != "unix:///tmp/two.sock" {
		t.Errorf("after DOCKER_HOST changed: client on %v (same %v), %v", b.DaemonHost(), b == a, err)
	}
}
