package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/cyberbrain/cyberbrain/pkg/domain"
	"github.com/cyberbrain/cyberbrain/pkg/store"
	"github.com/cyberbrain/cyberbrain/pkg/testenv"
)

const scheduleWait = 20 * time.Second

// textOf reads an element's text in one script call: a live section may be
// swapped for a fresh copy between a lookup and a read.
func textOf(t *testing.T, e *env, sel string) string {
	t.Helper()
	b, _ := json.Marshal(sel)
	return getString(t, e, chromedp.Evaluate[string](`(document.querySelector(`+string(b)+`) || {}).innerText || ""`))
}

// typeInto replaces an input's text the way a user does (key events, so the
// form's script sees them).
func typeInto(sel, text string) []chromedp.Action[chromedp.Void] {
	return []chromedp.Action[chromedp.Void]{chromedp.Clear(chromedp.CSS(sel)), chromedp.SendKeys(chromedp.CSS(sel), text)}
}

// A bad cron expression shows the store's error next to the field while the
// user types, without submitting; submitting anyway shows the form again
// with the error and stores nothing.
func TestSchedulesFormBadCron(t *testing.T) {
	e := newEnv(t)
	before := countSchedules(t, e)
	e.b.Do(t, scheduleWait, chromedp.Navigate(e.url+"/schedules/new"), chromedp.WaitVisible(chromedp.CSS("#cron_expr")))
	e.b.Do(t, scheduleWait, typeInto("#name", "broken")...)
	e.b.Do(t, scheduleWait, typeInto("#cron_expr", "61 * * * *")...)
	e.b.Do(t, scheduleWait, chromedp.Poll[chromedp.Void](`document.getElementById("cron_expr-error").textContent.includes('"61 * * * *"')`))
	msg := textOf(t, e, "#cron_expr-error")
	if !strings.Contains(msg, "invalid cron expression") {
		t.Fatalf("inline error %q, want the store's invalid cron expression", msg)
	}
	if hidden := testenvGet(t, e, chromedp.Evaluate[bool](`document.getElementById("schedule-preview").hidden`)); !hidden {
		t.Fatal("the preview shows times for an invalid expression")
	}
	if inv := getString(t, e, chromedp.Evaluate[string](`document.getElementById("cron_expr").getAttribute("aria-invalid") || ""`)); inv != "true" {
		t.Fatalf("cron input aria-invalid = %q, want true", inv)
	}
	if n := countSchedules(t, e); n != before {
		t.Fatalf("typing stored something: %d schedules, want %d", n, before)
	}
	e.noErrors("/schedules/new with a bad cron")

	e.b.Do(t, scheduleWait, chromedp.Click(chromedp.CSS("#schedule-submit")), chromedp.WaitVisible(chromedp.CSS("#schedule-form[data-refused]")))
	e.b.Errors() // the refusal's 422 is the one error expected
	msg = textOf(t, e, "#cron_expr-error")
	if !strings.Contains(msg, "invalid cron expression") {
		t.Fatalf("after submit the field error is %q", msg)
	}
	if v := getString(t, e, chromedp.Value(chromedp.CSS("#name"))); v != "broken" {
		t.Fatalf("the refused form lost the name: %q", v)
	}
	if n := countSchedules(t, e); n != before {
		t.Fatalf("a refused submit stored a schedule: %d schedules, want %d", n, before)
	}
}

