package tasks

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.uber.org/zap"

	"github.com/docker/docker/client"

	"github.com/cyberbrain/cyberbrain/pkg/domain"
	"github.com/cyberbrain/cyberbrain/pkg/gpuinfo"
	"github.com/cyberbrain/cyberbrain/pkg/report"
	"github.com/cyberbrain/cyberbrain/pkg/store"
)

// fakeSMI is what the fake nvidia-smi prints for each query; an empty
// failGPU means the GPU query succeeds.
type fakeSMI struct {
	gpus, apps, list string
	failGPU          string // stderr of a failing --query-gpu (exit 9)
	failApps         bool
}

// installFakeNvidiaSMI puts a shell script named nvidia-smi first on PATH.
// It answers only the exact queries gpu_report's parser expects (fields and
// format), so a change of the command line fails the tests rather than
// parsing something else. Not parallel: PATH is process-wide.
func installFakeNvidiaSMI(t *testing.T, f fakeSMI) {
	t.Helper()
	dir := t.TempDir()
	for name, content := range map[string]string{"gpus.csv": f.gpus, "apps.csv": f.apps, "list.txt": f.list, "fail.txt": f.failGPU} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	failApps := "0"
	if f.failApps {
		failApps = "1"
	}
	gpuArgs := gpuinfo.Args("query-gpu", gpuinfo.QueryGPUFields)
	appArgs := gpuinfo.Args("query-compute-apps", gpuinfo.QueryAppsFields)
	script := `#!/bin/sh
d='` + dir + `'
case "$1 $2" in
"` + gpuArgs[0] + ` ` + gpuArgs[1] + `")
	if [ -s "$d/fail.txt" ]; then cat "$d/fail.txt" >&2; exit 9; fi
	cat "$d/gpus.csv";;
"` + appArgs[0] + ` ` + appArgs[1] + `")
	if [ ` + failApps + ` = 1 ]; then echo "apps query broke" >&2; exit 4; fi
	cat "$d/apps.csv";;
"-L ")
	cat "$d/list.txt";;
*)
	echo "fake nvidia-smi: unexpected arguments: $*" >&2; exit 2;;
esac
`
	if err := os.WriteFile(filepath.Join(dir, "nvidia-smi"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
}

func readGPUTestdata(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "gpuinfo", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// localGPUHost is a host whose engine is local to the scheduler (a unix
// socket), so gpu_report runs nvidia-smi directly.
func localGPUEnv(config string, allow AllowList) Env {
	host := &store.WorkerHost{ID: 3, Name: "gpubox", Type: domain.HostDockerSocket, BaseURL: "unix:///var/run/cb-fake.sock"}
	return Env{Job: store.Job{ID: 31, RunID: 30, TaskType: domain.TaskGPUReport, Config: store.JSON(config)}, Host: host,
		AllowList: allow, Logger: zap.NewNop()}
}

func decodeGPUReport(t *testing.T, res *Result) report.GPUReport {
	t.Helper()
	var doc report.GPUReport
	if err := json.Unmarshal(artifact(t, res, "gpu_report.json"), &doc); err != nil {
		t.Fatalf("decode gpu_report.json: %v", err)
	}
	return doc
}

// TestGPUReportLocalNvidiaSMI: four GPUs, two compute processes and
// containers holding GPUs through a device request and through
// NVIDIA_VISIBLE_DEVICES, with their compute PIDs; hotspots above the
// documented thresholds; a stopped container, one without GPUs and one off
// the allow-list are not in the mapping.
func TestGPUReportLocalNvidiaSMI(t *testing.T) {
	installFakeNvidiaSMI(t, fakeSMI{gpus: readGPUTestdata(t, "multi-query-gpu.csv"), apps: readGPUTestdata(t, "multi-compute-apps.csv")})
	eng := newFakeEngine(t)
	eng.add("1111aaaa0001", "trainer")
	eng.add("1111aaaa0002", "inference")
	eng.add("1111aaaa0003", "web")
	eng.add("1111aaaa0004", "offlist-gpu")
	eng.add("1111aaaa0005", "stopped-gpu")
	eng.mu.Lock()
	eng.containers[4].State = "exited"
	eng.mu.Unlock()
	gpuRequest := map[string]any{"DeviceRequests": []map[string]any{{"Driver": "", "Count": 0, "DeviceIDs": []string{"0"}, "Capabilities": [][]string{{"gpu"}}}}}
	eng.inspect["1111aaaa0001"] = map[string]any{"HostConfig": gpuRequest}
	eng.top["1111aaaa0001"] = []string{"48213", "48214"}
	eng.inspect["1111aaaa0002"] = map[string]any{"Config": map[string]any{"Tty": true, "Env": []string{"PATH=/bin", "NVIDIA_VISIBLE_DEVICES=2,3", "API_KEY=hush"}}}
	eng.top["1111aaaa0002"] = []string{"51002"}
	eng.inspect["1111aaaa0003"] = map[string]any{"Config": map[string]any{"Tty": true, "Env": []string{"NVIDIA_VISIBLE_DEVICES=void"}}}
	eng.inspect["1111aaaa0004"] = map[string]any{"HostConfig": gpuRequest}
	eng.inspect["1111aaaa0005"] = map[string]any{"HostConfig": gpuRequest}

	res, err := GPUReport(eng).Run(context.Background(),
		localGPUEnv("", fixedAllowList{"trainer", "inference", "web", "stopped-gpu"}))
	if err != nil {
		t.Fatal(err)
	}
	wantSummary := "4 GPU(s) on gpubox, 2 compute process(es), 2 container(s) holding GPUs, 3 hotspot(s)"
	if res.Summary != wantSummary {
		t.Errorf("summary = %q, want %q", res.Summary, wantSummary)
	}
	for k, v := range map[string]any{"summary": wantSummary, "host": "gpubox", "gpus": 4, "no_gpu": false, "compute_apps": 2,
		"containers_with_gpus": 2, "hotspots": 3, "method": "local"} {
		if res.Data[k] != v {
			t.Errorf("data[%s] = %v, want %v", k, res.Data[k], v)
		}
	}

	doc := decodeGPUReport(t, res)
	if doc.Method != "local" || doc.NoGPU != "" || len(doc.GPUs) != 4 || doc.OutOfScope != 1 || doc.ContainersError != "" {
		t.Errorf("gpu_report.json = method %q no_gpu %q gpus %d out_of_scope %d containers_error %q",
			doc.Method, doc.NoGPU, len(doc.GPUs), doc.OutOfScope, doc.ContainersError)
	}
	var hot []string
	for _, h := range doc.Hotspots {
		hot = append(hot, h.Metric+"@"+string(rune('0'+h.GPUIndex)))
	}
	if strings.Join(hot, ",") != "utilization@0,memory@0,temperature@1" {
		t.Errorf("hotspots = %v, want GPU 0 utilisation and memory, GPU 1 temperature", hot)
	}
	if len(doc.Containers) != 2 {
		t.Fatalf("containers = %+v, want trainer and inference", doc.Containers)
	}
	byName := map[string]report.GPUContainer{}
	for _, c := range doc.Containers {
		byName[c.Name] = c
	}
	if c := byName["trainer"]; c.Source != "device_request" || strings.Join(c.GPUs, ",") != "0" || len(c.ComputePIDs) != 1 || c.ComputePIDs[0] != 48213 {
		t.Errorf("trainer = %+v, want GPU 0 by device request running pid 48213", c)
	}
	if c := byName["inference"]; c.Source != "NVIDIA_VISIBLE_DEVICES" || strings.Join(c.GPUs, ",") != "2,3" || len(c.ComputePIDs) != 1 || c.ComputePIDs[0] != 51002 {
		t.Errorf("inference = %+v, want GPUs 2,3 from NVIDIA_VISIBLE_DEVICES running pid 51002", c)
	}

	md := res.ReportMarkdown
	for _, want := range []string{
		"## GPU report — gpubox\n\n" + wantSummary + ".\n\n",
		"| # | name | uuid | util | memory | temp | power | MIG |",
		"| 0 | NVIDIA A100-SXM4-80GB | `GPU-5d5ba0d6-d33d-2b2c-524d-9e3d8d2b8a77` | 97% | 78112 / 81920 MiB (95%) | 71°C | 398 W |  |",
		"**Hotspots**",
		"- GPU 0 (NVIDIA A100-SXM4-80GB) utilization 97% > 80%",
		"- GPU 0 (NVIDIA A100-SXM4-80GB) memory 95% > 90%",
		"- GPU 1 (NVIDIA A100-SXM4-80GB) temperature 88°C > 85°C",
		"| 48213 | python3 | `GPU-5d5ba0d6-d33d-2b2c-524d-9e3d8d2b8a77` | 78100 MiB |",
		"| trainer | 0 | device_request | [48213] |",
		"| inference | 2, 3 | NVIDIA_VISIBLE_DEVICES | [51002] |",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q:\n%s", want, md)
		}
	}
	assertNotLeaked(t, res, "offlist-gpu", "hush", "API_KEY")
}

// TestGPUReportMIGAndUnsupportedFields: MIG profiles from nvidia-smi -L
// appear per GPU; [N/A] and [Not Supported] read as n/a and never make a
// hotspot.
func TestGPUReportMIGAndUnsupportedFields(t *testing.T) {
	installFakeNvidiaSMI(t, fakeSMI{gpus: readGPUTestdata(t, "mig-query-gpu.csv"), list: readGPUTestdata(t, "mig-list.txt")})
	res, err := GPUReport(newFakeEngine(t)).Run(context.Background(), localGPUEnv(`{"scope": "all"}`, nil))
	if err != nil {
		t.Fatal(err)
	}
	doc := decodeGPUReport(t, res)
	if len(doc.GPUs) != 2 || len(doc.Hotspots) != 0 {
		t.Fatalf("gpus %d hotspots %+v, want 2 GPUs and no hotspot", len(doc.GPUs), doc.Hotspots)
	}
	if g := doc.GPUs[0]; g.UtilPercent != nil || len(g.MIG) != 3 || g.MIG[0].Profile != "3g.20gb" {
		t.Errorf("GPU 0 = %+v, want util n/a and 3 MIG devices", g)
	}
	if len(doc.GPUs[1].MIG) != 0 {
		t.Errorf("GPU 1 MIG = %+v, want none", doc.GPUs[1].MIG)
	}
	if want := "| n/a | 11264 / 40960 MiB (28%) | 34°C | 88 W | 3g.20gb, 2g.10gb, 1g.5gb |"; !strings.Contains(res.ReportMarkdown, want) {
		t.Errorf("report lacks %q:\n%s", want, res.ReportMarkdown)
	}

	installFakeNvidiaSMI(t, fakeSMI{gpus: readGPUTestdata(t, "notsupported-query-gpu.csv")})
	res, err = GPUReport(newFakeEngine(t)).Run(context.Background(), localGPUEnv(`{"scope": "all"}`, nil))
	if err != nil {
		t.Fatal(err)
	}
	doc = decodeGPUReport(t, res)
	if len(doc.GPUs) != 2 || len(doc.Hotspots) != 0 || doc.GPUs[0].TemperatureC != nil || doc.GPUs[1].MemoryUsedMiB != nil {
		t.Errorf("gpus %+v hotspots %+v, want n/a fields as null and no hotspot", doc.GPUs, doc.Hotspots)
	}
	md := res.ReportMarkdown
	for _, want := range []string{
		"| 0 | NVIDIA GeForce GTX 1050 Ti | `GPU-2b3c4d5e-6f70-8192-a3b4-c5d6e7f80912` | 5% | 512 / 4096 MiB (12%) | n/a | n/a |  |",
		"| 1 | Quadro K2200 | `GPU-3c4d5e6f-7081-92a3-b4c5-d6e7f8091a2b` | n/a | n/a / 4096 MiB | 45°C | n/a |  |",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q:\n%s", want, md)
		}
	}
	if strings.Contains(md, "**Hotspots**") {
		t.Error("report lists hotspots for n/a fields")
	}
}

// TestGPUReportNoGPUPaths: nvidia-smi that cannot talk to a driver, or that
// lists no GPU, gives a completed "no NVIDIA GPU" report, not a failure.
func TestGPUReportNoGPUPaths(t *testing.T) {
	for _, tc := range []struct {
		name   string
		smi    fakeSMI
		reason string
	}{
		{"driver missing", fakeSMI{failGPU: "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver."}, "no NVIDIA GPU detected on host gpubox (nvidia-smi"},
		{"no GPU listed", fakeSMI{gpus: ""}, "no NVIDIA GPU detected on host gpubox (nvidia-smi lists none)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			installFakeNvidiaSMI(t, tc.smi)
			res, err := GPUReport(newFakeEngine(t)).Run(context.Background(), localGPUEnv("", fixedAllowList{}))
			if err != nil {
				t.Fatalf("want a completed report, got %v", err)
			}
			if !strings.HasPrefix(res.Summary, tc.reason) || res.Data["no_gpu"] != true || res.Data["gpus"] != 0 || res.Data["method"] != "local" {
				t.Errorf("summary %q data %v", res.Summary, res.Data)
			}
			if !strings.HasPrefix(res.ReportMarkdown, "## GPU report — gpubox\n\n"+tc.reason) || strings.Contains(res.ReportMarkdown, "| # |") {
				t.Errorf("report:\n%s", res.ReportMarkdown)
			}
			if doc := decodeGPUReport(t, res); doc.NoGPU != res.Summary {
				t.Errorf("gpu_report.json no_gpu = %q, want the summary", doc.NoGPU)
			}
		})
	}
}

