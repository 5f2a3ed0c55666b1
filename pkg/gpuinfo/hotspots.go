package gpuinfo

import "fmt"

// Thresholds of docs/DESIGN.md §13: a GPU above any of them is a hotspot.
const (
	HotUtilPercent   = 80.0
	HotMemoryPercent = 90.0
	HotTemperatureC  = 85.0
)

// Hotspot is one threshold a GPU exceeds.
type Hotspot struct {
	GPUIndex int     `json:"gpu_index"`
	GPUUUID  string  `json:"gpu_uuid"`
	Metric   string  `json:"metric"` // utilization, memory, temperature
	Value    float64 `json:"value"`
	Limit    float64 `json:"limit"`
	Message  string  `json:"message"`
}

// Hotspots lists every threshold exceeded, GPU by GPU.
func Hotspots(gpus []GPU) []Hotspot {
	var hs []Hotspot
	for _, g := range gpus {
		add := func(metric string, v *float64, limit float64, unit string) {
			if v != nil && *v > limit {
				hs = append(hs, Hotspot{GPUIndex: g.Index, GPUUUID: g.UUID, Metric: metric, Value: *v, Limit: limit,
					Message: fmt.Sprintf("GPU %d (%s) %s %.0f%s > %.0f%s", g.Index, g.Name, metric, *v, unit, limit, unit)})
			}
		}
		add("utilization", g.UtilPercent, HotUtilPercent, "%")
		add("memory", g.MemoryPercent(), HotMemoryPercent, "%")
		add("temperature", g.TemperatureC, HotTemperatureC, "°C")
	}
	return hs
}