// A good expression shows it in words and its next five firing times (the
// first of which is the next_run_at the store then computes); submitting
// lands on the new schedule's page.
func TestSchedulesFormGoodCron(t *testing.T) {
	e := newEnv(t)
	e.b.Do(t, scheduleWait, chromedp.Navigate(e.url+"/schedules/new"), chromedp.WaitVisible(chromedp.CSS("#cron_expr")))
	e.b.Do(t, scheduleWait, typeInto("#name", "nightly triage")...)
	e.b.Do(t, scheduleWait, typeInto("#timezone", "Europe/Berlin")...)
	e.b.Do(t, scheduleWait, typeInto("#cron_expr", "0 2 * * *")...)
	e.b.Do(t, scheduleWait, chromedp.Poll[chromedp.Void](`document.getElementById("preview-description").textContent === "at 02:00 every day, Europe/Berlin"`),
		chromedp.WaitVisible(chromedp.CSS("#preview-next li:nth-child(5) time")))
	n := testenvGet(t, e, chromedp.Evaluate[int](`document.querySelectorAll("#preview-next li").length`))
	if n != 5 {
		t.Fatalf("preview lists %d times, want 5", n)
	}
	if d := textOf(t, e, "#preview-description"); d != "at 02:00 every day, Europe/Berlin" {
		t.Fatalf("preview says %q", d)
	}
	times := testenvGet(t, e, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll("#preview-next time")).map(t => t.getAttribute("datetime"))`))
	berlin, _ := time.LoadLocation("Europe/Berlin")
	for i, s := range times {
		tt, err := time.Parse(time.RFC3339, s)
		if err != nil || tt.In(berlin).Format("15:04") != "02:00" || (i > 0 && !tt.After(mustTime(t, times[i-1]))) {
			t.Fatalf("preview time %d = %q, want increasing 02:00 Berlin times", i, s)
		}
	}
	if err := textOf(t, e, "#cron_expr-error"); err != "" {
		t.Fatalf("a good expression shows the error %q", err)
	}
	e.noErrors("/schedules/new with a good cron")

	e.b.Do(t, scheduleWait, chromedp.Click(chromedp.CSS("#schedule-submit")), chromedp.WaitVisible(chromedp.CSS("#schedule-description")))
	loc := getString(t, e, chromedp.Location())
	m := regexp.MustCompile(`/schedules/(\d+)$`).FindStringSubmatch(loc)
	if m == nil {
		t.Fatalf("submit landed on %s, want /schedules/{id}", loc)
	}
	id, _ := strconv.ParseInt(m[1], 10, 64)
	sc, err := e.st.GetSchedule(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if sc.Name != "nightly triage" || sc.CronExpr != "0 2 * * *" || sc.Timezone != "Europe/Berlin" || !sc.Enabled {
		t.Fatalf("stored %+v", sc)
	}
	if sc.NextRunAt == nil || sc.NextRunAt.UTC().Format(time.RFC3339) != times[0] {
		t.Fatalf("stored next_run_at %v, the preview said %s", sc.NextRunAt, times[0])
	}
	if d := textOf(t, e, "#schedule-description"); d != "at 02:00 every day, Europe/Berlin" {
		t.Fatalf("detail says %q", d)
	}
	next := getString(t, e, chromedp.Evaluate[string](`document.querySelector("#schedule-next time").getAttribute("datetime")`))
	if next != times[0] {
		t.Fatalf("detail's next run %s, want %s", next, times[0])
	}
	// The viewer's local time, not the server's UTC text.
	if txt := textOf(t, e, "#schedule-next time"); strings.Contains(txt, "UTC") {
		t.Fatalf("next run shown as %q, want the viewer's local time", txt)
	}
	e.noErrors("/schedules/{id}")
}

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	tt, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return tt
}

// Disable, enable, run now and delete work from the schedule's page; the
// run-now's run appears in the history and its badge turns completed live.
func TestSchedulesActions(t *testing.T) {
	e := newEnv(t)
	enableNoop(t, e)
	ctx := context.Background()
	sc := newCronSchedule(t, e, "hourly noop", "0 * * * *", "UTC", true)
	page := fmt.Sprintf("%s/schedules/%d", e.url, sc.ID)
	e.b.Do(t, scheduleWait, chromedp.Navigate(page), chromedp.WaitVisible(chromedp.CSS("#schedule-disable")))
	e.noErrors("/schedules/{id}")

	e.b.Do(t, scheduleWait, chromedp.Click(chromedp.CSS("#schedule-disable")), chromedp.WaitVisible(chromedp.CSS("#schedule-enable")))
	if got, _ := e.st.GetSchedule(ctx, sc.ID); got.Enabled {
		t.Fatal("Disable left the schedule enabled")
	}
	e.b.Do(t, scheduleWait, chromedp.Click(chromedp.CSS("#schedule-enable")), chromedp.WaitVisible(chromedp.CSS("#schedule-disable")))
	if got, _ := e.st.GetSchedule(ctx, sc.ID); !got.Enabled || got.NextRunAt == nil {
		t.Fatalf("Enable: %+v", got)
	}
	e.noErrors("enable/disable")

	// The run page belongs to the runs area: wait for any new document.
	e.b.Do(t, scheduleWait, chromedp.Evaluate[chromedp.Void](`document.body.dataset.before = "run-now"`),
		chromedp.Click(chromedp.CSS("#schedule-run-now")), chromedp.WaitVisible(chromedp.CSS(`body:not([data-before]) h1`)))
	loc := getString(t, e, chromedp.Location())
	m := regexp.MustCompile(`/runs/(\d+)$`).FindStringSubmatch(loc)
	if m == nil {
		t.Fatalf("run now landed on %s, want /runs/{id}", loc)
	}
	runID, _ := strconv.ParseInt(m[1], 10, 64)
	hist, n, err := e.st.ScheduleHistory(ctx, sc.ID, 10, 0)
	if err != nil || n != 1 || hist[0].RunID != runID {
		t.Fatalf("history after run now: %v %d %+v, want run %d", err, n, hist, runID)
	}
	e.b.Errors() // the run page belongs to the runs area; only its address is checked here

	// The history shows the run; a scheduler runs it and the badge follows.
	e.b.Do(t, scheduleWait, chromedp.Navigate(page),
		chromedp.WaitVisible(chromedp.CSS(fmt.Sprintf(`#schedule-history a[href="/runs/%d"]`, runID))),
		chromedp.WaitVisible(chromedp.CSS(`body[data-live="ready"]`)))
	e.startScheduler(nil)
	e.b.Do(t, 60*time.Second, chromedp.WaitVisible(chromedp.CSS(fmt.Sprintf(`[data-run-status="%d"].s-completed`, runID))))
	e.noErrors("history")

	// A schedule with history cannot be deleted: the page says why and the
	// schedule stays.
	e.b.Do(t, scheduleWait, chromedp.Click(chromedp.CSS("#schedule-delete")), chromedp.WaitVisible(chromedp.CSS(".error-message")))
	if msg := textOf(t, e, ".error-message"); !strings.Contains(msg, "disable it instead") {
		t.Fatalf("delete of a schedule with history says %q", msg)
	}
	if h := textOf(t, e, "h1"); !strings.HasPrefix(h, "409") {
		t.Fatalf("delete of a schedule with history: %q, want a 409 page", h)
	}
	e.b.Errors() // the 409
	if _, err := e.st.GetSchedule(ctx, sc.ID); err != nil {
		t.Fatalf("refused delete removed the schedule: %v", err)
	}

	// One that never ran is deleted and the list no longer shows it.
	other := newCronSchedule(t, e, "never ran", "@daily", "UTC", false)
	e.b.Do(t, scheduleWait, chromedp.Navigate(fmt.Sprintf("%s/schedules/%d", e.url, other.ID)),
		chromedp.WaitVisible(chromedp.CSS("#schedule-delete")),
		chromedp.Click(chromedp.CSS("#schedule-delete")),
		chromedp.WaitVisible(chromedp.CSS("#schedule-list")))
	if loc := getString(t, e, chromedp.Location()); !strings.HasSuffix(loc, "/schedules") {
		t.Fatalf("delete landed on %s", loc)
	}
	if _, err := e.st.GetSchedule(ctx, other.ID); err == nil {
		t.Fatal("Delete left the schedule")
	}
	list := textOf(t, e, "#schedule-list")
	if strings.Contains(list, "never ran") || !strings.Contains(list, "hourly noop") {
		t.Fatalf("list after delete: %q", list)
	}
	e.noErrors("delete")
}

