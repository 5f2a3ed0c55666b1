package main

import (
	"strings"
	"testing"
)

// What compose relies on: published on loopback, no token is needed; published
// anywhere else, a token (or an explicit --insecure-no-auth) is.
func TestEffectiveNoAuth(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		token, bind string
		insecure    bool
		want        bool
		fails       bool
	}{
		{bind: "", want: false},
		{bind: "127.0.0.1", want: true},
		{bind: "127.0.0.1:9595", want: true},
		{bind: "[::1]", want: true},
		{bind: "localhost", want: true},
		{bind: "0.0.0.0", fails: true},
		{bind: "192.168.1.5", fails: true},
		{bind: "0.0.0.0", token: "t", want: false},
		{bind: "0.0.0.0", insecure: true, want: true},
	} {
		got, err := effectiveNoAuth(c.token, c.bind, c.insecure)
		if (err != nil) != c.fails || got != c.want {
			t.Errorf("effectiveNoAuth(%q, %q, %v) = %v, %v", c.token, c.bind, c.insecure, got, err)
		}
		if err != nil && !strings.Contains(err.Error(), "set CYBERBRAIN_API_TOKEN") {
			t.Errorf("the refusal does not say what to set: %v", err)
		}
	}
}

// The refusal comes before the database is opened (none is given here).
func TestServeRefusesPublishedBindWithoutToken(t *testing.T) {
	t.Parallel()
	_, err := runCmd(t, "--addr", "0.0.0.0:0", "--published-bind", "0.0.0.0", "--log-level", "error")
	if err == nil || !strings.Contains(err.Error(), "CYBERBRAIN_API_TOKEN") || !strings.Contains(err.Error(), "CYBERBRAIN_BIND") {
		t.Fatalf("published on 0.0.0.0 without a token: %v", err)
	}
}

func TestVersionFlag(t *testing.T) {
	t.Parallel()
	out, err := runCmd(t, "--version")
	if err != nil || !strings.Contains(out, "api version ") {
		t.Fatalf("--version: %q, %v", out, err)
	}
}
