package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fake serves h and returns a client of it with token.
func fake(t *testing.T, token string, h http.HandlerFunc) *Client {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	c, err := New(srv.URL, token)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestNewServerAddresses(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"localhost:9595":           "http://localhost:9595",
		"http://localhost:9595/":   "http://localhost:9595",
		"https://api.example:443":  "https://api.example:443",
		"http://h:1/prefix/":       "http://h:1/prefix",
		"http://[::1]:9595":        "http://[::1]:9595",
		"http://user@host:1":       "http://user@host:1",
		"10.0.0.5:9595":            "http://10.0.0.5:9595",
		"https://api.example/base": "https://api.example/base",
	} {
		c, err := New(in, "")
		if err != nil {
			t.Errorf("New(%q): %v", in, err)
			continue
		}
		if c.Server() != want {
			t.Errorf("New(%q).Server() = %q, want %q", in, c.Server(), want)
		}
	}
	for _, bad := range []string{"", "ftp://host:21", "http://", "unix:///var/run/x.sock", "http://%zz"} {
		if _, err := New(bad, "tok"); err == nil || !strings.Contains(err.Error(), "want http://host:port") {
			t.Errorf("New(%q) = %v, want an invalid server error", bad, err)
		}
	}
}

// Every request carries Accept JSON, a JSON body only when there is one,
// the bearer token only when set, the base URL's path and the query.
func TestRequestShape(t *testing.T) {
	t.Parallel()
	type seen struct {
		method, path, query, ctype, accept, auth, body string
	}
	var last atomic.Pointer[seen]
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		last.Store(&seen{r.Method, r.URL.Path, r.URL.RawQuery, r.Header.Get("Content-Type"), r.Header.Get("Accept"),
			r.Header.Get("Authorization"), string(b)})
		fmt.Fprint(w, `{}`)
	}))
	defer srv.Close()
	ctx := context.Background()

	c, _ := New(srv.URL+"/prefix/", "tok")
	if err := c.Do(ctx, http.MethodPatch, Item(Schedules, 7), url.Values{"a": {"1 2"}}, map[string]any{"enabled": false}, nil); err != nil {
		t.Fatal(err)
	}
	got := *last.Load()
	want := seen{"PATCH", "/prefix/api/schedules/7/", "a=1+2", "application/json", "application/json", "Bearer tok", `{"enabled":false}`}
	if got != want {
		t.Errorf("request\n got %+v\nwant %+v", got, want)
	}

	c, _ = New(srv.URL, "")
	if err := c.Do(ctx, http.MethodGet, Runs, nil, nil, nil); err != nil {
		t.Fatal(err)
	}
	got = *last.Load()
	if got.ctype != "" || got.auth != "" || got.body != "" || got.path != "/api/runs/" || got.query != "" {
		t.Errorf("a GET without token and body sent %+v", got)
	}

	// LaunchRequest leaves unset fields out: the API picks the defaults.
	if _, err := c.Launch(ctx, LaunchRequest{}); err != nil {
		t.Fatal(err)
	}
	if got := last.Load(); got.body != `{}` || got.path != "/api/runs/launch/" || got.method != "POST" {
		t.Errorf("empty launch sent %+v", got)
	}
	d, h := int64(3), int64(4)
	if _, err := c.Launch(ctx, LaunchRequest{DirectiveID: &d, TargetHostID: &h, Tasks: []string{"a", "b"}}); err != nil {
		t.Fatal(err)
	}
	if got := last.Load(); got.body != `{"directive_id":3,"tasks":["a","b"],"target_host_id":4}` {
		t.Errorf("launch body %s", got.body)
	}
}

// A body that cannot be encoded is an error before anything is sent.
func TestUnencodableBody(t *testing.T) {
	t.Parallel()
	var hits atomic.Int32
	c := fake(t, "", func(http.ResponseWriter, *http.Request) { hits.Add(1) })
	err := c.Do(context.Background(), http.MethodPost, Directives, nil, map[string]any{"f": func() {}}, nil)
	if err == nil || !strings.Contains(err.Error(), "POST /api/directives/: encode body") {
		t.Errorf("got %v", err)
	}
	if hits.Load() != 0 {
		t.Error("a request was sent")
	}
}

