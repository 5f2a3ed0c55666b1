package tasks

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"

	"github.com/cyberbrain/cyberbrain/pkg/report"
	"github.com/cyberbrain/cyberbrain/pkg/testenv"
)

// TestGPUReportWithoutGPU: on a host with no NVIDIA GPU (no nvidia-smi here,
// no GPU image on the engine and no registry to pull it from) the task
// completes with a report that says so.
func TestGPUReportWithoutGPU(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("nvidia-smi"); err == nil {
		t.Skip("nvidia-smi is on PATH: this machine may have a GPU")
	}
	testenv.Docker(t)
	d := newTaskDB(t, "gpu_report", `{"image": "cyberbrain-test/no-such-gpu-image:1", "pull_timeout": "20s"}`)
	res := d.run(t, GPUReport(testPool), &d.host, d.job)
	want := "no NVIDIA GPU detected on host local"
	if !strings.Contains(res.Summary, want) || !strings.Contains(res.ReportMarkdown, want) {
		t.Errorf("summary %q / report %q lack %q", res.Summary, res.ReportMarkdown, want)
	}
	if res.Data["no_gpu"] != true || res.Data["gpus"] != 0 {
		t.Errorf("data = %v", res.Data)
	}
	var doc report.GPUReport
	if err := json.Unmarshal(artifact(t, res, "gpu_report.json"), &doc); err != nil || doc.NoGPU == "" {
		t.Errorf("gpu_report.json = %+v, %v", doc, err)
	}
}
