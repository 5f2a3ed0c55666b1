package tasks

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	timetypes "github.com/docker/docker/api/types/time"
	"github.com/docker/docker/client"

	"github.com/cyberbrain/cyberbrain/pkg/store"
)

// fakeEngine is the small slice of the Docker Engine API that log_triage
// reads (list, inspect, logs), so a task runs without a Docker daemon. Its
// containers have a TTY, so logs are plain "RFC3339Nano text" lines.
type fakeEngine struct {
	srv *httptest.Server

	mu         sync.Mutex
	containers []container.Summary
	logs       map[string][]fakeLine // by container id

	// Answers the tests set up (all optional):
	listStatus int                       // GET /containers/json answers this error status
	gone       map[string]bool           // containers whose inspect and logs answer 404
	inspect    map[string]map[string]any // extra inspect fields (HostConfig, Config.Env), by id
	top        map[string][]string       // host PIDs for /top, by id
}

type fakeLine struct {
	at   time.Time
	text string
}

var enginePath = regexp.MustCompile(`^(?:/v[0-9.]+)?/containers/(json|[^/]+/json|[^/]+/logs|[^/]+/top)$`)

func newFakeEngine(t *testing.T) *fakeEngine {
	t.Helper()
	e := &fakeEngine{logs: map[string][]fakeLine{}, gone: map[string]bool{}, inspect: map[string]map[string]any{}, top: map[string][]string{}}
	e.srv = httptest.NewServer(http.HandlerFunc(e.serve))
	t.Cleanup(e.srv.Close)
	return e
}

// add registers a running container (once) and appends its log lines.
func (e *fakeEngine) add(id, name string, lines ...fakeLine) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if _, ok := e.logs[id]; !ok {
		e.containers = append(e.containers, container.Summary{ID: id, Names: []string{"/" + name}, Image: "img", State: "running"})
	}
	e.logs[id] = append(e.logs[id], lines...)
}

// Client satisfies EngineClients: every host is this engine.
func (e *fakeEngine) Client(*store.WorkerHost) (*client.Client, error) {
	return client.NewClientWithOpts(client.WithHost("tcp://"+e.srv.Listener.Addr().String()),
		client.WithAPIVersionNegotiation())
}

func (e *fakeEngine) serve(w http.ResponseWriter, r *http.Request) {
	if strings.HasSuffix(r.URL.Path, "/_ping") {
		w.Header().Set("API-Version", "1.45")
		_, _ = w.Write([]byte("OK"))
		return
	}
	m := enginePath.FindStringSubmatch(r.URL.Path)
	if m == nil || r.Method != http.MethodGet {
		http.NotFound(w, r)
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	id, _, _ := strings.Cut(m[1], "/")
	switch {
	case m[1] == "json" && e.listStatus != 0:
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(e.listStatus)
		_ = json.NewEncoder(w).Encode(map[string]string{"message": "fake engine says no"})
	case m[1] == "json":
		_ = json.NewEncoder(w).Encode(e.containers)
	case e.gone[id]:
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		_ = json.NewEncoder(w).Encode(map[string]string{"message": "No such container: " + id})
	case strings.HasSuffix(m[1], "/json"):
		info := map[string]any{"Id": id, "Config": map[string]any{"Tty": true}}
		for k, v := range e.inspect[id] {
			info[k] = v
		}
		_ = json.NewEncoder(w).Encode(info)
	case strings.HasSuffix(m[1], "/top"):
		procs := [][]string{}
		for _, p := range e.top[id] {
			procs = append(procs, []string{p})
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"Titles": []string{"PID"}, "Processes": procs})
	default:
		e.serveLogs(w, r, strings.TrimSuffix(m[1], "/logs"))
	}
}

// serveLogs honours since (inclusive, as the engine's) and tail (the last
// n lines of those) with timestamps on.
func (e *fakeEngine) serveLogs(w http.ResponseWriter, r *http.Request, id string) {
	var since time.Time
	if v := r.URL.Query().Get("since"); v != "" {
		sec, nsec, err := timetypes.ParseTimestamps(v, 0)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		since = time.Unix(sec, nsec)
	}
	var out []fakeLine
	for _, l := range e.logs[id] {
		if !l.at.Before(since) {
			out = append(out, l)
		}
	}
	if n, err := strconv.Atoi(r.URL.Query().Get("tail")); err == nil && n >= 0 && n < len(out) {
		out = out[len(out)-n:]
	}
	for _, l := range out {
		fmt.Fprintf(w, "%s %s\n", l.at.UTC().Format(time.RFC3339Nano), l.text)
	}
}