// Non-2xx answers become *APIError whatever their body: the API's envelope,
// plain text, an empty body, JSON without "error".
func TestAPIErrorBodies(t *testing.T) {
	t.Parallel()
	cases := []struct {
		status int
		body   string
		want   string
		fields map[string][]string
	}{
		{400, `{"error":"invalid schedule","fields":{"name":["required","too short"],"cron_expr":["bad"]}}`,
			"POST /api/schedules/: 400 invalid schedule\n  cron_expr: bad\n  name: required; too short",
			map[string][]string{"name": {"required", "too short"}, "cron_expr": {"bad"}}},
		{404, `{"error":"Run not found"}`, "POST /api/schedules/: 404 Run not found", nil},
		{409, `{"error":"schedule has history"}`, "POST /api/schedules/: 409 schedule has history", nil},
		{500, "boom\n", "POST /api/schedules/: 500 boom", nil},
		{502, "", "POST /api/schedules/: 502 Bad Gateway", nil},
		{503, `{"detail":"down"}`, `POST /api/schedules/: 503 {"detail":"down"}`, nil},
		{504, `<html><body>Gateway Timeout</body></html>`, "POST /api/schedules/: 504 <html><body>Gateway Timeout</body></html>", nil},
		{401, `{"error":"missing or invalid API token"}`,
			"POST /api/schedules/: 401 missing or invalid API token\n  (set --token or CYBERBRAIN_API_TOKEN to the API's token)", nil},
		{403, `{"error":"forbidden"}`, "POST /api/schedules/: 403 forbidden", nil},
	}
	for _, tc := range cases {
		t.Run(strconv.Itoa(tc.status), func(t *testing.T) {
			t.Parallel()
			c := fake(t, "sekrit-token", func(w http.ResponseWriter, _ *http.Request) {
				w.WriteHeader(tc.status)
				fmt.Fprint(w, tc.body)
			})
			var out map[string]any
			err := c.Do(context.Background(), http.MethodPost, Schedules, nil, map[string]any{}, &out)
			var ae *APIError
			if !errors.As(err, &ae) {
				t.Fatalf("got %T %v, want *APIError", err, err)
			}
			if err.Error() != tc.want {
				t.Errorf("text\n got %q\nwant %q", err.Error(), tc.want)
			}
			if ae.Status != tc.status || ae.Method != "POST" || ae.Path != Schedules {
				t.Errorf("error %+v", ae)
			}
			if tc.fields != nil && fmt.Sprint(ae.Fields) != fmt.Sprint(tc.fields) {
				t.Errorf("fields %v, want %v", ae.Fields, tc.fields)
			}
			if IsNotFound(err) != (tc.status == 404) {
				t.Errorf("IsNotFound = %v", IsNotFound(err))
			}
			if out != nil {
				t.Errorf("out decoded from an error answer: %v", out)
			}
			if strings.Contains(err.Error(), "sekrit-token") {
				t.Errorf("the token is printed: %q", err)
			}
		})
	}
}

// A huge error body is cut, not read whole into the message.
func TestAPIErrorBodyIsBounded(t *testing.T) {
	t.Parallel()
	c := fake(t, "", func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(500)
		fmt.Fprint(w, strings.Repeat("x", 3<<20))
	})
	err := c.Do(context.Background(), http.MethodGet, Runs, nil, nil, nil)
	var ae *APIError
	if !errors.As(err, &ae) || len(ae.Message) != 1<<20 {
		t.Errorf("message of %d bytes: %v", len(ae.Message), ae.Status)
	}
}

