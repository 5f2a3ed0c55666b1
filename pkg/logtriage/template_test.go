package logtriage_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/cyberbrain/cyberbrain/pkg/logtriage"
)

func TestTemplatizeMasksEachKind(t *testing.T) {
	t.Parallel()
	cases := []struct{ in, want string }{
		{"at 2024-01-02T15:04:05.123Z done", "at <ts> done"},
		{"at 2024-01-02 15:04:05,123 +0100 done", "at <ts> done"},
		{"at 2024-01-02 15:04:05 UTC done", "at <ts> done"},
		{"2024/01/02 15:04:05 [error] x", "<ts> [error] x"},
		{`[02/Jan/2024:15:04:05 +0000] "GET /"`, `[<ts>] "GET /"`},
		{"1:M 02 Jan 2024 15:04:05.123 # saving", "<num>:M <ts> # saving"},
		{"Jan  2 15:04:05 host sshd: fail", "<ts> host sshd: fail"},
		{"took until 15:04:05.999", "took until <ts>"},
		{"id 3F2B8C1E-9A4D-4C2E-8F1A-2B3C4D5E6F70 gone", "id <uuid> gone"},
		{"from 10.0.0.5 and 192.168.1.20:6379", "from <ip> and <ip>"},
		{"peer 2001:db8::1 down", "peer <ip> down"},
		{"Foo::Bar::baz failed", "Foo::Bar::baz failed"},
		{"addr 0xDEADBEEF", "addr <hex>"},
		{"commit 4f9a8b7c6d5e4f3a2b1c", "commit <hex>"},
		{"short words dead beef a1 stay", "short words dead beef a1 stay"},
		{"after 250ms and 1.5s and 30µs and 2h", "after <dur> and <dur> and <dur> and <dur>"},
		{"retry 3 of 10 at 99.5%", "retry <num> of <num> at <num>%"},
		{"  many \t spaces \n here  ", "many spaces here"},
		{"", ""},
	}
	for _, c := range cases {
		if got := logtriage.Templatize(c.in); got != c.want {
			t.Errorf("Templatize(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// TestTemplatizeGroupsVariants: lines that differ only in the masked parts
// share one template, lines that differ in words do not.
func TestTemplatizeGroupsVariants(t *testing.T) {
	t.Parallel()
	same := [][]string{
		{"user 17 login failed from 10.0.0.1", "user 90210 login failed from 172.16.4.2"},
		{"request a1b2c3d4e5f6 took 12ms", "request 0f0e0d0c0b0a took 3.2s"},
		{"job 550e8400-e29b-41d4-a716-446655440000 at 2024-01-02T00:00:00Z", "job 6ba7b810-9dad-11d1-80b4-00c04fd430c8 at 2026-11-26T10:00:00+01:00"},
	}
	for _, g := range same {
		if a, b := logtriage.Templatize(g[0]), logtriage.Templatize(g[1]); a != b {
			t.Errorf("%q and %q differ: %q vs %q", g[0], g[1], a, b)
		}
	}
	if logtriage.Templatize("connection refused") == logtriage.Templatize("connection reset") {
		t.Error("different words share a template")
	}
}

func TestTemplatizeCapsLength(t *testing.T) {
	t.Parallel()
	got := logtriage.Templatize(strings.Repeat("word ", 200))
	if !strings.HasSuffix(got, "…") || len(got) > 300+len("…") {
		t.Errorf("long template is %d bytes: %q…", len(got), got[:40])
	}
}

// TestTemplatizeKeepsUTF8: a template is stored and shown as text, so cutting
// it to length must not split a character.
func TestTemplatizeKeepsUTF8(t *testing.T) {
	t.Parallel()
	got := logtriage.Templatize("x" + strings.Repeat("é", 300))
	if !utf8.ValidString(got) {
		t.Errorf("template is not valid UTF-8: %q", got[len(got)-8:])
	}
}

func TestTemplateKey(t *testing.T) {
	t.Parallel()
	k := logtriage.TemplateKey(logtriage.Error, "dial <ip> failed")
	if len(k) != 16 || strings.Trim(k, "0123456789abcdef") != "" {
		t.Errorf("key %q is not 16 hex digits", k)
	}
	if k != logtriage.TemplateKey(logtriage.Error, "dial <ip> failed") {
		t.Error("key not stable")
	}
	for _, other := range []string{
		logtriage.TemplateKey(logtriage.Warn, "dial <ip> failed"),
		logtriage.TemplateKey(logtriage.Error, "dial <ip> failed "),
		logtriage.TemplateKey("", "error\x00dial <ip> failed"),
	} {
		if other == k {
			t.Errorf("different level or pattern share key %s", k)
		}
	}
}
