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
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

N=${N:-20000}
C=${C:-1000}
K=${K:-256}
FORM_N=${FORM_N:-10000}
SECONDS_BASELINE=${SECONDS_BASELINE:-10}
SESSIONS=${SESSIONS:-0}
PORTS=(18181 18182)
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}

go build -o bin/treffpunkt ./cmd/treffpunkt
go build -o bin/loadgen ./cmd/loadgen

dev_url=$(scripts/pg.sh dev-start | tail -n1)
admin_url=${dev_url%/*}/postgres?sslmode=disable
psql -q "$admin_url" -c 'DROP DATABASE IF EXISTS treffpunkt_bench WITH (FORCE)' -c 'CREATE DATABASE treffpunkt_bench'
export DATABASE_URL=${dev_url%/*}/treffpunkt_bench?sslmode=disable
echo "fsync: $(psql -qtA "$DATABASE_URL" -c 'SHOW fsync'), synchronous_commit: $(psql -qtA "$DATABASE_URL" -c 'SHOW synchronous_commit')"

bin/treffpunkt migrate >/dev/null
bin/treffpunkt org add --slug rush --name "Rush e. V." >/dev/null
TOKEN=$(bin/treffpunkt token add --org rush --role organiser --name bench | tail -n1)

pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
}
trap cleanup EXIT
urls=()
for port in "${PORTS[@]}"; do
	LISTEN_ADDR=127.0.0.1:$port BASE_URL=http://127.0.0.1:$port SIGNUP_RATE_PER_IP=0 \
		bin/treffpunkt serve --no-migrate --no-workers >/dev/null 2>"var/bench-$port.log" &
	pids+=("$!")
	urls+=("http://127.0.0.1:$port")
done
for u in "${urls[@]}"; do
	for _ in $(seq 50); do curl -fs "$u/readyz" >/dev/null && break; sleep 0.1; done
done
url_list=$(IFS=,; echo "${urls[*]}")

# /metrics during the rush: the sign-up counters of each instance, sampled
# while the API run is under way and after it.
scrape() {
	for u in "${urls[@]}"; do
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
for i in "${!pids[@]}"; do
	echo "instance ${PORTS[$i]}: peak RSS $(awk '/VmHWM/ {printf "%.1f MB", $2/1024}' "/proc/${pids[$i]}/status")"
done

echo
echo "== naive baseline: pgbench, one transaction per sign-up on one event row, 16 clients, ${SECONDS_BASELINE}s =="
event_id=$(psql -qtA "$DATABASE_URL" -c "SELECT id FROM events ORDER BY id LIMIT 1")
psql -q "$DATABASE_URL" -c "UPDATE events SET capacity = NULL WHERE id = $event_id"
script=$(mktemp)
cat >"$script" <<SQL
BEGIN;
UPDATE events SET seats_confirmed = seats_confirmed + 1 WHERE id = $event_id;
INSERT INTO registrations (event_id, name, email, lang, party_size, status, manage_nonce, manage_hash, consent_at)
VALUES ($event_id, 'Baseline', 'b' || :client_id || '-' || random() || '@example.org', 'de', 1, 'confirmed', decode(md5(random()::text), 'hex'), sha256(decode(md5(random()::text), 'hex')), now());
COMMIT;
SQL
baseline=$("$PG_BIN/pgbench" -n -c 16 -j 2 -T "$SECONDS_BASELINE" -f "$script" "$DATABASE_URL" 2>/dev/null | awk '/^tps/ {print $3; exit}')
rm -f "$script"
echo "baseline: ${baseline} sign-ups/s"
rate=$(echo "$api_out" | awk '/sign-ups\/s/ {print $(NF-1)}')
echo
echo "JSON API ${rate}/s vs naive ${baseline}/s: ratio $(awk -v a="$rate" -v b="$baseline" 'BEGIN {printf "%.1f", a/b}')x"
