package store

// sqlDueAt is when schedule s next needs the scheduler: its next slot while
// enabled, or a pending ScheduledRun whose job was not handed off yet.
var sqlDueAt = dueAtExcept("")

// dueAtExcept is sqlDueAt leaving out the pending ScheduledRuns that match
// cond (sr: the ScheduledRun): those a statement hands off itself, whose
// change its own sub-selects cannot see.
func dueAtExcept(cond string) string {
	if cond != "" {
		cond = " AND NOT (" + cond + ")"
	}
	return `(SELECT min(t) FROM (
        SELECT CASE WHEN s.enabled AND s.schedule_type <> 'one_shot' THEN s.next_run_at END AS t
        UNION ALL
        SELECT sr.scheduled_for FROM scheduled_runs sr JOIN jobs j ON j.id = sr.job_id
        WHERE sr.schedule_id = s.id AND sr.status = 'pending' AND j.available_at IS NULL` + cond + `) x)`
}
