package logbench

// GroupingAccuracy is the share of lines whose predicted group holds exactly
// the lines of their true template: a group is right only when it is one
// whole true template, and then all its lines count as right.
func GroupingAccuracy(pred, truth []string) float64 {
	if len(pred) == 0 || len(pred) != len(truth) {
		return 0
	}
	trueSize := map[string]int{}
	for _, t := range truth {
		trueSize[t]++
	}
	type group struct {
		truth string
		mixed bool
		size  int
	}
	groups := map[string]*group{}
	for i, p := range pred {
		g := groups[p]
		if g == nil {
			g = &group{truth: truth[i]}
			groups[p] = g
		}
		if g.truth != truth[i] {
			g.mixed = true
		}
		g.size++
	}
	right := 0
	for _, g := range groups {
		if !g.mixed && g.size == trueSize[g.truth] {
			right += g.size
		}
	}
	return float64(right) / float64(len(pred))
}
