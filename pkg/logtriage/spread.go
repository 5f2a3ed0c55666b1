package logtriage

import "strings"

// Lines of one message do not always have one length: a variable may spread
// over a few tokens, or an optional detail may be present in some lines only.
// The tree keys on the length, so these functions look across lengths, once
// per new shape.

// spread looks for a template of another length that the line fits once
// optional variables are allowed: a variable spread over a few tokens
// ("<1 sec" where others have "00:01") or present in some lines only
// ("1024 bytes (1.0 KB) sent" beside "0 bytes sent"). It runs only when a
// line would start a new template, so its cost is paid once per shape.
func (m *Miner) spread(toks []string) *Cluster {
	if len(toks) < 3 || len(toks) > 2*maxLenDiff+24 {
		return nil
	}
	for _, c := range m.byFirst[toks[0]] {
		d := len(c.Tokens) - len(toks)
		if d == 0 || d > maxLenDiff || d < -maxLenDiff || c.alias != nil || fixed(c.Tokens) < 2 {
			continue
		}
		if spreadFit(c.Tokens, toks, maxSpread) || spreadFit(toks, c.Tokens, maxSpread) {
			return c
		}
	}
	return nil
}

const (
	// maxSpread is how many optional variables (a token, or a bracketed
	// group) a line may add or spread over.
	maxSpread = 4
	// maxLenDiff bounds the length difference spread considers: bracketed
	// groups may add more tokens than the budget counts.
	maxLenDiff = 3 * maxSpread
	// maxGroupTokens bounds an optional bracketed group.
	maxGroupTokens = 4
)

// optionalGroup is the token count of a bracketed group opening the line
// with a variable in it ("(<*> KB)", "[<*> ms]"), or 0: a detail that some
// lines of a template carry and others lack, skipped whole.
func optionalGroup(toks []string) int {
	if len(toks) == 0 || toks[0] == "" || (toks[0][0] != '(' && toks[0][0] != '[') {
		return 0
	}
	closer := byte(')')
	if toks[0][0] == '[' {
		closer = ']'
	}
	variable := false
	for i := 0; i < len(toks) && i < maxGroupTokens; i++ {
		t := strings.TrimRight(toks[i], ",;.:")
		variable = variable || strings.Contains(t, wildcard)
		if t != "" && t[len(t)-1] == closer {
			if !variable {
				return 0
			}
			return i + 1
		}
	}
	return 0
}

// spreadFit matches a line against a template where every fixed template
// token must be matched in order, a template wildcard may take one to
// budget+1 tokens, and a masked line token (with the token after it) may
// stand for a variable the template lacks.
func spreadFit(tmpl, toks []string, budget int) bool {
	if len(tmpl) == 0 {
		return len(toks) == 0
	}
	if tmpl[0] == wildcard {
		for k := 1; k <= budget+1 && k <= len(toks); k++ {
			if spreadFit(tmpl[1:], toks[k:], budget-k+1) {
				return true
			}
		}
		return false
	}
	if len(toks) > 0 && toks[0] == tmpl[0] {
		return spreadFit(tmpl[1:], toks[1:], budget)
	}
	if n := optionalGroup(toks); n > 0 && budget > 0 && spreadFit(tmpl, toks[n:], budget-1) {
		return true
	}
	if len(toks) > 0 && toks[0] == wildcard && budget > 0 {
		for k := 1; k <= 2 && k <= budget && k <= len(toks); k++ {
			if spreadFit(tmpl, toks[k:], budget-k) {
				return true
			}
		}
	}
	return false
}

func fixed(toks []string) int {
	n := 0
	for _, t := range toks {
		if t != wildcard {
			n++
		}
	}
	return n
}
