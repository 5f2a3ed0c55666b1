package web

import (
	"bytes"
	"html/template"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/text"
	"github.com/yuin/goldmark/util"
)

// A run's report is shown under the page's "Report" heading (an h2), so its
// own headings move two levels down: the report's "# Report" becomes an h3
// and the page keeps its single h1. Otherwise it renders as markdown does
// (raw HTML left out, the result sanitized).
var runReportMD = goldmark.New(goldmark.WithExtensions(extension.Table, extension.Strikethrough),
	goldmark.WithParserOptions(parser.WithASTTransformers(util.Prioritized(headingShift(2), 100))))

// headingShift moves every heading down by its value (at most to h6).
type headingShift int

func (s headingShift) Transform(doc *ast.Document, _ text.Reader, _ parser.Context) {
	_ = ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if h, ok := n.(*ast.Heading); ok && entering {
			h.Level = min(h.Level+int(s), 6)
		}
		return ast.WalkContinue, nil
	})
}

// runReport renders a run's report as safe HTML.
func runReport(src string) template.HTML {
	var buf bytes.Buffer
	if err := runReportMD.Convert([]byte(src), &buf); err != nil {
		return template.HTML(template.HTMLEscapeString(src))
	}
	return template.HTML(mdPolicy.SanitizeBytes(buf.Bytes())) //nolint:gosec // sanitized just above
}

func init() { funcs["runReport"] = runReport }
