package store

// SQLClaimSchedules exposes the claim statement to the plan test.
var SQLClaimSchedules = sqlClaimSchedules
