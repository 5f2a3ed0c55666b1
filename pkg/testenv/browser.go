package testenv

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

// Browser is one headless Chromium tab for a test. It records every console
// error, uncaught exception and browser-logged error (a failed resource, a
// script the Content-Security-Policy blocked) so a test can assert that a
// page produced none.
type Browser struct {
	Ctx    context.Context
	mu     sync.Mutex
	errs   []string
	logged chan struct{} // closed and replaced when an error is recorded
}

// chromiumPath finds Chromium from the OS packages (.ci/run installs it).
func chromiumPath() string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "headless-shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// NewBrowser starts Chromium for t (closed at cleanup). Without Chromium
// the test skips, or fails where CYBERBRAIN_REQUIRE_DOCKER=1 (CI).
func NewBrowser(t testing.TB) *Browser {
	t.Helper()
	path := chromiumPath()
	if path == "" {
		if os.Getenv("CYBERBRAIN_REQUIRE_DOCKER") == "1" {
			t.Fatal("no Chromium found (apt-get install -y chromium) and CYBERBRAIN_REQUIRE_DOCKER=1")
		}
		t.Skip("no Chromium found (apt-get install -y chromium)")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox, // CI runs as root
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.WindowSize(1280, 900),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	b := &Browser{Ctx: ctx, logged: make(chan struct{})}
	if err := chromedp.Do(ctx); err != nil { // starts the browser
		cancel()
		cancelAlloc()
		t.Fatalf("start chromium: %v", err)
	}
	msgs := chromedp.Console(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for m, err := range msgs {
			if err != nil {
				return
			}
			if m.Type == chromedp.ConsoleError || m.IsException() {
				b.mu.Lock()
				b.errs = append(b.errs, m.String()+" "+m.URL)
				close(b.logged)
				b.logged = make(chan struct{})
				b.mu.Unlock()
			}
		}
	}()
	t.Cleanup(func() { cancel(); cancelAlloc(); <-done })
	return b
}

// Errors returns the errors recorded so far and forgets them.
func (b *Browser) Errors() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := b.errs
	b.errs = nil
	return out
}

// WaitErrors waits until the errors recorded (and not yet taken) include
// one containing want, then returns and forgets them all. The browser logs
// asynchronously, after the page event that caused the error.
func (b *Browser) WaitErrors(t testing.TB, timeout time.Duration, want string) []string {
	t.Helper()
	deadline := time.After(timeout)
	for {
		b.mu.Lock()
		for _, m := range b.errs {
			if strings.Contains(m, want) {
				out := b.errs
				b.errs = nil
				b.mu.Unlock()
				return out
			}
		}
		logged := b.logged
		b.mu.Unlock()
		select {
		case <-logged:
		case <-deadline:
			t.Fatalf("the browser never logged %q (logged: %q)", want, b.Errors())
		}
	}
}

// Do runs steps with a deadline, failing the test on error.
func (b *Browser) Do(t testing.TB, timeout time.Duration, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.Ctx, timeout)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatalf("browser: %v", err)
	}
}

// Get runs one action that returns a value, failing the test on error.
func Get[T any](t testing.TB, b *Browser, timeout time.Duration, a chromedp.Action[T]) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.Ctx, timeout)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatalf("browser: %v", err)
	}
	return v
}

// ColorScheme emulates prefers-color-scheme ("light" or "dark").
func ColorScheme(scheme string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
			Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}}})
		return err
	})
}
