package web

import (
	"testing"
	"time"

	"github.com/cyberbrain/cyberbrain/pkg/store"
)

// The chart puts each minute's count in its own bar, scales bars to the
// busiest minute, keeps a minute with one run visible and ignores counts
// outside the hour.
func TestBuildRunChart(t *testing.T) {
	now := time.Date(2026, 3, 1, 14, 30, 42, 0, time.UTC)
	first := time.Date(2026, 3, 1, 13, 31, 0, 0, time.UTC)
	c := buildRunChart([]store.MinuteCount{
		{Minute: first.Add(-time.Minute), Count: 500}, // before the hour
		{Minute: first, Count: 200},
		{Minute: first.Add(30 * time.Minute), Count: 1},
		{Minute: now.Truncate(time.Minute), Count: 100},
		{Minute: now.Truncate(time.Minute).Add(time.Minute), Count: 900}, // the future
	}, now)
	if len(c.Bars) != chartMinutes || c.Max != 200 || c.Total != 301 {
		t.Fatalf("bars %d, max %d, total %d", len(c.Bars), c.Max, c.Total)
	}
	b0, b30, last := c.Bars[0], c.Bars[30], c.Bars[59]
	if !b0.Minute.Equal(first) || b0.Count != 200 || b0.H != chartPlotH || b0.Y != c.Top {
		t.Fatalf("first bar %+v", b0)
	}
	if b30.Count != 1 || b30.H != 1 || b30.Y != c.Base-1 {
		t.Fatalf("a one-run minute must stay visible: %+v", b30)
	}
	if last.Count != 100 || last.H != chartPlotH/2 || !last.Minute.Equal(now.Truncate(time.Minute)) {
		t.Fatalf("last bar %+v", last)
	}
	if c.Bars[1].H != 0 || c.Bars[1].X-b0.X != chartBarW+chartGap {
		t.Fatalf("empty minute %+v", c.Bars[1])
	}
	if last.X+last.W != c.Right || c.Width <= c.Right || c.Height <= c.Base {
		t.Fatalf("layout %+v", c)
	}
	if got := b30.Label(); got != "14:01 UTC: 1 run" {
		t.Fatalf("label %q", got)
	}
	if empty := buildRunChart(nil, now); empty.Max != 0 || empty.Bars[0].H != 0 {
		t.Fatalf("empty chart %+v", empty.Bars[0])
	}
}

func TestRunBytes(t *testing.T) {
	for n, want := range map[int64]string{0: "0 B", 1023: "1023 B", 1024: "1.0 KiB", 1536: "1.5 KiB", 5 << 20: "5.0 MiB"} {
		if got := runBytes(n); got != want {
			t.Errorf("runBytes(%d) = %q, want %q", n, got, want)
		}
	}
}
