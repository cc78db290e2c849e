# pasteur: build, test, benchmark.
GO ?= go
export CGO_ENABLED ?= 0
# Tools that make deps installs with go install (pebble, staticcheck).
export PATH := $(or $(shell $(GO) env GOBIN),$(shell $(GO) env GOPATH | cut -d: -f1)/bin):$(PATH)

.PHONY: build test lint fuzz deps bench bench-git bench-purge clean

build:
	$(GO) build -o pasteur ./cmd/pasteur

# Installs what the tests need when it is missing, then runs every test.
# PASTEUR_E2E=1 makes end-to-end tests fail, not skip, without their
# prerequisites (root, /dev/net/tun, git, ip, strace). The race detector
# needs cgo, so tests turn it on; the binaries they build keep CGO_ENABLED=0.
# Each fuzz target also runs briefly (its seed corpus, then 3 s of new
# inputs); make fuzz runs them longer.
test: deps lint
	PASTEUR_E2E=1 CGO_ENABLED=1 $(GO) test -race -count=1 -timeout 45m ./...
	scripts/fuzz.sh 3s

lint: deps
	$(GO) vet ./...
	staticcheck ./...

FUZZTIME ?= 2m
fuzz:
	scripts/fuzz.sh $(FUZZTIME)

deps:
	scripts/install-deps.sh

# Builds the namespace topology and measures TAP mode against socket mode,
# then paste creation over HTTP against the store's own rate and against a
# minimal non-durable server (bench/createbench).
bench: deps
	scripts/install-deps.sh wrk
	$(GO) run ./bench/netbench
	$(GO) run ./bench/createbench

# Measures git sync: grouped vs one-by-one pastes, cost at 1k vs 100k
# pastes, start-up against a large remote.
bench-git: deps
	$(GO) run ./bench/gitbench

# Measures the purge of removed pastes at 1k, 10k and 100k pastes (no
# root needed).
bench-purge:
	$(GO) run ./bench/purgebench

clean:
	rm -f pasteur
