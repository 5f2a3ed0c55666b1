package web_test

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// With a token, every page sends a visitor to /login; a wrong token is
// refused; the right one opens a session that the pages accept; logout ends
// it.
func TestLoginWithToken(t *testing.T) {
	e := newEnv(t, withToken("s3cret-token"))
	b := e.b
	b.Do(t, 20*time.Second, chromedp.Navigate(e.url+"/"), chromedp.WaitVisible(chromedp.CSS("#token")))
	loc := getString(t, e, chromedp.Location())
	if !strings.Contains(loc, "/login?next=") {
		t.Fatalf("/ went to %s, want /login", loc)
	}
	b.Do(t, 20*time.Second,
		chromedp.SendKeys(chromedp.CSS("#token"), "wrong"),
		chromedp.Submit(chromedp.CSS("#token")),
		chromedp.WaitVisible(chromedp.CSS("#login-error")))
	e.b.Errors() // the refusal's 401 is the one error expected
	b.Do(t, 20*time.Second,
		chromedp.SendKeys(chromedp.CSS("#token"), "s3cret-token"),
		chromedp.Submit(chromedp.CSS("#token")),
		chromedp.WaitVisible(chromedp.CSS("#count-pending"))) // on the overview only
	if loc := getString(t, e, chromedp.Location()); loc != e.url+"/" {
		t.Fatalf("after login the browser is at %s, want the overview", loc)
	}
	e.noErrors("login")
	b.Do(t, 20*time.Second, chromedp.Click(chromedp.CSS("form.logout button")), chromedp.WaitVisible(chromedp.CSS("#token")))
}

// A form posted without the CSRF token is refused and changes nothing, as is
// one from another origin.
func TestCSRFRefused(t *testing.T) {
	e := newEnv(t)
	for _, h := range []http.Header{{}, {"Origin": {"http://evil.example"}}} {
		req, _ := http.NewRequest(http.MethodPost, e.url+"/logout", strings.NewReader(url.Values{"x": {"1"}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		for k, v := range h {
			req.Header[k] = v
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusForbidden {
			t.Fatalf("POST without CSRF token (%v): %d %s", h, res.StatusCode, body)
		}
	}
}

func getString(t *testing.T, e *env, a chromedp.Action[string]) string {
	t.Helper()
	return testenvGet(t, e, a)
}