func TestIsNotFound(t *testing.T) {
	t.Parallel()
	nf := &APIError{Method: "GET", Path: "/x", Status: 404, Message: "nope"}
	for err, want := range map[error]bool{
		nf:                                     true,
		fmt.Errorf("read: %w", nf):             true,
		&APIError{Status: 400}:                 false,
		errors.New("404"):                      false,
		&UnreachableError{Err: errors.New("")}: false,
	} {
		if IsNotFound(err) != want {
			t.Errorf("IsNotFound(%v) = %v", err, !want)
		}
	}
	if IsNotFound(nil) {
		t.Error("IsNotFound(nil)")
	}
}

// A 2xx answer that is not JSON is a decode error; an empty 2xx body or a
// nil out is fine.
func TestSuccessBodies(t *testing.T) {
	t.Parallel()
	var body atomic.Value
	c := fake(t, "", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, body.Load().(string)) })
	ctx := context.Background()

	body.Store("<html>proxy login</html>")
	var r Run
	err := c.Do(ctx, http.MethodGet, Item(Runs, 1), nil, nil, &r)
	if err == nil || !strings.Contains(err.Error(), "GET /api/runs/1/: decode answer") {
		t.Errorf("HTML answer: %v", err)
	}
	if _, err := c.Run(ctx, 1); err == nil || !strings.Contains(err.Error(), "decode answer") {
		t.Errorf("Run over HTML: %v", err)
	}
	if err := c.Do(ctx, http.MethodGet, Runs, nil, nil, nil); err != nil {
		t.Errorf("nil out must not decode: %v", err)
	}

	body.Store("")
	r = Run{ID: 5}
	if err := c.Do(ctx, http.MethodGet, Item(Runs, 1), nil, nil, &r); err != nil || r.ID != 5 {
		t.Errorf("empty answer: %v %+v", err, r)
	}

	body.Store(`{"b": 1,  "a":[2]}`)
	var raw json.RawMessage
	if err := c.Do(ctx, http.MethodGet, Runs, nil, nil, &raw); err != nil || string(raw) != `{"b": 1,  "a":[2]}` {
		t.Errorf("raw %s %v", raw, err)
	}

	body.Store(`{"count":1,"next":null,"results":[{"id":"not a number"}]}`)
	if _, err := ListAs[Run](ctx, c, Runs, nil); err == nil || !strings.Contains(err.Error(), "decode /api/runs/ item") {
		t.Errorf("ListAs with a bad item: %v", err)
	}
	body.Store(`[1,2]`)
	if _, err := List(ctx, c, Runs, nil); err == nil || !strings.Contains(err.Error(), "decode answer") {
		t.Errorf("List over a bare array: %v", err)
	}
}

// List follows next links page by page, asks for big pages ordered by id
// unless told otherwise, and stops on an empty page even when next is set.
func TestListPages(t *testing.T) {
	t.Parallel()
	var (
		mu      sync.Mutex
		queries []url.Values
	)
	c := fake(t, "", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		mu.Lock()
		queries = append(queries, q)
		mu.Unlock()
		page, _ := strconv.Atoi(q.Get("page"))
		switch {
		case q.Get("endless") != "" && page >= 2:
			fmt.Fprint(w, `{"count":9,"next":"http://x/?page=99","results":[]}`)
		case page < 3:
			fmt.Fprintf(w, `{"count":5,"next":"http://x/?page=%d","results":[{"id":%d},{"id":%d}]}`, page+1, 2*page-1, 2*page)
		default:
			fmt.Fprint(w, `{"count":5,"next":null,"results":[{"id":5}]}`)
		}
	})
	ctx := context.Background()
	items, err := ListAs[Run](ctx, c, Runs, url.Values{"status": {"failed"}})
	if err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for _, r := range items {
		ids = append(ids, r.ID)
	}
	if fmt.Sprint(ids) != "[1 2 3 4 5]" {
		t.Errorf("ids %v", ids)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(queries) != 3 {
		t.Fatalf("%d requests, want 3", len(queries))
	}
	for i, q := range queries {
		if q.Get("page") != strconv.Itoa(i+1) || q.Get("page_size") != "1000" || q.Get("ordering") != "id" || q.Get("status") != "failed" {
			t.Errorf("request %d: %v", i+1, q)
		}
	}

	queries = nil
	mu.Unlock()
	items2, err := List(ctx, c, Runs, url.Values{"endless": {"1"}, "ordering": {"-id"}})
	mu.Lock()
	if err != nil || len(items2) != 2 || len(queries) != 2 {
		t.Errorf("endless next: %d items, %d requests, %v", len(items2), len(queries), err)
	}
	if queries[0].Get("ordering") != "-id" {
		t.Errorf("the caller's ordering was replaced: %v", queries[0])
	}
}

