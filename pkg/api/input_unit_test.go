package api

import (
	"strings"
	"testing"
)

// TestIsJSONMediaType: application/json with parameters and the +json
// family are JSON; anything else, or an unparsable type, is not.
func TestIsJSONMediaType(t *testing.T) {
	t.Parallel()
	for ct, want := range map[string]bool{
		"application/json":                  true,
		"Application/JSON; charset=utf-8":   true,
		"application/merge-patch+json":      true,
		"application/vnd.api+json":          true,
		"application/x-www-form-urlencoded": false,
		"text/json":                         false,
		"text/plain":                        false,
		"application/jsonx":                 false,
		"application/json; charset":         false,
		";":                                 false,
	} {
		if got := isJSONMediaType(ct); got != want {
			t.Errorf("isJSONMediaType(%q) = %v, want %v", ct, got, want)
		}
	}
}

// TestCheckQueryString: which raw queries pass and which parameter a
// refusal names.
func TestCheckQueryString(t *testing.T) {
	t.Parallel()
	allowed := []string{"run", "status", "page_size"}
	for raw, bad := range map[string]string{
		"run=1&status=pending":  "",
		"run=1&&status=pending": "",
		"status=a%3Bb":          "",
		"status":                "",
		"run=1;x":               "run",
		"status=ok;run=2":       "status",
		"page_size=%zz":         "page_size",
		"%zz=1":                 "%zz",
		"run=1&run=2":           "run",
		"bogus=1":               "bogus",
		"status=a%00":           "status",
		"st%61tus=x&status=y":   "status",
	} {
		err := checkQueryString(raw, allowed)
		if bad == "" {
			if err != nil {
				t.Errorf("%q refused: %v", raw, err)
			}
			continue
		}
		ae, ok := err.(*apiError)
		if !ok || ae.Status != 400 || len(ae.Fields[bad]) == 0 || !strings.Contains(ae.Message, bad) {
			t.Errorf("%q: %v, want a 400 naming %s", raw, err, bad)
		}
	}
	if err := checkQueryString("x=1", nil); err == nil || !strings.Contains(err.Error(), "takes none") {
		t.Errorf("parameter of an endpoint without any: %v", err)
	}
}

// TestCheckLinkSettings: the flags are refused at start, not at first use.
func TestCheckLinkSettings(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		public  string
		sockets []string
		ok      bool
	}{
		{"", []string{DefaultDockerSocket}, true},
		{"https://cb.example.com", []string{"unix:///run/docker.sock", "/var/run/docker.sock"}, true},
		{"cb.example.com", nil, false},
		{"", []string{"docker.sock"}, false},
		{"", []string{""}, false},
	} {
		if err := CheckLinkSettings(tc.public, tc.sockets); (err == nil) != tc.ok {
			t.Errorf("CheckLinkSettings(%q, %q) = %v", tc.public, tc.sockets, err)
		}
	}
}

// TestValidKey: keys are 1 to 200 printable ASCII characters.
func TestValidKey(t *testing.T) {
	t.Parallel()
	for k, want := range map[string]bool{
		"3f2b8c1e-7d4a-4c3e-9b1a-0e6f5d2c8a71": true,
		"a":                                    true,
		strings.Repeat("k", 200):               true,
		strings.Repeat("k", 201):               false,
		"":                                     false,
		"with space":                           false,
		"ünï":                                  false,
		"nul\x00":                              false,
	} {
		if validKey(k) != want {
			t.Errorf("validKey(%.20q) = %v", k, !want)
		}
	}
}
