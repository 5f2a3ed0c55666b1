package logtriage

// GroupKeys returns the template key of each line, as Analyze groups them.
func GroupKeys(lines []string) []string {
	m := NewMiner()
	m.Learn(lines)
	out := make([]string, len(lines))
	for i, l := range lines {
		out[i] = m.Add(l).Key
	}
	return out
}
