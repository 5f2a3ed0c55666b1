package web

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/cyberbrain/cyberbrain/pkg/gpuinfo"
	"github.com/cyberbrain/cyberbrain/pkg/report"
	"github.com/cyberbrain/cyberbrain/pkg/store"
)

// gpuHolder is a container that holds (or may use) one GPU.
type gpuHolder struct {
	Name string
	How  string // "device 0", "all GPUs", "any 1 GPU", with where it came from
	// Processes of the container that nvidia-smi lists on this GPU.
	Processes []string
}

// gpuView is one GPU with its gauges and holders.
type gpuView struct {
	gpuinfo.GPU
	Holders   []gpuHolder
	Processes []string // compute processes on it no container in scope claims
}

// UtilValue and the others feed the <meter> elements (0 when unknown: the
// page then shows "n/a" instead of a meter).
func (g gpuView) HasUtil() bool      { return g.UtilPercent != nil }
func (g gpuView) UtilValue() float64 { return deref0(g.UtilPercent) }
func (g gpuView) HasMemory() bool {
	return g.MemoryUsedMiB != nil && g.MemoryTotalMiB != nil && *g.MemoryTotalMiB > 0
}
func (g gpuView) MemoryUsed() float64  { return deref0(g.MemoryUsedMiB) }
func (g gpuView) MemoryTotal() float64 { return deref0(g.MemoryTotalMiB) }
func (g gpuView) MemoryHigh() float64 {
	return deref0(g.MemoryTotalMiB) * gpuinfo.HotMemoryPercent / 100
}
func (g gpuView) HasTemp() bool          { return g.TemperatureC != nil }
func (g gpuView) TempValue() float64     { return deref0(g.TemperatureC) }
func (g gpuView) UtilHigh() float64      { return gpuinfo.HotUtilPercent }
func (g gpuView) TempHigh() float64      { return gpuinfo.HotTemperatureC }
func (g gpuView) MemoryPercent() float64 { return deref0(g.GPU.MemoryPercent()) }

// Power is the power draw in watts, "" when unknown.
func (g gpuView) Power() string {
	if g.PowerDrawW == nil {
		return ""
	}
	return strconv.FormatFloat(*g.PowerDrawW, 'f', 0, 64) + " W"
}

func deref0(p *float64) float64 {
	if p == nil {
		return 0
	}
	return *p
}

// num renders a gauge's number without needless decimals.
func num(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

func init() { funcs["num"] = num }

// gpuViews pairs each GPU with the containers that hold it: by index or
// UUID, "all", or "any N" (which GPU the engine picked is not recorded, so
// such a container is listed under every GPU as "may use").
func gpuViews(doc report.GPUReport) []gpuView {
	pidContainer := map[int]string{}
	for _, c := range doc.Containers {
		for _, pid := range c.ComputePIDs {
			pidContainer[pid] = c.Name
		}
	}
	out := make([]gpuView, 0, len(doc.GPUs))
	for _, g := range doc.GPUs {
		v := gpuView{GPU: g}
		idx := strconv.Itoa(g.Index)
		procs := map[string][]string{}
		for _, a := range doc.Apps {
			if a.GPUUUID != g.UUID {
				continue
			}
			p := fmt.Sprintf("%s (pid %d", a.ProcessName, a.PID)
			if a.UsedMemoryMiB != nil {
				p += ", " + num(*a.UsedMemoryMiB) + " MiB"
			}
			p += ")"
			if name, ok := pidContainer[a.PID]; ok {
				procs[name] = append(procs[name], p)
			} else {
				v.Processes = append(v.Processes, p)
			}
		}
		for _, c := range doc.Containers {
			how := ""
			for _, id := range c.GPUs {
				switch {
				case id == idx || (id != "" && id == g.UUID):
					how = "device " + id
				case id == "all" && how == "":
					how = "all GPUs"
				case strings.HasPrefix(id, "any ") && how == "":
					how = "may use (" + id + " GPU)"
				}
			}
			if how == "" {
				if len(procs[c.Name]) == 0 {
					continue
				}
				how = "runs on it"
			}
			if c.Source != "" {
				how += ", from " + c.Source
			}
			v.Holders = append(v.Holders, gpuHolder{Name: c.Name, How: how, Processes: procs[c.Name]})
		}
		out = append(out, v)
	}
	return out
}

type hostGPUsPage struct {
	Host   hostRow
	Report *store.HostReport
	Doc    report.GPUReport
	GPUs   []gpuView
	Broken bool
}

// hostGPUs is /hosts/{id}/gpus: the GPUs of the host's latest gpu_report.
func (u *UI) hostGPUs(c echo.Context) error {
	h, err := u.loadHost(c)
	if err != nil {
		return err
	}
	p := hostGPUsPage{Host: hostRow{*h}}
	if p.Report, err = u.st.LatestHostReport(c.Request().Context(), h.ID, "gpu_report"); err != nil {
		return err
	}
	if p.Report != nil {
		if p.Report.Document == nil || json.Unmarshal(p.Report.Document, &p.Doc) != nil {
			p.Broken = true
		} else {
			p.GPUs = gpuViews(p.Doc)
		}
	}
	return u.render(c, "host_gpus", "GPUs of "+h.Name, p)
}
