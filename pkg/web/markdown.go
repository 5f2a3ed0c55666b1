package web

import (
	"bytes"
	"html/template"

	"github.com/microcosm-cc/bluemonday"
	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"
)

// md renders reports: CommonMark plus tables and strikethrough. Raw HTML in
// a report is left out by goldmark's default (unsafe off) and whatever
// comes through is sanitized again, since reports quote container logs.
var (
	md       = goldmark.New(goldmark.WithExtensions(extension.Table, extension.Strikethrough))
	mdPolicy = bluemonday.UGCPolicy()
)

// renderMarkdown turns a report into safe HTML.
func renderMarkdown(src string) template.HTML {
	var buf bytes.Buffer
	if err := md.Convert([]byte(src), &buf); err != nil {
		return template.HTML(template.HTMLEscapeString(src))
	}
	return template.HTML(mdPolicy.SanitizeBytes(buf.Bytes())) //nolint:gosec // sanitized just above
}
