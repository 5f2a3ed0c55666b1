package web_test

import (
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