// An error on a later page fails the whole List.
func TestListErrorOnLaterPage(t *testing.T) {
	t.Parallel()
	c := fake(t, "", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("page") == "2" {
			w.WriteHeader(500)
			fmt.Fprint(w, `{"error":"database gone"}`)
			return
		}
		fmt.Fprint(w, `{"count":2,"next":"x","results":[{"id":1}]}`)
	})
	items, err := List(context.Background(), c, Hosts, nil)
	if items != nil || err == nil || !strings.Contains(err.Error(), "500 database gone") {
		t.Errorf("got %v, %v", items, err)
	}
}

// A refused connection is an *UnreachableError that says what to check and
// never carries the token.
func TestConnectionRefused(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	c, _ := New(addr, "sekrit-token")
	_, err = c.Run(context.Background(), 1)
	var ue *UnreachableError
	if !errors.As(err, &ue) || ue.Server != "http://"+addr {
		t.Fatalf("got %T %v", err, err)
	}
	msg := err.Error()
	if !strings.HasPrefix(msg, "cannot reach the API at http://"+addr+": ") || !strings.Contains(msg, "refused") ||
		!strings.Contains(msg, "CYBERBRAIN_SERVER") {
		t.Errorf("text %q", msg)
	}
	if strings.Contains(msg, "sekrit-token") || strings.Contains(msg, "Get \"") {
		t.Errorf("text carries the token or the raw url.Error: %q", msg)
	}
	var se *net.OpError
	if !errors.As(err, &se) {
		t.Errorf("the network error is not unwrappable: %v", err)
	}
	if _, _, err := c.Stream(context.Background(), "/x"); !errors.As(err, &ue) {
		t.Errorf("Stream: %v", err)
	}
}

// A hung server is cut off by the client's timeout; a cancelled context
// stops a request at once. Neither is reported as unreachable.
func TestTimeoutAndCancel(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	c := fake(t, "sekrit-token", func(_ http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	})
	defer close(release)
	c.timeout = 50 * time.Millisecond
	err := c.Do(context.Background(), http.MethodGet, Runs, nil, nil, nil)
	var ue *UnreachableError
	if !errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ue) || !strings.HasPrefix(err.Error(), "GET /api/runs/: ") {
		t.Errorf("hung server: %T %v", err, err)
	}
	if strings.Contains(err.Error(), "sekrit-token") {
		t.Errorf("token printed: %v", err)
	}

	c.timeout = time.Minute
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := c.Run(ctx, 1); !errors.Is(err, context.Canceled) || errors.As(err, &ue) {
		t.Errorf("cancelled context: %T %v", err, err)
	}
}

// Stream hands back the body unread, with the headers; its errors are the
// same as Do's.
func TestStream(t *testing.T) {
	t.Parallel()
	c := fake(t, "", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/artifacts/3/download/" || r.Method != http.MethodGet {
			w.WriteHeader(404)
			fmt.Fprint(w, `{"error":"Artifact not found"}`)
			return
		}
		w.Header().Set("Content-Disposition", `attachment; filename="a.txt"`)
		fmt.Fprint(w, "line1\nline2\n")
	})
	ctx := context.Background()
	body, hdr, err := c.Stream(ctx, "/api/artifacts/3/download/")
	if err != nil {
		t.Fatal(err)
	}
	defer body.Close()
	b, _ := io.ReadAll(body)
	if string(b) != "line1\nline2\n" || hdr.Get("Content-Disposition") != `attachment; filename="a.txt"` {
		t.Errorf("stream %q %v", b, hdr)
	}
	if body, _, err := c.Stream(ctx, "/api/artifacts/4/download/"); body != nil || !IsNotFound(err) ||
		err.Error() != "GET /api/artifacts/4/download/: 404 Artifact not found" {
		t.Errorf("missing artifact: %v", err)
	}
}

