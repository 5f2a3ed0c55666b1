package main

// The shape benchmark's processes: bin/api and bin/scheduler started with
// their documented flags, each logging to a file of its own, and stopped
// with SIGTERM (then SIGKILL) at the end.

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// proc is one started daemon.
type proc struct {
	name string
	cmd  *exec.Cmd
	log  string
	done chan struct{} // closed when the process has exited
	err  error         // its exit status, once done
}

// startProc starts bin with args, its stdout and stderr going to
// logDir/name.log.
func startProc(logDir, name, bin string, args ...string) (*proc, error) {
	path := filepath.Join(logDir, name+".log")
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = f, f
	cmd.Env = os.Environ()
	if err := cmd.Start(); err != nil {
		f.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &proc{name: name, cmd: cmd, log: path, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		f.Close()
		close(p.done)
	}()
	return p, nil
}

// exited says whether the process has ended (and how).
func (p *proc) exited() (bool, error) {
	select {
	case <-p.done:
		return true, p.err
	default:
		return false, nil
	}
}

// stopProcs sends SIGTERM to every process, waits up to grace for each, and
// kills what is left.
func stopProcs(procs []*proc, grace time.Duration) {
	for _, p := range procs {
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
	}
	deadline := time.After(grace)
	for _, p := range procs {
		select {
		case <-p.done:
		case <-deadline:
		}
	}
	for _, p := range procs {
		if ok, _ := p.exited(); !ok {
			fmt.Fprintf(os.Stderr, "bench shape: %s did not stop within %s after SIGTERM; killing it\n", p.name, grace)
			_ = p.cmd.Process.Kill()
			<-p.done
		}
	}
	var line string
	for _, p := range procs {
		if ps := p.cmd.ProcessState; ps != nil {
			line += fmt.Sprintf("  %s %.1fs", p.name, (ps.UserTime() + ps.SystemTime()).Seconds())
			if ru, ok := ps.SysUsage().(*syscall.Rusage); ok {
				line += fmt.Sprintf(" %d MiB", ru.Maxrss/1024) // Linux: KiB
			}
		}
	}
	fmt.Println("process CPU time (user+sys) and peak RSS:" + line)
}

// freeAddr returns a loopback address nobody listens on right now.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// waitReady polls http://addr/readyz until it answers 200.
func waitReady(p *proc, addr string, within time.Duration) error {
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		if ok, err := p.exited(); ok {
			return fmt.Errorf("%s exited before it was ready (%v); see %s", p.name, err, p.log)
		}
		res, err := http.Get("http://" + addr + "/readyz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("%s not ready within %s; see %s", p.name, within, p.log)
}

// waitListening waits until n sessions of the database LISTEN for wake-ups
// (the scheduler replicas are up and asleep on NOTIFY).
func waitListening(ctx context.Context, db *pgxpool.Pool, procs []*proc, n int, within time.Duration) error {
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		for _, p := range procs {
			if ok, err := p.exited(); ok {
				return fmt.Errorf("%s exited (%v); see %s", p.name, err, p.log)
			}
		}
		var got int
		err := db.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity
			WHERE datname = current_database() AND query ILIKE 'LISTEN%cyberbrain_wake%'`).Scan(&got)
		if err != nil {
			return err
		}
		if got >= n {
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("fewer than %d replicas LISTENing after %s", n, within)
}

// buildBinaries runs scripts/build.sh (bin/api, bin/scheduler) unless both
// paths were given.
func buildBinaries(apiBin, schedBin *string) error {
	if *apiBin != "" && *schedBin != "" {
		return nil
	}
	fmt.Println("building bin/api and bin/scheduler with scripts/build.sh…")
	cmd := exec.Command("scripts/build.sh")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("scripts/build.sh (run from the repository root, or pass -api-bin and -scheduler-bin): %w", err)
	}
	if *apiBin == "" {
		*apiBin = "bin/api"
	}
	if *schedBin == "" {
		*schedBin = "bin/scheduler"
	}
	return nil
}
