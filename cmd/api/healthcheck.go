package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/spf13/cobra"

	"github.com/cyberbrain/cyberbrain/pkg/cmdutil"
)

// newHealthcheckCmd is `api healthcheck`: GET /healthz (or --path) on the
// local API and exit 0 on 200, 1 otherwise. It is the image's HEALTHCHECK,
// since the distroless runtime has no shell or curl. It reads --addr from
// CYBERBRAIN_ADDR like the server, and dials loopback when the server listens
// on a wildcard address.
func newHealthcheckCmd() *cobra.Command {
	var (
		addr    string
		path    string
		timeout time.Duration
	)
	cmd := &cobra.Command{
		Use:   "healthcheck",
		Short: "probe the local API's /healthz and exit non-zero unless it answers 200",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, cancel := context.WithTimeout(cmd.Context(), timeout)
			defer cancel()
			return probe(ctx, probeURL(addr, path))
		},
	}
	f := cmd.Flags()
	f.StringVar(&addr, "addr", "127.0.0.1:9595", "address the API listens on")
	f.StringVar(&path, "path", "/healthz", "path to probe (/healthz or /readyz)")
	cmdutil.DurationFlag(f, &timeout, "healthcheck-timeout", 3*time.Second, "give up after this long")
	cmdutil.AnnotateEnv(f)
	return cmd
}

// probeURL turns a listen address into a URL to dial: a wildcard or empty host
// becomes loopback.
func probeURL(addr, path string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		host, port = "127.0.0.1", "9595"
	}
	switch host {
	case "", "0.0.0.0", "::", "[::]":
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port) + path
}

func probe(ctx context.Context, url string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fmt.Errorf("healthcheck %s: %w", url, err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("healthcheck %s: %w", url, err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("healthcheck %s: status %d", url, resp.StatusCode)
	}
	return nil
}
