// Command ctask is the program of the container-task test image: it runs
// its arguments as steps, so one static binary plays every container a test
// needs. Steps: say:TEXT, lines:N, sleep:DURATION, exit:CODE, envlen:KEY
// (prints the length of $KEY, never its value), ignore-term (SIGTERM no
// longer ends it; as PID 1 it then dies only by SIGKILL).
package main

import (
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func main() {
	term := make(chan os.Signal, 1)
	signal.Notify(term, syscall.SIGTERM)
	ignore := false
	go func() {
		for range term {
			if !ignore {
				fmt.Println("got SIGTERM")
				os.Exit(143)
			}
		}
	}()
	for _, step := range os.Args[1:] {
		verb, arg, _ := strings.Cut(step, ":")
		switch verb {
		case "say":
			fmt.Println(arg)
		case "lines":
			n, _ := strconv.Atoi(arg)
			for i := 1; i <= n; i++ {
				fmt.Fprintf(os.Stderr, "line %d\n", i)
			}
		case "sleep":
			d, _ := time.ParseDuration(arg)
			time.Sleep(d)
		case "exit":
			code, _ := strconv.Atoi(arg)
			os.Exit(code)
		case "envlen":
			fmt.Printf("len(%s)=%d\n", arg, len(os.Getenv(arg)))
		case "ignore-term":
			ignore = true
		}
	}
}
