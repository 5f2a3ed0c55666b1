// Command logger is the workload of the task integration tests: it prints
// known log lines to stdout and stderr, more on SIGUSR1, and serves HTTP on
// :8080 so the container has a port to publish. Built static, run FROM scratch.
// LOGGER_MODE picks a failure for the diagnosis tests (see modes.go).
package main

import (
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "health" {
		os.Exit(healthCheck())
	}
	if runMode(os.Getenv("LOGGER_MODE")) {
		return
	}
	secret := os.Getenv("LOGGER_SECRET")
	if secret != "" {
		// A container that is not allow-listed: its logs must never be read.
		fmt.Printf("ERROR leaked credential %s\n", secret)
		fmt.Printf("INFO batch 1 done\n")
		fmt.Fprintf(os.Stderr, "INFO batch 1 stderr done\n")
	} else {
		batch1()
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGUSR1)
	go func() {
		for range sig {
			batch2()
		}
	}()
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, "ok") })
	if err := http.ListenAndServe(":8080", nil); err != nil {
		fmt.Fprintln(os.Stderr, "FATAL listen:", err)
		os.Exit(1)
	}
}

func batch1() {
	fmt.Println("INFO starting server on :8080")
	ids := []string{"3f2b8c1e-9a4d-4c2e-8f1a-2b3c4d5e6f70", "4a2b8c1e-9a4d-4c2e-8f1a-2b3c4d5e6f71", "5b2b8c1e-9a4d-4c2e-8f1a-2b3c4d5e6f72", "6c2b8c1e-9a4d-4c2e-8f1a-2b3c4d5e6f73", "7d2b8c1e-9a4d-4c2e-8f1a-2b3c4d5e6f74"}
	for i, id := range ids {
		fmt.Printf("ERROR failed to connect to db 10.0.0.%d:5432 after %dms (request %s)\n", i+1, 100*(i+1), id)
	}
	for i := 0; i < 3; i++ {
		fmt.Fprintf(os.Stderr, "WARN cache miss ratio high: 0.%d\n", 7+i)
	}
	fmt.Printf(`{"level":"error","msg":"upstream timeout after %.1fs","upstream":"10.0.1.%d:9000"}`+"\n", 1.5, 7)
	fmt.Printf(`{"level":"error","msg":"upstream timeout after %.1fs","upstream":"10.0.1.%d:9000"}`+"\n", 2.5, 8)
	fmt.Fprint(os.Stderr, "panic: runtime error: index out of range [5] with length 3\n\ngoroutine 1 [running]:\nmain.handler(0xc000012345, 0x3)\n\t/app/main.go:42 +0x1d\nmain.main()\n\t/app/main.go:17 +0x85\n")
	fmt.Println("INFO batch 1 done")
	// The engine copies stdout and stderr separately: a marker on each lets
	// tests wait until both streams are fully logged.
	fmt.Fprintln(os.Stderr, "INFO batch 1 stderr done")
}

func batch2() {
	fmt.Println("ERROR failed to connect to db 10.0.0.9:5432 after 900ms (request 8e2b8c1e-9a4d-4c2e-8f1a-2b3c4d5e6f75)")
	fmt.Println("ERROR failed to connect to db 10.0.0.10:5432 after 1000ms (request 9f2b8c1e-9a4d-4c2e-8f1a-2b3c4d5e6f76)")
	fmt.Println("ERROR disk quota exceeded for volume vol-42")
	fmt.Println("INFO batch 2 done")
}
