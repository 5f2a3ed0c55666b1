package web_test

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/cyberbrain/cyberbrain/pkg/testenv"
)

func testenvGet[T any](t *testing.T, e *env, a chromedp.Action[T]) T {
	t.Helper()
	return testenv.Get(t, e.b, 20*time.Second, a)
}

// noXSS fails the test when an injected payload ran script on the page
// (the payloads set window.__xss).
func noXSS(t *testing.T, e *env, page string) {
	t.Helper()
	if ran := testenvGet(t, e, chromedp.Evaluate[bool](`window.__xss !== undefined`)); ran {
		t.Errorf("%s: the injected markup ran script", page)
	}
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

// getStatus is get for callers that need only the status and body.
func (fc *formClient) getStatus(path string) (int, string) {
	fc.t.Helper()
	res, body := fc.get(path)
	return res.StatusCode, body
}

// testenvSQLCount scans one number from a query on the test's database.
func testenvSQLCount(t *testing.T, e *env, q string, out *int64) {
	t.Helper()
	if err := testenv.SQL(t, e.st).Raw(q).Scan(out).Error; err != nil {
		t.Fatal(err)
	}
}
