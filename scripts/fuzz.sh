#!/usr/bin/env bash
# scripts/fuzz.sh — a short `go test -fuzz` run of each fuzz target.
#
#   FUZZTIME      how long each target runs (default 10s)
#   FUZZ_PARALLEL fuzzing workers per target (default 2)
#
# The HTTP targets need TEST_DATABASE_URL: run it as `make fuzz`, which
# starts a throwaway PostgreSQL (scripts/pg.sh test-run). The seed corpora
# (f.Add and testdata/fuzz/<target>/) also run in every `make test`. A
# failing input is written to testdata/fuzz/<target>/ of its package; commit
# it with the fix, and it stays a regression test.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

FUZZTIME="${FUZZTIME:-10s}"
FUZZ_PARALLEL="${FUZZ_PARALLEL:-2}"
GO="${GO:-go}"

targets=(
	"./internal/api FuzzSignupJSON"
	"./internal/web FuzzSignupForm"
	"./internal/calendar FuzzInviteText"
	"./internal/member FuzzParseCSV"
	"./internal/checkin FuzzTicketCode"
	"./internal/text FuzzEmail"
)
for t in "${targets[@]}"; do
	read -r pkg fn <<<"$t"
	printf '\n--- %s %s (%s)\n' "$pkg" "$fn" "$FUZZTIME"
	"$GO" test -run '^$' -fuzz "^${fn}\$" -fuzztime "$FUZZTIME" -parallel "$FUZZ_PARALLEL" "$pkg"
done
