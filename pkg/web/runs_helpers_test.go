package web_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/cyberbrain/cyberbrain/pkg/domain"
	"github.com/cyberbrain/cyberbrain/pkg/store"
	"github.com/cyberbrain/cyberbrain/pkg/testenv"
)

// runsEnableNoop enables the noop task (shipped disabled).
func runsEnableNoop(t *testing.T, e *env) {
	t.Helper()
	if err := testenv.SQL(t, e.st).Exec(`UPDATE task_definitions SET enabled = true WHERE key = 'noop'`).Error; err != nil {
		t.Fatal(err)
	}
}

// runsInsert stores a run as a fixture (status, directive, snapshot, error
// and report of r), finished now when its status is terminal.
func runsInsert(t *testing.T, e *env, r store.Run) store.Run {
	t.Helper()
	if r.Status == "" {
		r.Status = domain.StatusCompleted
	}
	if r.DirectiveSnapshot == nil {
		r.DirectiveSnapshot = json.RawMessage(`{}`)
	}
	err := testenv.SQL(t, e.st).Raw(`INSERT INTO runs (status, directive_id, directive_snapshot, error_message, report_markdown, completed_at)
		VALUES (?, ?, ?::jsonb, ?, ?, CASE WHEN ? THEN now() END) RETURNING id`,
		r.Status, r.DirectiveID, string(r.DirectiveSnapshot), r.ErrorMessage, r.ReportMarkdown, r.Status.Terminal()).Scan(&r.ID).Error
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// runsBadge selects the live status badges of a run in a state.
func runsBadge(id int64, status domain.RunStatus) chromedp.CSS {
	return chromedp.CSS(fmt.Sprintf(`[data-run-status="%d"].s-%s`, id, status))
}

func runsEval[T any](t *testing.T, e *env, js string) T {
	t.Helper()
	return testenvGet(t, e, chromedp.Evaluate[T](js))
}

// runsRunID reads the run id from the browser's location (/runs/{id}).
func runsRunID(t *testing.T, e *env) int64 {
	t.Helper()
	loc := getString(t, e, chromedp.Location())
	var id int64
	if _, err := fmt.Sscanf(loc[strings.LastIndex(loc, "/runs/")+len("/runs/"):], "%d", &id); err != nil || !strings.Contains(loc, "/runs/") {
		t.Fatalf("location %s is not a run page", loc)
	}
	return id
}

// runsText reads an element's text in one evaluation: live sections may be
// swapped in at any moment, so a node found earlier can be gone by the time
// its text is read.
func runsText(t *testing.T, e *env, css string) string {
	t.Helper()
	return runsEval[string](t, e, fmt.Sprintf(`(document.querySelector(%q) || {textContent: "<missing>"}).textContent`, css))
}
