package web

import (
	"fmt"

	"github.com/cyberbrain/cyberbrain/pkg/store"
)

// Template helpers of the run pages.
func init() {
	funcs["runBytes"] = runBytes
	funcs["runHostUnhealthy"] = func(h store.WorkerHost) bool { return h.Healthy != nil && !*h.Healthy }
}

// runBytes renders a size for people ("12.3 KiB").
func runBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit && exp < 4; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTP"[exp])
}