// A schedule named with HTML shows the text literally on the list and on its
// page, and its markup never runs.
func TestSchedulesEscapeNames(t *testing.T) {
	e := newEnv(t)
	const payload = `<img src=x onerror="window.__xss=1">`
	sc, err := e.st.CreateSchedule(context.Background(), &store.ScheduleWrite{Schedule: store.Schedule{
		Name: payload, Task: "noop", ScheduleType: domain.ScheduleCron, CronExpr: "*/5 * * * *", Timezone: "UTC",
		CustomDirectiveText: payload, Enabled: true}})
	if err != nil {
		t.Fatal(err)
	}
	e.b.Do(t, scheduleWait, chromedp.Navigate(e.url+"/schedules"), chromedp.WaitVisible(chromedp.CSS(".sched-name")))
	if got := textOf(t, e, ".sched-name"); got != payload {
		t.Fatalf("list shows %q, want the name literally", got)
	}
	noXSS(t, e, "/schedules")
	e.noErrors("/schedules")
	e.b.Do(t, scheduleWait, chromedp.Navigate(fmt.Sprintf("%s/schedules/%d", e.url, sc.ID)), chromedp.WaitVisible(chromedp.CSS("#schedule-name")))
	if got := textOf(t, e, "#schedule-name"); got != payload {
		t.Fatalf("detail shows %q, want the name literally", got)
	}
	if got := textOf(t, e, ".sched-custom"); got != payload {
		t.Fatalf("detail shows the custom directive as %q", got)
	}
	noXSS(t, e, "/schedules/{id}")
	e.noErrors("/schedules/{id}")

	// Typed into the form, too.
	e.b.Do(t, scheduleWait, chromedp.Navigate(e.url+"/schedules/new"), chromedp.WaitVisible(chromedp.CSS("#name")))
	e.b.Do(t, scheduleWait, typeInto("#name", payload+" 2")...)
	e.b.Do(t, scheduleWait, typeInto("#cron_expr", "@hourly")...)
	e.b.Do(t, scheduleWait, chromedp.WaitVisible(chromedp.CSS("#preview-next li")),
		chromedp.Click(chromedp.CSS("#schedule-submit")), chromedp.WaitVisible(chromedp.CSS("#schedule-name")))
	if got := textOf(t, e, "#schedule-name"); got != payload+" 2" {
		t.Fatalf("detail shows %q", got)
	}
	noXSS(t, e, "new schedule")
	e.noErrors("new schedule")
}

