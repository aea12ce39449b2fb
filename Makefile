# Treffpunkt — developer entry points.
#
#   make run      build, start the private development PostgreSQL (./var/pgdata,
#                 127.0.0.1:54329) unless DATABASE_URL is set, migrate, load the
#                 demo data into an empty database and serve in the foreground.
#                 Ctrl-C stops the app; the database keeps running until
#                 `make db-stop`.
#   make db-stop  stop the development database
#   make test     run all tests against a throwaway PostgreSQL cluster
#                 (or against TEST_DATABASE_URL when it is set), up to 4
#                 tests at once per package (they wait on PostgreSQL and
#                 Chromium more than on the CPU); they include
#                 scripts/validate-feeds.sh on served feeds when its tools are
#                 installed (python3-vobject, node, `make feed-tools`)
#   make feed-tools      install ical.js into ./var/npm for that check
#   make a11y-tools      the same, with axe-core for the accessibility check
#                 (docs/accessibility.md); npm keeps only what one install
#                 names, so both targets install both
#   make validate-feeds  check the feeds of a running server (BASE_URL,
#                 default http://localhost:8080) with vobject and ical.js
#   make screenshots  renew the pictures in docs/screenshots (the browser
#                 tests capture them only with SCREENSHOTS=1; a plain
#                 make test makes the same checks and leaves them alone)
#   make fuzz     a short run (FUZZTIME, default 10s) of each fuzz target;
#                 the seed corpora already run in make test
#   make bench    cost per operation: rush, check-in, feeds, outbox in one
#                 table (BENCH_QUICK=1: a smoke run; docs/performance.md)
#   make lint     gofmt check + go vet
#   make build    build bin/treffpunkt
#   make clean    remove bin/

GO ?= go

.PHONY: build run db-stop test lint clean feed-tools a11y-tools validate-feeds screenshots

build:
	$(GO) build -o bin/treffpunkt ./cmd/treffpunkt

run: build
	scripts/run.sh

db-stop:
	scripts/pg.sh dev-stop

# internal/web, the longest package, is named first so that it starts first;
# go vet runs in make lint (all its checks), so go test does not repeat a
# subset of them. -ldflags=-w links the test binaries without DWARF (no
# debugger runs them; panics and race reports still name file and line):
# a quarter less CPU for the 31 links go test does on every run.
test:
	scripts/pg.sh test-run -- $(GO) test -race -count=1 -vet=off -ldflags=-w -parallel 4 -timeout 9m ./internal/web/ ./...

screenshots:
	SCREENSHOTS=1 scripts/pg.sh test-run -- $(GO) test -count=1 -run 'Screenshot' ./internal/web/

feed-tools a11y-tools:
	npm install --no-save --no-audit --no-fund --prefix var/npm ical.js axe-core

validate-feeds:
	scripts/validate-feeds.sh $(or $(BASE_URL),http://localhost:8080)

# gofmt over the git-tracked and untracked (not ignored) .go files, excluding
# ./var (the database directory); falls back to find outside a git work tree.
lint:
	@if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then \
		files=$$(git ls-files --cached --others --exclude-standard -- '*.go' | grep -v '^var/' | sort -u | while IFS= read -r f; do [ -f "$$f" ] && printf '%s\n' "$$f"; done); \
	else \
		files=$$(find . -path ./var -prune -o -path ./.git -prune -o -type f -name '*.go' -print); \
	fi; \
	if [ -n "$$files" ]; then \
		unformatted=$$(printf '%s\n' "$$files" | tr '\n' '\0' | xargs -0 gofmt -l) || { echo "gofmt failed"; exit 1; }; \
		if [ -n "$$unformatted" ]; then \
			echo "gofmt: these files need formatting (run gofmt -w):"; \
			printf '%s\n' "$$unformatted"; \
			exit 1; \
		fi; \
	fi
	$(GO) vet ./...

clean:
	rm -rf bin/

# The registration rush (issue 9): two instances on the development
# PostgreSQL (fsync on), cmd/loadgen through the API and the form, and the
# naive pgbench baseline in the same run. See docs/performance.md.
.PHONY: bench-rush
bench-rush:
	scripts/bench-rush.sh

# Cost per operation (issue 22): the rush with its mail, check-in, feeds and
# the outbox in one table of throughput, latency, CPU per operation (app,
# PostgreSQL, load tool) and peak RSS; BENCH_QUICK=1 for a smoke run. See
# scripts/bench.sh and docs/performance.md ("make bench").
.PHONY: bench
bench:
	scripts/bench.sh

# Fuzzing (issue 10): each target for FUZZTIME (default 10s), on a
# throwaway PostgreSQL. See scripts/fuzz.sh.
.PHONY: fuzz
fuzz:
	scripts/pg.sh test-run -- scripts/fuzz.sh
