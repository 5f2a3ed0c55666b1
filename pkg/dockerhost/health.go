package dockerhost

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/cyberbrain/cyberbrain/pkg/metrics"
	"github.com/cyberbrain/cyberbrain/pkg/store"
)

// CheckTimeout bounds one host's health check.
const CheckTimeout = 10 * time.Second

// HealthResult is what a health check found.
type HealthResult struct {
	Healthy       bool
	EngineVersion string
	Error         string // a class of health_class.go, never the raw error
	Detail        string // the raw error, for the log only
	// GPUs is set only when it could be counted (local engine with
	// nvidia-smi on PATH); nil means unknown.
	GPUs *int
}

// Check pings the host's engine and asks its version. A host is healthy only
// when the engine answered both.
func (p *Pool) Check(ctx context.Context, host *store.WorkerHost) HealthResult {
	ctx, cancel := context.WithTimeout(ctx, CheckTimeout)
	defer cancel()
	cli, err := p.Client(host)
	if err != nil {
		class := ClassConfig
		if strings.Contains(err.Error(), "tls") {
			class = ClassTLS // unreadable CA, certificate or key
		}
		return HealthResult{Error: class, Detail: err.Error()}
	}
	if _, err := cli.Ping(ctx); err != nil {
		return HealthResult{Error: HealthClass(err), Detail: Classify(host, "ping", err).Error()}
	}
	v, err := cli.ServerVersion(ctx)
	if err != nil {
		return HealthResult{Error: HealthClass(err), Detail: Classify(host, "version", err).Error()}
	}
	res := HealthResult{Healthy: true, EngineVersion: v.Version}
	if IsLocal(host) {
		res.GPUs = localGPUCount(ctx)
	}
	return res
}

// localGPUCount counts GPUs with `nvidia-smi -L` when the binary is on PATH.
func localGPUCount(ctx context.Context) *int {
	bin, err := exec.LookPath("nvidia-smi")
	if err != nil {
		return nil
	}
	out, err := exec.CommandContext(ctx, bin, "-L").Output()
	if err != nil {
		return nil
	}
	n := 0
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "GPU ") {
			n++
		}
	}
	return &n
}

// Health checks one host and returns what to record (the API's
// GET /api/worker-hosts/{id}/health/?check=true).
func (p *Pool) Health(ctx context.Context, host store.WorkerHost) (store.HostHealth, error) {
	r := p.Check(ctx, &host)
	return store.HostHealth{Healthy: r.Healthy, EngineVersion: r.EngineVersion, Error: r.Error, Detail: r.Detail, GPUs: r.GPUs}, nil
}

// CheckAndRecord checks one host and stores the result.
func (p *Pool) CheckAndRecord(ctx context.Context, st *store.Store, host *store.WorkerHost) (HealthResult, error) {
	r := p.Check(ctx, host)
	err := st.RecordHostHealth(ctx, host.ID, store.HostHealth{
		Healthy: r.Healthy, EngineVersion: r.EngineVersion, Error: r.Error, GPUs: r.GPUs,
	})
	return r, err
}

// CheckAllHosts does one health pass: every enabled host not checked within
// every (0 = all of them) is checked, concurrently, and the results recorded.
// The scheduler calls it periodically from one replica at a time.
func CheckAllHosts(ctx context.Context, st *store.Store, pool *Pool, logger *zap.Logger, every time.Duration) error {
	hosts, err := st.HostsDueForCheck(ctx, every)
	if err != nil {
		return err
	}
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
		sem  = make(chan struct{}, 8)
	)
	for i := range hosts {
		h := &hosts[i]
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			r, err := pool.CheckAndRecord(ctx, st, h)
			if err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
				return
			}
			metrics.HostChecked(h.Name, r.Healthy)
			if logger != nil {
				if r.Healthy {
					logger.Debug("worker host healthy", zap.String("host", h.Name), zap.String("engine_version", r.EngineVersion))
				} else {
					logger.Warn("worker host unhealthy", zap.String("host", h.Name), zap.String("error", r.Error),
						zap.String("detail", r.Detail))
				}
			}
		}()
	}
	wg.Wait()
	if len(errs) > 0 {
		return fmt.Errorf("health pass: %d of %d hosts not recorded, first: %w", len(errs), len(hosts), errs[0])
	}
	return nil
}