// The list shows the schedules people made (not launches' one-shot
// schedules), each with its timing in words and a link, and orders by name.
func TestSchedulesList(t *testing.T) {
	e := newEnv(t)
	newCronSchedule(t, e, "b-daily", "0 2 * * *", "Europe/Berlin", true)
	newCronSchedule(t, e, "a-weekdays", "30 9 * * 1-5", "UTC", false)
	iv := 15
	if _, err := e.st.CreateSchedule(context.Background(), &store.ScheduleWrite{Schedule: store.Schedule{
		Name: "c-interval", Task: "noop", ScheduleType: domain.ScheduleInterval, IntervalMinutes: &iv, Timezone: "UTC", Enabled: true}}); err != nil {
		t.Fatal(err)
	}
	e.b.Do(t, scheduleWait, chromedp.Navigate(e.url+"/schedules"), chromedp.WaitVisible(chromedp.CSS("table.schedules")))
	names := testenvGet(t, e, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll(".sched-name")).map(a => a.textContent)`))
	if strings.Join(names, ",") != "c-interval,a-weekdays,b-daily" {
		t.Fatalf("newest first: %v", names)
	}
	text := textOf(t, e, "table.schedules")
	for _, want := range []string{"at 02:00 every day, Europe/Berlin", "at 09:30 on Monday to Friday, UTC", "every 15 minutes", "never ran", "disabled"} {
		if !strings.Contains(text, want) {
			t.Errorf("list lacks %q:\n%s", want, text)
		}
	}
	e.noErrors("/schedules")
	e.b.Do(t, scheduleWait, chromedp.Click(chromedp.CSS(`a[href="/schedules?order=name"]`)), chromedp.WaitVisible(chromedp.CSS(`.sched-order a[href="/schedules"]`)))
	names = testenvGet(t, e, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll(".sched-name")).map(a => a.textContent)`))
	if strings.Join(names, ",") != "a-weekdays,b-daily,c-interval" {
		t.Fatalf("by name: %v", names)
	}
	e.b.Do(t, scheduleWait, chromedp.Click(chromedp.CSS(`a[href="/schedules/new"]`)), chromedp.WaitVisible(chromedp.CSS("#schedule-form")))
	e.noErrors("/schedules?order=name")
}

