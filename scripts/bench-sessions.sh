#!/usr/bin/env bash
# scripts/bench-sessions.sh — CPU per sign-up with and without sessions,
# alternated (issue 18: a rush whose sign-ups choose two workshops stays
# within 20 % of one without). Two instances `serve --no-workers` on a
# private cluster (scripts/bench-lib.sh); per round one cmd/loadgen run with
# -sessions 0 and one with -sessions 2 (two of three workshops), each on a
# fresh event after a warm-up; prints sign-ups/s and app / PostgreSQL /
# load-tool CPU per sign-up and peak RSS per run.
#
# Knobs: N=10000 C=1000 K=256 ROUNDS="1 2 3"; BENCH_PROFILE=DIR for a CPU
# profile and pg_stat_statements per run (bench-lib.sh).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
N=${N:-10000} C=${C:-1000} K=${K:-256} ROUNDS=${ROUNDS:-1 2 3}
PG_PORT=18140 PORTS=(18141 18142)
# shellcheck source=scripts/bench-lib.sh
. scripts/bench-lib.sh
trap bench_cleanup EXIT
for p in "$PG_PORT" "${PORTS[@]}"; do
	bench_port_free "$p" || { echo "bench-sessions: port $p is in use" >&2; exit 1; }
done
go build -o bin/treffpunkt ./cmd/treffpunkt
go build -o bin/loadgen ./cmd/loadgen
bench_pg_start "$PG_PORT"
bin/treffpunkt migrate >/dev/null
if [[ -n ${BENCH_PROFILE:-} ]]; then psql -qtA "$DATABASE_URL" -c 'CREATE EXTENSION pg_stat_statements' >/dev/null; fi
bin/treffpunkt org add --slug bench --name "Bench e. V." >/dev/null
TOKEN=$(bin/treffpunkt token add --org bench --role organiser --name bench | tail -n1)
export SECRET_KEY=bench-secret-key-0123456789abcdef0123456789 SIGNUP_RATE_PER_IP=0 SIGNUP_RATE_PER_EMAIL=0 API_RATE_PER_TOKEN=0
echo "bench-sessions: N=$N C=$C K=$K, $(nproc) cores, $(uptime | sed 's/.*load/load/')"
for round in $ROUNDS; do
	# Which goes first alternates: each run adds rows (and autovacuum
	# work) that the next one meets.
	order=(0 2)
	((round % 2)) || order=(2 0)
	for s in "${order[@]}"; do
		for p in "${PORTS[@]}"; do bench_app_start "$p" --no-workers; done
		bench_apps_ready
		bin/loadgen -urls "$(bench_urls)" -token "$TOKEN" -org bench -slug "warm-$round-$s" -capacity 100 -n 1000 -c 64 -sessions "$s" >/dev/null
		bench_cpu_start
		out=$(bench_timed bin/loadgen -urls "$(bench_urls)" -token "$TOKEN" -org bench -slug "rush-$round-$s" -capacity "$C" -n "$N" -c "$K" -sessions "$s")
		bench_cpu_stop "$N"
		bench_profile_save "rush-sessions-$s-round-$round"
		echo "$out" | grep -q '^check: OK' || { echo "$out" >&2; exit 1; }
		echo "round $round, sessions $s: $(echo "$out" | grep -o '[0-9]* sign-ups/s'), app ${BENCH_APP_US} µs, PostgreSQL ${BENCH_PG_US} µs, tool ${BENCH_LOAD_US} µs per sign-up, RSS $(bench_rss) MB"
		bench_apps_stop
	done
done
