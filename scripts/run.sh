#!/usr/bin/env bash
# `make run`: PostgreSQL (a private cluster under .data/ unless DATABASE_URL
# is set), then the API on 127.0.0.1:9595 and one scheduler in the foreground
# with readable logs. Ctrl-C stops all three. One instance per checkout: a
# second `make run` refuses, naming the first one.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-bin}
DATA=${CYBERBRAIN_DATA_DIR:-.data}
addr=${CYBERBRAIN_ADDR:-127.0.0.1:9595}
mkdir -p "$DATA"

# The lock is held for as long as this script runs (fd 9, which no child may
# inherit: a PostgreSQL started here would keep it after we are gone). A
# second instance would fail to bind and then, cleaning up, stop the first
# one's PostgreSQL.
exec 9>>"$DATA/run.lock"
if ! flock -n 9; then
  read -r pid port < "$DATA/run.pid" 2>/dev/null || true
  echo "make run: already running (pid ${pid:-unknown}, :${port:-${addr##*:}}); stop it with Ctrl-C in its terminal${pid:+ or kill $pid}" >&2
  exit 1
fi
echo "$$ ${addr##*:}" > "$DATA/run.pid"

own_pg=""
pids=()
stop() {
  trap - INT TERM EXIT
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  [ -n "$own_pg" ] && scripts/pg.sh stop "$DATA/postgres" 9>&-
  rm -f "$DATA/run.pid"
  echo "stopped"
}
trap stop EXIT
trap 'exit 130' INT TERM

if [ -z "${DATABASE_URL:-}" ]; then
  port=${CYBERBRAIN_PG_PORT:-55432}
  own_pg=1
  admin=$(scripts/pg.sh start "$DATA/postgres" "$port" 9>&-)
  psql "$admin" -qtAc "SELECT 1 FROM pg_database WHERE datname = 'cyberbrain'" | grep -q 1 \
    || psql "$admin" -qc "CREATE DATABASE cyberbrain" >/dev/null
  export DATABASE_URL="postgres://postgres@127.0.0.1:$port/cyberbrain?sslmode=disable"
  echo "PostgreSQL: $DATABASE_URL (data in $DATA/postgres)"
fi
export CYBERBRAIN_LOG_FORMAT=${CYBERBRAIN_LOG_FORMAT:-console}

# exited NAME STATUS: say which process ended and how, then stop the rest.
exited() {
  if [ "$2" = 0 ]; then # a clean stop (Ctrl-C reaches every process of the group)
    echo "make run: $1 stopped; stopping the rest" >&2
    exit 0
  fi
  echo "make run: $1 exited (status $2); stopping the rest (its error is above)" >&2
  exit 1
}

# The API migrates first; the scheduler starts once it answers. The API
# binds its address before anything else, so a port in use ends it at once.
"$BIN/api" --addr "$addr" 9>&- &
api=$!
pids+=("$api")
while :; do
  # Liveness first: whatever else holds the port may answer too.
  if ! kill -0 "$api" 2>/dev/null; then
    st=0; wait "$api" || st=$?
    exited api "$st"
  fi
  curl -fsS --max-time 2 "http://$addr/healthz" >/dev/null 2>&1 && break
  sleep 0.1
done
echo "make run: dashboard at http://$addr/ (the REST API under http://$addr/api/)"
"$BIN/scheduler" "$@" 9>&- &
sched=$!
pids+=("$sched")
done_pid="" st=0
wait -n -p done_pid "$api" "$sched" || st=$?
if [ "$done_pid" = "$sched" ]; then exited scheduler "$st"; fi
exited api "$st"
