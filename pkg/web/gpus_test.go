package web_test

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/cyberbrain/cyberbrain/pkg/dockerhost"
	"github.com/cyberbrain/cyberbrain/pkg/tasks"
	"github.com/cyberbrain/cyberbrain/pkg/testenv"
)

// The GPU page of a host, from a real gpu_report run (nvidia-smi faked on
// PATH, the container real): one section per GPU with utilisation, memory
// and temperature gauges at the reported values, the container that holds
// GPU 0 under it and the process no container claims; a host whose report
// found no GPU says so.
func TestHostGPUs(t *testing.T) {
	cli := testenv.Docker(t)
	testenv.CTask(t, cli)
	installFakeNvidiaSMI(t,
		"0, NVIDIA H100 80GB HBM3, GPU-3617e4ca-b170-8d8e-739c-c4b40f2be17c, 93, 70000, 81559, 87, 380.87\n"+
			"1, NVIDIA H100 80GB HBM3, GPU-8a1c2e44-19f0-4be4-b7a5-0c6a2c1f9e01, 5, 1024, 81559, 41, 70.04\n",
		"999999, python3, GPU-8a1c2e44-19f0-4be4-b7a5-0c6a2c1f9e01, 1000\n")
	e := newEnv(t)
	h := newHost(t, e.st, "gpu-here")
	trainer := uniqueName("cbweb-trainer")
	ctaskContainer(t, cli, trainer, "", nil, []string{"NVIDIA_VISIBLE_DEVICES=0"}, false)
	allow(t, e.st, h.ID, trainer)

	b := e.b
	b.Do(t, wait, chromedp.Navigate(hostURL(e, h.ID, "/gpus")), chromedp.WaitVisible(chromedp.CSS("#no-report")))
	e.startScheduler(tasks.Registry{"gpu_report": tasks.GPUReport(dockerhost.NewPool())})
	run := launchOn(t, e.st, "gpu_report", h.ID)
	b.Do(t, 90*time.Second, chromedp.WaitVisible(chromedp.CSS("#gpu-1")))
	if src := getString(t, e, chromedp.Text(chromedp.CSS("#gpu-source"))); !strings.Contains(src, "run #"+itoa(run)) {
		t.Errorf("GPU report source = %q, want run #%d", src, run)
	}
	meters := testenvGet(t, e, chromedp.Evaluate[[]string](`[...document.querySelectorAll("#gpu-0 meter")].map(m => m.className + "=" + m.value + "/" + m.max)`))
	if strings.Join(meters, " ") != "util=93/100 mem=70000/81559 temp=87/100" {
		t.Errorf("GPU 0 meters = %q", meters)
	}
	gpu0 := getString(t, e, chromedp.Text(chromedp.CSS("#gpu-0")))
	for _, want := range []string{"NVIDIA H100 80GB HBM3", "93 %", "70000 / 81559 MiB", "87 °C", trainer, "device 0", "NVIDIA_VISIBLE_DEVICES"} {
		if !strings.Contains(gpu0, want) {
			t.Errorf("GPU 0 lacks %q:\n%s", want, gpu0)
		}
	}
	gpu1 := getString(t, e, chromedp.Text(chromedp.CSS("#gpu-1")))
	if strings.Contains(gpu1, trainer) || !strings.Contains(gpu1, "python3 (pid 999999, 1000 MiB)") {
		t.Errorf("GPU 1 should list the unclaimed process and not %s:\n%s", trainer, gpu1)
	}
	e.noErrors("/hosts/{id}/gpus")

	// A host whose report found no GPU.
	cpu := newHost(t, e.st, "cpu-only")
	finishedReport(t, e.st, "gpu_report", cpu.ID, map[string]any{"host": "cpu-only",
		"no_gpu": "no NVIDIA GPU detected on host cpu-only (nvidia-smi lists none)", "gpus": []any{}})
	b.Do(t, wait, chromedp.Navigate(hostURL(e, cpu.ID, "/gpus")), chromedp.WaitVisible(chromedp.CSS("#no-gpu")))
	if txt := getString(t, e, chromedp.Text(chromedp.CSS("#no-gpu"))); !strings.Contains(txt, "No GPU on this host") {
		t.Errorf("no-GPU host says %q", txt)
	}
	e.noErrors("no-GPU host")
}
