package dockerhost

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/cyberbrain/cyberbrain/pkg/domain"
	"github.com/cyberbrain/cyberbrain/pkg/store"
)

// TestHealthClasses: what a check records is a class that says what kind of
// thing answered, never the raw error: a closed port, a port that speaks
// something else, an HTTP server that is not Docker and a TLS mismatch are
// told apart only as far as an operator needs, and the address, the other
// side's bytes and its certificate stay in Detail (the log).
func TestHealthClasses(t *testing.T) {
	t.Parallel()
	closed := listen(t)
	closedAddr := closed.Addr().String()
	closed.Close()

	garbage := listen(t) // accepts, writes non-HTTP bytes, hangs up
	go func() {
		for {
			c, err := garbage.Accept()
			if err != nil {
				return
			}
			_, _ = c.Write([]byte("SSH-2.0-OpenSSH_9.6\r\n"))
			c.Close()
		}
	}()
	web := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(web.Close)
	tlsWeb := httptest.NewTLSServer(http.NotFoundHandler())
	t.Cleanup(tlsWeb.Close)

	cases := []struct {
		name string
		host store.WorkerHost
		want string
	}{
		{"closed port", tcpHost("tcp://" + closedAddr), ClassUnreachable},
		{"not HTTP", tcpHost("tcp://" + garbage.Addr().String()), ClassNotDocker},
		{"HTTP, not Docker", tcpHost(strings.Replace(web.URL, "http://", "tcp://", 1)), ClassNotDocker},
		{"TLS to a plain port", tcpHost(strings.Replace(web.URL, "http://", "https://", 1)), ClassTLS},
		{"unknown certificate authority", tcpHost(tlsWeb.URL), ClassTLS},
		{"bad CA material", func() store.WorkerHost { h := tcpHost("tcp://" + closedAddr); h.TLSCA = "junk"; return h }(), ClassTLS},
		{"missing socket", store.WorkerHost{ID: 9, Name: "sock", Type: domain.HostDockerSocket, BaseURL: "unix:///nonexistent/docker.sock"}, ClassUnreachable},
	}
	pool := NewPool()
	t.Cleanup(pool.Close)
	for i, tc := range cases {
		tc.host.ID = int64(100 + i)
		res, err := pool.Health(context.Background(), tc.host)
		if err != nil {
			t.Fatal(err)
		}
		if res.Healthy || res.Error != tc.want {
			t.Errorf("%s: error %q, want %q (detail %s)", tc.name, res.Error, tc.want, res.Detail)
		}
		if res.Detail == "" || res.Detail == res.Error {
			t.Errorf("%s: no raw detail for the log: %q", tc.name, res.Detail)
		}
	}
}

func listen(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln
}

func tcpHost(url string) store.WorkerHost {
	return store.WorkerHost{Name: "probe", Type: domain.HostDockerTCP, BaseURL: url, TLSVerify: true}
}
