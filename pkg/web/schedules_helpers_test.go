package web_test

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/cyberbrain/cyberbrain/pkg/domain"
	"github.com/cyberbrain/cyberbrain/pkg/store"
	"github.com/cyberbrain/cyberbrain/pkg/testenv"
)

// countSchedules counts every schedule in the database.
func countSchedules(t *testing.T, e *env) int64 {
	t.Helper()
	var n int64
	if err := testenv.SQL(t, e.st).Raw(`SELECT count(*) FROM schedules`).Scan(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

// enableNoop enables the noop task (seeded disabled), so its schedules can
// run.
func enableNoop(t *testing.T, e *env) {
	t.Helper()
	if err := testenv.SQL(t, e.st).Exec(`UPDATE task_definitions SET enabled = true WHERE key = 'noop'`).Error; err != nil {
		t.Fatal(err)
	}
}

// newCronSchedule stores a cron schedule of the noop task.
func newCronSchedule(t *testing.T, e *env, name, expr, tz string, enabled bool) *store.Schedule {
	t.Helper()
	sc, err := e.st.CreateSchedule(context.Background(), &store.ScheduleWrite{Schedule: store.Schedule{
		Name: name, Task: "noop", ScheduleType: domain.ScheduleCron, CronExpr: expr, Timezone: tz, Enabled: enabled}})
	if err != nil {
		t.Fatalf("create schedule %q: %v", name, err)
	}
	return sc
}

// formClient is a browser-less visitor: it keeps cookies and does not
// follow redirects, so a test sees each answer's status and Location.
type formClient struct {
	t    *testing.T
	base string
	c    *http.Client
	csrf string
}

func newFormClient(t *testing.T, e *env) *formClient {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	fc := &formClient{t: t, base: e.url, c: &http.Client{Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	_, body := fc.get("/schedules/new")
	m := regexp.MustCompile(`name="csrf_token" value="([^"]+)"`).FindStringSubmatch(body)
	if m == nil {
		t.Fatal("no CSRF token on /schedules/new")
	}
	fc.csrf = m[1]
	return fc
}

func (fc *formClient) get(path string) (*http.Response, string) {
	fc.t.Helper()
	res, err := fc.c.Get(fc.base + path)
	if err != nil {
		fc.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, string(b)
}

func (fc *formClient) post(path string, v url.Values) (*http.Response, string) {
	fc.t.Helper()
	v.Set("csrf_token", fc.csrf)
	res, err := fc.c.Post(fc.base+path, "application/x-www-form-urlencoded", strings.NewReader(v.Encode()))
	if err != nil {
		fc.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, string(b)
}
