package api

import (
	"github.com/cyberbrain/cyberbrain/pkg/domain"
	"github.com/cyberbrain/cyberbrain/pkg/store"
)

func storeScheduleForFuzz(iv int) store.Schedule {
	return store.Schedule{ID: 1, Name: "s", Task: "log_triage", Enabled: true, ScheduleType: domain.ScheduleInterval,
		IntervalMinutes: &iv, Timezone: "UTC"}
}

func scheduleTiming(sc store.Schedule) domain.Timing { return store.ScheduleTiming(&sc) }
