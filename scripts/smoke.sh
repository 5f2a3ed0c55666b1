#!/usr/bin/env bash
# Smoke test: the verification guide's steps against a running deployment.
#   scripts/smoke.sh                      # HOST=localhost:9595
#   HOST=cyberbrain.lan:9595 CYBERBRAIN_API_TOKEN=... SMOKE_TIMEOUT=120 scripts/smoke.sh
# Creates a directive smoke-<timestamp>-<random>, launches log_triage on it,
# checks the launch schedule exists, waits for the run to complete and checks
# the job and ScheduledRun statuses. Exits non-zero with a message at the
# first expectation that fails. Needs curl and jq (apt-get install jq).
# SMOKE_TASK picks another task (e.g. noop, once it is enabled).
set -euo pipefail

HOST=${HOST:-localhost:9595}
TIMEOUT=${SMOKE_TIMEOUT:-60}
TASK=${SMOKE_TASK:-log_triage}
BASE="http://${HOST}"

fail() { echo "smoke: FAIL: $*" >&2; exit 1; }
step() { echo "smoke: $*"; }

for tool in curl jq; do
  command -v "$tool" >/dev/null 2>&1 || fail "$tool is required (apt-get install $tool)"
done
case "$TIMEOUT" in ''|*[!0-9]*) fail "SMOKE_TIMEOUT must be whole seconds, got '$TIMEOUT'" ;; esac

auth=()
if [ -n "${CYBERBRAIN_API_TOKEN:-}" ]; then
  auth=(-H "Authorization: Bearer ${CYBERBRAIN_API_TOKEN}")
fi

# api METHOD PATH [JSON]: prints the body; fails on transport errors and on
# any status but 200/201, quoting the API's error message.
api() {
  local method=$1 path=$2 body=${3:-} out code
  local args=(-sS -X "$method" -o - -w '\n%{http_code}' --max-time 10 "${auth[@]}"
              -H 'Accept: application/json')
  [ -n "$body" ] && args+=(-H 'Content-Type: application/json' -d "$body")
  if ! out=$(curl "${args[@]}" "${BASE}${path}" 2>&1); then
    out=${out%$'\n'*}
    fail "$method $path: cannot reach the API at $BASE (${out//$'\n'/ }): is it running? (docker-compose ps api)"
  fi
  code=${out##*$'\n'}
  out=${out%$'\n'*}
  case "$code" in
    200|201) printf '%s' "$out" ;;
    401) fail "$method $path: 401 unauthorized: set CYBERBRAIN_API_TOKEN to the API's token" ;;
    *) fail "$method $path: HTTP $code: $(jq -r '.error? // empty' <<<"$out" 2>/dev/null || true) ${out:0:300}" ;;
  esac
}

# json FILTER: applies a jq filter to stdin, failing on output that is not JSON.
json() { jq -er "$1" 2>/dev/null || return 1; }

step "API at $BASE"
api GET /healthz >/dev/null

name="smoke-$(date -u +%Y%m%d%H%M%S)-$RANDOM"
resp=$(api POST /api/directives/ "$(jq -nc --arg n "$name" '{name: $n, description: "smoke test (scripts/smoke.sh)"}')")
directive_id=$(json '.id' <<<"$resp") || fail "POST /api/directives/: no id in answer: ${resp:0:300}"
step "created directive $name (id $directive_id)"

resp=$(api POST /api/runs/launch/ "$(jq -nc --argjson d "$directive_id" --arg t "$TASK" '{directive_id: $d, tasks: [$t]}')")
run_id=$(json '.id' <<<"$resp") || fail "POST /api/runs/launch/: no run id in answer: ${resp:0:300}"
step "launched run $run_id ($TASK)"

schedule="launch-run-${run_id}-${TASK}"
resp=$(api GET /api/schedules/)
found=$(jq -r --arg s "$schedule" '[.results[]? | select(.name == $s)] | length' <<<"$resp" 2>/dev/null) \
  || fail "GET /api/schedules/: not a paginated list: ${resp:0:300}"
[ "$found" = 1 ] || fail "schedule $schedule not on the first page of GET /api/schedules/ (launch did not create it)"
step "schedule $schedule exists"

deadline=$((SECONDS + TIMEOUT))
status=""
while :; do
  resp=$(api GET "/api/runs/${run_id}/")
  status=$(json '.status' <<<"$resp") || fail "GET /api/runs/${run_id}/: no status: ${resp:0:300}"
  case "$status" in
    completed) break ;;
    failed|cancelled)
      errs=$(api GET "/api/jobs/?run=${run_id}" | jq -r '.[] | "job \(.id) \(.task_type): \(.status): \(.error_message)"' 2>/dev/null || true)
      fail "run $run_id ended $status: ${errs:-no job detail} (check: docker-compose logs scheduler | grep -i error)" ;;
  esac
  if [ "$SECONDS" -ge "$deadline" ]; then
    fail "run $run_id still $status after ${TIMEOUT}s: is a scheduler running? (docker-compose ps scheduler; docker-compose logs scheduler)"
  fi
  sleep 1
done
step "run $run_id completed"

resp=$(api GET "/api/jobs/?run=${run_id}")
statuses=$(jq -r '.[].status' <<<"$resp" 2>/dev/null) || fail "GET /api/jobs/?run=${run_id}: not a JSON array: ${resp:0:300}"
[ -n "$statuses" ] || fail "GET /api/jobs/?run=${run_id}: no jobs"
bad=$(grep -vx completed <<<"$statuses" || true)
[ -z "$bad" ] || fail "jobs of run $run_id not all completed: $(tr '\n' ' ' <<<"$statuses")"
step "jobs: $(tr '\n' ' ' <<<"$statuses")"

resp=$(api GET "/api/scheduled-runs/?run=${run_id}")
statuses=$(jq -r '.[].status' <<<"$resp" 2>/dev/null) || fail "GET /api/scheduled-runs/?run=${run_id}: not a JSON array: ${resp:0:300}"
[ -n "$statuses" ] || fail "GET /api/scheduled-runs/?run=${run_id}: no scheduled runs"
bad=$(grep -vx finished <<<"$statuses" || true)
[ -z "$bad" ] || fail "scheduled runs of run $run_id not all finished: $(tr '\n' ' ' <<<"$statuses")"
step "scheduled runs: $(tr '\n' ' ' <<<"$statuses")"

# The dashboard on the same port: open, or asking for the token with one set.
code=$(curl -sS -o /dev/null -w '%{http_code}' --max-time 10 "${BASE}/runs/${run_id}" 2>/dev/null) || code=000
case "$code" in
  200) step "dashboard: ${BASE}/runs/${run_id}" ;;
  303) step "dashboard: ${BASE}/ (log in with the API token)" ;;
  404) step "dashboard: off (the api runs with --no-dashboard)" ;;
  *) fail "dashboard: GET /runs/${run_id}: HTTP $code" ;;
esac

echo "smoke: OK (run $run_id, directive $name)"
