package store

// opaque is a bound parameter of type typ that the planner cannot see into.
// PostgreSQL plans a prepared statement's first five executions with the
// values bound and then keeps its generic plan only if that is no costlier
// than those custom plans were. A value the planner folds — an empty list
// under NOT … = ANY, a switch compared with the empty string, a LIMIT —
// made every custom plan look cheaper, and the statement was planned afresh
// at every call (the claim 8 ms a plan on the bench machine, the launch
// insert 0.9 ms, the free-job pick at every pass; docs/BENCHMARKS.md). Read through a
// sub-select, the value costs the same in both plans and the generic plan is
// kept. The outer CAST makes the expression a scalar, so `= ANY(opaque(…))`
// compares with the array's elements, not with a sub-query's rows.
func opaque(typ string) string {
	return "CAST((SELECT CAST(? AS " + typ + ")) AS " + typ + ")"
}
