package report

import (
	"time"

	"github.com/cyberbrain/cyberbrain/pkg/gpuinfo"
)

// GPUReport is gpu_report.json: a host's NVIDIA GPUs, their compute
// processes, the containers in scope that hold them and the hotspots.
type GPUReport struct {
	Host        string            `json:"host"`
	GeneratedAt time.Time         `json:"generated_at"`
	Method      string            `json:"method"` // local, container
	NoGPU       string            `json:"no_gpu,omitempty"`
	GPUs        []gpuinfo.GPU     `json:"gpus"`
	Apps        []gpuinfo.App     `json:"compute_apps"`
	Containers  []GPUContainer    `json:"containers"`
	Hotspots    []gpuinfo.Hotspot `json:"hotspots"`
	OutOfScope  int               `json:"containers_out_of_scope"`
	// ContainersError says why containers could not be mapped to GPUs when
	// nvidia-smi answered locally but the engine did not.
	ContainersError string `json:"containers_error,omitempty"`
}

// GPUContainer is a container in scope that holds (or may use) GPUs.
type GPUContainer struct {
	Name string `json:"name"`
	ID   string `json:"id"` // short ID
	// GPUs the container may use: indexes, UUIDs, "all" or "any N".
	GPUs   []string `json:"gpus"`
	Source string   `json:"source"` // device_request, NVIDIA_VISIBLE_DEVICES
	// PIDs of its processes that nvidia-smi lists as GPU compute apps.
	ComputePIDs []int `json:"compute_pids,omitempty"`
}
