package dockerhost

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"testing"
)

// TestHealthClassOfErrors: the classes of the errors a check meets, wrapped
// as the Docker client wraps them.
func TestHealthClassOfErrors(t *testing.T) {
	t.Parallel()
	wrap := func(err error) error { return fmt.Errorf("error during connect: %w", err) }
	for _, tc := range []struct {
		err  error
		want string
	}{
		{nil, ""},
		{wrap(&net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connect: connection refused")}), ClassUnreachable},
		{wrap(&net.DNSError{Err: "no such host", Name: "nowhere.invalid"}), ClassUnreachable},
		{wrap(context.DeadlineExceeded), ClassUnreachable},
		{errors.New("Cannot connect to the Docker daemon at unix:///x.sock. Is the docker daemon running?"), ClassUnreachable},
		{wrap(errors.New("dial unix /x.sock: connect: no such file or directory")), ClassUnreachable},
		{wrap(x509.UnknownAuthorityError{}), ClassTLS},
		{wrap(errors.New("tls: first record does not look like a TLS handshake")), ClassTLS},
		{wrap(errors.New(`net/http: HTTP/1.x transport connection broken: malformed HTTP response "SSH-2.0"`)), ClassNotDocker},
		{wrap(errors.New("EOF")), ClassNotDocker},
		{errors.New("Error response from daemon: page not found"), ClassNotDocker},
		{errors.New("Error response from daemon: engine is shutting down"), ClassEngine},
	} {
		if got := HealthClass(tc.err); got != tc.want {
			t.Errorf("HealthClass(%v) = %q, want %q", tc.err, got, tc.want)
		}
	}
}
