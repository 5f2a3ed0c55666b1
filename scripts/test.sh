#!/usr/bin/env bash
# `make test`: gofmt check, vet, staticcheck, every test with -race against a real
# PostgreSQL, and a short fuzz pass over the request decoders.
# `make fuzz` (FUZZ_ONLY=1, FUZZ_TIME=60s) runs only the fuzzers, longer.
# Uses TEST_DATABASE_URL or DATABASE_URL when set; otherwise starts a private
# cluster in a temporary folder and stops it afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -z "${TEST_DATABASE_URL:-}" ] && [ -z "${DATABASE_URL:-}" ]; then
  pgdir=$(mktemp -d /tmp/cyberbrain-testpg.XXXXXX)
  port=${TEST_PG_PORT:-$((20000 + RANDOM % 20000))}
  trap 'scripts/pg.sh stop "$pgdir"; rm -rf "$pgdir"' EXIT
  TEST_DATABASE_URL=$(scripts/pg.sh start "$pgdir" "$port")
  export TEST_DATABASE_URL
  echo "== private PostgreSQL on port $port"
fi

if [ "${FUZZ_ONLY:-0}" != 1 ]; then
  echo "== gofmt"
  unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
  if [ -n "$unformatted" ]; then echo "gofmt would change:"; echo "$unformatted"; exit 1; fi
  echo "== go vet"
  go vet ./...
  echo "== staticcheck"
  sc="$(go env GOPATH)/bin/staticcheck"
  [ -x "$sc" ] || go install honnef.co/go/tools/cmd/staticcheck@v0.8.2
  "$sc" ./...
  echo "== go test -race"
  go test -race -count=1 -timeout 20m ${TEST_FLAGS:-} ./...
fi

echo "== fuzz pass (${FUZZ_TIME:-5s} per target)"
while read -r pkg target; do
  [ -n "$pkg" ] || continue
  go test -run='^$' -fuzz="^${target}\$" -fuzztime="${FUZZ_TIME:-5s}" "$pkg"
done < <(grep -rl --include='*_test.go' '^func Fuzz' pkg | while read -r f; do
  dir=$(dirname "$f")
  grep -o '^func Fuzz[A-Za-z0-9_]*' "$f" | sed 's/^func //' | sed "s|^|./$dir |"
done)
