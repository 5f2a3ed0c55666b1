package api

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/cyberbrain/cyberbrain/pkg/store"
)

// writeRecorder records the largest single Write a handler makes: a page
// encoded whole is written in one piece, a streamed page row by row.
type writeRecorder struct {
	*httptest.ResponseRecorder
	maxWrite, total int
}

func (w *writeRecorder) Write(b []byte) (int, error) {
	w.maxWrite = max(w.maxWrite, len(b))
	w.total += len(b)
	return w.ResponseRecorder.Write(b)
}

// TestListMemoryIndependentOfPage: a page of large rows is written as the
// rows are loaded, a chunk at a time, so what a list holds in memory does
// not grow with the page's bytes (100 descriptions of 64 KiB listed with
// page_size=1000 used to be built as one 6 MB buffer, six lists at once
// took the API to 2 GB). The answer is the same envelope.
func TestListMemoryIndependentOfPage(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	const rows, size = 3 * store.ChunkRows, 60 << 10
	ctx := context.Background()
	for i := range rows {
		d := &store.Directive{Name: "big" + strings.Repeat("x", i), Description: strings.Repeat("d", size), TaskConfig: json.RawMessage(`{}`)}
		if err := e.st.CreateDirective(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	for _, path := range []string{"/api/directives/?page_size=1000", "/api/directives/?page_size=20&page=2&ordering=name"} {
		w := &writeRecorder{ResponseRecorder: httptest.NewRecorder()}
		e.srv.Handler().ServeHTTP(w, httptest.NewRequest(http.MethodGet, path, nil))
		if w.Code != http.StatusOK {
			t.Fatalf("%s: %d %s", path, w.Code, w.Body.String()[:200])
		}
		var page Page[store.Directive]
		if err := json.Unmarshal(w.Body.Bytes(), &page); err != nil {
			t.Fatalf("%s: not the envelope: %v", path, err)
		}
		if page.Count != rows || len(page.Results) == 0 || page.Results[0].Description != strings.Repeat("d", size) {
			t.Fatalf("%s: count %d, %d results", path, page.Count, len(page.Results))
		}
		if w.maxWrite > 2*size {
			t.Errorf("%s: one write of %d bytes for rows of %d: the page was built whole", path, w.maxWrite, size)
		}
	}
	// Order and pages are those of the whole list.
	w := httptest.NewRecorder()
	e.srv.Handler().ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/api/directives/?page_size=20&page=2&ordering=name", nil))
	var page Page[store.Directive]
	if err := json.Unmarshal(w.Body.Bytes(), &page); err != nil {
		t.Fatal(err)
	}
	if len(page.Results) != 20 || page.Results[0].Name != "big"+strings.Repeat("x", 20) || page.Next == nil || page.Previous == nil {
		t.Errorf("page 2 by name: %d results, first %.30q, next %v, previous %v", len(page.Results), page.Results[0].Name, page.Next, page.Previous)
	}
	for i := 1; i < len(page.Results); i++ {
		if page.Results[i-1].Name >= page.Results[i].Name {
			t.Errorf("not in name order at %d", i)
		}
	}
}

// TestListEmptyAndPastEnd: a streamed page is still a valid envelope when
// it holds no rows.
func TestListEmptyAndPastEnd(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, path := range []string{"/api/container-allowlist/", "/api/directives/?page=99", "/api/runs/?status=failed"} {
		m := e.must(200, "GET", path, "").json(t)
		if res, ok := m["results"].([]any); !ok || len(res) != 0 || m["next"] != nil {
			t.Errorf("%s: %v", path, m)
		}
	}
}