// Without the script the form still works: the server validates with the
// store's rules, answers 422 with the field error and stores nothing, or
// stores the schedule and redirects to it.
func TestSchedulesFormWithoutScript(t *testing.T) {
	e := newEnv(t)
	fc := newFormClient(t, e)
	before := countSchedules(t, e)
	form := func(kv ...string) url.Values {
		v := url.Values{"name": {"x"}, "task_key": {"noop"}, "schedule_type": {"cron"}, "cron_expr": {"0 2 * * *"},
			"timezone": {"UTC"}, "enabled": {"1"}}
		for i := 0; i < len(kv); i += 2 {
			v.Set(kv[i], kv[i+1])
		}
		return v
	}
	for _, c := range []struct {
		v     url.Values
		field string
	}{
		{form("cron_expr", "61 * * * *"), "invalid cron expression"},
		{form("cron_expr", "0 0 30 2 *"), "never fires"},
		{form("timezone", "Mars/Olympus"), "unknown IANA time zone"},
		{form("name", ""), "is required"},
		{form("name", "launch-run-1-noop"), "reserved"},
		{form("schedule_type", "interval", "interval_minutes", "0"), "positive number of minutes"},
		{form("schedule_type", "interval", "interval_minutes", "ten"), "whole number"},
		{form("cron_expr", "@every 10s"), "shortest period"},
		{form("task_key", "nope"), "unknown task"},
		{form("target_host_id", "999"), "worker host not found"},
	} {
		res, body := fc.post("/schedules", c.v)
		if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, c.field) {
			t.Errorf("POST %v: %d, want 422 with %q", c.v, res.StatusCode, c.field)
		}
	}
	if n := countSchedules(t, e); n != before {
		t.Fatalf("refused forms stored %d schedules", n-before)
	}
	res, _ := fc.post("/schedules", form("name", "ok", "schedule_type", "one_shot", "cron_expr", "", "next_run_at", "2030-01-31T14:00", "timezone", "Europe/Berlin"))
	loc := res.Header.Get("Location")
	if res.StatusCode != http.StatusSeeOther || !regexp.MustCompile(`^/schedules/\d+$`).MatchString(loc) {
		t.Fatalf("good form: %d %q", res.StatusCode, loc)
	}
	id, _ := strconv.ParseInt(strings.TrimPrefix(loc, "/schedules/"), 10, 64)
	sc, err := e.st.GetSchedule(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	want := time.Date(2030, 1, 31, 13, 0, 0, 0, time.UTC) // 14:00 in Berlin
	if sc.ScheduleType != domain.ScheduleOneShot || sc.NextRunAt == nil || !sc.NextRunAt.Equal(want) {
		t.Fatalf("one-shot stored as %+v, want next_run_at %s", sc, want)
	}
	// A second schedule with the same name is refused with the reason.
	res, body := fc.post("/schedules", form("name", "ok"))
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "already exists") {
		t.Fatalf("duplicate name: %d", res.StatusCode)
	}
	// Actions on a missing schedule are 404 pages.
	if res, _ := fc.post("/schedules/999999/run-now", url.Values{}); res.StatusCode != http.StatusNotFound {
		t.Fatalf("run-now of a missing schedule: %d", res.StatusCode)
	}
	if res, _ := fc.get("/schedules/999999"); res.StatusCode != http.StatusNotFound {
		t.Fatalf("missing schedule page: %d", res.StatusCode)
	}
}

