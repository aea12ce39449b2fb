#!/usr/bin/env bash
# scripts/bench-rush-cpu.sh TREE LABEL — the registration rush of the build in
# TREE with CPU per sign-up (app, PostgreSQL, load tool), for side-by-side
# runs of two builds in one sitting (docs/performance.md, issue 17).
# Private PostgreSQL (fsync on) on 18120, two instances serve --no-workers on
# 18121/18122 (as make bench-rush), loadgen API N then form FORM_N (0: none).
# The helpers come from this checkout's scripts/bench-lib.sh, so TREE may be
# an older build without it.
set -euo pipefail
TREE=$1 LABEL=$2
N=${N:-20000} FORM_N=${FORM_N:-10000} C=${C:-1000} K=${K:-256}
# shellcheck source=scripts/bench-lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/bench-lib.sh"
trap bench_cleanup EXIT
cd "$TREE"
go build -o bin/treffpunkt ./cmd/treffpunkt && go build -o bin/loadgen ./cmd/loadgen
bench_pg_start 18120
bin/treffpunkt migrate >/dev/null
bin/treffpunkt org add --slug rush --name "Rush e. V." >/dev/null
TOKEN=$(bin/treffpunkt token add --org rush --role organiser --name bench | tail -n1)
for port in 18121 18122; do
	SIGNUP_RATE_PER_IP=0 SECRET_KEY=bench-secret-key-0123456789abcdef0123456789 bench_app_start "$port" --no-workers
done
bench_apps_ready
ul=$(bench_urls)
# warm-up
bin/loadgen -urls "$ul" -token "$TOKEN" -org rush -capacity 100 -n 1000 -c 64 >/dev/null
modes="api form"
[[ $FORM_N == 0 ]] && modes=api
for mode in $modes; do
	n=$N flag=()
	[[ $mode == form ]] && n=$FORM_N flag=(-form)
	bench_cpu_start
	out=$(bench_timed bin/loadgen -urls "$ul" -token "$TOKEN" -org rush -capacity "$C" -n "$n" -c "$K" "${flag[@]}" 2>&1)
	bench_cpu_stop "$n"
	rate=$(echo "$out" | awk '/sign-ups\/s/ {print $(NF-1)}')
	lat=$(echo "$out" | awk '/^latency/ {print "p50", $3, "p99", $7}')
	ok=$(echo "$out" | grep -c "^stored" || true)
	printf "%-8s %-4s %7s/s  %-26s CPU/op: app %4s µs  pg %4s µs  loadgen %4s µs  checked:%s\n" \
		"$LABEL" "$mode" "$rate" "$lat" "$BENCH_APP_US" "$BENCH_PG_US" "$BENCH_LOAD_US" "$ok"
	echo "$out" | grep -i "oversold\|error\|fail" | head -3 || true
done
rss=$(bench_rss)
for i in 0 1; do printf "%s instance %d peak RSS %s MB\n" "$LABEL" "$i" "$(echo "$rss" | cut -d/ -f$((i + 1)))"; done
