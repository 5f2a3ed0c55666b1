// Package report declares the documents tasks store as artifacts and the
// dashboard reads: service_map.json (ServiceMap) and gpu_report.json
// (GPUReport). pkg/tasks writes them, pkg/web decodes them; their JSON names
// are a stored format, so documents already kept must keep decoding.
package report
