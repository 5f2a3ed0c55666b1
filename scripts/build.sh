#!/usr/bin/env bash
# `make build`: static binaries bin/api, bin/scheduler and bin/cyberbrain,
# with the version linked in. A cold build (empty module and build caches)
# takes minutes on a small machine, so it says what it is doing instead of
# sitting silent: one line per step, and a line every 25 packages compiled.
set -uo pipefail
cd "$(dirname "$0")/.."
GO=${GO:-go}
BIN=${BIN:-bin}
VERSION=${VERSION:-dev}
LDFLAGS=${LDFLAGS:-"-s -w -X github.com/cyberbrain/cyberbrain/pkg/version.Version=$VERSION"}
start=$SECONDS

echo "build: Go modules (downloaded on the first build only)…"
$GO mod download || exit
echo "build: compiling $BIN/api, $BIN/scheduler, $BIN/cyberbrain (version $VERSION)…"
mkdir -p "$BIN"
CGO_ENABLED=0 $GO build -v -trimpath -ldflags "$LDFLAGS" -o "$BIN/" ./cmd/api ./cmd/scheduler ./cmd/cyberbrain 2>&1 |
  {
    n=0
    while IFS= read -r line; do
      # -v names each package as it is compiled; anything else is a message.
      if [[ $line =~ ^[A-Za-z0-9._/~-]+$ ]]; then
        n=$((n + 1))
        if ((n % 25 == 0)); then echo "build: … $n packages compiled ($line)"; fi
      else
        echo "$line"
      fi
    done
    if ((n > 0)); then echo "build: $n packages compiled"; fi
  }
rc=${PIPESTATUS[0]}
if ((rc != 0)); then
  echo "build: failed" >&2
  exit "$rc"
fi
echo "build: done in $((SECONDS - start))s"
