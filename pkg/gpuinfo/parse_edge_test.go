package gpuinfo

import (
	"math"
	"strings"
	"testing"
)

func TestArgsMatchTheParsersFieldOrder(t *testing.T) {
	t.Parallel()
	got := Args("query-gpu", QueryGPUFields)
	want := []string{"--query-gpu=index,name,uuid,utilization.gpu,memory.used,memory.total,temperature.gpu,power.draw", "--format=csv,noheader,nounits"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("Args = %q, want %q", got, want)
	}
	if a := Args("query-compute-apps", QueryAppsFields); a[0] != "--query-compute-apps=pid,process_name,gpu_uuid,used_memory" {
		t.Errorf("apps args = %q", a)
	}
	// The parsers index fields by position: the field lists must keep 8 and 4 entries.
	if n := len(strings.Split(QueryGPUFields, ",")); n != 8 {
		t.Errorf("QueryGPUFields has %d fields, ParseGPUs expects 8", n)
	}
	if n := len(strings.Split(QueryAppsFields, ",")); n != 4 {
		t.Errorf("QueryAppsFields has %d fields, ParseApps expects 4", n)
	}
}

func TestParseGPUsFormatVariants(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		in    string
		check func(t *testing.T, g GPU)
	}{
		{"windows line endings and blank lines",
			"\r\n0, NVIDIA H100 80GB HBM3, GPU-3617e4ca-b170-8d8e-739c-c4b40f2be17c, 100, 1643, 81559, 41, 380.87\r\n\r\n",
			func(t *testing.T, g GPU) {
				if val(g.PowerDrawW) != 380.87 || g.UUID != "GPU-3617e4ca-b170-8d8e-739c-c4b40f2be17c" {
					t.Errorf("gpu = %+v power %v", g, val(g.PowerDrawW))
				}
			}},
		{"units left on (no nounits)",
			"0, Tesla T4, GPU-0a1b2c3d-4e5f-6789-abcd-ef0123456789, 45 %, 1024 MiB, 15360 MiB, 38, 27.10 W",
			func(t *testing.T, g GPU) {
				if val(g.UtilPercent) != 45.0 || val(g.MemoryUsedMiB) != 1024.0 || val(g.MemoryTotalMiB) != 15360.0 || val(g.PowerDrawW) != 27.1 {
					t.Errorf("util %v mem %v/%v power %v", val(g.UtilPercent), val(g.MemoryUsedMiB), val(g.MemoryTotalMiB), val(g.PowerDrawW))
				}
			}},
		{"a name with a comma",
			"3, Acme Accelerator, Rev. B, GPU-11111111-2222-3333-4444-555555555555, 1, 2, 4, 30, 40",
			func(t *testing.T, g GPU) {
				if g.Index != 3 || g.Name != "Acme Accelerator, Rev. B" || g.UUID != "GPU-11111111-2222-3333-4444-555555555555" || val(g.PowerDrawW) != 40.0 {
					t.Errorf("gpu = %+v", g)
				}
			}},
		{"every metric unknown",
			"0, Quadro, GPU-x, [N/A], [Not Supported], N/A, [Unknown Error], ",
			func(t *testing.T, g GPU) {
				if g.UtilPercent != nil || g.MemoryUsedMiB != nil || g.MemoryTotalMiB != nil || g.TemperatureC != nil || g.PowerDrawW != nil {
					t.Errorf("unknown metrics parsed as numbers: %+v", g)
				}
			}},
		{"surrounding spaces",
			"   7 ,   NVIDIA L4 ,  GPU-l4  , 12 , 100 , 23034 , 50 , 30.5   ",
			func(t *testing.T, g GPU) {
				if g.Index != 7 || g.Name != "NVIDIA L4" || g.UUID != "GPU-l4" || val(g.TemperatureC) != 50.0 {
					t.Errorf("gpu = %+v", g)
				}
			}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			gpus, err := ParseGPUs(c.in)
			if err != nil {
				t.Fatal(err)
			}
			if len(gpus) != 1 {
				t.Fatalf("got %d GPUs, want 1: %+v", len(gpus), gpus)
			}
			c.check(t, gpus[0])
		})
	}
}

func TestParseGPUsErrorsNameTheLine(t *testing.T) {
	t.Parallel()
	good := "0, NVIDIA H100 80GB HBM3, GPU-a, 0, 0, 81559, 34, 70.04\n"
	cases := []struct {
		in   string
		want string
	}{
		{good + "1, NVIDIA H100 80GB HBM3, GPU-b, 0, 0\n", "line 2: 5 fields, want 8"},
		{good + "x, NVIDIA H100 80GB HBM3, GPU-b, 0, 0, 81559, 34, 70.04\n", `line 2: index "x"`},
		{"Failed to initialize NVML: Driver/library version mismatch", "line 1: 1 fields"},
		{"No devices were found", "want 8"},
	}
	for _, c := range cases {
		gpus, err := ParseGPUs(c.in)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("ParseGPUs(%q) = %+v, %v; want an error containing %q", c.in, gpus, err, c.want)
		}
		if gpus != nil {
			t.Errorf("ParseGPUs(%q) returned GPUs along with an error", c.in)
		}
	}
	if gpus, err := ParseGPUs("\n \n"); err != nil || len(gpus) != 0 {
		t.Errorf("empty output = %+v, %v; want no GPUs and no error", gpus, err)
	}
}

