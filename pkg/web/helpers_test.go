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
