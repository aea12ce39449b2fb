#!/usr/bin/env bash
# scripts/bench.sh — `make bench`: what each kind of operation costs, in one
# table (issue 22, docs/performance.md "make bench").
#
# A private PostgreSQL 15 cluster (fsync and synchronous_commit on, as
# deployed) on 127.0.0.1:18140, the app built once, cmd/smtpsink on 18145
# (accepts every message and discards it; its CPU is not counted), and
# `treffpunkt serve` with its workers on — the mail sender handing every
# confirmation to the sink — on 18141/18142, fresh instances for each row:
#
#   rush API, mail on        cmd/loadgen, JSON API, 2 instances; CPU counted
#                            until the outbox is empty (the mails included)
#   rush form, mail on       the same through the HTML form
#   rush API, --no-workers   as `make bench-rush` runs it (no mail sent)
#   naive baseline           pgbench: one transaction per sign-up locking
#                            the event row (bench-rush's); the sign-up rows
#                            show their ratio to it
#   check-in, 1 / 2 inst.    cmd/doorload, each ticket once
#   feed public / 304 /      hey on /calendar.ics (full GET, and
#   personal                 If-None-Match answered 304) and on a personal
#                            feed /feeds/{token}.ics
#   outbox drain             N confirmations queued by 2 instances
#                            --no-workers, then one instance with its sender
#                            on started: time and CPU until all are sent
#
# Columns: ops/s, p50 and p99 in ms, CPU µs per operation of the app
# instances, of PostgreSQL and of the load tool (/proc ticks and
# /usr/bin/time; scripts/bench-lib.sh), each instance's peak RSS (VmHWM) in
# MB, the ratio to the naive baseline, and the row's check. The table goes to
# stdout and var/bench/last.txt, with the commands of each row.
#
# Knobs (defaults; BENCH_QUICK=1 for a smoke run of about a minute):
#   N=20000 FORM_N=10000 C=1000 K=256 WARM=1000    rush sign-ups, capacity, clients, warm-up
#   BASELINE_SECONDS=10                            pgbench time
#   CHECKIN_N=20000 CHECKIN_WARM=2000 CHECKIN_K=16 T=8   scans per row, warm-up, clients, door tokens
#   FEED_EVENTS=1000 FEED_SECONDS=10 FEED_C=16     events in the public feed, hey's time and workers
#   DRAIN_N=2000                                   confirmations to drain
#   DRAIN_TIMEOUT=600                              seconds to wait for an outbox to empty
#   BENCH_PROFILE=DIR                              also a CPU profile of instance 1 and
#                                                  pg_stat_statements per row, in DIR
#                                                  (BENCH_PROFILE_SECONDS=10 of each row)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if [[ -n ${BENCH_QUICK:-} ]]; then
	: "${N:=1000}" "${FORM_N:=500}" "${C:=200}" "${K:=64}" "${WARM:=100}" "${BASELINE_SECONDS:=3}"
	: "${CHECKIN_N:=1000}" "${CHECKIN_WARM:=200}" "${T:=4}" "${FEED_EVENTS:=100}" "${FEED_SECONDS:=2}" "${DRAIN_N:=200}"
fi
N=${N:-20000} FORM_N=${FORM_N:-10000} C=${C:-1000} K=${K:-256} WARM=${WARM:-1000}
BASELINE_SECONDS=${BASELINE_SECONDS:-10}
CHECKIN_N=${CHECKIN_N:-20000} CHECKIN_WARM=${CHECKIN_WARM:-2000} CHECKIN_K=${CHECKIN_K:-16} T=${T:-8}
FEED_EVENTS=${FEED_EVENTS:-1000} FEED_SECONDS=${FEED_SECONDS:-10} FEED_C=${FEED_C:-16}
DRAIN_N=${DRAIN_N:-2000} DRAIN_TIMEOUT=${DRAIN_TIMEOUT:-600}
PG_PORT=18140 PORTS=(18141 18142) SMTP_PORT=18145

