package main

import (
	"fmt"
	"net"
	"strings"
)

// effectiveNoAuth decides whether the API may listen without a token on a
// non-loopback --addr. Inside a container it must listen on 0.0.0.0 for the
// runtime to publish its port, so --addr alone cannot say who reaches it;
// --published-bind (compose sets it from CYBERBRAIN_BIND) names the host
// address the port is published on. Published on loopback only, the host's
// own users reach it and nothing else does, which is the promise of a
// loopback --addr; published anywhere else without a token it refuses, as a
// non-loopback --addr always has, unless --insecure-no-auth says so.
func effectiveNoAuth(token, publishedBind string, insecure bool) (bool, error) {
	if token != "" || insecure || publishedBind == "" {
		return insecure, nil
	}
	if loopbackHost(publishedBind) {
		return true, nil
	}
	return false, fmt.Errorf("the API is published on %s without a token: set CYBERBRAIN_API_TOKEN (openssl rand -hex 32) "+
		"in .env, or leave CYBERBRAIN_BIND at its 127.0.0.1 default (or pass --insecure-no-auth on a trusted network only)", publishedBind)
}

// loopbackHost reports whether a bind address (host, or host:port) is a
// loopback IP or localhost.
func loopbackHost(bind string) bool {
	host := strings.TrimSpace(bind)
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.Trim(host, "[]")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
