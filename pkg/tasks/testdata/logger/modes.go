package main

import (
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"
)

// runMode runs the failure a diagnosis test asks for; false when mode is
// not one (the default workload runs).
func runMode(mode string) bool {
	switch mode {
	case "exit":
		// A service that cannot start: its error, then exit code 1.
		fmt.Println("INFO reading config")
		fmt.Fprintln(os.Stderr, "ERROR config file /etc/app/app.yaml not found")
		os.Exit(1)
	case "crash":
		// Dies at once, every time its restart policy starts it again.
		fmt.Println("ERROR cannot reach queue at 10.0.0.5:5672: connection refused")
		os.Exit(3)
	case "oom":
		allocate()
	case "health":
		serveHealth()
	default:
		return false
	}
	return true
}

// hoard holds what allocate takes, out of the compiler's reach.
var hoard [][]byte

// allocate takes memory a megabyte at a time, touching every page so it is
// really used, until the container's memory limit gets it killed.
func allocate() {
	fmt.Println("INFO loading the whole dataset into memory")
	for i := 0; ; i++ {
		b := make([]byte, 1<<20)
		for j := 0; j < len(b); j += 4096 {
			b[j] = byte(i)
		}
		hoard = append(hoard, b)
	}
}

// serveHealth answers /healthz with 200 until SIGUSR2, 503 after; SIGUSR1
// logs the startup lines again (same templates, other values).
func serveHealth() {
	var sick atomic.Bool
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGUSR1, syscall.SIGUSR2)
	// The first batch is too short to learn the line header from, the
	// later ones long enough: the templates must not turn "new" then.
	logBatch := func(n int) {
		warns := 3
		if n > 1 {
			warns = 40
		}
		for i := 0; i < warns; i++ {
			fmt.Printf("WARN slow request GET /api/items/%d took %dms\n", 40*n+i, 900+n*10+i)
		}
		fmt.Printf("ERROR upstream inventory returned 502 for request %d\n", 7000+n)
		fmt.Printf("INFO batch %d done\n", n)
	}
	logBatch(1)
	go func() {
		n := 1
		for s := range sig {
			if s == syscall.SIGUSR2 {
				sick.Store(true)
				fmt.Fprintln(os.Stderr, "ERROR dependency check failed: inventory unreachable")
				continue
			}
			n++
			logBatch(n)
		}
	}()
	http.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) {
		if sick.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	})
	if err := http.ListenAndServe(":8080", nil); err != nil {
		fmt.Fprintln(os.Stderr, "FATAL listen:", err)
		os.Exit(1)
	}
}

// healthCheck is the container's HEALTHCHECK: 0 when /healthz says 200.
func healthCheck() int {
	resp, err := http.Get("http://127.0.0.1:8080/healthz")
	if err != nil {
		return 1
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 1
	}
	return 0
}
