package web

import (
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/cyberbrain/cyberbrain/pkg/domain"
	"github.com/cyberbrain/cyberbrain/pkg/store"
)

// scheduleForm is the new-schedule form as typed: field values are kept as
// strings so a refused form comes back exactly as it was sent. Input names
// are the REST API's schedule fields, and so are the keys of Errors (the
// store's validation names them).
type scheduleForm struct {
	Name            string
	Task            string
	Type            string
	CronExpr        string
	Timezone        string
	IntervalMinutes string
	NextRunAt       string // datetime-local, read in Timezone
	DirectiveID     string
	CustomDirective string
	HostID          string
	Enabled         bool
	MaxGlobal       string
	MaxPerJob       string

	Errors  map[string]string
	Message string // an error not tied to one field

	Tasks      []store.TaskDefinition
	Directives []store.Directive
	Hosts      []store.WorkerHost
	Zones      []string
}

// scheduleFormFields are the form's inputs; the store's error for any other
// key is shown above the form.
var scheduleFormFields = []string{"name", "task_key", "schedule_type", "cron_expr", "timezone", "interval_minutes",
	"next_run_at", "directive_id", "custom_directive_text", "target_host_id", "max_global", "max_per_job"}

// scheduleZones are offered as suggestions; any IANA name is accepted.
var scheduleZones = []string{"UTC", "Europe/London", "Europe/Berlin", "Europe/Paris", "Europe/Madrid", "Europe/Rome",
	"Europe/Amsterdam", "Europe/Warsaw", "Europe/Helsinki", "Europe/Moscow", "America/New_York", "America/Chicago",
	"America/Denver", "America/Los_Angeles", "America/Sao_Paulo", "America/Toronto", "Asia/Tokyo", "Asia/Shanghai",
	"Asia/Singapore", "Asia/Kolkata", "Asia/Dubai", "Australia/Sydney", "Pacific/Auckland", "Africa/Johannesburg"}

// readScheduleForm reads the posted (or, for the preview, queried) fields.
func readScheduleForm(c echo.Context) *scheduleForm {
	v := func(k string) string { return strings.TrimSpace(c.FormValue(k)) }
	return &scheduleForm{
		Name: v("name"), Task: v("task_key"), Type: v("schedule_type"), CronExpr: v("cron_expr"),
		Timezone: v("timezone"), IntervalMinutes: v("interval_minutes"), NextRunAt: v("next_run_at"),
		DirectiveID: v("directive_id"), CustomDirective: strings.TrimSpace(c.FormValue("custom_directive_text")),
		HostID: v("target_host_id"), Enabled: c.FormValue("enabled") != "",
		MaxGlobal: v("max_global"), MaxPerJob: v("max_per_job"),
	}
}

// write turns the form into the store's ScheduleWrite. Input that is not
// even a number or a time is reported here; every rule about the values is
// the store's (ValidateSchedule, run by CreateSchedule and the preview).
func (f *scheduleForm) write() (*store.ScheduleWrite, map[string]string) {
	errs := map[string]string{}
	sc := store.Schedule{Name: f.Name, Task: f.Task, ScheduleType: domain.ScheduleType(f.Type),
		Timezone: f.Timezone, CustomDirectiveText: f.CustomDirective, Enabled: f.Enabled}
	if sc.Timezone == "" {
		sc.Timezone = "UTC"
	}
	if store.ReservedScheduleName(sc.Name) {
		errs["name"] = "names starting with launch-run- are reserved for launches"
	}
	w := &store.ScheduleWrite{}
	switch sc.ScheduleType {
	case domain.ScheduleCron:
		sc.CronExpr = f.CronExpr
	case domain.ScheduleInterval:
		if f.IntervalMinutes != "" {
			n, err := strconv.Atoi(f.IntervalMinutes)
			if err != nil {
				errs["interval_minutes"] = "must be a whole number of minutes"
			} else {
				sc.IntervalMinutes = &n
			}
		}
	case domain.ScheduleOneShot:
		if f.NextRunAt != "" {
			t, err := f.fireAt(sc.Timezone)
			if err != nil {
				errs["next_run_at"] = err.Error()
			} else {
				w.ExplicitNextRunAt = &t
			}
		}
	}
	sc.DirectiveID = scheduleFormID(f.DirectiveID, "directive_id", errs)
	sc.TargetHostID = scheduleFormID(f.HostID, "target_host_id", errs)
	sc.MaxGlobal = scheduleFormLimit(f.MaxGlobal, "max_global", errs)
	sc.MaxPerJob = scheduleFormLimit(f.MaxPerJob, "max_per_job", errs)
	w.Schedule = sc
	return w, errs
}

