package main

// Embed the IANA time zone database so cron schedules and timezone
// validation work in a scratch or distroless image with no /usr/share/zoneinfo.
import _ "time/tzdata"
