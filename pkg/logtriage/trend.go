package logtriage

import "time"

// Baseline is a template's usual rate, remembered per container.
type Baseline struct {
	// Rate is an exponentially weighted mean of lines per hour over triages.
	Rate float64 `json:"rate"`
	// Runs is how many triages contributed.
	Runs int `json:"runs"`
	// Last is the count of the latest triage (0 once it stopped).
	Last int `json:"last"`
}

// Trend says how a template moved against its own baseline.
type Trend struct {
	Key    string  `json:"key"`
	Status string  `json:"status"` // new, resolved, spiking, steady
	Factor float64 `json:"factor,omitempty"`
	Count  int     `json:"count"`
}

const (
	// spikeFactor and spikeMin: a template spikes when its rate is this many
	// times its baseline and it has at least spikeMin lines (a jump from 1
	// to 3 lines is noise, not a spike).
	spikeFactor = 3.0
	spikeMin    = 10
	// ewma weighs the latest triage in the baseline.
	ewma = 0.3
	// maxBaselines bounds the remembered baselines per container.
	maxBaselines = 2000
)

// Trends compares this triage's issue templates, seen over window, with
// their baselines and returns the trends and the updated baselines.
func Trends(ts []Template, base map[string]Baseline, window time.Duration) ([]Trend, map[string]Baseline) {
	hours := max(window.Hours(), 1.0/60)
	next := make(map[string]Baseline, len(base)+len(ts))
	seen := map[string]bool{}
	var out []Trend
	for _, t := range ts {
		seen[t.Key] = true
		rate := float64(t.Count) / hours
		b, ok := base[t.Key]
		tr := Trend{Key: t.Key, Count: t.Count, Status: "steady"}
		switch {
		case !ok && t.New:
			tr.Status = "new"
		case ok && b.Rate > 0 && rate >= spikeFactor*b.Rate && t.Count >= spikeMin:
			tr.Status, tr.Factor = "spiking", rate/b.Rate
		}
		out = append(out, tr)
		if ok {
			b.Rate = ewma*rate + (1-ewma)*b.Rate
		} else {
			b.Rate = rate
		}
		b.Runs++
		b.Last = t.Count
		next[t.Key] = b
	}
	for k, b := range base {
		if seen[k] {
			continue
		}
		if b.Last > 0 {
			out = append(out, Trend{Key: k, Status: "resolved"})
		}
		b.Rate *= 1 - ewma
		b.Last = 0
		b.Runs++
		if len(next) < maxBaselines {
			next[k] = b
		}
	}
	return out, next
}
