package web_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/cyberbrain/cyberbrain/pkg/testenv"
)

// page is one dashboard page the sweep visits.
type page struct {
	name string // screenshot file stem
	path string
}

// TestEveryPage opens every page in light and dark, on a desktop and a
// phone-sized screen: each answers 200, logs no console error, has one h1,
// and on the phone needs no sideways scrolling. With
// CYBERBRAIN_SCREENSHOTS=<dir> it also saves each page's screenshot there
// (docs/screenshots is made that way).
func TestEveryPage(t *testing.T) {
	e := newEnv(t)
	pages := seedPages(t, e)
	shots := os.Getenv("CYBERBRAIN_SCREENSHOTS")
	for _, scheme := range []string{"light", "dark"} {
		e.b.Do(t, 10*time.Second, testenv.ColorScheme(scheme))
		for _, p := range pages {
			visit(t, e, p)
			shoot(t, e, shots, p.name+"-"+scheme)
		}
	}
	e.b.Do(t, 10*time.Second, chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile))
	for _, p := range pages {
		visit(t, e, p)
		over := testenv.Get(t, e.b, 10*time.Second, chromedp.Evaluate[bool](
			`document.documentElement.scrollWidth > window.innerWidth + 1`))
		if over {
			t.Errorf("%s: wider than a phone's screen (sideways scrolling)", p.path)
		}
		shoot(t, e, shots, p.name+"-phone")
	}
}

// shoot saves the page's screenshot as dir/name.png (nothing when dir is "").
func shoot(t *testing.T, e *env, dir, name string) {
	t.Helper()
	if dir == "" {
		return
	}
	png := testenv.Get(t, e.b, 20*time.Second, chromedp.FullScreenshot(100))
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

// visit loads a page and checks its status, its single h1 and the console.
func visit(t *testing.T, e *env, p page) {
	t.Helper()
	ctx, cancel := context.WithTimeout(e.b.Ctx, 20*time.Second)
	defer cancel()
	res, err := chromedp.RunResponse(ctx, chromedp.Navigate(e.url+p.path))
	if err != nil {
		t.Fatalf("%s: %v", p.path, err)
	}
	if res.Status != 200 {
		t.Errorf("%s: status %d", p.path, res.Status)
	}
	e.b.Do(t, 20*time.Second, chromedp.WaitVisible(chromedp.CSS("main h1")))
	if n := testenv.Get(t, e.b, 10*time.Second, chromedp.Evaluate[int](`document.querySelectorAll("h1").length`)); n != 1 {
		t.Errorf("%s: %d h1 elements, want 1", p.path, n)
	}
	// Pages with live parts have refreshed once their stream is ready.
	live := testenv.Get(t, e.b, 10*time.Second, chromedp.Evaluate[bool](
		`!!document.querySelector("[data-live-refresh], [data-run-status]")`))
	if live {
		e.b.Do(t, 20*time.Second, chromedp.WaitVisible(chromedp.CSS(`body[data-live="ready"]`)))
	}
	e.noErrors(strings.TrimPrefix(p.path, "/"))
}

// The first Tab on any page reaches the "Skip to content" link, and
// following it moves focus past the navigation.
func TestSkipLink(t *testing.T) {
	e := newEnv(t)
	e.b.Do(t, 20*time.Second, chromedp.Navigate(e.url+"/"), chromedp.WaitVisible(chromedp.CSS("main h1")),
		chromedp.KeyEvent("\t"))
	if got := testenv.Get(t, e.b, 10*time.Second, chromedp.Evaluate[string](`document.activeElement.className`)); got != "skip" {
		t.Fatalf("first Tab focused %q, want the skip link", got)
	}
}
