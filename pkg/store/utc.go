package store

import "time"

// Rows decoded from to_jsonb carry "+00:00" offsets; the API renders UTC "Z".

func utc(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

func (r *Run) toUTC() {
	r.CreatedAt = r.CreatedAt.UTC()
	r.StartedAt, r.CompletedAt = utc(r.StartedAt), utc(r.CompletedAt)
}

func (j *Job) toUTC() {
	j.CreatedAt = j.CreatedAt.UTC()
	j.AvailableAt, j.ClaimedUntil = utc(j.AvailableAt), utc(j.ClaimedUntil)
	j.StartedAt, j.CompletedAt = utc(j.StartedAt), utc(j.CompletedAt)
}
