package logbench

import (
	"fmt"
	"io"
	"sort"
)

// Explain writes, for one dataset, the true templates the grouper got wrong:
// how many groups each was split into, and which other templates shared its
// largest group, with an example line of each. It is for tuning by hand.
func Explain(w io.Writer, lines, truth, pred []string, max int) {
	byTruth := map[string]map[string]int{}
	byPred := map[string]map[string]int{}
	example := map[string]string{}
	for i := range lines {
		if byTruth[truth[i]] == nil {
			byTruth[truth[i]] = map[string]int{}
			example[truth[i]] = lines[i]
		}
		if byPred[pred[i]] == nil {
			byPred[pred[i]] = map[string]int{}
		}
		byTruth[truth[i]][pred[i]]++
		byPred[pred[i]][truth[i]]++
	}
	type bad struct {
		id     string
		n      int
		splits int
		mixed  []string
	}
	var bads []bad
	for id, preds := range byTruth {
		n := 0
		seen := map[string]bool{} // a template sharing several groups counts once
		var mixed []string
		for p, k := range preds {
			n += k
			for other := range byPred[p] {
				if other != id && !seen[other] {
					seen[other] = true
					mixed = append(mixed, other)
				}
			}
		}
		sort.Strings(mixed)
		if len(preds) > 1 || len(mixed) > 0 {
			bads = append(bads, bad{id, n, len(preds), mixed})
		}
	}
	sort.Slice(bads, func(i, j int) bool { return bads[i].n > bads[j].n })
	for i, b := range bads {
		if i == max {
			break
		}
		fmt.Fprintf(w, "%s ×%d in %d groups, mixed with %d: %s\n", b.id, b.n, b.splits, len(b.mixed), example[b.id])
		for j, o := range b.mixed {
			if j == 3 {
				break
			}
			fmt.Fprintf(w, "    with %s: %s\n", o, example[o])
		}
	}
}