# shellcheck source=scripts/bench-lib.sh
. scripts/bench-lib.sh
trap bench_cleanup EXIT
for p in "$PG_PORT" "${PORTS[@]}" "$SMTP_PORT"; do
	bench_port_free "$p" || { echo "bench: port $p is in use; is another make bench running?" >&2; exit 1; }
done

go build -o bin/treffpunkt ./cmd/treffpunkt
go build -o bin/loadgen ./cmd/loadgen
go build -o bin/doorload ./cmd/doorload
go build -o bin/smtpsink ./cmd/smtpsink

bench_pg_start "$PG_PORT"
echo "fsync: $(psql -qtA "$DATABASE_URL" -c 'SHOW fsync'), synchronous_commit: $(psql -qtA "$DATABASE_URL" -c 'SHOW synchronous_commit'), $(nproc) cores, $(uptime | sed 's/.*load/load/')"
bin/treffpunkt migrate >/dev/null
[[ -n ${BENCH_PROFILE:-} ]] && psql -qtA "$DATABASE_URL" -c 'CREATE EXTENSION pg_stat_statements' >/dev/null
bin/treffpunkt org add --slug bench --name "Bench e. V." >/dev/null
TOKEN=$(bin/treffpunkt token add --org bench --role organiser --name bench | tail -n1)
DOOR_TOKENS=$(bench_door_tokens bench "$T")

bench_poll_start
bin/smtpsink -addr "127.0.0.1:$SMTP_PORT" >"$BENCH_TMP/smtpsink.out" 2>&1 &
SINK_PID=$!
BENCH_PIDS+=("$SINK_PID")
# As deployed, but without the per-client limits a load tool on one address
# would hit at once.
export SMTP_URL=smtp://127.0.0.1:$SMTP_PORT SECRET_KEY=bench-secret-key-0123456789abcdef0123456789
export SIGNUP_RATE_PER_IP=0 SIGNUP_RATE_PER_EMAIL=0 API_RATE_PER_TOKEN=0

# start_apps COUNT [SERVE FLAGS]: fresh instances, so that each row's peak
# RSS is its own.
start_apps() {
	local count=$1 i
	shift
	for ((i = 0; i < count; i++)); do bench_app_start "${PORTS[$i]}" "$@"; done
	bench_apps_ready
}

# wait_outbox [SQL CONDITION]: until no mail (that meets the condition) is
# queued or being sent; prints the seconds it waited. A wait of over 30 s
# shows on stderr what is left, once.
wait_outbox() {
	local t0 left told=""
	t0=$(date +%s.%N)
	while :; do
		left=$(bench_poll "SELECT count(*) FROM mail_outbox WHERE status IN ('queued', 'sending') ${1:-}")
		[[ $left == 0 ]] && break
		if [[ -z $told ]] && awk -v t0="$t0" -v now="$(date +%s.%N)" 'BEGIN {exit !(now - t0 > 30)}'; then
			told=1
			echo "bench: after 30 s $left mails are left:" >&2
			psql -q "$DATABASE_URL" -c "SELECT kind, status, attempts, round(extract(epoch FROM next_attempt_at - now())) AS due_in_s, left(last_error, 60) AS last_error, count(*)
				FROM mail_outbox WHERE status IN ('queued', 'sending') GROUP BY 1, 2, 3, 4, 5" >&2
		fi
		if awk -v t0="$t0" -v now="$(date +%s.%N)" -v max="$DRAIN_TIMEOUT" 'BEGIN {exit !(now - t0 > max)}'; then
			echo "bench: $left mails still queued after ${DRAIN_TIMEOUT}s" >&2
			break
		fi
		sleep 0.2
	done
	awk -v t0="$t0" -v now="$(date +%s.%N)" 'BEGIN {printf "%.1f", now - t0}'
}

