#!/usr/bin/env bash
# scripts/bench-checkin.sh — door check-in throughput (docs/performance.md).
#
# Starts a private PostgreSQL 15 cluster (fsync ON, defaults otherwise) on
# 127.0.0.1:${PG_PORT:-18110} in a temporary directory, two app instances on
# 18111/18112, creates an event happening now with N confirmed tickets, and
# checks every ticket in once with cmd/doorload (K clients, T door tokens).
# Knobs: N (tickets, default 40000), K (clients, 16), T (tokens, 8),
# RATE (scans per second to offer, latency counted from when each scan is
# due; 0, the default, scans as fast as answered),
# PG_OPTS (extra server options, e.g. "-c synchronous_commit=off" to see the
# ceiling without the commit's fsync).
# `make bench` (scripts/bench.sh) runs the check-in with 1 and 2 instances
# next to the other operations.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
N=${N:-40000}
K=${K:-16}
T=${T:-8}
PG_PORT=${PG_PORT:-18110}
PORTS=(18111 18112 18113 18114)
PORTS=("${PORTS[@]:0:${INSTANCES:-2}}")

go build -o bin/treffpunkt ./cmd/treffpunkt
go build -o bin/doorload ./cmd/doorload

# shellcheck source=scripts/bench-lib.sh
. scripts/bench-lib.sh
trap bench_cleanup EXIT
# shellcheck disable=SC2086 # PG_OPTS are words
bench_pg_start "$PG_PORT" ${PG_OPTS:-}
echo "fsync: $(psql -qtA "$DATABASE_URL" -c 'SHOW fsync'), synchronous_commit: $(psql -qtA "$DATABASE_URL" -c 'SHOW synchronous_commit'), $(nproc) cores"

bench_as_pg "$BENCH_PG_BIN/pg_test_fsync" -s 1 -f "$BENCH_TMP/fsync.test" 2>/dev/null | awk '/^ +fdatasync/ {print "fdatasync now: " $2 " ops/s"; exit}'
uptime
bin/treffpunkt migrate >/dev/null
bin/treffpunkt org add --slug door --name "Door e. V." >/dev/null
tokens=$(bench_door_tokens door "$T")
bench_checkin_event door door-bench "$N" "$BENCH_TMP/codes"

for port in "${PORTS[@]}"; do
	# PPROF_ADDR_PREFIX=127.0.0.1:606 serves profiles on :6060, :6061, …
	PPROF_ADDR=${PPROF_ADDR_PREFIX:+$PPROF_ADDR_PREFIX${#APP_PIDS[@]}} API_RATE_PER_TOKEN=0 \
		bench_app_start "$port" --no-workers
done
bench_apps_ready
# Warm up on the first 2,000 codes, then measure on the rest.
head -n 2000 "$BENCH_TMP/codes" | bin/doorload -urls "$(bench_urls)" -tokens "$tokens" -event door-bench -c "$K" >/dev/null || true
n=$((N - 2000))
bench_cpu_start
tail -n +2001 "$BENCH_TMP/codes" | bench_timed bin/doorload -urls "$(bench_urls)" -tokens "$tokens" -event door-bench -c "$K" -rate "${RATE:-0}"
bench_cpu_stop "$n"
# CPU of the app instances and of PostgreSQL during the measured part; the
# kernel part is system calls (sockets, fsync).
awk -v a="$BENCH_APP_US" -v p="$BENCH_PG_US" -v as="$BENCH_APP_SYS_US" -v ps="$BENCH_PG_SYS_US" -v l="$BENCH_LOAD_US" -v c="$(nproc)" 'BEGIN {
	a /= 1000; p /= 1000; as /= 1000; ps /= 1000; l /= 1000
	printf "CPU per check-in: app %.2f ms (kernel %.2f), PostgreSQL %.2f ms (kernel %.2f); both: %.2f ms, a ceiling of about %d check-ins/s on %d cores without the load tool (doorload: %.2f ms)\n", a, as, p, ps, a + p, c * 1000 / (a + p), c, l }'
uptime
echo "check-ins stored: $(psql -qtA "$DATABASE_URL" -c 'SELECT count(*) FROM checkins') (distinct tickets: $(psql -qtA "$DATABASE_URL" -c 'SELECT count(DISTINCT ticket_id) FROM checkins')), scans logged: $(psql -qtA "$DATABASE_URL" -c 'SELECT count(*) FROM checkin_scans')"
echo "scans per transaction (group commit): $(psql -qtA "$DATABASE_URL" -c 'SELECT round(count(*)::numeric / count(DISTINCT xmin::text), 1) FROM checkin_scans')"
# PG_STATS=1 (with PG_OPTS="-c shared_preload_libraries=pg_stat_statements"):
# where PostgreSQL's time went, statement by statement.
if [[ -n ${PG_STATS:-} ]]; then
	psql -q "$DATABASE_URL" -c 'CREATE EXTENSION IF NOT EXISTS pg_stat_statements'
	psql "$DATABASE_URL" -c "SELECT calls, round(total_exec_time::numeric, 1) AS exec_ms, round(total_plan_time::numeric, 1) AS plan_ms,
    round((total_exec_time / NULLIF(calls, 0))::numeric, 3) AS ms_per_call, left(regexp_replace(query, '\s+', ' ', 'g'), 70) AS query
FROM pg_stat_statements ORDER BY total_exec_time + total_plan_time DESC LIMIT 8"
fi
