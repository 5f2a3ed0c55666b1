# cyberbrain — `make run` starts everything locally, `make test` runs every test.
GO      ?= go
BIN     ?= bin
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
# The version the daemons' --version and `cyberbrain version` print.
LDFLAGS ?= -s -w -X github.com/cyberbrain/cyberbrain/pkg/version.Version=$(VERSION)
export GO BIN VERSION LDFLAGS

.PHONY: bench-history all build run test fuzz bench bench-logs bench-pages bench-retention vet fmt images clean

all: build

# bin/api, bin/scheduler, bin/cyberbrain; says what it does (a cold build takes minutes).
build:
	scripts/build.sh

# Private PostgreSQL under .data/ (unless DATABASE_URL is set), the API on
# 127.0.0.1:9595 and one scheduler, in the foreground. Ctrl-C stops all three.
run:
	@echo "make run: building the binaries first (the first build takes a few minutes; progress below)"
	@scripts/build.sh
	scripts/run.sh

# vet + gofmt + every test with -race against a real PostgreSQL (a private
# cluster is started when TEST_DATABASE_URL/DATABASE_URL are unset) + a short fuzz pass.
test:
	scripts/test.sh

# Longer fuzzing of the request decoders: make fuzz FUZZ_TIME=60s
fuzz:
	FUZZ_ONLY=1 FUZZ_TIME=$${FUZZ_TIME:-60s} scripts/test.sh

# The bars of docs/DESIGN.md §11 (launch latency, drain, launch API) on a default-settings PostgreSQL.
bench:
	scripts/bench.sh

# log_triage's template mining: grouping accuracy on the labelled LogHub samples
# (raw lines and message column) and Analyze's lines/s on one core.
LOGHUB ?= $(or $(LOGHUB_DIR),../shared/loghub)
bench-logs:
	$(GO) run ./scripts/bench logs -data $(LOGHUB)

# The dashboard's pages with 100,000 runs in the database: each page's p50/p95
# against a one-round-trip floor (GET /readyz); fails when a p95 reaches 100 ms.
bench-pages:
	scripts/bench.sh pages

# Retention pruning a backlog of 200,000 old finished runs (RETENTION_RUNS),
# timed against a bare DELETE of as many runs; the bar is 1,000 runs/s.
bench-retention:
	scripts/bench.sh retention

# Launch, claim+start, completion and a recurring slot's fire, per run, on an
# empty database and again after loading HISTORY_RUNS (10 million) finished
# runs into it: the costs must stay flat. Loading 10 million runs takes about
# ten minutes and several GB of disk on a 2-core machine.
bench-history:
	scripts/bench.sh history

vet:
	$(GO) vet ./...

fmt:
	gofmt -w $$(git ls-files '*.go')

clean:
	rm -rf $(BIN)

IMAGE_PREFIX ?= cyberbrain
.PHONY: smoke

# Container images (multi-stage builds; need the golang and distroless base images).
images:
	docker build -f Dockerfile.api --build-arg VERSION=$(VERSION) -t $(IMAGE_PREFIX)/api:$(VERSION) -t $(IMAGE_PREFIX)/api:latest .
	docker build -f Dockerfile.scheduler --build-arg VERSION=$(VERSION) -t $(IMAGE_PREFIX)/scheduler:$(VERSION) -t $(IMAGE_PREFIX)/scheduler:latest .

# The customer's verification guide as a script, against HOST (default localhost:9595).
smoke:
	scripts/smoke.sh
