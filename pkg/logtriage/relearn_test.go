package logtriage_test

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/cyberbrain/cyberbrain/pkg/logtriage"
)

// appLines are n lines of a service with a klog-like header (time stamp,
// level, pid, logger): two error templates and an info one.
func appLines(start, n int) []logtriage.Line {
	out := make([]logtriage.Line, 0, n)
	for i := start; i < start+n; i++ {
		ts := t0.Add(time.Duration(i) * time.Second)
		text := fmt.Sprintf("%s INFO [%d] api: served request %d in %dms", ts.Format("2006-01-02T15:04:05.000Z"), 100+i%7, i, i%90)
		switch i % 4 {
		case 1:
			text = fmt.Sprintf("%s ERROR [%d] db: failed to connect to 10.0.0.%d:5432 after %dms", ts.Format("2006-01-02T15:04:05.000Z"), 100+i%7, i%250, 10*i)
		case 2:
			text = fmt.Sprintf("%s WARN [%d] cache: miss ratio %d.%d%% over the last minute", ts.Format("2006-01-02T15:04:05.000Z"), 100+i%7, i%100, i%10)
		}
		out = append(out, logtriage.Line{Time: ts, Stream: "stdout", Text: text})
	}
	return out
}

// roundTrip persists a miner's state as the task does and restores it.
func roundTrip(t *testing.T, m *logtriage.Miner) *logtriage.Miner {
	t.Helper()
	b, err := json.Marshal(m.State())
	if err != nil {
		t.Fatal(err)
	}
	var st logtriage.MinerState
	if err := json.Unmarshal(b, &st); err != nil {
		t.Fatal(err)
	}
	return logtriage.RestoreMiner(st)
}

// TestShortFirstTriageThenLearnedHeader: a first triage too short to learn
// the header mines whole lines; the next, long enough, learns it — and the
// templates of the first keep their keys, so nothing comes back as new.
func TestShortFirstTriageThenLearnedHeader(t *testing.T) {
	t.Parallel()
	m := logtriage.NewMiner()
	first := logtriage.AnalyzeWith(appLines(0, 8), m, nil)
	keys := map[string]string{}
	for _, tp := range first.Templates {
		if !tp.New {
			t.Errorf("first triage: %q not new", tp.Pattern)
		}
		keys[string(tp.Level)] = tp.Key
	}
	if len(keys) != 2 {
		t.Fatalf("first triage templates = %+v, want one error and one warn", first.Templates)
	}
	m = roundTrip(t, m)
	second := logtriage.AnalyzeWith(appLines(8, 200), m, nil)
	if len(second.Templates) != 2 {
		t.Fatalf("second triage templates = %+v", second.Templates)
	}
	for _, tp := range second.Templates {
		if tp.New {
			t.Errorf("second triage: %q (%s) is new; the header learned now must not make old templates new", tp.Pattern, tp.Level)
		}
		if keys[string(tp.Level)] != tp.Key {
			t.Errorf("%s template key %s, was %s", tp.Level, tp.Key, keys[string(tp.Level)])
		}
	}
	e := byPattern(second, "failed to connect")
	if e == nil || e.Count != 50 || e.Pattern != "db: failed to connect to <*> after <*>" {
		t.Errorf("error template = %+v, want the header stripped and 50 lines", e)
	}
	// A third triage, the header now persisted, still finds nothing new.
	third := logtriage.AnalyzeWith(appLines(208, 100), roundTrip(t, m), nil)
	for _, tp := range third.Templates {
		if tp.New || keys[string(tp.Level)] != tp.Key {
			t.Errorf("third triage: %+v", tp)
		}
	}
}

// TestLearnedHeaderFromTheStart: with enough lines at once the header is
// learned before mining, and a restored miner keeps every key.
func TestLearnedHeaderFromTheStart(t *testing.T) {
	t.Parallel()
	m := logtriage.NewMiner()
	a := logtriage.AnalyzeWith(appLines(0, 100), m, nil)
	if w := byPattern(a, "miss ratio"); w == nil || w.Pattern != "cache: miss ratio <*> over the last minute" || w.Count != 25 {
		t.Fatalf("warn template = %+v", w)
	}
	b := logtriage.AnalyzeWith(appLines(100, 100), roundTrip(t, m), nil)
	for _, tp := range b.Templates {
		if tp.New {
			t.Errorf("restored miner: %q new", tp.Pattern)
		}
	}
}

// TestShortTriagesStayConsistent: a quiet container whose triages are each
// too short to learn from mines whole lines every time, the same way.
func TestShortTriagesStayConsistent(t *testing.T) {
	t.Parallel()
	m := logtriage.NewMiner()
	logtriage.AnalyzeWith(appLines(0, 6), m, nil)
	for start := 6; start < 30; start += 6 {
		m = roundTrip(t, m)
		a := logtriage.AnalyzeWith(appLines(start, 6), m, nil)
		for _, tp := range a.Templates {
			if tp.New {
				t.Errorf("triage at %d: %q new", start, tp.Pattern)
			}
		}
	}
}

// TestMostlyOneMessageKeepsItsWords: a sample that is nearly all one
// message must not take that message's constant words for a header (they
// look as constant as a host name there).
func TestMostlyOneMessageKeepsItsWords(t *testing.T) {
	t.Parallel()
	var in []logtriage.Line
	for i := 0; i < 40; i++ {
		in = append(in, logtriage.Line{Time: t0, Stream: "stdout", Text: fmt.Sprintf("WARN slow request GET /api/items/%d took %dms", i, 900+i)})
	}
	in = append(in, logtriage.Line{Time: t0, Stream: "stdout", Text: "ERROR upstream inventory returned 502 for request 7001"})
	a := logtriage.Analyze(in, nil)
	if w := byPattern(a, "took"); w == nil || w.Pattern != "slow request GET /api/items/<*> took <*>" || w.Count != 40 {
		t.Errorf("warn template = %+v, want the message whole without its level", w)
	}
	if e := byPattern(a, "upstream"); e == nil || e.Pattern != "upstream inventory returned <*> for request <*>" {
		t.Errorf("error template = %+v", e)
	}
}