// fireAt reads the one-shot time (datetime-local) as a wall time in tz.
func (f *scheduleForm) fireAt(tz string) (time.Time, error) {
	loc, err := domain.LoadLocation(tz)
	if err != nil {
		loc = time.UTC // the time zone's own error is reported on its field
	}
	for _, layout := range []string{"2006-01-02T15:04", "2006-01-02T15:04:05"} {
		if t, err := time.ParseInLocation(layout, f.NextRunAt, loc); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, errors.New("must be a date and time such as 2030-01-31T14:00")
}

func scheduleFormID(s, field string, errs map[string]string) *int64 {
	if s == "" {
		return nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 {
		errs[field] = "must be a positive integer id"
		return nil
	}
	return &n
}

func scheduleFormLimit(s, field string, errs map[string]string) *int {
	if s == "" {
		return nil
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		errs[field] = "must be a whole number (or empty for no limit)"
		return nil
	}
	return &n
}

// addScheduleFieldErrors copies the store's per-field messages into errs (the
// first message of each field; a key the form has no input for goes to the
// message above the form).
func addScheduleFieldErrors(errs map[string]string, fields map[string][]string) (other []string) {
	for k, msgs := range fields {
		if len(msgs) == 0 {
			continue
		}
		if !slices.Contains(scheduleFormFields, k) {
			other = append(other, k+": "+msgs[0])
			continue
		}
		if _, ok := errs[k]; !ok {
			errs[k] = strings.Join(msgs, "; ")
		}
	}
	slices.Sort(other)
	return other
}

// scheduleTimingFields are the fields the preview judges: the rest of the form
// (name, task…) is checked on submit.
var scheduleTimingFields = []string{"schedule_type", "cron_expr", "timezone", "interval_minutes", "next_run_at"}

// schedulePreviewAnswer is GET /schedules/preview's JSON.
type schedulePreviewAnswer struct {
	Description string            `json:"description,omitempty"`
	Next        []string          `json:"next,omitempty"`
	Error       string            `json:"error,omitempty"`
	Field       string            `json:"field,omitempty"`
	Fields      map[string]string `json:"fields,omitempty"`
}

// schedulePreview answers the form's script as the user types: the timing
// described in words and its next five firing times, or the first problem
// with it ({"error", "field", "fields"}). Both are 200: the request itself
// succeeded, and a 4xx would log an error in the browser's console on every
// keystroke of a half-typed expression. It judges with the store's own validation and computes the
// times with the scheduler's own NextAfter, so it never disagrees with what
// submitting and running the schedule will do.
func (u *UI) schedulePreview(c echo.Context) error {
	f := readScheduleForm(c)
	// Placeholders for the fields the preview does not judge.
	f.Name, f.Task, f.DirectiveID, f.HostID, f.MaxGlobal, f.MaxPerJob, f.CustomDirective = "preview", "preview", "", "", "", "", ""
	w, errs := f.write()
	addScheduleFieldErrors(errs, store.ValidateSchedule(&w.Schedule))
	for _, k := range scheduleTimingFields {
		if msg, ok := errs[k]; ok {
			return c.JSON(http.StatusOK, schedulePreviewAnswer{Error: msg, Field: k, Fields: pickScheduleErrs(errs, scheduleTimingFields)})
		}
	}
	next, err := scheduleNextFirings(&w.Schedule, w.ExplicitNextRunAt, time.Now(), 5)
	if err != nil {
		return c.JSON(http.StatusOK, schedulePreviewAnswer{Error: err.Error(), Field: "cron_expr"})
	}
	out := schedulePreviewAnswer{Description: describeSchedule(&w.Schedule)}
	if w.Schedule.ScheduleType == domain.ScheduleOneShot && w.ExplicitNextRunAt == nil {
		out.Description = "once, as soon as it is saved"
	}
	for _, t := range next {
		out.Next = append(out.Next, t.UTC().Format(time.RFC3339))
	}
	return c.JSON(http.StatusOK, out)
}

func pickScheduleErrs(m map[string]string, keys []string) map[string]string {
	out := map[string]string{}
	for _, k := range keys {
		if v, ok := m[k]; ok {
			out[k] = v
		}
	}
	return out
}

// scheduleNextFirings returns the first n slots of sc after now, as the store
// computes the first (firstRunAt) and the scheduler each following one
// (Timing.NextAfter from the slot that fired). A one-shot fires once: at
// explicit, else when saved.
func scheduleNextFirings(sc *store.Schedule, explicit *time.Time, now time.Time, n int) ([]time.Time, error) {
	if sc.ScheduleType == domain.ScheduleOneShot {
		if explicit != nil {
			return []time.Time{*explicit}, nil
		}
		return []time.Time{now}, nil
	}
	timing := store.ScheduleTiming(sc)
	var out []time.Time
	t := now
	if explicit != nil {
		out, t = append(out, *explicit), *explicit
	}
	for len(out) < n {
		next, err := timing.NextAfter(t, t)
		if err != nil {
			return nil, err
		}
		out, t = append(out, next), next
	}
	return out, nil
}

// describeSchedule says when a schedule fires, in words.
func describeSchedule(sc *store.Schedule) string {
	switch sc.ScheduleType {
	case domain.ScheduleCron:
		return describeCron(sc.CronExpr, sc.Timezone)
	case domain.ScheduleInterval:
		if sc.IntervalMinutes != nil {
			return "every " + cronDuration(time.Duration(*sc.IntervalMinutes)*time.Minute)
		}
	case domain.ScheduleOneShot:
		return "once"
	}
	return string(sc.ScheduleType)
}

// Refused says the form comes back from a submit that stored nothing.
func (f *scheduleForm) Refused() bool { return len(f.Errors) > 0 || f.Message != "" }
