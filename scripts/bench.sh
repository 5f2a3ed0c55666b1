#!/usr/bin/env bash
# `make bench`: the performance bars (see docs/DESIGN.md §11) against a PostgreSQL with its
# default (durable) settings — DATABASE_URL when set, else a private cluster
# in a temporary folder. Paste the output into docs/BENCHMARKS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${DATABASE_URL:-}" ]; then
  pgdir=$(mktemp -d /tmp/cyberbrain-benchpg.XXXXXX)
  trap 'scripts/pg.sh stop "$pgdir"; rm -rf "$pgdir"' EXIT
  DATABASE_URL=$(PG_DURABLE=1 scripts/pg.sh start "$pgdir" "${BENCH_PG_PORT:-25499}")
  export DATABASE_URL
fi
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, $(uname -sr); PostgreSQL $(psql "$DATABASE_URL" -tAc 'show server_version'), fsync=$(psql "$DATABASE_URL" -tAc 'show fsync'), synchronous_commit=$(psql "$DATABASE_URL" -tAc 'show synchronous_commit')"
go build -o bin/bench ./scripts/bench
# Not exec: the EXIT trap must still stop the private cluster.
if [ "${1:-}" = pages ]; then  # make bench-pages
  bin/bench pages -runs "${PAGE_RUNS:-100000}"
  exit
fi
if [ "${1:-}" = retention ]; then  # make bench-retention
  bin/bench retention -runs "${RETENTION_RUNS:-200000}"
  exit
fi
if [ "${1:-}" = history ]; then  # make bench-history
  bin/bench history -history "${HISTORY_RUNS:-10000000}"
  exit
fi
bin/bench pipeline -latency-runs "${LATENCY_RUNS:-300}" -drain-runs "${DRAIN_RUNS:-20000}" -replicas 4
bin/bench launch -clients 32 -conns 16 -duration "${LAUNCH_DURATION:-10s}"
# The shape users deploy (bin/api + bin/scheduler processes, built here) with its SQL floors.
bin/bench shape -runs "${SHAPE_RUNS:-20000}" -latency "${LATENCY_RUNS:-300}" -replicas 4 -clients 32 -rounds "${SHAPE_ROUNDS:-5}"