func TestParseAppsVariants(t *testing.T) {
	t.Parallel()
	apps, err := ParseApps("No running processes found\n")
	if err != nil || len(apps) != 0 {
		t.Errorf("older drivers' no-process text: %+v, %v", apps, err)
	}
	apps, err = ParseApps("12, python3, GPU-a, [N/A]\n34, /opt/my, app, GPU-b, 2048 MiB\n")
	if err != nil {
		t.Fatal(err)
	}
	if len(apps) != 2 {
		t.Fatalf("apps = %+v", apps)
	}
	// Windows (WDDM) drivers cannot report per-process memory.
	if apps[0].PID != 12 || apps[0].UsedMemoryMiB != nil || apps[0].GPUUUID != "GPU-a" {
		t.Errorf("app 0 = %+v", apps[0])
	}
	if apps[1].PID != 34 || apps[1].ProcessName != "/opt/my, app" || apps[1].GPUUUID != "GPU-b" || val(apps[1].UsedMemoryMiB) != 2048.0 {
		t.Errorf("app 1 = %+v", apps[1])
	}
	for in, want := range map[string]string{
		"12, python3, GPU-a\n":      "line 1: 3 fields, want 4",
		"ok, python3, GPU-a, 1\n":   `line 1: pid "ok"`,
		"1, a, GPU-a, 1\n2, b, c\n": "line 2",
	} {
		if _, err := ParseApps(in); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseApps(%q) error %v, want one containing %q", in, err, want)
		}
	}
}

func TestParseListMIGLayouts(t *testing.T) {
	t.Parallel()
	out := strings.Join([]string{
		"  MIG 1g.5gb     Device  0: (UUID: MIG-orphan)", // before any GPU line: ignored
		"GPU 0: NVIDIA A100-SXM4-40GB (UUID: GPU-aaaa)",
		"  MIG 7g.40gb     Device  0: (UUID: MIG-0000)",
		"GPU 1: NVIDIA A100-SXM4-40GB (UUID: GPU-bbbb)",
		"GPU 10: NVIDIA H100 80GB HBM3 (UUID: GPU-cccc)",
		"  MIG 1g.10gb     Device  0: (UUID: MIG-1000)",
		"  MIG 1g.10gb     Device  1: (UUID: MIG-1001)",
		"  MIG 1g.10gb+me  Device  2: (UUID: MIG-1002)",
		"some unrelated line",
	}, "\n")
	mig := ParseList(out)
	if len(mig) != 2 {
		t.Fatalf("GPUs with MIG devices = %v, want 0 and 10", mig)
	}
	if d := mig[0]; len(d) != 1 || d[0] != (MIGDevice{Index: 0, Profile: "7g.40gb", UUID: "MIG-0000"}) {
		t.Errorf("GPU 0 = %+v", d)
	}
	d := mig[10]
	if len(d) != 3 || d[1] != (MIGDevice{Index: 1, Profile: "1g.10gb", UUID: "MIG-1001"}) || d[2].Profile != "1g.10gb+me" {
		t.Errorf("GPU 10 = %+v", d)
	}
	if _, ok := mig[1]; ok {
		t.Errorf("GPU 1 has no MIG devices but is listed: %+v", mig[1])
	}
}

func TestMemoryPercent(t *testing.T) {
	t.Parallel()
	f := func(v float64) *float64 { return &v }
	cases := []struct {
		used, total *float64
		want        any
	}{
		{f(40960), f(81920), 50.0},
		{f(0), f(81559), 0.0},
		{f(81559), f(81559), 100.0},
		{f(10), f(0), nil}, // a board reporting no memory is unknown, not a division by zero
		{f(10), f(-1), nil},
		{nil, f(1024), nil},
		{f(10), nil, nil},
	}
	for _, c := range cases {
		g := GPU{MemoryUsedMiB: c.used, MemoryTotalMiB: c.total}
		if got := val(g.MemoryPercent()); got != c.want {
			t.Errorf("used %v total %v: %v, want %v", val(c.used), val(c.total), got, c.want)
		}
	}
}

