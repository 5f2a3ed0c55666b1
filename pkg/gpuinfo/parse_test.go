package gpuinfo

import (
	"os"
	"path/filepath"
	"testing"
)

func read(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatalf("read %s: %v", name, err)
	}
	return string(b)
}

func val(p *float64) any {
	if p == nil {
		return nil
	}
	return *p
}

func TestParseRealH100(t *testing.T) {
	t.Parallel()
	gpus, err := ParseGPUs(read(t, "h100-query-gpu-busy.csv"))
	if err != nil {
		t.Fatal(err)
	}
	if len(gpus) != 1 {
		t.Fatalf("got %d GPUs, want 1", len(gpus))
	}
	g := gpus[0]
	if g.Name != "NVIDIA H100 80GB HBM3" || g.UUID != "GPU-3617e4ca-b170-8d8e-739c-c4b40f2be17c" {
		t.Errorf("identity: %+v", g)
	}
	if val(g.UtilPercent) != 100.0 || val(g.MemoryUsedMiB) != 1643.0 || val(g.MemoryTotalMiB) != 81559.0 ||
		val(g.TemperatureC) != 41.0 || val(g.PowerDrawW) != 380.87 {
		t.Errorf("metrics: util=%v mem=%v/%v temp=%v power=%v", val(g.UtilPercent), val(g.MemoryUsedMiB),
			val(g.MemoryTotalMiB), val(g.TemperatureC), val(g.PowerDrawW))
	}
	hs := Hotspots(gpus)
	if len(hs) != 1 || hs[0].Metric != "utilization" {
		t.Errorf("hotspots = %+v, want utilization only", hs)
	}
	apps, err := ParseApps(read(t, "h100-compute-apps-busy.csv"))
	if err != nil {
		t.Fatal(err)
	}
	if len(apps) != 1 || apps[0].PID != 513 || apps[0].ProcessName != "python3" || apps[0].GPUUUID != g.UUID || val(apps[0].UsedMemoryMiB) != 1634.0 {
		t.Errorf("apps = %+v", apps)
	}
	idle, err := ParseApps(read(t, "h100-compute-apps-idle.csv"))
	if err != nil || len(idle) != 0 {
		t.Errorf("idle apps = %+v, %v", idle, err)
	}
	idleGPUs, err := ParseGPUs(read(t, "h100-query-gpu-idle.csv"))
	if err != nil || len(Hotspots(idleGPUs)) != 0 {
		t.Errorf("idle GPU hotspots = %+v, %v", Hotspots(idleGPUs), err)
	}
}

func TestParseMultiGPUHotspots(t *testing.T) {
	t.Parallel()
	gpus, err := ParseGPUs(read(t, "multi-query-gpu.csv"))
	if err != nil {
		t.Fatal(err)
	}
	if len(gpus) != 4 || gpus[2].Name != "NVIDIA GeForce RTX 4090" || gpus[3].Name != "Tesla T4" {
		t.Fatalf("gpus = %+v", gpus)
	}
	got := map[string]bool{}
	for _, h := range Hotspots(gpus) {
		got[h.GPUUUID[:12]+" "+h.Metric] = true
	}
	want := map[string]bool{
		"GPU-5d5ba0d6 utilization": true, // 97 %
		"GPU-5d5ba0d6 memory":      true, // 78112/81920 = 95 %
		"GPU-8a1c2e44 temperature": true, // 88 °C
	}
	if len(got) != len(want) {
		t.Errorf("hotspots = %v, want %v", got, want)
	}
	for k := range want {
		if !got[k] {
			t.Errorf("missing hotspot %s (got %v)", k, got)
		}
	}
	apps, err := ParseApps(read(t, "multi-compute-apps.csv"))
	if err != nil || len(apps) != 2 || apps[1].ProcessName != "/usr/bin/tritonserver" {
		t.Errorf("apps = %+v, %v", apps, err)
	}
}

func TestParseMIG(t *testing.T) {
	t.Parallel()
	gpus, err := ParseGPUs(read(t, "mig-query-gpu.csv"))
	if err != nil {
		t.Fatal(err)
	}
	if gpus[0].UtilPercent != nil {
		t.Errorf("MIG GPU utilization should be unknown ([N/A]), got %v", val(gpus[0].UtilPercent))
	}
	mig := ParseList(read(t, "mig-list.txt"))
	if len(mig[0]) != 3 || mig[0][0].Profile != "3g.20gb" || mig[0][2].UUID != "MIG-c8f9d0e1-2b3c-5d4e-9f5a-6b7c8d9e0f33" {
		t.Errorf("MIG devices of GPU 0 = %+v", mig[0])
	}
	if len(mig[1]) != 0 {
		t.Errorf("GPU 1 has MIG off, got %+v", mig[1])
	}
	if len(ParseList(read(t, "h100-list.txt"))) != 0 {
		t.Error("the H100 capture has MIG disabled")
	}
}

func TestParseNotSupported(t *testing.T) {
	t.Parallel()
	gpus, err := ParseGPUs(read(t, "notsupported-query-gpu.csv"))
	if err != nil {
		t.Fatal(err)
	}
	if gpus[0].TemperatureC != nil || gpus[0].PowerDrawW != nil || val(gpus[0].UtilPercent) != 5.0 {
		t.Errorf("gpu 0: %+v", gpus[0])
	}
	if gpus[1].UtilPercent != nil || gpus[1].MemoryUsedMiB != nil || gpus[1].MemoryPercent() != nil || val(gpus[1].TemperatureC) != 45.0 {
		t.Errorf("gpu 1: %+v", gpus[1])
	}
	if hs := Hotspots(gpus); len(hs) != 0 {
		t.Errorf("unknown metrics must not be hotspots: %+v", hs)
	}
}

func TestParseRejectsGarbage(t *testing.T) {
	t.Parallel()
	if _, err := ParseGPUs("NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver."); err == nil {
		t.Error("want an error for nvidia-smi's failure text")
	}
}