// The preview answers the store's validation and the scheduler's own next
// slots.
func TestSchedulesPreview(t *testing.T) {
	e := newEnv(t)
	fc := newFormClient(t, e)
	var ans struct {
		Description string
		Next        []string
		Error       string
		Field       string
	}
	get := func(q url.Values) int {
		t.Helper()
		ans.Description, ans.Next, ans.Error, ans.Field = "", nil, "", ""
		res, body := fc.get("/schedules/preview?" + q.Encode())
		if err := json.Unmarshal([]byte(body), &ans); err != nil || res.StatusCode != http.StatusOK {
			t.Fatalf("preview %v: %d %s", q, res.StatusCode, body)
		}
		if ans.Error != "" {
			return http.StatusBadRequest
		}
		return http.StatusOK
	}
	if st := get(url.Values{"schedule_type": {"cron"}, "cron_expr": {"61 * * * *"}, "timezone": {"UTC"}}); st != 400 || ans.Field != "cron_expr" || !strings.Contains(ans.Error, "invalid cron expression") {
		t.Fatalf("bad cron: %d %+v", st, ans)
	}
	if st := get(url.Values{"schedule_type": {"cron"}, "cron_expr": {"@daily"}, "timezone": {"Nowhere/Town"}}); st != 400 || ans.Field != "timezone" {
		t.Fatalf("bad zone: %d %+v", st, ans)
	}
	if st := get(url.Values{"schedule_type": {"cron"}, "cron_expr": {"*/10 * * * *"}, "timezone": {"Asia/Kolkata"}}); st != 200 || len(ans.Next) != 5 || ans.Description != "every 10 minutes, Asia/Kolkata" {
		t.Fatalf("good cron: %d %+v", st, ans)
	}
	tm := domain.Timing{Type: domain.ScheduleCron, CronExpr: "*/10 * * * *", Timezone: "Asia/Kolkata"}
	first := mustTime(t, ans.Next[0])
	for i := 1; i < 5; i++ {
		want, _ := tm.NextAfter(first, first)
		if got := mustTime(t, ans.Next[i]); !got.Equal(want) {
			t.Fatalf("slot %d = %s, the scheduler's next is %s", i, got, want)
		}
		first = want
	}
	if st := get(url.Values{"schedule_type": {"interval"}, "interval_minutes": {"90"}}); st != 200 || len(ans.Next) != 5 || ans.Description != "every 90 minutes" {
		t.Fatalf("interval: %d %+v", st, ans)
	}
	if d := mustTime(t, ans.Next[1]).Sub(mustTime(t, ans.Next[0])); d != 90*time.Minute {
		t.Fatalf("interval slots %s apart", d)
	}
	if st := get(url.Values{"schedule_type": {"one_shot"}, "next_run_at": {"2030-06-01T08:00"}, "timezone": {"Europe/Berlin"}}); st != 200 || len(ans.Next) != 1 || ans.Next[0] != "2030-06-01T06:00:00Z" || ans.Description != "once" {
		t.Fatalf("one-shot: %d %+v", st, ans)
	}
	if st := get(url.Values{"schedule_type": {"one_shot"}, "next_run_at": {"tomorrow"}}); st != 400 || ans.Field != "next_run_at" {
		t.Fatalf("one-shot with a bad time: %d %+v", st, ans)
	}
}

// The schedule list shows the schedules people made, not the one-shot
// schedule every launch creates (those show on their runs). How fast the
// list and history are with 100,000 launches is `make bench-pages`' job.
func TestSchedulesListLeavesOutLaunches(t *testing.T) {
	e := newEnv(t)
	newCronSchedule(t, e, "nightly", "0 3 * * *", "UTC", true)
	testenv.SQL(t, e.st).Exec(`UPDATE task_definitions SET enabled = true WHERE key = 'noop'`)
	for range 3 {
		if _, err := e.st.Launch(context.Background(), store.LaunchRequest{Tasks: []string{"noop"}}); err != nil {
			t.Fatal(err)
		}
	}
	_, body := newFormClient(t, e).get("/schedules")
	if strings.Contains(body, "launch-run-") || strings.Count(body, `class="sched-name"`) != 1 {
		t.Fatalf("the list shows launch schedules or miscounts:\n%s", body)
	}
}
