package web

import (
	"fmt"
	"time"

	"github.com/cyberbrain/cyberbrain/pkg/store"
)

// The overview's runs-per-minute chart is laid out here and drawn by the
// template as inline SVG (no script): one bar per minute of the last hour,
// scaled to the busiest minute.
const (
	chartMinutes = 60
	chartBarW    = 8  // bar width, in viewBox units
	chartGap     = 2  // space between bars
	chartLeft    = 34 // room for the y-axis labels
	chartTop     = 8
	chartPlotH   = 100 // the tallest bar
	chartBottom  = 18  // room for the x-axis labels
)

// runChart is a laid-out bar chart.
type runChart struct {
	Width, Height int
	Left, Right   int // the plot's horizontal extent
	Top, Base     int // the plot's top and its baseline (y of zero)
	Mid           int // x of the middle label
	Bars          []chartBar
	Max, Total    int64
}

// chartBar is one minute's bar.
type chartBar struct {
	X, Y, W, H int
	Minute     time.Time
	Count      int64
}

// Label names the bar for its tooltip and screen readers.
func (b chartBar) Label() string {
	noun := "runs"
	if b.Count == 1 {
		noun = "run"
	}
	return fmt.Sprintf("%s UTC: %d %s", b.Minute.UTC().Format("15:04"), b.Count, noun)
}

// TickX is the x of the y-axis labels (right-aligned left of the plot).
func (c runChart) TickX() int { return c.Left - 4 }

// LabelY is the baseline of the x-axis labels.
func (c runChart) LabelY() int { return c.Base + 13 }

// Summary describes the whole chart in words.
func (c runChart) Summary() string {
	return fmt.Sprintf("Runs created per minute over the last hour: %d in total, at most %d in one minute.", c.Total, c.Max)
}

// buildRunChart lays out the 60 minutes ending with the minute of now;
// counts outside them are ignored.
func buildRunChart(counts []store.MinuteCount, now time.Time) runChart {
	first := now.Truncate(time.Minute).Add(-(chartMinutes - 1) * time.Minute)
	byMinute := make([]int64, chartMinutes)
	c := runChart{Left: chartLeft, Top: chartTop, Base: chartTop + chartPlotH}
	for _, m := range counts {
		i := int(m.Minute.Sub(first) / time.Minute)
		if m.Minute.Before(first) || i >= chartMinutes {
			continue
		}
		byMinute[i] += m.Count
	}
	for _, n := range byMinute {
		c.Max = max(c.Max, n)
		c.Total += n
	}
	for i, n := range byMinute {
		h := 0
		if c.Max > 0 {
			h = int((n*chartPlotH + c.Max/2) / c.Max)
		}
		if n > 0 && h < 1 {
			h = 1 // a minute with runs is never invisible
		}
		c.Bars = append(c.Bars, chartBar{X: chartLeft + i*(chartBarW+chartGap), Y: c.Base - h, W: chartBarW, H: h,
			Minute: first.Add(time.Duration(i) * time.Minute), Count: n})
	}
	c.Right = chartLeft + chartMinutes*(chartBarW+chartGap) - chartGap
	c.Mid = (c.Left + c.Right) / 2
	c.Width = c.Right + 4
	c.Height = c.Base + chartBottom
	return c
}
