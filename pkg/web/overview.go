package web

import (
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/cyberbrain/cyberbrain/pkg/store"
)

const (
	overviewRecentRuns = 10
	overviewFindings   = 8
	// overviewFindingsAge bounds how old a finding the overview still shows.
	overviewFindingsAge = 7 * 24 * time.Hour
)

// overviewPage is "/": what needs attention now.
type overviewPage struct {
	Counts    store.RunCounts
	Chart     runChart
	Recent    []store.Run
	Unhealthy []store.WorkerHost
	Findings  []store.Finding
	HostNames map[int64]string
}

// HostName names a worker host by id (its id when it is gone).
func (p overviewPage) HostName(id int64) string {
	if n, ok := p.HostNames[id]; ok {
		return n
	}
	return "host " + strconv.FormatInt(id, 10)
}

// overview is "/": run counts, runs per minute over the last hour, the
// newest runs, unhealthy hosts and the newest log_triage findings.
func (u *UI) overview(c echo.Context) error {
	ctx := c.Request().Context()
	now := time.Now()
	var out overviewPage
	var err error
	if out.Counts, err = u.st.CountRuns(ctx, now.Add(-24*time.Hour)); err != nil {
		return err
	}
	perMinute, err := u.st.RunsPerMinute(ctx, now.Truncate(time.Minute).Add(-(chartMinutes-1)*time.Minute))
	if err != nil {
		return err
	}
	out.Chart = buildRunChart(perMinute, now)
	recent, err := u.st.ListRunPage(ctx, store.RunQuery{Limit: overviewRecentRuns})
	if err != nil {
		return err
	}
	out.Recent = recent.Runs
	hosts, err := u.st.ListWorkerHosts(ctx, store.ListParams{Limit: store.MaxPageSize, Ordering: "name"})
	if err != nil {
		return err
	}
	out.HostNames = map[int64]string{}
	err = hosts.Each(ctx, func(h *store.WorkerHost) error {
		out.HostNames[h.ID] = h.Name
		if h.Healthy != nil && !*h.Healthy {
			out.Unhealthy = append(out.Unhealthy, *h)
		}
		return nil
	})
	if err != nil {
		return err
	}
	since := now.Add(-overviewFindingsAge)
	if out.Findings, _, err = u.st.ListFindings(ctx, store.FindingFilter{Since: &since}, store.ListParams{Limit: overviewFindings}); err != nil {
		return err
	}
	return u.render(c, "overview", "Overview", out)
}
