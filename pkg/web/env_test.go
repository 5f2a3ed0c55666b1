package web_test

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"

	"github.com/cyberbrain/cyberbrain/pkg/api"
	"github.com/cyberbrain/cyberbrain/pkg/scheduler"
	"github.com/cyberbrain/cyberbrain/pkg/store"
	"github.com/cyberbrain/cyberbrain/pkg/tasks"
	"github.com/cyberbrain/cyberbrain/pkg/testenv"
	"github.com/cyberbrain/cyberbrain/pkg/web"
)

// env is the api process (REST API + dashboard) on a real listener and its
// own database, and a browser.
type env struct {
	t     *testing.T
	st    *store.Store
	url   string
	token string
	b     *testenv.Browser
}

type envOption func(*api.Config, *web.Config)

// withToken protects the API and the dashboard with a token.
func withToken(tok string) envOption {
	return func(a *api.Config, w *web.Config) { a.APIToken, w.Token = tok, tok }
}

func newEnv(t *testing.T, opts ...envOption) *env {
	t.Helper()
	st := testenv.NewStore(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	log := zaptest.NewLogger(t)
	wcfg := web.Config{Store: st, Logger: log}
	acfg := api.Config{Store: st, Logger: log, Addr: ln.Addr().String()}
	for _, o := range opts {
		o(&acfg, &wcfg)
	}
	ui, err := web.New(wcfg)
	if err != nil {
		t.Fatal(err)
	}
	acfg.Dashboard = ui
	srv, err := api.New(acfg)
	if err != nil {
		t.Fatal(err)
	}
	hs := &httptest.Server{Listener: ln, Config: &http.Server{Handler: srv.Handler()}}
	hs.Start()
	t.Cleanup(func() { ui.Stop(); hs.Close(); srv.Close() })
	return &env{t: t, st: st, url: hs.URL, token: acfg.APIToken, b: testenv.NewBrowser(t)}
}

// startScheduler runs one scheduler replica executing reg (nil: noop) until
// the test ends, with a short lease so that it heartbeats, and notices a
// cancel, every second.
func (e *env) startScheduler(reg tasks.Registry) {
	e.t.Helper()
	if reg == nil {
		reg = tasks.Registry{"noop": tasks.Noop()}
	}
	s, err := scheduler.New(scheduler.Config{Store: e.st, Logger: zaptest.NewLogger(e.t), Tasks: reg,
		Claimant: "web-test", Interval: time.Second, ClaimTTL: 3 * time.Second})
	if err != nil {
		e.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = s.Run(ctx) }()
	e.t.Cleanup(func() { cancel(); <-done })
}

// noErrors fails the test when the browser logged an error since the last call.
func (e *env) noErrors(page string) {
	e.t.Helper()
	if errs := e.b.Errors(); len(errs) > 0 {
		e.t.Errorf("%s: browser errors: %q", page, errs)
	}
}
