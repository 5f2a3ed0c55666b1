package main

// CPU profiles of the shape benchmark's processes (-profiles DIR): each
// process serves /debug/pprof on a loopback port of its own
// (--pprof-addr), the benchmark records a CPU profile over a phase and
// prints the top functions with `go tool pprof -top`.

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"time"
)

// profiler is off when dir is empty: every method is then a no-op.
type profiler struct {
	dir   string
	addrs map[string]string // process name → pprof address
	done  []string          // profiles written, in order
	mu    sync.Mutex
}

func newProfiler(dir string) *profiler {
	return &profiler{dir: dir, addrs: map[string]string{}}
}

// args adds --pprof-addr to a process's arguments.
func (p *profiler) args(name string, args ...string) []string {
	if p.dir == "" {
		return args
	}
	addr, err := freeAddr()
	if err != nil {
		fail(err)
	}
	p.addrs[name] = addr
	return append(args, "--pprof-addr", addr)
}

// start records the CPU profile of process name until the returned function
// is called (at most 10 minutes); the profile goes to DIR/name-phase.pprof.
func (p *profiler) start(name, phase string) (stop func()) {
	addr, ok := p.addrs[name]
	if p.dir == "" || !ok {
		return func() {}
	}
	path := filepath.Join(p.dir, name+"-"+phase+".pprof")
	// pprof's /profile takes whole seconds; the trace-free way to stop it
	// early is to ask for long and cancel: the handler then writes nothing,
	// so ask in one-second slices and keep the last complete profile set.
	finished := make(chan struct{})
	quit := make(chan struct{})
	go func() {
		defer close(finished)
		var parts []string
		waitPprof(addr, 30*time.Second) // a process just started may not listen yet
		for i := 0; ; i++ {
			select {
			case <-quit:
				p.merge(path, parts)
				return
			default:
			}
			part := fmt.Sprintf("%s.%03d", path, i)
			if err := fetchProfile(addr, part); err != nil {
				p.merge(path, parts)
				return
			}
			parts = append(parts, part)
		}
	}()
	return func() {
		close(quit)
		<-finished
	}
}

// waitPprof waits until addr answers /debug/pprof/ (or within has passed).
func waitPprof(addr string, within time.Duration) {
	c := http.Client{Timeout: time.Second}
	for deadline := time.Now().Add(within); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if res, err := c.Get("http://" + addr + "/debug/pprof/"); err == nil {
			res.Body.Close()
			return
		}
	}
}

// fetchProfile writes a one-second CPU profile of the process at addr.
func fetchProfile(addr, path string) error {
	c := http.Client{Timeout: 10 * time.Second}
	res, err := c.Get("http://" + addr + "/debug/pprof/profile?seconds=1")
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("pprof: %s", res.Status)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = io.Copy(f, res.Body)
	return err
}

// merge combines the one-second parts into one profile (go tool pprof
// -proto merges its inputs) and removes them.
func (p *profiler) merge(path string, parts []string) {
	if len(parts) == 0 {
		return
	}
	out, err := os.Create(path)
	if err != nil {
		return
	}
	defer out.Close()
	cmd := exec.Command("go", append([]string{"tool", "pprof", "-proto"}, parts...)...)
	cmd.Stdout = out
	if err := cmd.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "pprof merge:", err)
		return
	}
	for _, part := range parts {
		os.Remove(part)
	}
	p.mu.Lock()
	p.done = append(p.done, path)
	p.mu.Unlock()
}

// print prints the top functions (cumulative) of each profile written so far.
func (p *profiler) print() {
	p.mu.Lock()
	done := p.done
	p.done = nil
	p.mu.Unlock()
	for _, path := range done {
		fmt.Printf("CPU profile %s (go tool pprof -top -cum, 25 nodes):\n", path)
		cmd := exec.Command("go", "tool", "pprof", "-top", "-cum", "-nodecount", "25", path)
		cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
		_ = cmd.Run()
	}
}
