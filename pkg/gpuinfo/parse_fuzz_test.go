package gpuinfo

import (
	"strings"
	"testing"
)

// FuzzParseGPUs: whatever nvidia-smi prints (driver errors, new fields,
// garbage), the parser returns an error or one GPU per non-empty line, and
// hotspot detection on the result never panics.
func FuzzParseGPUs(f *testing.F) {
	for _, name := range []string{"h100-query-gpu-busy.csv", "h100-query-gpu-idle.csv", "multi-query-gpu.csv",
		"mig-query-gpu.csv", "notsupported-query-gpu.csv"} {
		f.Add(read(f, name))
	}
	f.Add("0, a, b, c\n")
	f.Add(",,,,,,,\n")
	f.Add("-1, x, y, 1e309, -0, NaN, Inf, 0x10\n")
	f.Fuzz(func(t *testing.T, out string) {
		gpus, err := ParseGPUs(out)
		if err != nil {
			return
		}
		lines := 0
		for _, l := range strings.Split(strings.ReplaceAll(out, "\r", "\n"), "\n") {
			if strings.TrimSpace(l) != "" {
				lines++
			}
		}
		if len(gpus) > lines {
			t.Fatalf("%d GPUs from %d non-empty lines", len(gpus), lines)
		}
		for _, g := range gpus {
			_ = g.MemoryPercent()
		}
		for _, h := range Hotspots(gpus) {
			if !(h.Value > h.Limit) {
				t.Fatalf("hotspot %+v is not above its limit", h)
			}
		}
	})
}

func FuzzParseAppsAndList(f *testing.F) {
	f.Add(read(f, "multi-compute-apps.csv"))
	f.Add(read(f, "h100-compute-apps-busy.csv"))
	f.Add(read(f, "mig-list.txt"))
	f.Add("No running processes found")
	f.Fuzz(func(t *testing.T, out string) {
		if apps, err := ParseApps(out); err == nil {
			for _, a := range apps {
				if a.GPUUUID != strings.TrimSpace(a.GPUUUID) {
					t.Fatalf("untrimmed uuid %q", a.GPUUUID)
				}
			}
		}
		for idx, devs := range ParseList(out) {
			if idx < 0 || len(devs) == 0 {
				t.Fatalf("GPU %d listed with devices %+v", idx, devs)
			}
		}
	})
}
