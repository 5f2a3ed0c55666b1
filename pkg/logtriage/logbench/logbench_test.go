package logbench

import (
	"bytes"
	"compress/gzip"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// reference is the grouping-accuracy definition read literally: line i is
// right when the set of lines sharing its predicted group equals the set
// of lines sharing its true template.
func reference(pred, truth []string) float64 {
	if len(pred) == 0 || len(pred) != len(truth) {
		return 0
	}
	right := 0
	for i := range pred {
		same := true
		for j := range pred {
			if (pred[j] == pred[i]) != (truth[j] == truth[i]) {
				same = false
				break
			}
		}
		if same {
			right++
		}
	}
	return float64(right) / float64(len(pred))
}

func TestGroupingAccuracyHandMade(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name        string
		pred, truth []string
		want        float64
	}{
		{"perfect, other names", []string{"x", "x", "y", "z"}, []string{"a", "a", "b", "c"}, 1},
		{"one group for all", []string{"g", "g", "g", "g"}, []string{"a", "a", "b", "b"}, 0},
		{"one group for one template", []string{"g", "g", "g"}, []string{"a", "a", "a"}, 1},
		{"every line alone", []string{"1", "2", "3", "4"}, []string{"a", "a", "b", "c"}, 0.5},
		{"split template", []string{"1", "1", "2", "3", "3"}, []string{"a", "a", "a", "b", "b"}, 0.4},
		{"merged templates", []string{"1", "1", "1", "2"}, []string{"a", "a", "b", "c"}, 0.25},
		{"interleaved", []string{"p", "q", "p", "q", "r"}, []string{"a", "b", "a", "b", "b"}, 0.4},
		{"length mismatch", []string{"1", "1"}, []string{"a"}, 0},
		{"empty", nil, nil, 0},
		{"single line", []string{"1"}, []string{"a"}, 1},
	} {
		if got := GroupingAccuracy(tc.pred, tc.truth); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
		if got := reference(tc.pred, tc.truth); got != tc.want {
			t.Errorf("%s: the reference says %v, the table %v", tc.name, got, tc.want)
		}
	}
}

// GroupingAccuracy agrees with the literal definition on random labellings.
func TestGroupingAccuracyMatchesDefinition(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(1, 2))
	labels := []string{"a", "b", "c", "d", "e"}
	for n := 0; n < 2000; n++ {
		size := 1 + r.IntN(12)
		pred, truth := make([]string, size), make([]string, size)
		k, m := 1+r.IntN(len(labels)), 1+r.IntN(len(labels))
		for i := range size {
			pred[i], truth[i] = labels[r.IntN(k)], labels[r.IntN(m)]
		}
		if got, want := GroupingAccuracy(pred, truth), reference(pred, truth); got != want {
			t.Fatalf("pred %v truth %v: %v, the definition gives %v", pred, truth, got, want)
		}
		// Renaming groups changes nothing.
		renamed := make([]string, size)
		for i, p := range pred {
			renamed[i] = "g-" + p
		}
		if GroupingAccuracy(renamed, truth) != GroupingAccuracy(pred, truth) {
			t.Fatalf("renaming changed the score: %v %v", pred, truth)
		}
	}
}

// firstWord groups lines by their first word: a stand-in grouper.
func firstWord(lines []string) []string {
	out := make([]string, len(lines))
	for i, l := range lines {
		out[i], _, _ = strings.Cut(l, " ")
	}
	return out
}

func TestEvaluateAndAverage(t *testing.T) {
	t.Parallel()
	ds := []Dataset{
		{Name: "A", Raw: []string{"x 1 open", "x 2 open", "x 3 close"}, Content: []string{"open 1", "open 2", "close 3"}, Truth: []string{"E1", "E1", "E2"}},
		{Name: "B", Raw: []string{"p", "q"}, Content: []string{"m", "m"}, Truth: []string{"E1", "E2"}},
	}
	s := Evaluate(ds, firstWord)
	want := []Score{
		{Name: "A", Lines: 3, RawAcc: 0, MessageAcc: 1, Groups: 1, Truth: 2},
		{Name: "B", Lines: 2, RawAcc: 1, MessageAcc: 0, Groups: 2, Truth: 2},
	}
	if !reflect.DeepEqual(s, want) {
		t.Errorf("scores\n got %+v\nwant %+v", s, want)
	}
	if raw, msg := Average(s); raw != 0.5 || msg != 0.5 {
		t.Errorf("average %v %v", raw, msg)
	}
	if raw, msg := Average(nil); raw != 0 || msg != 0 {
		t.Errorf("average of nothing %v %v", raw, msg)
	}
	if Evaluate(nil, firstWord) != nil {
		t.Error("scores of no datasets")
	}
}

func TestThroughput(t *testing.T) {
	t.Parallel()
	ds := []Dataset{{Raw: []string{"a", "b", "c"}}, {Raw: []string{"d"}}}
	calls, lines := 0, 0
	rate := Throughput(ds, time.Millisecond, func(l []string) { calls++; lines += len(l) })
	if calls == 0 || calls%2 != 0 || lines != calls/2*4 || rate.CPU <= 0 || rate.Wall <= 0 {
		t.Errorf("%d calls, %d lines, rate %v", calls, lines, rate)
	}
}