# stop_apps: bench_apps_stop once the outbox is empty: an instance stopped
# while its sender holds a batch leaves those mails claimed until the claim's
# lease (5 minutes) runs out, and the next row would wait for them.
stop_apps() {
	wait_outbox >/dev/null
	bench_apps_stop
}

failed_mails() { psql -qtA "$DATABASE_URL" -c "SELECT count(*) FROM mail_outbox WHERE status = 'failed'"; }

# Go durations (850µs, 44.6ms, 1.2s) in milliseconds.
go_ms() { awk -v d="$1" 'BEGIN {
	if (d ~ /µs$/) v = d / 1000; else if (d ~ /ms$/) v = d + 0; else if (d ~ /ns$/) v = d / 1e6; else if (d ~ /s$/) v = d * 1000; else { print "-"; exit }
	printf "%.1f", v }'; }

ROWS=()
CMDS=()
# shown NAME CMD…: the command line of a row for the table's footer, an
# argument with a space in quotes.
shown() {
	local name=$1 a out=()
	shift
	for a in "$@"; do if [[ $a == *' '* ]]; then out+=("'$a'"); else out+=("$a"); fi; done
	CMDS+=("$name: ${out[*]}")
}
# add_row NAME OPS P50 P99 RSS RATIO? CHECK: the CPU columns come from the
# last bench_cpu_stop; an empty figure (hey prints no 99 % of a few
# requests) shows as "-". RATIO "r" is worked out against the baseline at
# the end.
add_row() {
	local app=$BENCH_APP_US
	[[ -z $5 ]] && app=-
	bench_profile_save "$1"
	ROWS+=("$1|${2:--}|${3:--}|${4:--}|$app|$BENCH_PG_US|$BENCH_LOAD_US|${5:--}|$6|$7")
}

rush_row() {
	local name=$1 slug=$2 flag=$3 n=$4 workers=$5 out rc=0 lag=- rate p50 p99 check
	local serve=() warm=(bin/loadgen -urls "" -token "$TOKEN" -org bench -slug "$slug-warm" -capacity 100 -n "$WARM" -c 64)
	[[ $workers == off ]] && serve=(--no-workers)
	start_apps 2 "${serve[@]}"
	warm[2]=$(bench_urls)
	[[ -n $flag ]] && warm+=("$flag")
	"${warm[@]}" >/dev/null
	[[ $workers == on ]] && wait_outbox >/dev/null
	# shellcheck disable=SC2016 # shown as $TOKEN in the commands
	local cmd=(bin/loadgen -urls "$(bench_urls)" -token '$TOKEN' -org bench -slug "$slug" -capacity "$C" -n "$n" -c "$K")
	[[ -n $flag ]] && cmd+=("$flag")
	shown "$name" "${cmd[@]}"
	cmd[4]=$TOKEN
	bench_cpu_start
	out=$(bench_timed "${cmd[@]}" 2>&1) || rc=$?
	[[ $workers == on ]] && lag=$(wait_outbox)
	bench_cpu_stop "$n"
	echo "== $name (${SECONDS}s into the run)"
	echo "$out"
	[[ $workers == on ]] && echo "mail: outbox empty ${lag}s after the last sign-up, $(failed_mails) failed"
	rate=$(echo "$out" | awk '/sign-ups\/s/ {print $(NF-1)}')
	p50=$(go_ms "$(echo "$out" | awk '/^latency/ {print $3}')")
	p99=$(go_ms "$(echo "$out" | awk '/^latency/ {print $7}')")
	check=FAIL
	[[ $rc == 0 ]] && echo "$out" | grep -q '^check: OK' && check=OK
	[[ $workers == on && $(failed_mails) != 0 ]] && check="FAIL(mail)"
	add_row "$name" "${rate:--}" "$p50" "$p99" "$(bench_rss)" r "$check"
	if [[ $workers == on ]]; then stop_apps; else bench_apps_stop; fi
}

