// Command scheduler claims due schedules and executes their jobs.
package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "scheduler: not built yet")
	os.Exit(1)
}