// Explain names the templates that were split or mixed, largest first,
// with an example line, and stops at max.
func TestExplain(t *testing.T) {
	t.Parallel()
	lines := []string{"open a", "open b", "close a", "close b", "fine", "open c"}
	truth := []string{"E1", "E1", "E2", "E2", "E3", "E1"}
	pred := []string{"g1", "g2", "g1", "g1", "g3", "g2"}
	var b bytes.Buffer
	Explain(&b, lines, truth, pred, 10)
	out := b.String()
	if !strings.HasPrefix(out, "E1 ×3 in 2 groups, mixed with 1: open a\n") {
		t.Errorf("first entry:\n%s", out)
	}
	if !strings.Contains(out, "    with E2: close a\n") || !strings.Contains(out, "E2 ×2 in 1 groups, mixed with 1: close a\n") {
		t.Errorf("mixed templates:\n%s", out)
	}
	if strings.Contains(out, "E3") {
		t.Errorf("a right template is listed:\n%s", out)
	}
	b.Reset()
	Explain(&b, lines, truth, pred, 1)
	if strings.Count(b.String(), " groups, ") != 1 {
		t.Errorf("max 1:\n%s", b.String())
	}
	b.Reset()
	Explain(&b, lines, truth, truth, 10)
	if b.Len() != 0 {
		t.Errorf("a perfect grouping explained:\n%s", b.String())
	}
}

func writeGz(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	if _, err := zw.Write([]byte(content)); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// dataset writes one LogHub-style dataset: the raw log and a structured csv
// for the ground truth suffix.
func dataset(t *testing.T, dir, name, raw, suffix, csv string) {
	t.Helper()
	writeGz(t, filepath.Join(dir, name, name+"_2k.log.gz"), raw)
	if csv != "" {
		writeGz(t, filepath.Join(dir, name, name+"_2k.log"+suffix+".csv.gz"), csv)
	}
}

func TestLoad(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	dataset(t, dir, "Zoo", "z1 start\r\nz2 stop\n", "_structured_corrected",
		"LineId,Content,EventId,EventTemplate\n1,start,E1,start\n2,\"stop, now\",E2,stop <*>\n")
	dataset(t, dir, "Apache", "a1\n", "_structured_corrected", "EventId,Content\nE9,hello\n")
	dataset(t, dir, "Apache", "a1\n", "_structured", "Content,EventId\nold,E7\n")
	dataset(t, dir, "NoTruth", "x\n", "", "")
	if err := os.WriteFile(filepath.Join(dir, "README.md"), []byte("not a dataset"), 0o644); err != nil {
		t.Fatal(err)
	}

	ds, err := Load(dir, "")
	if err != nil {
		t.Fatal(err)
	}
	want := []Dataset{
		{Name: "Apache", Raw: []string{"a1"}, Content: []string{"hello"}, Truth: []string{"E9"}},
		{Name: "Zoo", Raw: []string{"z1 start", "z2 stop"}, Content: []string{"start", "stop, now"}, Truth: []string{"E1", "E2"}},
	}
	if !reflect.DeepEqual(ds, want) {
		t.Errorf("Load\n got %+v\nwant %+v", ds, want)
	}
	if ds2, err := Load(dir, "corrected"); err != nil || !reflect.DeepEqual(ds2, ds) {
		t.Errorf("corrected = default: %+v %v", ds2, err)
	}
	// "original" picks the _structured files: only Apache has one.
	ds, err = Load(dir, "original")
	if err != nil || len(ds) != 1 || ds[0].Truth[0] != "E7" {
		t.Errorf("original: %+v %v", ds, err)
	}
	if ds, err := Load(dir, "loghub2"); err != nil || len(ds) != 0 {
		t.Errorf("loghub2 without files: %+v %v", ds, err)
	}
}

func TestLoadErrors(t *testing.T) {
	t.Parallel()
	if _, err := Load(filepath.Join(t.TempDir(), "absent"), ""); err == nil || !strings.Contains(err.Error(), "read loghub folder") {
		t.Errorf("absent folder: %v", err)
	}
	for _, tc := range []struct {
		name, raw, csv, want string
		rawPlain             bool
	}{
		{"count mismatch", "a\nb\n", "Content,EventId\na,E1\n", "X: 2 raw lines but 1 labelled rows", false},
		{"no columns", "a\n", "Message,Id\na,E1\n", "no Content/EventId columns", false},
		{"empty csv", "a\n", "\n", "read ", false},
		{"raw not gzip", "plain text", "Content,EventId\na,E1\n", "gunzip ", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			dataset(t, dir, "X", tc.raw, "_structured_corrected", tc.csv)
			if tc.rawPlain {
				if err := os.WriteFile(filepath.Join(dir, "X", "X_2k.log.gz"), []byte(tc.raw), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := Load(dir, "corrected"); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want %q", err, tc.want)
			}
		})
	}
	// A labelled dataset whose raw log is missing is an error, not skipped.
	dir := t.TempDir()
	writeGz(t, filepath.Join(dir, "Y", "Y_2k.log_structured_corrected.csv.gz"), "Content,EventId\na,E1\n")
	if _, err := Load(dir, ""); err == nil || !strings.Contains(err.Error(), "open ") {
		t.Errorf("missing raw log: %v", err)
	}
}

// A template split over two groups that both hold the same other template
// is mixed with one template, not two, and that template is shown once.
func TestExplainCountsEachMixedTemplateOnce(t *testing.T) {
	t.Parallel()
	lines := []string{"open a", "close a", "open b", "close b"}
	truth := []string{"E1", "E2", "E1", "E2"}
	pred := []string{"g1", "g1", "g2", "g2"}
	var b bytes.Buffer
	Explain(&b, lines, truth, pred, 10)
	out := b.String()
	if !strings.Contains(out, "E1 ×2 in 2 groups, mixed with 1: open a\n") || strings.Count(out, "    with E2: close a\n") != 1 {
		t.Fatalf("a mixed template is counted or printed once per shared group:\n%s", out)
	}
}
