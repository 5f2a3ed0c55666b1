package api

import (
	"net/http"
	"strings"
	"testing"
)

// TestOneMinimumPeriod: every schedule type has the same shortest period, one
// minute. Cron's @every descriptor used to accept @every 1s (a run a
// second) while an interval could not go below a minute.
func TestOneMinimumPeriod(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for i, tc := range []struct {
		body  string
		field string // "" = accepted
	}{
		{`"schedule_type":"cron","cron_expr":"@every 1s"`, "cron_expr"},
		{`"schedule_type":"cron","cron_expr":"@every 59s"`, "cron_expr"},
		{`"schedule_type":"cron","cron_expr":"@every 0s"`, "cron_expr"},
		{`"schedule_type":"cron","cron_expr":"@every 1m"`, ""},
		{`"schedule_type":"cron","cron_expr":"@every 90s"`, ""},
		{`"schedule_type":"cron","cron_expr":"* * * * *"`, ""},
		{`"schedule_type":"interval","interval_minutes":0`, "interval_minutes"},
		{`"schedule_type":"interval","interval_minutes":1`, ""},
	} {
		body := `{"name":"p` + string(rune('a'+i)) + `","task_key":"noop",` + tc.body + `}`
		r := e.do(http.MethodPost, "/api/schedules/", body)
		if tc.field == "" {
			if r.Status != http.StatusCreated {
				t.Errorf("%s: %d %s", tc.body, r.Status, r.Body)
			}
			continue
		}
		if r.Status != http.StatusBadRequest || len(fieldErrors(t, r)[tc.field]) == 0 {
			t.Errorf("%s: %d %s, want a 400 naming %s", tc.body, r.Status, r.Body, tc.field)
		}
		if tc.field == "cron_expr" && !strings.Contains(string(r.Body), "1m0s") {
			t.Errorf("%s: the message does not state the minimum: %s", tc.body, r.Body)
		}
	}
	// An edit is held to it as well.
	e.must(400, "PATCH", "/api/schedules/1/", `{"schedule_type":"cron","cron_expr":"@every 5s"}`)
}
