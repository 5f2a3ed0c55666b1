package logtriage

import (
	"fmt"
	"strings"
	"testing"
)

// TestMaskToken: what each kind of token becomes in a template.
func TestMaskToken(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"connect":                            "connect",
		"blk_-695":                           "<*>",
		"attempt_1445_m_000001_0":            "<*>",
		"10.0.0.1:5432":                      "<*>",
		"(1.0":                               "(<*>",
		"KB)":                                "KB)",
		"[5]":                                "[<*>]",
		"(24-54-76-216.bflony.adelphia.net)": "(<*>)",
		"16:49:07]":                          "<*>]",
		"3,":                                 "<*>,",
		"uid=0":                              "uid=<*>",
		"user=root":                          "user=<*>",
		"rhost=host.example.com":             "rhost=<*>",
		"ruser=":                             "ruser=",
		"=x":                                 "=x",
		"2fa=on":                             "<*>",
		"/api/users/42":                      "/api/users/<*>",
		"http://x/1/2":                       "<*>",
		"Jun":                                "<*>",
		"Fri,":                               "<*>",
		"[Sun":                               "<*>",
		"MON":                                "<*>",
		"may":                                "may",
		"Junk":                               "Junk",
		"Mar.":                               "<*>",
	} {
		if got := maskToken(in); got != want {
			t.Errorf("maskToken(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestOptionalGroup: a bracketed group with a variable opening the tokens
// is skipped whole; one without a variable, unclosed or too long is not.
func TestOptionalGroup(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		toks string
		want int
	}{
		{"(<*> KB) sent,", 2},
		{"[<*> ms] done", 2},
		{"(<*>) at", 1},
		{"(<*> KB), sent", 2},
		{"(reserved) end", 0},
		{"(order: <*> <*> bytes) x", 4},
		{"(a b c d <*>) x", 0},
		{"(<*> never closed", 0},
		{"sent (<*> KB)", 0},
		{"", 0},
	} {
		if got := optionalGroup(strings.Fields(c.toks)); got != c.want {
			t.Errorf("optionalGroup(%q) = %d, want %d", c.toks, got, c.want)
		}
	}
}

// TestSpreadFit: a template matches a line of another length when the
// difference is optional variables within the budget.
func TestSpreadFit(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		tmpl, line string
		ok         bool
	}{
		{"<*> close, <*> bytes sent, lifetime <*>", "<*> close, <*> bytes (<*> KB) sent, lifetime <*> sec", true},
		{"<*> close, <*> bytes sent, <*> bytes received, lifetime <*>",
			"<*> close, <*> bytes (<*> KB) sent, <*> bytes (<*> KB) received, lifetime <*> sec", true},
		{"connection from <*> at <*>", "connection from <*> (<*>) at <*>", true},
		{"connection from <*> at <*>", "connection from <*> (unknown) at <*>", true}, // the variable spreads
		{"connection from host at <*>", "connection from host (unknown) at <*>", false},
		{"a b c", "a x b c", false},
		{"a <*> c", "a <*> <*> c", true},
		{"a <*> c", "a <*> <*> <*> <*> <*> <*> c", false},
	} {
		tmpl, line := strings.Fields(c.tmpl), strings.Fields(c.line)
		if got := spreadFit(tmpl, line, maxSpread); got != c.ok {
			t.Errorf("spreadFit(%q, %q) = %v, want %v", c.tmpl, c.line, got, c.ok)
		}
	}
}

// TestOptionalDetailJoinsItsTemplate: lines of one message, some carrying
// an optional bracketed detail and a variable spread over two tokens, land
// in one template, in whichever order they come.
func TestOptionalDetailJoinsItsTemplate(t *testing.T) {
	t.Parallel()
	var lines []string
	for i := 0; i < 60; i++ {
		switch i % 3 {
		case 0:
			lines = append(lines, fmt.Sprintf("[10.30 16:49:%02d] chrome.exe - proxy.example.com:5070 close, 0 bytes sent, %d bytes received, lifetime 00:%02d", i, 100+i, i))
		case 1:
			lines = append(lines, fmt.Sprintf("[10.30 16:49:%02d] chrome.exe - proxy.example.com:5070 close, %d bytes (%d.%d KB) sent, %d bytes (1.%d KB) received, lifetime <1 sec", i, 1000+i, 1, i%10, 1100+i, i%10))
		default:
			lines = append(lines, fmt.Sprintf("[10.30 16:49:%02d] chrome.exe - proxy.example.com:5070 open through proxy proxy.example.com:5070 HTTPS", i))
		}
	}
	keys := GroupKeys(lines)
	groups := map[string]int{}
	for _, k := range keys {
		groups[k]++
	}
	if len(groups) != 2 || groups[keys[0]] != 40 || keys[0] != keys[1] {
		t.Errorf("groups = %v, want the 40 close lines in one and the 20 open lines in another", groups)
	}
}

// TestRestoredAliasesSurvive: a template made an alias of another (a
// spread shape) still reports the other's key after a restore.
func TestRestoredAliasesSurvive(t *testing.T) {
	t.Parallel()
	m := NewMiner()
	a := m.Add("alpha beta gamma 42 done")
	b := m.Add("alpha beta gamma 42 (7 KB) done")
	if a != b {
		t.Fatalf("optional group started a template of its own: %q vs %q", a.Pattern(), b.Pattern())
	}
	r := RestoreMiner(m.State())
	if c := r.Add("alpha beta gamma 43 (9 KB) done"); c.Key != a.Key || !c.Known {
		t.Errorf("after restore: key %s known %v, want %s known", c.Key, c.Known, a.Key)
	}
}
