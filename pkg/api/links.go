package api

import (
	"fmt"
	"net"
	"net/url"
	"path/filepath"
	"strings"
)

// linkBase returns the scheme, host and path prefix of the links the API
// writes (next/previous): the configured public URL, else the listen
// address. The request's Host header is never used: a client could make the
// API hand its other clients links to a host of its choosing.
func linkBase(publicURL, addr string) (*url.URL, error) {
	if publicURL != "" {
		u, err := url.Parse(publicURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
			u.RawQuery != "" || u.Fragment != "" || u.User != nil {
			return nil, fmt.Errorf("public URL %q: want an absolute http:// or https:// URL without query, fragment or user", publicURL)
		}
		return &url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path}, nil
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		// No listen address (a server embedded through Handler): links
		// name the loopback default.
		return &url.URL{Scheme: "http", Host: "localhost"}, nil
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		// Listening on every address names none of them; the loopback one
		// at least works on this machine. Set --public-url for the others.
		host = "localhost"
	}
	return &url.URL{Scheme: "http", Host: net.JoinHostPort(host, port)}, nil
}

// CheckLinkSettings validates --public-url and --docker-socket-allow, so that
// the binary refuses them at start (exit 2) rather than after opening the
// database.
func CheckLinkSettings(publicURL string, sockets []string) error {
	if _, err := linkBase(publicURL, ""); err != nil {
		return fmt.Errorf("--public-url: %w", err)
	}
	for _, p := range sockets {
		if p = strings.TrimPrefix(strings.TrimSpace(p), "unix://"); !filepath.IsAbs(p) {
			return fmt.Errorf("--docker-socket-allow %q: want an absolute socket path", p)
		}
	}
	return nil
}