func TestTerminal(t *testing.T) {
	t.Parallel()
	for s, want := range map[string]bool{"completed": true, "failed": true, "cancelled": true,
		"pending": false, "running": false, "": false, "Completed": false} {
		if Terminal(s) != want {
			t.Errorf("Terminal(%q) = %v", s, !want)
		}
	}
}

// changed sees a run's status, a job's status and a new job, and nothing else.
func TestChanged(t *testing.T) {
	t.Parallel()
	base := &Run{ID: 1, Status: "running", Jobs: []Job{{ID: 1, Status: "running"}, {ID: 2, Status: "pending"}}}
	same := &Run{ID: 1, Status: "running", ErrorMessage: "other fields differ",
		Jobs: []Job{{ID: 1, Status: "running", Attempt: 2}, {ID: 2, Status: "pending"}}}
	if !changed(nil, base) || changed(base, same) {
		t.Error("first poll or an unchanged run")
	}
	runMoved := *same
	runMoved.Status = "completed"
	jobMoved := &Run{ID: 1, Status: "running", Jobs: []Job{{ID: 1, Status: "running"}, {ID: 2, Status: "running"}}}
	jobAdded := &Run{ID: 1, Status: "running", Jobs: append(append([]Job{}, base.Jobs...), Job{ID: 3, Status: "pending"})}
	for name, cur := range map[string]*Run{"run": &runMoved, "job": jobMoved, "new job": jobAdded} {
		if !changed(base, cur) {
			t.Errorf("%s change not seen", name)
		}
	}
}

// Wait passes the previous state to OnChange, stops at the first terminal
// state, and an error while polling stops it with the run named.
func TestWaitFake(t *testing.T) {
	t.Parallel()
	var polls atomic.Int32
	c := fake(t, "", func(w http.ResponseWriter, _ *http.Request) {
		switch polls.Add(1) {
		case 1:
			fmt.Fprint(w, `{"id":9,"status":"running","jobs":[{"id":1,"status":"running"}]}`)
		case 2:
			fmt.Fprint(w, `{"id":9,"status":"failed","error_message":"boom","jobs":[{"id":1,"status":"failed"}]}`)
		default:
			w.WriteHeader(502)
		}
	})
	var prevs []string
	run, err := c.Wait(context.Background(), 9, WaitOptions{First: time.Millisecond, Max: time.Millisecond,
		OnChange: func(prev, _ *Run) {
			if prev == nil {
				prevs = append(prevs, "nil")
			} else {
				prevs = append(prevs, prev.Status)
			}
		}})
	if err != nil || run.Status != "failed" || run.ErrorMessage != "boom" || polls.Load() != 2 {
		t.Fatalf("Wait: %+v %v after %d polls", run, err, polls.Load())
	}
	if fmt.Sprint(prevs) != "[nil running]" {
		t.Errorf("OnChange prevs %v", prevs)
	}
	_, err = c.Wait(context.Background(), 9, WaitOptions{First: time.Millisecond})
	var ae *APIError
	if !errors.As(err, &ae) || ae.Status != 502 || !strings.HasPrefix(err.Error(), "wait for run 9: GET /api/runs/9/: 502") {
		t.Errorf("poll error: %v", err)
	}
}

// A password in the server URL (basic auth to a proxy in front of the API)
// is a credential like the token: errors must not print it.
func TestServerPasswordNotPrinted(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	c, err := New("http://admin:pr0xy-pass@"+addr, "")
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Run(context.Background(), 1)
	if err == nil {
		t.Fatal("no error")
	}
	if strings.Contains(err.Error(), "pr0xy-pass") || strings.Contains(c.Server(), "pr0xy-pass") {
		t.Fatalf("the server URL's password is printed: %v / %s", err, c.Server())
	}
}
