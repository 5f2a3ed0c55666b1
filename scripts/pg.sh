#!/usr/bin/env bash
# Private PostgreSQL cluster helpers for `make run` and `make test`.
#   scripts/pg.sh start DIR PORT   init (if needed) and start a cluster in DIR on 127.0.0.1:PORT
#   scripts/pg.sh stop DIR [MODE]  stop it (MODE: fast (default), smart or immediate)
#   scripts/pg.sh restart DIR [MODE]  restart it with the options it was started with
# Prints nothing on success but the connection URL (start).
set -euo pipefail

find_bin() {
  local name=$1
  if command -v "$name" >/dev/null 2>&1; then command -v "$name"; return; fi
  local d
  for d in /usr/lib/postgresql/*/bin; do
    [ -x "$d/$name" ] && { echo "$d/$name"; return; }
  done
  return 1
}

ensure_server() {
  if ! find_bin initdb >/dev/null || ! find_bin pg_ctl >/dev/null; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
      echo "installing PostgreSQL server from the OS packages..." >&2
      (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null) >&2
    else
      echo "PostgreSQL server binaries (initdb, pg_ctl) not found; install the postgresql package or set DATABASE_URL" >&2
      exit 1
    fi
  fi
}

# initdb and postgres refuse to run as root: run them as the postgres user.
as_owner() {
  if [ "$(id -u)" = 0 ]; then
    id postgres >/dev/null 2>&1 || useradd --system --home /var/lib/postgresql postgres
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

cmd=${1:?usage: pg.sh start|stop DIR [PORT]}
dir=${2:?data folder}
case "$cmd" in
start)
  port=${3:-5433}
  ensure_server
  initdb=$(find_bin initdb); pg_ctl=$(find_bin pg_ctl)
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  [ "$(id -u)" = 0 ] && { id postgres >/dev/null 2>&1 || useradd --system postgres; chown -R postgres "$dir"; chmod 700 "$dir"; }
  if [ ! -f "$dir/PG_VERSION" ]; then
    as_owner "$initdb" -D "$dir" -U postgres -A trust -E UTF8 --no-locale >/dev/null
  fi
  if ! as_owner "$pg_ctl" -D "$dir" status >/dev/null 2>&1; then
    # Tuned for a disposable development/test cluster, not for durability;
    # PG_DURABLE=1 keeps PostgreSQL's default (durable) settings.
    opts="-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=400"
    [ "${PG_DURABLE:-0}" = 1 ] || opts="$opts -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c shared_buffers=256MB"
    as_owner "$pg_ctl" -D "$dir" -w -t 60 -l "$dir/server.log" -o "$opts" start >/dev/null
  fi
  echo "postgres://postgres@127.0.0.1:$port/postgres?sslmode=disable"
  ;;
stop)
  pg_ctl=$(find_bin pg_ctl) || exit 0
  [ -f "$dir/PG_VERSION" ] && as_owner "$pg_ctl" -D "$dir" -m "${3:-fast}" -w stop >/dev/null 2>&1 || true
  ;;
restart)
  pg_ctl=$(find_bin pg_ctl)
  as_owner "$pg_ctl" -D "$dir" -m "${3:-fast}" -w -t 60 -l "$dir/server.log" restart >/dev/null
  ;;
*) echo "unknown command $cmd" >&2; exit 2 ;;
esac