// TestHotspotThresholds: docs/DESIGN.md §13 says "above": a reading exactly on a
// threshold is not a hotspot.
func TestHotspotThresholds(t *testing.T) {
	t.Parallel()
	f := func(v float64) *float64 { return &v }
	cases := []struct {
		name string
		gpu  GPU
		want []string
	}{
		{"all exactly on the limits", GPU{UtilPercent: f(80), MemoryUsedMiB: f(90), MemoryTotalMiB: f(100), TemperatureC: f(85)}, nil},
		{"just above each", GPU{UtilPercent: f(80.1), MemoryUsedMiB: f(90.1), MemoryTotalMiB: f(100), TemperatureC: f(85.5)},
			[]string{"utilization", "memory", "temperature"}},
		{"memory only", GPU{UtilPercent: f(5), MemoryUsedMiB: f(81000), MemoryTotalMiB: f(81559), TemperatureC: f(40)}, []string{"memory"}},
		{"hot but idle", GPU{UtilPercent: f(0), TemperatureC: f(92)}, []string{"temperature"}},
		{"nothing known", GPU{}, nil},
	}
	for _, c := range cases {
		var got []string
		for _, h := range Hotspots([]GPU{c.gpu}) {
			got = append(got, h.Metric)
		}
		if strings.Join(got, ",") != strings.Join(c.want, ",") {
			t.Errorf("%s: hotspots %v, want %v", c.name, got, c.want)
		}
	}
}

func TestHotspotDetails(t *testing.T) {
	t.Parallel()
	gpus, err := ParseGPUs(read(t, "multi-query-gpu.csv"))
	if err != nil {
		t.Fatal(err)
	}
	hs := Hotspots(gpus)
	if len(hs) != 3 {
		t.Fatalf("hotspots = %+v", hs)
	}
	// GPU by GPU, and within a GPU utilization, memory, temperature.
	want := []Hotspot{
		{GPUIndex: 0, GPUUUID: "GPU-5d5ba0d6-d33d-2b2c-524d-9e3d8d2b8a77", Metric: "utilization", Value: 97, Limit: 80,
			Message: "GPU 0 (NVIDIA A100-SXM4-80GB) utilization 97% > 80%"},
		{GPUIndex: 0, GPUUUID: "GPU-5d5ba0d6-d33d-2b2c-524d-9e3d8d2b8a77", Metric: "memory", Limit: 90,
			Message: "GPU 0 (NVIDIA A100-SXM4-80GB) memory 95% > 90%"},
		{GPUIndex: 1, GPUUUID: "GPU-8a1c2e44-19f0-4be4-b7a5-0c6a2c1f9e01", Metric: "temperature", Value: 88, Limit: 85,
			Message: "GPU 1 (NVIDIA A100-SXM4-80GB) temperature 88°C > 85°C"},
	}
	for i, w := range want {
		h := hs[i]
		if w.Metric == "memory" {
			if math.Abs(h.Value-78112.0/81920*100) > 1e-9 {
				t.Errorf("memory hotspot value %v, want %v", h.Value, 78112.0/81920*100)
			}
			w.Value = h.Value
		}
		if h != w {
			t.Errorf("hotspot %d = %+v\nwant %+v", i, h, w)
		}
	}
	if Hotspots(nil) != nil {
		t.Error("no GPUs, yet hotspots")
	}
}

func TestRealH100Captures(t *testing.T) {
	t.Parallel()
	list := ParseList(read(t, "h100-list.txt"))
	if len(list) != 0 {
		t.Errorf("MIG devices on the H100 capture: %+v", list)
	}
	idle, err := ParseGPUs(read(t, "h100-query-gpu-idle.csv"))
	if err != nil || len(idle) != 1 {
		t.Fatalf("idle capture: %+v, %v", idle, err)
	}
	g := idle[0]
	if g.Index != 0 || g.Name != "NVIDIA H100 80GB HBM3" || val(g.UtilPercent) != 0.0 || val(g.MemoryUsedMiB) != 0.0 ||
		val(g.MemoryTotalMiB) != 81559.0 || val(g.TemperatureC) != 34.0 || val(g.PowerDrawW) != 70.04 {
		t.Errorf("idle H100 = %+v", g)
	}
	if p := g.MemoryPercent(); p == nil || *p != 0 {
		t.Errorf("idle memory percent = %v, want 0", val(p))
	}
	busy, err := ParseGPUs(read(t, "h100-query-gpu-busy.csv"))
	if err != nil {
		t.Fatal(err)
	}
	apps, err := ParseApps(read(t, "h100-compute-apps-busy.csv"))
	if err != nil {
		t.Fatal(err)
	}
	// The busy process runs on the captured GPU: its uuid joins the two queries.
	if len(apps) != 1 || apps[0].GPUUUID != busy[0].UUID {
		t.Errorf("apps %+v do not join GPU %s", apps, busy[0].UUID)
	}
	if p := busy[0].MemoryPercent(); p == nil || *p < 2 || *p > 2.1 {
		t.Errorf("busy memory percent = %v, want about 2 %% (1643 of 81559 MiB)", val(p))
	}
}
