package web_test

import (
	"bufio"
	"context"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cyberbrain/cyberbrain/pkg/api"
	"github.com/cyberbrain/cyberbrain/pkg/store"
	"github.com/cyberbrain/cyberbrain/pkg/testenv"
	"github.com/cyberbrain/cyberbrain/pkg/web"
)

// sse reads one event stream: each call to next returns the next event's
// name and data.
type sse struct {
	sc     *bufio.Scanner
	cancel context.CancelFunc
}

func openEvents(t *testing.T, url string, hdr http.Header) (*sse, *http.Response) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url+"/events", nil)
	for k, v := range hdr {
		req.Header[k] = v
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); res.Body.Close() })
	return &sse{sc: bufio.NewScanner(res.Body), cancel: cancel}, res
}

func (s *sse) next(t *testing.T) (string, string) {
	t.Helper()
	var name, data string
	for s.sc.Scan() {
		line := s.sc.Text()
		switch {
		case line == "" && name != "":
			return name, data
		case strings.HasPrefix(line, "event: "):
			name = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: "):
			data = strings.TrimPrefix(line, "data: ")
		}
	}
	t.Fatalf("event stream ended: %v", s.sc.Err())
	return "", ""
}

// A run's changes reach an open event stream through the api's one LISTEN:
// its launch, its start and its completion by a scheduler replica.
func TestEventsCarryRunChanges(t *testing.T) {
	e := newEnv(t)
	es, res := openEvents(t, e.url, nil)
	if ct := res.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("Content-Type %q", ct)
	}
	if name, _ := es.next(t); name != "ready" {
		t.Fatalf("first event %q, want ready", name)
	}
	testenv.SQL(t, e.st).Exec(`UPDATE task_definitions SET enabled = true WHERE key = 'noop'`)
	run, err := e.st.Launch(context.Background(), store.LaunchRequest{Tasks: []string{"noop"}})
	if err != nil {
		t.Fatal(err)
	}
	e.startScheduler(nil)
	want := `"id":` + strconv.FormatInt(run.ID, 10) + `,"status":"completed"`
	for {
		name, data := es.next(t)
		if name == "runs" && strings.Contains(data, want) {
			return
		}
	}
}

// With a token, the stream needs a session like every page.
func TestEventsNeedSession(t *testing.T) {
	e := newEnv(t, withToken("tok"))
	_, res := openEvents(t, e.url, nil)
	if res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("stream without session: %d", res.StatusCode)
	}
}

// Shutting the api down ends open event streams at once, so they do not
// hold the drain until its timeout (which would make Serve fail).
func TestShutdownEndsStreams(t *testing.T) {
	st := testenv.NewStore(t)
	ui, err := web.New(web.Config{Store: st})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv, err := api.New(api.Config{Store: st, Addr: ln.Addr().String(), Dashboard: ui})
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx, ln, time.Minute) }()
	es, _ := openEvents(t, "http://"+ln.Addr().String(), nil)
	if name, _ := es.next(t); name != "ready" {
		t.Fatalf("first event %q", name)
	}
	stop()
	if err := <-served; err != nil {
		t.Fatalf("Serve with an open stream: %v", err)
	}
}
