package tasks

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/cyberbrain/cyberbrain/pkg/store"
)

// Output limits: the artifact keeps the first maxOutput bytes and the last
// tailLines lines; the job's result carries the last resultLines lines.
const (
	maxOutput   = 4 << 20
	tailLines   = 200
	resultLines = 20
	lineCut     = 500
)

// output collects a container's stdout and stderr as they interleave.
type output struct {
	mu      sync.Mutex
	head    bytes.Buffer
	dropped int64
	partial []byte   // an unfinished last line
	lines   []string // the last tailLines complete lines
}

func newOutput() *output { return &output{} }

// Write is called by stdcopy for both streams.
func (o *output) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if room := maxOutput - o.head.Len(); room > 0 {
		o.head.Write(p[:min(room, len(p))])
		o.dropped += int64(max(0, len(p)-room))
	} else {
		o.dropped += int64(len(p))
	}
	o.partial = append(o.partial, p...)
	for {
		i := bytes.IndexByte(o.partial, '\n')
		if i < 0 {
			break
		}
		o.push(string(o.partial[:i]))
		o.partial = o.partial[i+1:]
	}
	return len(p), nil
}

func (o *output) push(line string) {
	line = strings.TrimRight(line, "\r")
	if len(line) > lineCut {
		line = strings.ToValidUTF8(line[:lineCut], "") + "…"
	}
	o.lines = append(o.lines, line)
	if len(o.lines) > tailLines {
		o.lines = o.lines[len(o.lines)-tailLines:]
	}
}

// note adds a line of cyberbrain's own to the output.
func (o *output) note(line string) { _, _ = o.Write([]byte(line + "\n")) }

// tail returns the last n lines, the unfinished one included.
func (o *output) tail(n int) []string {
	if o == nil {
		return nil
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	all := o.lines
	if len(o.partial) > 0 {
		all = append(append([]string(nil), all...), string(o.partial))
	}
	if len(all) > n {
		all = all[len(all)-n:]
	}
	return append([]string(nil), all...)
}

func (o *output) lastLines(n int) string {
	t := o.tail(n)
	if len(t) == 0 {
		return "none"
	}
	return strings.Join(t, " | ")
}

// artifact is output.log: everything, or the head and the last lines when
// the output outgrew maxOutput.
func (o *output) artifact() []byte {
	o.mu.Lock()
	dropped := o.dropped
	b := append([]byte(nil), o.head.Bytes()...)
	o.mu.Unlock()
	if dropped == 0 {
		return b
	}
	b = fmt.Appendf(b, "\n[cyberbrain: %d bytes omitted; the last %d lines follow]\n", dropped, tailLines)
	return append(b, strings.Join(o.tail(tailLines), "\n")...)
}

// result builds what the attempt reports, whatever its exit code.
func (a *attempt) result(code int64, took time.Duration) *Result {
	last := a.out.tail(resultLines)
	summary := fmt.Sprintf("container %s exited %d after %s", a.spec.Image, code, took.Round(time.Millisecond))
	data := map[string]any{"exit_code": code, "image": a.spec.Image, "duration_ms": took.Milliseconds(),
		"last_lines": last, "host": hostName(a.host)}
	var md strings.Builder
	fmt.Fprintf(&md, "## Container task %s — %s\n\n%s (attempt %d).\n\n", a.job.TaskType, hostName(a.host), summary, a.job.Attempt)
	if len(last) > 0 {
		fmt.Fprintf(&md, "Last %d line(s) of output:\n\n````\n%s\n````\n", len(last), strings.Join(last, "\n"))
	}
	js, err := jsonArtifact(a.job.TaskType, data)
	if err != nil {
		js = Artifact{Name: a.job.TaskType + ".json", ContentType: "application/json", Content: []byte("{}")}
	}
	return &Result{Summary: summary, Data: data, ReportMarkdown: md.String(), Artifacts: []Artifact{
		markdownArtifact(md.String()), js,
		{Name: "output.log", ContentType: "text/plain; charset=utf-8", Content: a.out.artifact()},
	}}
}

func hostName(h *store.WorkerHost) string {
	if h == nil {
		return "no host"
	}
	return h.Name
}
