package main

import (
	"net/url"
	"time"

	"github.com/cyberbrain/cyberbrain/pkg/cmdutil"
	"github.com/cyberbrain/cyberbrain/pkg/containerspec"
)

// check validates every flag before anything starts. The minimums keep a
// replica from hurting itself or the database: a shorter poll interval only
// adds load (NOTIFY and next-due wake-ups do the fast path), a shorter lease
// heartbeats more than three times a second, and a retention under an hour is
// almost surely a bare number meant as hours or days (bare numbers are
// seconds: --retention 720 is 12 minutes).
func (o *options) check() error {
	var ck cmdutil.Checks
	o.Common.Check(&ck)
	ck.Duration("interval", o.interval, time.Second, 24*time.Hour, "polling is only the fallback to NOTIFY")
	ck.Int("max-claim", o.maxClaim, 1, 1000)
	ck.Duration("claim-ttl", o.claimTTL, time.Second, 24*time.Hour, "leases are heartbeated every ttl/3")
	ck.Int("max-concurrent", o.maxConcurrent, 1, 10000)
	ck.Duration("shutdown-timeout", o.shutdownTimeout, time.Second, 24*time.Hour, "running jobs need a moment to finish or be handed back")
	if o.retention != 0 && o.retention < time.Hour {
		ck.Custom("--retention %v: must be 0 (keep everything) or at least 1h; bare numbers are seconds, "+
			"so write 720h for 30 days", o.retention)
	}
	ck.Duration("health-interval", o.healthInterval, time.Second, 24*time.Hour, "each pass dials every worker host")
	ck.Addr("metrics-addr", o.metricsAddr, true)
	if err := containerspec.CheckPatterns(o.containers.Images); err != nil {
		ck.Custom("--container-images: %v", err)
	}
	ck.Duration("notify-timeout", o.notifyTimeout, time.Second, 10*time.Minute, "a hung receiver must not hold a delivery for long")
	if o.publicURL != "" {
		if u, err := url.Parse(o.publicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			ck.Custom("--public-url %q: must be an http or https URL like https://cyberbrain.example.com", o.publicURL)
		}
	}
	return ck.Err()
}
