package dockerhost

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cyberbrain/cyberbrain/pkg/domain"
	"github.com/cyberbrain/cyberbrain/pkg/store"
)

func selfSigned(t *testing.T) (certPEM, keyPEM string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "cyberbrain-test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})),
		string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}))
}

func TestTCPHostWithTLS(t *testing.T) {
	t.Parallel()
	cert, key := selfSigned(t)
	h := &store.WorkerHost{ID: 1, Name: "remote", Type: "docker_tcp", BaseURL: "tcp://10.1.2.3:2376",
		TLSCA: cert, TLSCert: cert, TLSKey: key, TLSVerify: true}
	hc, err := tcpHTTPClient(h)
	if err != nil {
		t.Fatal(err)
	}
	cfg := hc.Transport.(*http.Transport).TLSClientConfig
	if cfg == nil || cfg.RootCAs == nil || len(cfg.Certificates) != 1 || cfg.InsecureSkipVerify {
		t.Fatalf("tls config = %+v", cfg)
	}
	pool := NewPool()
	t.Cleanup(pool.Close)
	if _, err := pool.Client(h); err != nil {
		t.Fatalf("client: %v", err)
	}
	bad := *h
	bad.ID, bad.TLSKey = 2, "not a key"
	_, err = pool.Client(&bad)
	if err == nil || domain.IsRetryable(err) || !strings.Contains(err.Error(), "tls_cert/tls_key") {
		t.Errorf("bad key: %v", err)
	}
	plain, err := tcpHTTPClient(&store.WorkerHost{BaseURL: "tcp://10.1.2.3:2375"})
	if err != nil || plain.Transport.(*http.Transport).TLSClientConfig != nil {
		t.Errorf("plain tcp host got TLS: %v", err)
	}
}

func TestSSHHostClient(t *testing.T) {
	t.Parallel()
	pool := NewPool()
	t.Cleanup(pool.Close)
	// Building the client runs nothing yet; ssh is spawned on the first request.
	if _, err := pool.Client(&store.WorkerHost{ID: 1, Name: "ssh", Type: "docker_ssh", BaseURL: "ssh://ops@gpu-box"}); err != nil {
		t.Fatalf("ssh client: %v", err)
	}
}
