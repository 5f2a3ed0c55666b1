package api

import (
	"encoding/json"
	"net/url"
	"slices"
	"strings"
	"testing"
)

// FuzzCheckFields: the field check never panics, refuses every body whose
// decoded strings hold a NUL, and never refuses a small NUL-free object.
func FuzzCheckFields(f *testing.F) {
	for _, s := range []string{`{"name":"a"}`, `{"task_config":{"a\u0000":1}}`, `{"tags":["x",{"y":"\u0000"}]}`,
		`{"name":"` + strings.Repeat("é", 201) + `"}`, `{"a":1,"b":null,"c":true}`, `{}`, `{"x":"\\u0000"}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var top map[string]any
		if json.Unmarshal(b, &top) != nil || top == nil {
			return
		}
		err := checkFields(b)
		if hasNUL(top) && err == nil {
			t.Fatalf("NUL accepted: %q", b)
		}
		if err == nil || hasNUL(top) || len(b) > 200 {
			return
		}
		for k, v := range top {
			if s, ok := v.(string); ok && nameFields[k] && len([]rune(s)) > MaxNameChars {
				return
			}
		}
		t.Fatalf("small clean body refused: %q: %v", b, err)
	})
}

// FuzzCheckQueryString: the strict query check never panics, and whatever it
// accepts Go's parser reads whole (no pair silently dropped) with allowed
// names only.
func FuzzCheckQueryString(f *testing.F) {
	for _, s := range []string{"run=1", "run=99999;x", "page_size=%zz", "a=1&a=2", "status=%00", "limit=5&offset=0&", "=&&="} {
		f.Add(s)
	}
	allowed := []string{"run", "status", "limit", "offset"}
	f.Fuzz(func(t *testing.T, raw string) {
		if checkQueryString(raw, allowed) != nil {
			return
		}
		q, err := url.ParseQuery(raw)
		if err != nil {
			t.Fatalf("accepted %q, which Go's parser only reads in part: %v", raw, err)
		}
		for k, v := range q {
			if !slices.Contains(allowed, k) || len(v) > 1 {
				t.Fatalf("accepted %q: parameter %q (%d values)", raw, k, len(v))
			}
		}
	})
}
