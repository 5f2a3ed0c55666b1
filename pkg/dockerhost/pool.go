// Package dockerhost reaches the Docker engines of worker hosts: one official
// client per host, created on first use and cached, engine errors classified
// retryable or permanent, health checks, and the container allow-list.
package dockerhost

import (
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/docker/cli/cli/connhelper"
	"github.com/docker/docker/client"

	"github.com/cyberbrain/cyberbrain/pkg/domain"
	"github.com/cyberbrain/cyberbrain/pkg/store"
)

// Pool caches one Docker client per worker host. A host row whose address or
// TLS material changed gets a new client on its next use.
type Pool struct {
	mu      sync.Mutex
	clients map[int64]pooled
}

type pooled struct {
	fingerprint string
	cli         *client.Client
}

// NewPool returns an empty pool.
func NewPool() *Pool { return &Pool{clients: map[int64]pooled{}} }

// Client returns the cached client of host, building it when missing or when
// the host's connection settings changed. Errors are permanent: a malformed
// URL or bad TLS material does not fix itself on retry.
func (p *Pool) Client(host *store.WorkerHost) (*client.Client, error) {
	fp := fingerprint(host)
	p.mu.Lock()
	defer p.mu.Unlock()
	if c, ok := p.clients[host.ID]; ok {
		if c.fingerprint == fp {
			return c.cli, nil
		}
		// Jobs still holding the old client finish on it; closing only drops
		// idle connections.
		_ = c.cli.Close()
		delete(p.clients, host.ID)
	}
	cli, err := newClient(host)
	if err != nil {
		return nil, domain.Permanent(fmt.Errorf("%s: %w", Describe(host), err))
	}
	p.clients[host.ID] = pooled{fingerprint: fp, cli: cli}
	return cli, nil
}

// Close closes every cached client.
func (p *Pool) Close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for id, c := range p.clients {
		_ = c.cli.Close()
		delete(p.clients, id)
	}
}

// Describe names a host the way every error message does:
// worker host "local" (unix:///var/run/docker.sock).
func Describe(host *store.WorkerHost) string {
	return fmt.Sprintf("worker host %q (%s)", host.Name, Address(host))
}

// Address is the engine address of a host; an empty base_url means the
// engine local to this process (DOCKER_HOST, else the default socket).
func Address(host *store.WorkerHost) string {
	if host.BaseURL != "" {
		return host.BaseURL
	}
	if h := envDockerHost(); h != "" {
		return h
	}
	return client.DefaultDockerHost
}

// IsLocal reports whether the host's engine runs on this machine (its own
// socket), which lets gpu_report run nvidia-smi directly.
func IsLocal(host *store.WorkerHost) bool {
	return strings.HasPrefix(Address(host), "unix://")
}

func envDockerHost() string { return os.Getenv(client.EnvOverrideHost) }

func fingerprint(h *store.WorkerHost) string {
	sum := sha256.Sum256([]byte(strings.Join([]string{
		string(h.Type), h.BaseURL, h.TLSCA, h.TLSCert, h.TLSKey, fmt.Sprint(h.TLSVerify), envDockerHost(),
	}, "\x00")))
	return hex.EncodeToString(sum[:])
}

func newClient(h *store.WorkerHost) (*client.Client, error) {
	opts := []client.Opt{client.WithAPIVersionNegotiation()}
	switch {
	case h.BaseURL == "":
		opts = append(opts, client.FromEnv)
	case strings.HasPrefix(h.BaseURL, "unix://"):
		opts = append(opts, client.WithHost(h.BaseURL))
	case strings.HasPrefix(h.BaseURL, "tcp://"), strings.HasPrefix(h.BaseURL, "https://"), strings.HasPrefix(h.BaseURL, "http://"):
		hc, err := tcpHTTPClient(h)
		if err != nil {
			return nil, err
		}
		addr := h.BaseURL
		if i := strings.Index(addr, "://"); i >= 0 {
			addr = "tcp" + addr[i:]
		}
		opts = append(opts, client.WithHTTPClient(hc), client.WithHost(addr))
		if hc.Transport.(*http.Transport).TLSClientConfig != nil {
			opts = append(opts, client.WithScheme("https"))
		}
	case strings.HasPrefix(h.BaseURL, "ssh://"):
		// The ssh helper runs `ssh … docker system dial-stdio` on the remote
		// side: the scheduler needs an ssh client and a key for the user.
		helper, err := connhelper.GetConnectionHelper(h.BaseURL)
		if err != nil {
			return nil, fmt.Errorf("ssh connection helper: %w", err)
		}
		hc := &http.Client{Transport: &http.Transport{DialContext: helper.Dialer}}
		opts = append(opts, client.WithHTTPClient(hc), client.WithHost(helper.Host), client.WithDialContext(helper.Dialer))
	default:
		return nil, fmt.Errorf("unsupported base_url scheme (want unix://, tcp:// or ssh://)")
	}
	cli, err := client.NewClientWithOpts(opts...)
	if err != nil {
		return nil, fmt.Errorf("create docker client: %w", err)
	}
	return cli, nil
}

// tcpHTTPClient builds the transport of a tcp:// host, with TLS when the host
// row carries any TLS material (CA to verify the engine, cert+key to
// authenticate to it).
func tcpHTTPClient(h *store.WorkerHost) (*http.Client, error) {
	tr := &http.Transport{
		Proxy:               http.ProxyFromEnvironment,
		TLSHandshakeTimeout: 10 * time.Second,
		IdleConnTimeout:     90 * time.Second,
	}
	if h.TLSCA != "" || h.TLSCert != "" || h.TLSKey != "" || strings.HasPrefix(h.BaseURL, "https://") {
		cfg := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: !h.TLSVerify} //nolint:gosec // operator's explicit choice
		if h.TLSCA != "" {
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM([]byte(h.TLSCA)) {
				return nil, errors.New("tls_ca holds no PEM certificate")
			}
			cfg.RootCAs = pool
		}
		if h.TLSCert != "" || h.TLSKey != "" {
			cert, err := tls.X509KeyPair([]byte(h.TLSCert), []byte(h.TLSKey))
			if err != nil {
				return nil, fmt.Errorf("tls_cert/tls_key: %w", err)
			}
			cfg.Certificates = []tls.Certificate{cert}
		}
		tr.TLSClientConfig = cfg
	}
	return &http.Client{Transport: tr}, nil
}