// TestGPUReportEngineDownStillReportsGPUs: nvidia-smi answers locally but the
// engine does not: the GPUs are reported, with a line saying why the
// containers could not be mapped.
func TestGPUReportEngineDownStillReportsGPUs(t *testing.T) {
	installFakeNvidiaSMI(t, fakeSMI{gpus: readGPUTestdata(t, "multi-query-gpu.csv")})
	res, err := GPUReport(downEngine{}).Run(context.Background(), localGPUEnv("", fixedAllowList{}))
	if err != nil {
		t.Fatal(err)
	}
	doc := decodeGPUReport(t, res)
	if len(doc.GPUs) != 4 || !strings.Contains(doc.ContainersError, `worker host "gpubox"`) || !strings.Contains(doc.ContainersError, "list containers") {
		t.Errorf("gpus %d, containers_error %q", len(doc.GPUs), doc.ContainersError)
	}
	if !strings.Contains(res.ReportMarkdown, "Containers could not be mapped to GPUs: worker host \"gpubox\"") {
		t.Errorf("report:\n%s", res.ReportMarkdown)
	}
}

// TestGPUReportNvidiaSMIErrors: an apps query that fails and output the
// parser cannot read fail the job with an error naming the host; neither is
// marked permanent (another attempt may find the driver in a better state).
func TestGPUReportNvidiaSMIErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		smi  fakeSMI
		want string
	}{
		{"apps query fails", fakeSMI{gpus: readGPUTestdata(t, "multi-query-gpu.csv"), failApps: true}, "query-compute-apps"},
		{"unparsable gpu line", fakeSMI{gpus: "0, half a line\n"}, "nvidia-smi gpu line 1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			installFakeNvidiaSMI(t, tc.smi)
			_, err := GPUReport(newFakeEngine(t)).Run(context.Background(), localGPUEnv("", fixedAllowList{}))
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "gpubox") || !domain.IsRetryable(err) {
				t.Errorf("err = %v (retryable %v), want a retryable error naming %q and the host", err, domain.IsRetryable(err), tc.want)
			}
		})
	}
}

// downEngine hands out a client to an engine nothing listens on.
type downEngine struct{}

func (downEngine) Client(*store.WorkerHost) (*client.Client, error) {
	return client.NewClientWithOpts(client.WithHost("tcp://127.0.0.1:1"), client.WithAPIVersionNegotiation())
}
