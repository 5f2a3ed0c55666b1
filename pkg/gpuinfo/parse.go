// Package gpuinfo parses nvidia-smi's CSV query output and finds hotspots.
// It is pure: running nvidia-smi is the gpu_report task's job.
package gpuinfo

import (
	"bufio"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// QueryGPUFields is the --query-gpu field list the parser expects, in order.
const QueryGPUFields = "index,name,uuid,utilization.gpu,memory.used,memory.total,temperature.gpu,power.draw"

// QueryAppsFields is the --query-compute-apps field list, in order.
const QueryAppsFields = "pid,process_name,gpu_uuid,used_memory"

// Args returns nvidia-smi arguments for a query (csv, no header, no units).
func Args(query, fields string) []string {
	return []string{"--" + query + "=" + fields, "--format=csv,noheader,nounits"}
}

// GPU is one row of --query-gpu. Pointer fields are nil when nvidia-smi
// printed [N/A] or [Not Supported] (MIG mode, passive cooling, old boards).
type GPU struct {
	Index          int      `json:"index"`
	Name           string   `json:"name"`
	UUID           string   `json:"uuid"`
	UtilPercent    *float64 `json:"utilization_percent"`
	MemoryUsedMiB  *float64 `json:"memory_used_mib"`
	MemoryTotalMiB *float64 `json:"memory_total_mib"`
	TemperatureC   *float64 `json:"temperature_c"`
	PowerDrawW     *float64 `json:"power_draw_w"`
	// MIG devices of this GPU (from nvidia-smi -L), empty when MIG is off.
	MIG []MIGDevice `json:"mig,omitempty"`
}

// MemoryPercent is used/total in percent, nil when either is unknown.
func (g GPU) MemoryPercent() *float64 {
	if g.MemoryUsedMiB == nil || g.MemoryTotalMiB == nil || *g.MemoryTotalMiB <= 0 {
		return nil
	}
	p := *g.MemoryUsedMiB / *g.MemoryTotalMiB * 100
	return &p
}

// MIGDevice is one MIG instance listed by nvidia-smi -L.
type MIGDevice struct {
	Index   int    `json:"index"`
	Profile string `json:"profile"`
	UUID    string `json:"uuid"`
}

// App is one row of --query-compute-apps.
type App struct {
	PID           int      `json:"pid"`
	ProcessName   string   `json:"process_name"`
	GPUUUID       string   `json:"gpu_uuid"`
	UsedMemoryMiB *float64 `json:"used_memory_mib"`
}

// ParseGPUs parses --query-gpu=QueryGPUFields --format=csv,noheader,nounits.
func ParseGPUs(out string) ([]GPU, error) {
	var gpus []GPU
	for i, rec := range records(out) {
		if len(rec) < 8 {
			return nil, fmt.Errorf("nvidia-smi gpu line %d: %d fields, want 8: %q", i+1, len(rec), strings.Join(rec, ", "))
		}
		idx, err := strconv.Atoi(rec[0])
		if err != nil {
			return nil, fmt.Errorf("nvidia-smi gpu line %d: index %q: %w", i+1, rec[0], err)
		}
		// A GPU name may itself contain a comma; the fixed fields are at the ends.
		n := len(rec)
		name := strings.Join(rec[1:n-6], ", ")
		gpus = append(gpus, GPU{
			Index: idx, Name: name, UUID: rec[n-6],
			UtilPercent: num(rec[n-5]), MemoryUsedMiB: num(rec[n-4]), MemoryTotalMiB: num(rec[n-3]),
			TemperatureC: num(rec[n-2]), PowerDrawW: num(rec[n-1]),
		})
	}
	return gpus, nil
}

// ParseApps parses --query-compute-apps=QueryAppsFields --format=csv,noheader,nounits.
// "No running processes found" (older drivers print it) yields none.
func ParseApps(out string) ([]App, error) {
	var apps []App
	for i, rec := range records(out) {
		if len(rec) == 1 && strings.HasPrefix(strings.ToLower(rec[0]), "no running") {
			continue
		}
		if len(rec) < 4 {
			return nil, fmt.Errorf("nvidia-smi compute-apps line %d: %d fields, want 4", i+1, len(rec))
		}
		n := len(rec)
		pid, err := strconv.Atoi(rec[0])
		if err != nil {
			return nil, fmt.Errorf("nvidia-smi compute-apps line %d: pid %q: %w", i+1, rec[0], err)
		}
		apps = append(apps, App{PID: pid, ProcessName: strings.Join(rec[1:n-2], ", "), GPUUUID: rec[n-2], UsedMemoryMiB: num(rec[n-1])})
	}
	return apps, nil
}

var (
	listGPURe = regexp.MustCompile(`^GPU (\d+): (.*) \(UUID: ([^)]+)\)`)
	listMIGRe = regexp.MustCompile(`^\s+MIG (\S+)\s+Device\s+(\d+): \(UUID: ([^)]+)\)`)
)

// ParseList parses nvidia-smi -L and returns the MIG devices per GPU index.
func ParseList(out string) map[int][]MIGDevice {
	res := map[int][]MIGDevice{}
	cur := -1
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		line := sc.Text()
		if m := listGPURe.FindStringSubmatch(line); m != nil {
			cur, _ = strconv.Atoi(m[1])
			continue
		}
		if m := listMIGRe.FindStringSubmatch(line); m != nil && cur >= 0 {
			idx, _ := strconv.Atoi(m[2])
			res[cur] = append(res[cur], MIGDevice{Index: idx, Profile: m[1], UUID: m[3]})
		}
	}
	return res
}

// records splits nvidia-smi CSV: one record per non-empty line, fields
// separated by ", ". nvidia-smi does not quote fields.
func records(out string) [][]string {
	var recs [][]string
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		parts := strings.Split(line, ",")
		for i := range parts {
			parts[i] = strings.TrimSpace(parts[i])
		}
		recs = append(recs, parts)
	}
	return recs
}

// num parses a numeric field; [N/A], [Not Supported], N/A, [Unknown Error]
// and anything else non-numeric give nil.
func num(s string) *float64 {
	s = strings.TrimSpace(s)
	// Tolerate units when --format lacked nounits: "45 %", "1024 MiB", "70.04 W".
	if i := strings.IndexByte(s, ' '); i > 0 {
		s = s[:i]
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return nil
	}
	return &v
}
