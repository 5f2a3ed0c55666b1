package scheduler

// StatisticsEvery is how often a replica checks the planner statistics.
const StatisticsEvery = statisticsEvery
