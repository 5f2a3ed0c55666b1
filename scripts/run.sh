#!/usr/bin/env bash
# `make run`: PostgreSQL (a private cluster under .data/ unless DATABASE_URL
# is set), then the API on 127.0.0.1:9595 and one scheduler in the foreground
# with readable logs. Ctrl-C stops all three.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-bin}
own_pg=""
if [ -z "${DATABASE_URL:-}" ]; then
  port=${CYBERBRAIN_PG_PORT:-55432}
  admin=$(scripts/pg.sh start .data/postgres "$port")
  own_pg=1
  psql "$admin" -qtAc "SELECT 1 FROM pg_database WHERE datname = 'cyberbrain'" | grep -q 1 \
    || psql "$admin" -qc "CREATE DATABASE cyberbrain" >/dev/null
  export DATABASE_URL="postgres://postgres@127.0.0.1:$port/cyberbrain?sslmode=disable"
  echo "PostgreSQL: $DATABASE_URL (data in .data/postgres)"
fi
export CYBERBRAIN_LOG_FORMAT=${CYBERBRAIN_LOG_FORMAT:-console}

pids=()
stop() {
  trap - INT TERM EXIT
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  [ -n "$own_pg" ] && scripts/pg.sh stop .data/postgres
  echo "stopped"
}
trap stop INT TERM EXIT

# The API migrates first; the scheduler waits for it to answer.
"$BIN/api" --addr "${CYBERBRAIN_ADDR:-127.0.0.1:9595}" &
pids+=($!)
for _ in $(seq 1 100); do
  curl -fsS "http://${CYBERBRAIN_ADDR:-127.0.0.1:9595}/healthz" >/dev/null 2>&1 && break
  sleep 0.1
done
"$BIN/scheduler" "$@" &
pids+=($!)
wait -n "${pids[@]}"