rush_row "rush API, 2 inst., mail on" rush-api "" "$N" on
rush_row "rush form, 2 inst., mail on" rush-form -form "$FORM_N" on
rush_row "rush API, 2 inst., --no-workers" rush-noworkers "" "$N" off
# That row queued its mails and sent none: they go, or the senders of the
# rows after it would send them on those rows' CPU.
psql -q "$DATABASE_URL" -c "DELETE FROM mail_outbox WHERE status = 'queued'"

echo "== naive baseline (pgbench, 16 clients, ${BASELINE_SECONDS}s)"
bench_cpu_start
bench_naive_baseline "$DATABASE_URL" "$BASELINE_SECONDS"
bench_pg_quiet
bench_cpu_stop "${BENCH_BASELINE_N:-0}"
echo "baseline: ${BENCH_BASELINE} sign-ups/s (${BENCH_BASELINE_N} transactions)"
add_row "naive baseline (pgbench)" "$BENCH_BASELINE" - - "" 1.0 -
CMDS+=("naive baseline: pgbench -n -c 16 -j 2 -T $BASELINE_SECONDS -f <UPDATE events … + INSERT registrations> (scripts/bench-lib.sh)")

echo "== check-in: $((2 * (CHECKIN_WARM + CHECKIN_N))) tickets"
codes=$BENCH_TMP/codes
bench_checkin_event bench door-bench "$((2 * (CHECKIN_WARM + CHECKIN_N)))" "$codes"
checkin_row() {
	local inst=$1 first=$2 out rc=0 before stored rate p50 p99 check
	start_apps "$inst"
	# shellcheck disable=SC2016 # shown as $DOOR_TOKENS in the commands
	local cmd=(bin/doorload -urls "$(bench_urls)" -tokens '$DOOR_TOKENS' -event door-bench -c "$CHECKIN_K")
	CMDS+=("check-in, $inst inst.: ${cmd[*]} <codes")
	cmd[4]=$DOOR_TOKENS
	sed -n "${first},$((first + CHECKIN_WARM - 1))p" "$codes" | "${cmd[@]}" >/dev/null || true
	before=$(psql -qtA "$DATABASE_URL" -c 'SELECT count(*) FROM checkins')
	bench_cpu_start
	out=$(sed -n "$((first + CHECKIN_WARM)),$((first + CHECKIN_WARM + CHECKIN_N - 1))p" "$codes" | bench_timed "${cmd[@]}" 2>&1) || rc=$?
	bench_cpu_stop "$CHECKIN_N"
	echo "== check-in, $inst instance(s) (${SECONDS}s into the run)"
	echo "$out"
	stored=$(($(psql -qtA "$DATABASE_URL" -c 'SELECT count(DISTINCT ticket_id) FROM checkins') - before))
	rate=$(echo "$out" | awk '{for (i = 2; i <= NF; i++) if ($i == "check-ins/s") print $(i-1)}')
	p50=$(echo "$out" | awk '/^latency/ {print $3}')
	p99=$(echo "$out" | awk '/^latency/ {print $9}')
	check=FAIL
	[[ $rc == 0 && $stored == "$CHECKIN_N" ]] && check=OK
	add_row "check-in, $inst inst." "${rate:--}" "${p50:--}" "${p99:--}" "$(bench_rss)" - "$check"
	stop_apps
}
checkin_row 1 1
checkin_row 2 $((CHECKIN_WARM + CHECKIN_N + 1))

echo "== feeds: $FEED_EVENTS events"
psql -q "$DATABASE_URL" <<SQL
INSERT INTO venues (org_id, name, street, postcode, city)
SELECT id, 'Kulturzentrum Faust', 'Zur Bettfedernfabrik 3', '30451', 'Hannover' FROM organisations WHERE slug = 'bench';
INSERT INTO events (org_id, slug, kind, default_lang, title, description, starts_at, ends_at, all_day, venue_id, status)
SELECT v.org_id, 'veranstaltung-' || i, 'other', 'de',
       jsonb_build_object('de', 'Veranstaltung ' || i || ': Gespräch über Teilhabe, Arbeit und Wohnen'),
       jsonb_build_object('de', E'Wir laden herzlich ein.\n\nEs gibt Getränke, Essen und Musik.'),
       now() + i * interval '7 hours', now() + i * interval '7 hours' + interval '3 hours',
       i % 10 = 0, v.id, 'published'
