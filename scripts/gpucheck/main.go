// Command gpucheck runs the gpu_report task once against the local machine
// (the `local` worker host: DOCKER_HOST or the default socket) and prints its
// report — a check for machines with a real GPU and nvidia-smi.
//
//	go run ./scripts/gpucheck [-scope all]
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"time"

	"go.uber.org/zap"

	"github.com/cyberbrain/cyberbrain/pkg/dockerhost"
	"github.com/cyberbrain/cyberbrain/pkg/domain"
	"github.com/cyberbrain/cyberbrain/pkg/store"
	"github.com/cyberbrain/cyberbrain/pkg/tasks"
)

func main() {
	scope := flag.String("scope", "all", "gpu_report scope (allowlist needs a database; all reads every container)")
	flag.Parse()
	pool := dockerhost.NewPool()
	defer pool.Close()
	cfg, _ := json.Marshal(map[string]string{"scope": *scope})
	env := tasks.Env{
		Job:    store.Job{ID: 1, RunID: 1, TaskType: "gpu_report", Config: cfg},
		Host:   &store.WorkerHost{ID: 1, Name: "local", Type: domain.HostDockerSocket, Enabled: true},
		Logger: zap.NewNop(),
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	res, err := tasks.GPUReport(pool).Run(ctx, env)
	if err != nil {
		fmt.Fprintln(os.Stderr, "gpu_report failed:", err)
		os.Exit(1)
	}
	fmt.Println(res.ReportMarkdown)
	for _, a := range res.Artifacts {
		if a.Name == "gpu_report.json" {
			fmt.Println(string(a.Content))
		}
	}
}
