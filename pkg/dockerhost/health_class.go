package dockerhost

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"strings"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/client"
)

// Health error classes: what a health check records and the API answers.
// The raw error (which tells a closed port from an open one, quotes an HTTP
// server's answer or a certificate's names) goes to the log only, so that a
// worker host pointed at an arbitrary address is not a port scanner.
const (
	ClassUnreachable = "engine unreachable"
	ClassNotDocker   = "not a Docker engine"
	ClassTLS         = "TLS failure"
	ClassConfig      = "invalid host configuration"
	ClassEngine      = "engine error"
)

// HealthClass sorts a health check's error into one of the classes above.
func HealthClass(err error) string {
	var (
		unknownCA  x509.UnknownAuthorityError
		hostname   x509.HostnameError
		invalid    x509.CertificateInvalidError
		verify     *tls.CertificateVerificationError
		recordHdr  tls.RecordHeaderError
		alert      tls.AlertError
		netErr     net.Error
		opErr      *net.OpError
		dnsErr     *net.DNSError
		msg        = strings.ToLower(errString(err))
		notDockerS = []string{"malformed http", "eof", "readlooppeekfail", "unsolicited response", "connection reset", "unexpected end",
			"invalid character", "api version", "is not a docker", "page not found"}
	)
	switch {
	case err == nil:
		return ""
	case errors.As(err, &unknownCA), errors.As(err, &hostname), errors.As(err, &invalid), errors.As(err, &verify),
		errors.As(err, &recordHdr), errors.As(err, &alert), strings.Contains(msg, "tls:"), strings.Contains(msg, "x509:"),
		strings.Contains(msg, "http response to https client"), strings.Contains(msg, "http request to an https server"):
		return ClassTLS
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled), errors.As(err, &dnsErr),
		strings.Contains(msg, "connection refused"), strings.Contains(msg, "no such file or directory"),
		strings.Contains(msg, "no route to host"), strings.Contains(msg, "network is unreachable"),
		strings.Contains(msg, "cannot connect to the docker daemon"):
		return ClassUnreachable
	case cerrdefs.IsNotFound(err) || cerrdefs.IsNotImplemented(err):
		return ClassNotDocker // an HTTP server, but /_ping is not there
	}
	for _, s := range notDockerS {
		if strings.Contains(msg, s) {
			return ClassNotDocker // something answered, but not the Docker API
		}
	}
	if (errors.As(err, &opErr) && opErr.Op == "dial") || client.IsErrConnectionFailed(err) ||
		(errors.As(err, &netErr) && netErr.Timeout()) {
		return ClassUnreachable
	}
	return ClassEngine
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