FROM venues v, generate_series(1, $FEED_EVENTS) AS i;
SQL
start_apps 1
u=${APP_URLS[0]}
# A personal feed: a sign-up through the API, then the registration page's
# "create a calendar link" as a browser does it; the link's token comes back
# in the tp_feed cookie.
start=$(date -u -d '+30 days' +%Y-%m-%dT10:00:00Z) end=$(date -u -d '+30 days' +%Y-%m-%dT16:00:00Z)
curl -fsS -o /dev/null -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
	-d "{\"slug\":\"feed-personal\",\"kind\":\"festival\",\"status\":\"published\",\"title\":{\"de\":\"Fest\"},\"starts_at\":\"$start\",\"ends_at\":\"$end\",\"capacity\":100,\"waitlist\":true,\"max_party_size\":1}" \
	"$u/api/v1/orgs/bench/events"
manage=$(curl -fsS -H 'Content-Type: application/json' -d '{"name":"Feed Person","email":"feed@example.org","party_size":1,"consent":true}' \
	"$u/api/v1/events/feed-personal/registrations" | python3 -c 'import json, sys; print(json.load(sys.stdin)["manage_url"])')
jar=$BENCH_TMP/cookies
csrf=$(curl -fsS -c "$jar" "$manage" | sed -n 's/.*name="csrf_token" value="\([^"]*\)".*/\1/p' | head -n1 | sed 's/&#43;/+/g')
curl -fsS -o /dev/null -b "$jar" -c "$jar" -H "Origin: $u" --data-urlencode "csrf_token=$csrf" -d action=create "$manage/calendar"
personal=$(awk '$6 == "tp_feed" {print $7}' "$jar")
[[ -n $personal ]] || { echo "bench: no personal feed link" >&2; exit 1; }
etag=$(curl -fsS -o /dev/null -D - "$u/calendar.ics" | awk -F': ' 'tolower($1) == "etag" {print $2}' | tr -d '\r')

feed_row() {
	local name=$1 path=$2 want=$3 out n codes check
	shift 3
	local cmd=(hey -z "${FEED_SECONDS}s" -c "$FEED_C" "$@" "$u$path")
	shown "$name" "${cmd[@]}"
	bench_cpu_start
	out=$(bench_timed "${cmd[@]}")
	n=$(echo "$out" | awk '/^ *\[[0-9]+\]/ {s += $2} END {print s + 0}')
	bench_cpu_stop "$n"
	codes=$(echo "$out" | awk '/^ *\[[0-9]+\]/ {printf "%s%s", sep, $1; sep = ","}')
	echo "== $name: $n requests, status $codes (${SECONDS}s into the run)"
	check=FAIL
	[[ $codes == "[$want]" ]] && check=OK
	add_row "$name" "$(echo "$out" | awk '/Requests\/sec/ {printf "%.0f", $2}')" \
		"$(echo "$out" | awk '$1 == "50%" {printf "%.1f", $3 * 1000}')" \
		"$(echo "$out" | awk '$1 == "99%" {printf "%.1f", $3 * 1000}')" "$(bench_rss)" - "$check"
}
feed_row "feed public, $FEED_EVENTS events" /calendar.ics 200
feed_row "feed public, 304" /calendar.ics 304 -H "If-None-Match: $etag"
# The token is a secret: the command line shown names the route only.
feed_row "feed personal" "/feeds/$personal.ics" 200
hidden='{token}'
CMDS[-1]=${CMDS[-1]/"$personal"/$hidden}
stop_apps

