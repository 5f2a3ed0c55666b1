package main

import (
	"time"

	"github.com/cyberbrain/cyberbrain/pkg/api"
	"github.com/cyberbrain/cyberbrain/pkg/cmdutil"
)

// check validates every flag before anything starts.
func (o *options) check() error {
	var ck cmdutil.Checks
	o.Common.Check(&ck)
	ck.Addr("addr", o.addr, false)
	ck.Duration("shutdown-timeout", o.shutdown, 0, 24*time.Hour, "")
	if err := api.CheckLinkSettings(o.publicURL, o.socketPaths); err != nil {
		ck.Custom("%v", err)
	}
	return ck.Err()
}
