#!/usr/bin/env bash
# scripts/bench-rush.sh — `make bench-rush`: the registration rush.
#
# Against the development PostgreSQL cluster (fsync ON, like production), in a
# fresh database treffpunkt_bench:
#   1. starts two app instances sharing that database,
#   2. runs cmd/loadgen through the JSON API and then the HTML form, spread
#      over both instances, and checks the outcome (no oversell, everything
#      stored, waitlist positions 1…W),
#   3. reports each instance's peak RSS,
#   4. runs the naive baseline: pgbench, one transaction per sign-up that
#      locks the event row (UPDATE counter + INSERT), 16 clients,
#   5. prints the ratio.
# Knobs: N (sign-ups, default 20000), C (capacity, 1000), K (clients, 256),
# FORM_N (form sign-ups, 10000), SECONDS_BASELINE (10), SESSIONS (sessions each
# sign-up chooses of SESSIONS+1 workshops, 0: an event without sessions), so
# that `make bench-rush` and `SESSIONS=2 make bench-rush` can be compared.
# `make bench` (scripts/bench.sh) runs the same rush with CPU per sign-up, the
# mail sender on, and the other operations.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

N=${N:-20000}
C=${C:-1000}
K=${K:-256}
FORM_N=${FORM_N:-10000}
SECONDS_BASELINE=${SECONDS_BASELINE:-10}
SESSIONS=${SESSIONS:-0}
PORTS=(18181 18182)

go build -o bin/treffpunkt ./cmd/treffpunkt
go build -o bin/loadgen ./cmd/loadgen

# shellcheck source=scripts/bench-lib.sh
. scripts/bench-lib.sh
trap bench_cleanup EXIT
BENCH_LOG_DIR=var

dev_url=$(scripts/pg.sh dev-start | tail -n1)
admin_url="${dev_url%/*}/postgres?sslmode=disable"
psql -q "$admin_url" -c 'DROP DATABASE IF EXISTS treffpunkt_bench WITH (FORCE)' -c 'CREATE DATABASE treffpunkt_bench'
export DATABASE_URL="${dev_url%/*}/treffpunkt_bench?sslmode=disable"
echo "fsync: $(psql -qtA "$DATABASE_URL" -c 'SHOW fsync'), synchronous_commit: $(psql -qtA "$DATABASE_URL" -c 'SHOW synchronous_commit')"

bin/treffpunkt migrate >/dev/null
bin/treffpunkt org add --slug rush --name "Rush e. V." >/dev/null
TOKEN=$(bin/treffpunkt token add --org rush --role organiser --name bench | tail -n1)

for port in "${PORTS[@]}"; do
	SIGNUP_RATE_PER_IP=0 bench_app_start "$port" --no-workers
done
bench_apps_ready
url_list=$(bench_urls)

# /metrics during the rush: the sign-up counters of each instance, sampled
# while the API run is under way and after it.
scrape() {
	for u in "${APP_URLS[@]}"; do
		printf '  %s: %s\n' "$u" "$(curl -fs "$u/metrics" | awk '/^treffpunkt_signups_total/ {sub(/treffpunkt_signups_total/, ""); printf "%s ", $0}')"
	done
}

echo
echo "== JSON API: $N sign-ups, capacity $C, $K clients, 2 instances, $SESSIONS sessions each =="
(sleep 1; echo "/metrics 1 s into the run:"; scrape) &
scraper=$!
api_out=$(bin/loadgen -urls "$url_list" -token "$TOKEN" -org rush -capacity "$C" -n "$N" -c "$K" -sessions "$SESSIONS")
wait "$scraper" || true
echo "$api_out"
echo "/metrics after the run:"
scrape
echo
echo "== HTML form: $FORM_N sign-ups, capacity $C, $K clients, 2 instances, $SESSIONS sessions each =="
bin/loadgen -urls "$url_list" -token "$TOKEN" -org rush -capacity "$C" -n "$FORM_N" -c "$K" -sessions "$SESSIONS" -form
echo
rss=$(bench_rss)
for i in "${!PORTS[@]}"; do
	echo "instance ${PORTS[$i]}: peak RSS $(echo "$rss" | cut -d/ -f$((i + 1))) MB"
done

echo
echo "== naive baseline: pgbench, one transaction per sign-up on one event row, 16 clients, ${SECONDS_BASELINE}s =="
bench_naive_baseline "$DATABASE_URL" "$SECONDS_BASELINE"
baseline=$BENCH_BASELINE
echo "baseline: ${baseline} sign-ups/s"
rate=$(echo "$api_out" | awk '/sign-ups\/s/ {print $(NF-1)}')
echo
echo "JSON API ${rate}/s vs naive ${baseline}/s: ratio $(awk -v a="$rate" -v b="$baseline" 'BEGIN {printf "%.1f", a/b}')x"
