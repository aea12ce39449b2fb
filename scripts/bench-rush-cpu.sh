#!/usr/bin/env bash
# scripts/bench-rush-cpu.sh TREE LABEL — the registration rush of the build in
# TREE with CPU per sign-up (app, PostgreSQL, load tool), for side-by-side
# runs of two builds in one sitting (docs/performance.md, issue 17).
# Private PostgreSQL (fsync on) on 18120, two instances serve --no-workers on
# 18121/18122 (as make bench-rush), loadgen API N then form FORM_N (0: none).
set -euo pipefail
TREE=$1 LABEL=$2
N=${N:-20000} FORM_N=${FORM_N:-10000} C=${C:-1000} K=${K:-256}
PG_BIN=/usr/lib/postgresql/15/bin
cd "$TREE"
go build -o bin/treffpunkt ./cmd/treffpunkt && go build -o bin/loadgen ./cmd/loadgen
tmp=$(mktemp -d /tmp/sbs.XXXXXX); chown postgres "$tmp"
as_pg() { runuser -u postgres -- "$@"; }
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true
  as_pg $PG_BIN/pg_ctl -D "$tmp/data" -m fast -w stop >/dev/null 2>&1 || true; rm -rf "$tmp"; }
trap cleanup EXIT
as_pg $PG_BIN/initdb -D "$tmp/data" -U postgres --auth=trust --encoding=UTF8 >/dev/null
as_pg $PG_BIN/pg_ctl -D "$tmp/data" -l "$tmp/pg.log" -w start -o "-c listen_addresses=127.0.0.1 -c port=18120 -c unix_socket_directories=$tmp -c max_connections=200" >/dev/null
export DATABASE_URL="postgres://postgres@127.0.0.1:18120/postgres?sslmode=disable"
bin/treffpunkt migrate >/dev/null
bin/treffpunkt org add --slug rush --name "Rush e. V." >/dev/null
TOKEN=$(bin/treffpunkt token add --org rush --role organiser --name bench | tail -n1)
urls=()
for port in 18121 18122; do
  LISTEN_ADDR=127.0.0.1:$port BASE_URL=http://127.0.0.1:$port SIGNUP_RATE_PER_IP=0 SECRET_KEY=bench-secret-key-0123456789abcdef0123456789 \
    bin/treffpunkt serve --no-migrate --no-workers >/dev/null 2>"$tmp/app-$port.log" &
  pids+=("$!"); urls+=("http://127.0.0.1:$port")
done
for u in "${urls[@]}"; do for _ in $(seq 100); do curl -fs "$u/readyz" >/dev/null && break; sleep 0.1; done; done
ul=$(IFS=,; echo "${urls[*]}")
ticks() { local t=0 p; for p in "$@"; do [[ -r /proc/$p/stat ]] && t=$((t + $(awk '{print $14+$15+$16+$17}' "/proc/$p/stat"))); done; echo "$t"; }
pg_pids() { local pm; pm=$(head -n1 "$tmp/data/postmaster.pid"); echo "$pm" $(pgrep -P "$pm"); }
hz=$(getconf CLK_TCK)
# warm-up
bin/loadgen -urls "$ul" -token "$TOKEN" -org rush -capacity 100 -n 1000 -c 64 >/dev/null
modes="api form"; [[ $FORM_N == 0 ]] && modes=api
for mode in $modes; do
  n=$N; flag=""; [[ $mode == form ]] && { n=$FORM_N; flag=-form; }
  a0=$(ticks "${pids[@]}"); p0=$(ticks $(pg_pids))
  out=$( { /usr/bin/time -f "LG %U %S" bin/loadgen -urls "$ul" -token "$TOKEN" -org rush -capacity "$C" -n "$n" -c "$K" $flag; } 2>&1 )
  a1=$(ticks "${pids[@]}"); p1=$(ticks $(pg_pids))
  rate=$(echo "$out" | awk '/sign-ups\/s/ {print $(NF-1)}')
  lat=$(echo "$out" | awk '/^latency/ {print "p50", $3, "p99", $7}')
  lg=$(echo "$out" | awk '/^LG/ {print ($2+$3)}')
  ok=$(echo "$out" | grep -c "^stored" || true)
  awk -v L="$LABEL" -v m="$mode" -v r="$rate" -v lat="$lat" -v a=$((a1-a0)) -v p=$((p1-p0)) -v g="$lg" -v n="$n" -v hz="$hz" -v ok="$ok" 'BEGIN {
    printf "%-8s %-4s %7s/s  %-26s CPU/op: app %4.0f µs  pg %4.0f µs  loadgen %4.0f µs  checked:%s\n", L, m, r, lat, a*1e6/hz/n, p*1e6/hz/n, g*1e6/n, ok }'
  echo "$out" | grep -i "oversold\|error\|fail" | head -3 || true
done
for i in "${!pids[@]}"; do printf "%s instance %d peak RSS %s\n" "$LABEL" "$i" "$(awk '/VmHWM/ {printf "%.0f MB", $2/1024}' /proc/${pids[$i]}/status)"; done
