package main

// The runtime image has no zoneinfo: embed it for cron time zones.
import _ "time/tzdata"
