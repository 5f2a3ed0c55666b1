package store

import (
	"context"
	"fmt"
	"strings"

	"github.com/cyberbrain/cyberbrain/pkg/domain"
)

// launchSchedulePrefix names the one-shot schedule a launch creates per job
// (sqlCreateRuns): `launch-run-{run}-{task}`. The API refuses it as the name
// of any other schedule, so the prefix identifies launch schedules.
const launchSchedulePrefix = "launch-run-"

// Schedule kinds of ScheduleFilter.Kind (GET /api/schedules/?kind=).
const (
	KindLaunch    = "launch"    // one-shot schedules created by launches
	KindRecurring = "recurring" // interval and cron schedules
)

// ScheduleKinds lists the values of ?kind=.
var ScheduleKinds = []string{KindLaunch, KindRecurring}

// ScheduleFilter narrows GET /api/schedules/.
type ScheduleFilter struct {
	Kind    string // "", KindLaunch or KindRecurring
	Enabled *bool
}

// IsLaunchSchedule reports whether sc is a launch's one-shot schedule.
func IsLaunchSchedule(sc *Schedule) bool {
	return sc.ScheduleType == domain.ScheduleOneShot && strings.HasPrefix(sc.Name, launchSchedulePrefix)
}

// ReservedScheduleName reports whether name is reserved for launch schedules.
func ReservedScheduleName(name string) bool { return strings.HasPrefix(name, launchSchedulePrefix) }

// ListSchedules returns one page of schedules and the total count.
func (s *Store) ListSchedules(ctx context.Context, f ScheduleFilter, p ListParams) (*PageRows[Schedule], error) {
	q := s.db.Model(&Schedule{})
	switch f.Kind {
	case KindLaunch:
		q = q.Where("schedule_type = 'one_shot' AND starts_with(name, ?)", launchSchedulePrefix)
	case KindRecurring:
		q = q.Where("schedule_type IN ('interval', 'cron')")
	}
	if f.Enabled != nil {
		q = q.Where("enabled = ?", *f.Enabled)
	}
	return listRows[Schedule](ctx, q, s.db.Model(&Schedule{}), p, true, "schedules")
}

// launchScheduleFrozen is the 409 of an edit or enable of a launch
// schedule: its one slot was the launch's run; enabling it again would fire
// a second run for one launch.
func launchScheduleFrozen(sc *Schedule) error {
	return domain.Conflict("%s", fmt.Sprintf("schedule %d is the one-shot schedule of a launch (%s): it fires once and "+
		"cannot be enabled or edited again; launch a new run instead", sc.ID, sc.Name))
}
