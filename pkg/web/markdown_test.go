package web

import (
	"strings"
	"testing"
)

// A report's headings sit under the page's "Report" heading, and its HTML
// stays out.
func TestRunReportHeadingsAndHTML(t *testing.T) {
	got := string(renderMarkdown("# Report\n\n## log_triage\n\n<script>x()</script>\n\n###### deep\n"))
	for _, want := range []string{"<h3", ">Report</h3>", "<h4", ">log_triage</h4>", "<h6"} {
		if !strings.Contains(got, want) {
			t.Errorf("report HTML lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "<h1") || strings.Contains(got, "<script") {
		t.Errorf("report HTML has an h1 or a script:\n%s", got)
	}
}
