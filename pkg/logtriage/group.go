package logtriage

// GroupKeys returns the template key of each line, as Analyze groups them.
func GroupKeys(lines []string) []string {
	out := make([]string, len(lines))
	for i, l := range lines {
		p := Classify(l)
		out[i] = TemplateKey(p.Level, Templatize(p.Message))
	}
	return out
}
