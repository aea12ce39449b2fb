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
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
N=${N:-40000}
K=${K:-16}
T=${T:-8}
PG_PORT=${PG_PORT:-18110}
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
PORTS=(18111 18112 18113 18114)
PORTS=("${PORTS[@]:0:${INSTANCES:-2}}")

go build -o bin/treffpunkt ./cmd/treffpunkt
go build -o bin/doorload ./cmd/doorload

tmp=$(mktemp -d /tmp/treffpunkt-checkin-bench.XXXXXX)
as_pg() { if [[ $(id -u) == 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi; }
[[ $(id -u) == 0 ]] && chown postgres "$tmp"
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	as_pg "$PG_BIN/pg_ctl" -D "$tmp/data" -m fast -w stop >/dev/null 2>&1 || true
	# PG_LOG=file keeps the server's log (e.g. with auto_explain in PG_OPTS).
	[[ -n ${PG_LOG:-} ]] && cp "$tmp/pg.log" "$PG_LOG"
	rm -rf "$tmp"
}
trap cleanup EXIT
as_pg "$PG_BIN/initdb" -D "$tmp/data" -U postgres --auth=trust --encoding=UTF8 >/dev/null
as_pg "$PG_BIN/pg_ctl" -D "$tmp/data" -l "$tmp/pg.log" -w start \
	-o "-c listen_addresses=127.0.0.1 -c port=$PG_PORT -c unix_socket_directories=$tmp -c max_connections=200 ${PG_OPTS:-}" >/dev/null
export DATABASE_URL="postgres://postgres@127.0.0.1:$PG_PORT/postgres?sslmode=disable"
echo "fsync: $(psql -qtA "$DATABASE_URL" -c 'SHOW fsync'), synchronous_commit: $(psql -qtA "$DATABASE_URL" -c 'SHOW synchronous_commit'), $(nproc) cores"

as_pg "$PG_BIN/pg_test_fsync" -s 1 -f "$tmp/fsync.test" 2>/dev/null | awk '/^ +fdatasync/ {print "fdatasync now: " $2 " ops/s"; exit}'
uptime
bin/treffpunkt migrate >/dev/null
bin/treffpunkt org add --slug door --name "Door e. V." >/dev/null
tokens=()
for i in $(seq "$T"); do tokens+=("$(bin/treffpunkt token add --org door --role door --name "scanner $i" | tail -n1)"); done
psql -q "$DATABASE_URL" <<SQL
INSERT INTO events (org_id, slug, kind, default_lang, title, starts_at, ends_at, status)
SELECT id, 'door-bench', 'conference', 'de', '{"de":"Door"}', now() - interval '1 hour', now() + interval '3 hours', 'published'
FROM organisations WHERE slug = 'door';
-- The tables keep only hashes of manage tokens and ticket codes (migration
-- 00016); the door finds a ticket by the SHA-256 of its code, so plain
-- codes kept in bench_codes serve as well as derived ones.
INSERT INTO registrations (event_id, name, email, lang, party_size, status, manage_nonce, manage_hash, consent_at, confirmed_at)
SELECT e.id, 'Gast ' || g, 'gast' || g || '@example.org', 'de', 1, 'confirmed',
       decode(md5(g::text || random()::text), 'hex'), sha256(decode(md5(random()::text), 'hex')), now(), now()
FROM events e, generate_series(1, $N) g WHERE e.slug = 'door-bench';
DROP TABLE IF EXISTS bench_codes;
CREATE TABLE bench_codes AS SELECT r.id AS registration_id, r.event_id, upper(md5(r.id::text || random()::text)) AS code FROM registrations r;
INSERT INTO tickets (registration_id, event_id, seat, code_hash)
SELECT registration_id, event_id, 1, sha256(convert_to(code, 'UTF8')) FROM bench_codes;
ANALYZE;
SQL
psql -qtA "$DATABASE_URL" -c "SELECT code FROM bench_codes ORDER BY random()" >"$tmp/codes"

urls=()
for port in "${PORTS[@]}"; do
	# PPROF_ADDR_PREFIX=127.0.0.1:606 serves profiles on :6060, :6061, …
	PPROF_ADDR=${PPROF_ADDR_PREFIX:+$PPROF_ADDR_PREFIX${#pids[@]}} \
		LISTEN_ADDR=127.0.0.1:$port BASE_URL=http://127.0.0.1:$port API_RATE_PER_TOKEN=0 \
		bin/treffpunkt serve --no-migrate --no-workers >/dev/null 2>"$tmp/app-$port.log" &
	pids+=("$!")
	urls+=("http://127.0.0.1:$port")
done
for u in "${urls[@]}"; do
	for _ in $(seq 100); do curl -fs "$u/readyz" >/dev/null && break; sleep 0.1; done
done
# Warm up on the first 2,000 codes, then measure on the rest.
head -n 2000 "$tmp/codes" | bin/doorload -urls "$(IFS=,; echo "${urls[*]}")" -tokens "$(IFS=,; echo "${tokens[*]}")" -event door-bench -c "$K" >/dev/null || true
# CPU time (clock ticks) of processes: their own and, for the postmaster,
# that of its reaped children; live backends are counted by their own.
# sys_ticks is the part spent in the kernel (system calls: sockets, fsync).
ticks() { local t=0 p; for p in "$@"; do [[ -r /proc/$p/stat ]] && t=$((t + $(awk '{print $14+$15+$16+$17}' "/proc/$p/stat"))); done; echo "$t"; }
sys_ticks() { local t=0 p; for p in "$@"; do [[ -r /proc/$p/stat ]] && t=$((t + $(awk '{print $15+$17}' "/proc/$p/stat"))); done; echo "$t"; }
pg_pids() { local pm; pm=$(head -n1 "$tmp/data/postmaster.pid"); echo "$pm" $(pgrep -P "$pm"); }
app0=$(ticks "${pids[@]}"); pg0=$(ticks $(pg_pids)); t0=$(date +%s.%N)
apps0=$(sys_ticks "${pids[@]}"); pgs0=$(sys_ticks $(pg_pids))
tail -n +2001 "$tmp/codes" | bin/doorload -urls "$(IFS=,; echo "${urls[*]}")" -tokens "$(IFS=,; echo "${tokens[*]}")" -event door-bench -c "$K" -rate "${RATE:-0}"
app1=$(ticks "${pids[@]}"); pg1=$(ticks $(pg_pids))
apps1=$(sys_ticks "${pids[@]}"); pgs1=$(sys_ticks $(pg_pids))
n=$((N - 2000)) hz=$(getconf CLK_TCK)
awk -v a=$((app1 - app0)) -v p=$((pg1 - pg0)) -v as=$((apps1 - apps0)) -v ps=$((pgs1 - pgs0)) -v n="$n" -v hz="$hz" -v c="$(nproc)" 'BEGIN {
	a = a * 1000 / hz / n; p = p * 1000 / hz / n; as = as * 1000 / hz / n; ps = ps * 1000 / hz / n
	printf "CPU per check-in: app %.2f ms (kernel %.2f), PostgreSQL %.2f ms (kernel %.2f); both: %.2f ms, a ceiling of about %d check-ins/s on %d cores without the load tool\n", a, as, p, ps, a + p, c * 1000 / (a + p), c }'
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