echo "== outbox drain: $DRAIN_N confirmations"
start_apps 2 --no-workers
bin/loadgen -urls "$(bench_urls)" -token "$TOKEN" -org bench -slug drain -capacity "$DRAIN_N" -n "$DRAIN_N" -c 64 >/dev/null
bench_apps_stop
queued=$(psql -qtA "$DATABASE_URL" -c "SELECT count(*) FROM mail_outbox WHERE status = 'queued'")
CMDS+=("outbox drain: bin/loadgen … -slug drain -capacity $DRAIN_N -n $DRAIN_N against 2 × serve --no-workers; then 1 × serve (sender on) until they are sent")
drain_mails="AND kind = 'confirmed' AND event_id = (SELECT id FROM events WHERE slug = 'drain')"
bench_cpu_start
t0=$(date +%s.%N)
bench_app_start "${PORTS[0]}"
wait_outbox "$drain_mails" >/dev/null
bench_cpu_stop "$DRAIN_N"
read -r sent secs < <(psql -qtA -F ' ' "$DATABASE_URL" -c "SELECT count(*), round((extract(epoch FROM max(sent_at)) - $t0)::numeric, 2)
	FROM mail_outbox WHERE status = 'sent' $drain_mails")
echo "$sent of $DRAIN_N sent ${secs}s after the instance was started ($queued were queued in all), $(failed_mails) failed (${SECONDS}s into the run)"
check=FAIL
[[ $sent == "$DRAIN_N" ]] && check=OK
add_row "outbox drain, 1 inst." "$(awk -v n="$sent" -v s="$secs" 'BEGIN {printf "%.0f", n / s}')" - - "$(bench_rss)" - "$check"
bench_apps_stop

kill "$SINK_PID"
wait "$SINK_PID" || true

mkdir -p var/bench
{
	echo "make bench, $(date -u '+%Y-%m-%d %H:%M UTC'), $(git rev-parse --short HEAD 2>/dev/null || echo '?'), $(nproc) cores, $(uptime | sed 's/.*load/load/')${BENCH_QUICK:+, BENCH_QUICK=1 (smoke run)}, ${SECONDS}s"
	echo "N=$N FORM_N=$FORM_N C=$C K=$K WARM=$WARM BASELINE_SECONDS=$BASELINE_SECONDS CHECKIN_N=$CHECKIN_N CHECKIN_K=$CHECKIN_K T=$T FEED_EVENTS=$FEED_EVENTS FEED_SECONDS=$FEED_SECONDS FEED_C=$FEED_C DRAIN_N=$DRAIN_N"
	cat "$BENCH_TMP/smtpsink.out"
	echo
	printf '%-34s %8s %8s %8s %8s %8s %8s %9s %7s %s\n' "" "" "p50" "p99" "app" "PG" "tool" "RSS MB" "×" ""
	printf '%-34s %8s %8s %8s %8s %8s %8s %9s %7s %s\n' "row" "ops/s" "ms" "ms" "µs/op" "µs/op" "µs/op" "per inst" "naive" "check"
	for r in "${ROWS[@]}"; do
		IFS='|' read -r name ops p50 p99 app pg tool rss ratio check <<<"$r"
		[[ $ratio == r ]] && ratio=$(awk -v a="$ops" -v b="$BENCH_BASELINE" 'BEGIN {if (b > 0 && a + 0 > 0) printf "%.1f", a / b; else print "-"}')
		printf '%-34s %8s %8s %8s %8s %8s %8s %9s %7s %s\n' "$name" "$ops" "$p50" "$p99" "$app" "$pg" "$tool" "$rss" "$ratio" "$check"
	done
	echo
	echo "Commands (scripts/bench.sh; \$TOKEN an organiser token, \$DOOR_TOKENS door tokens):"
	printf '  %s\n' "${CMDS[@]}"
} | tee var/bench/last.txt
