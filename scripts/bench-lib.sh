# shellcheck shell=bash
# shellcheck disable=SC2034 # the BENCH_ results are read by the scripts that source this
# scripts/bench-lib.sh — sourced by the benchmark scripts (bench.sh,
# bench-rush.sh, bench-rush-cpu.sh, bench-checkin.sh): a private PostgreSQL
# cluster, app instances started and stopped by their PIDs, and CPU time per
# operation from /proc, split into app, PostgreSQL and load tool.
#
# The caller sets `trap bench_cleanup EXIT` after sourcing; every process
# started here is stopped by its PID there.

BENCH_PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
BENCH_HZ=$(getconf CLK_TCK)
BENCH_TMP=$(mktemp -d /tmp/treffpunkt-bench.XXXXXX)
BENCH_PG_DATA=""
APP_PIDS=()
APP_URLS=()
# Other processes of the caller's (an SMTP sink) that cleanup stops.
BENCH_PIDS=()

# PostgreSQL refuses to run as root: as root, it runs as postgres.
bench_as_pg() { if [[ $(id -u) == 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi; }
[[ $(id -u) == 0 ]] && chown postgres "$BENCH_TMP"

# bench_port_free PORT: true if nothing listens on 127.0.0.1:PORT.
bench_port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# bench_pg_start PORT [SERVER OPTIONS]: a fresh cluster in BENCH_TMP with the
# defaults of a deployment (fsync and synchronous_commit on); exports
# DATABASE_URL for its postgres database.
bench_pg_start() {
	local port=$1
	shift
	BENCH_PG_DATA=$BENCH_TMP/data
	bench_as_pg "$BENCH_PG_BIN/initdb" -D "$BENCH_PG_DATA" -U postgres --auth=trust --encoding=UTF8 >/dev/null
	local pgss=""
	[[ -n ${BENCH_PROFILE:-} ]] && pgss="-c shared_preload_libraries=pg_stat_statements"
	bench_as_pg "$BENCH_PG_BIN/pg_ctl" -D "$BENCH_PG_DATA" -l "$BENCH_TMP/pg.log" -w start \
		-o "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$BENCH_TMP -c max_connections=200 $pgss $*" >/dev/null
	export DATABASE_URL="postgres://postgres@127.0.0.1:$port/postgres?sslmode=disable"
}

# bench_app_start PORT [SERVE FLAGS]: one `treffpunkt serve` on PORT with the
# caller's environment (SMTP_URL, rate limits, …); its log goes to
# BENCH_LOG_DIR (default BENCH_TMP). bench_apps_ready waits for all.
bench_app_start() {
	local port=$1
	shift
	local pprof=${PPROF_ADDR:-}
	[[ -n ${BENCH_PROFILE:-} ]] && pprof=127.0.0.1:$((port + 10))
	PPROF_ADDR=$pprof LISTEN_ADDR=127.0.0.1:$port BASE_URL=http://127.0.0.1:$port \
		bin/treffpunkt serve --no-migrate "$@" >/dev/null 2>"${BENCH_LOG_DIR:-$BENCH_TMP}/app-$port.log" &
	APP_PIDS+=("$!")
	APP_URLS+=("http://127.0.0.1:$port")
}

bench_apps_ready() {
	local u
	for u in "${APP_URLS[@]}"; do
		for _ in $(seq 100); do curl -fs "$u/readyz" >/dev/null && break; sleep 0.1; done
		curl -fs "$u/readyz" >/dev/null || { echo "bench: $u did not become ready" >&2; return 1; }
	done
}

# bench_urls: the instances' base URLs, comma-separated (the load tools' -urls).
bench_urls() { (IFS=,; echo "${APP_URLS[*]}"); }

# bench_apps_stop: SIGTERM to each instance by its PID, and wait for it and,
# on the private cluster, for its backends.
bench_apps_stop() {
	local p
	((${#APP_PIDS[@]})) || return 0
	for p in "${APP_PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${APP_PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
	APP_PIDS=()
	APP_URLS=()
	if [[ -n $BENCH_PG_DATA ]]; then bench_pg_quiet; fi
}

# bench_pg_quiet: until no client backend is left but the poller's, and the
# postmaster has reaped them. A backend counts into the postmaster's ticks
# when it is reaped: one that lingered from the last measurement, or from a
# load tool that has just exited, would land in the wrong window.
bench_pg_quiet() {
	local left
	for _ in $(seq 100); do
		left=$(psql -qtA "$DATABASE_URL" -c "SELECT count(*) FROM pg_stat_activity
			WHERE backend_type = 'client backend' AND pid <> pg_backend_pid() AND application_name <> 'bench-poll'") || return 0
		[[ $left == 0 ]] && break
		sleep 0.1
	done
	sleep 0.2
}

# bench_poll_start, then bench_poll SQL: one-line answers from one psql
# connection that stays open, so that polling inside a measured window costs
# PostgreSQL a query, not a new backend each time.
bench_poll_start() {
	coproc BENCH_POLL { PGAPPNAME=bench-poll exec psql -qtA "$DATABASE_URL"; }
	BENCH_PIDS+=("$BENCH_POLL_PID")
}
bench_poll() {
	local line
	echo "$1;" >&"${BENCH_POLL[1]}"
	read -t 60 -r line <&"${BENCH_POLL[0]}"
	echo "$line"
}

# bench_rss: each instance's peak resident set (VmHWM) in MB, "98/70".
bench_rss() {
	local p out=()
	for p in "${APP_PIDS[@]}"; do out+=("$(awk '/VmHWM/ {printf "%.0f", $2/1024}' "/proc/$p/status")"); done
	(IFS=/; echo "${out[*]}")
}

# bench_ticks PID…: CPU clock ticks (user + system) of processes: their own
# and, for the postmaster, that of its reaped children; live backends count
# by their own. bench_sys_ticks: the part spent in the kernel.
bench_ticks() { local t=0 p; for p in "$@"; do [[ -r /proc/$p/stat ]] && t=$((t + $(awk '{print $14+$15+$16+$17}' "/proc/$p/stat"))); done; echo "$t"; }
bench_sys_ticks() { local t=0 p; for p in "$@"; do [[ -r /proc/$p/stat ]] && t=$((t + $(awk '{print $15+$17}' "/proc/$p/stat"))); done; echo "$t"; }
# bench_pg_pids: the postmaster of the private cluster and its children.
bench_pg_pids() {
	local pm
	pm=$(head -n1 "$BENCH_PG_DATA/postmaster.pid")
	echo "$pm" $(pgrep -P "$pm")
}

# bench_cpu_start … bench_cpu_stop N: the CPU of the app instances (APP_PIDS
# at each end: an instance started in between counts from zero) and of
# PostgreSQL between the two calls, per operation, in µs: BENCH_APP_US,
# BENCH_PG_US; BENCH_APP_SYS_US, BENCH_PG_SYS_US their kernel part.
# The load tool runs under bench_timed, which adds its own CPU:
# BENCH_LOAD_US.
bench_cpu_start() {
	# shellcheck disable=SC2046 # the PIDs are words
	BENCH_C0=("$(bench_ticks "${APP_PIDS[@]}")" "$(bench_ticks $(bench_pg_pids))" \
		"$(bench_sys_ticks "${APP_PIDS[@]}")" "$(bench_sys_ticks $(bench_pg_pids))")
	: >"$BENCH_TMP/load.times"
	bench_profile_start
}
bench_cpu_stop() {
	local n=$1 c1
	# shellcheck disable=SC2046
	c1=("$(bench_ticks "${APP_PIDS[@]}")" "$(bench_ticks $(bench_pg_pids))" \
		"$(bench_sys_ticks "${APP_PIDS[@]}")" "$(bench_sys_ticks $(bench_pg_pids))")
	read -r BENCH_APP_US BENCH_PG_US BENCH_APP_SYS_US BENCH_PG_SYS_US BENCH_LOAD_US < <(awk \
		-v a=$((c1[0] - BENCH_C0[0])) -v p=$((c1[1] - BENCH_C0[1])) -v as=$((c1[2] - BENCH_C0[2])) -v ps=$((c1[3] - BENCH_C0[3])) \
		-v l="$(awk '{s += $1 + $2} END {print s + 0}' "$BENCH_TMP/load.times")" -v n="$n" -v hz="$BENCH_HZ" 'BEGIN {
		if (n < 1) n = 1
		printf "%.0f %.0f %.0f %.0f %.0f\n", a*1e6/hz/n, p*1e6/hz/n, as*1e6/hz/n, ps*1e6/hz/n, l*1e6/n }')
}

# BENCH_PROFILE=DIR (optional): each measured window also takes a CPU
# profile of the first app instance (its PPROF_ADDR is its port + 10, the
# first BENCH_PROFILE_SECONDS, default 10, of the window) and
# pg_stat_statements' top statements; bench_profile_save NAME writes them
# to DIR/NAME.pprof and DIR/NAME.txt (pprof -top and the statements).
bench_profile_start() {
	[[ -n ${BENCH_PROFILE:-} ]] || return 0
	psql -qtA "$DATABASE_URL" -c 'SELECT pg_stat_statements_reset()' >/dev/null
	BENCH_PROF_PID=""
	((${#APP_PIDS[@]})) || return 0
	local port=${APP_URLS[0]##*:}
	curl -fsS -o "$BENCH_TMP/cpu.pprof" "http://127.0.0.1:$((port + 10))/debug/pprof/profile?seconds=${BENCH_PROFILE_SECONDS:-10}" &
	BENCH_PROF_PID=$!
}
bench_profile_save() {
	[[ -n ${BENCH_PROFILE:-} ]] || return 0
	local name out
	name=$(echo "$1" | tr -c 'a-zA-Z0-9\n' '-' | tr -s '-' | sed 's/-$//')
	out=$BENCH_PROFILE/$name
	mkdir -p "$BENCH_PROFILE"
	{
		echo "== $1: PostgreSQL, top statements by total time (pg_stat_statements)"
		psql -q "$DATABASE_URL" -c "SELECT calls, round(total_exec_time::numeric, 1) AS total_ms,
			round((total_exec_time / calls)::numeric, 3) AS ms_per_call, rows,
			left(regexp_replace(query, '\s+', ' ', 'g'), 100) AS query
			FROM pg_stat_statements WHERE query NOT LIKE '%pg_stat_statements%' ORDER BY total_exec_time DESC LIMIT 12"
		if [[ -n ${BENCH_PROF_PID:-} ]] && wait "$BENCH_PROF_PID" && [[ -s $BENCH_TMP/cpu.pprof ]]; then
			mv "$BENCH_TMP/cpu.pprof" "$out.pprof"
			echo "== $1: app instance 1, CPU profile (go tool pprof -top)"
			go tool pprof -top -nodecount=25 bin/treffpunkt "$out.pprof" 2>/dev/null
			echo "== cumulative"
			go tool pprof -top -cum -nodecount=40 bin/treffpunkt "$out.pprof" 2>/dev/null | sed -n '/flat%/,$p'
		fi
	} >"$out.txt"
}

# bench_timed CMD…: run a load tool, noting its user + system CPU seconds
# for bench_cpu_stop (in a file: it may run in a command substitution).
bench_timed() { /usr/bin/time -a -f "%U %S" -o "$BENCH_TMP/load.times" "$@"; }

# bench_naive_baseline DATABASE_URL SECONDS [CLIENTS]: the design the rush
# replaced, one transaction per sign-up that locks the event row (UPDATE
# counter + INSERT) with pgbench on the first event; sets BENCH_BASELINE
# (sign-ups/s) and BENCH_BASELINE_N (transactions). Run it between
# bench_cpu_start and _stop for its cost (pgbench's CPU is the load tool's).
bench_naive_baseline() {
	local url=$1 secs=$2 clients=${3:-16} event_id script out
	event_id=$(psql -qtA "$url" -c "SELECT id FROM events ORDER BY id LIMIT 1")
	psql -q "$url" -c "UPDATE events SET capacity = NULL WHERE id = $event_id"
	script=$BENCH_TMP/baseline.sql
	cat >"$script" <<SQL
BEGIN;
UPDATE events SET seats_confirmed = seats_confirmed + 1 WHERE id = $event_id;
INSERT INTO registrations (event_id, name, email, lang, party_size, status, manage_nonce, manage_hash, consent_at)
VALUES ($event_id, 'Baseline', 'b' || :client_id || '-' || random() || '@example.org', 'de', 1, 'confirmed', decode(md5(random()::text), 'hex'), sha256(decode(md5(random()::text), 'hex')), now());
COMMIT;
SQL
	out=$(bench_timed "$BENCH_PG_BIN/pgbench" -n -c "$clients" -j 2 -T "$secs" -f "$script" "$url" 2>/dev/null)
	BENCH_BASELINE_N=$(echo "$out" | awk '/number of transactions actually processed/ {print $NF; exit}')
	BENCH_BASELINE=$(echo "$out" | awk '/^tps/ {printf "%.0f\n", $3; exit}')
}

# bench_checkin_event ORG EVENT N CODES: an event of ORG happening now with N
# confirmed single tickets; their codes, shuffled, one a line, into CODES.
# The tables keep only hashes of manage tokens and ticket codes (migration
# 00016); the door finds a ticket by the SHA-256 of its code, so plain codes
# kept in bench_codes serve as well as derived ones.
bench_checkin_event() {
	local org=$1 ev=$2 n=$3 codes=$4
	psql -q "$DATABASE_URL" <<SQL
INSERT INTO events (org_id, slug, kind, default_lang, title, starts_at, ends_at, status)
SELECT id, '$ev', 'conference', 'de', '{"de":"Door"}', now() - interval '1 hour', now() + interval '3 hours', 'published'
FROM organisations WHERE slug = '$org';
INSERT INTO registrations (event_id, name, email, lang, party_size, status, manage_nonce, manage_hash, consent_at, confirmed_at)
SELECT e.id, 'Gast ' || g, 'gast' || g || '@example.org', 'de', 1, 'confirmed',
       decode(md5(g::text || random()::text), 'hex'), sha256(decode(md5(random()::text), 'hex')), now(), now()
FROM events e, generate_series(1, $n) g WHERE e.slug = '$ev';
DROP TABLE IF EXISTS bench_codes;
CREATE TABLE bench_codes AS SELECT r.id AS registration_id, r.event_id, upper(md5(r.id::text || random()::text)) AS code
FROM registrations r JOIN events e ON e.id = r.event_id WHERE e.slug = '$ev';
INSERT INTO tickets (registration_id, event_id, seat, code_hash)
SELECT registration_id, event_id, 1, sha256(convert_to(code, 'UTF8')) FROM bench_codes;
ANALYZE;
SQL
	psql -qtA "$DATABASE_URL" -c "SELECT code FROM bench_codes ORDER BY random()" >"$codes"
}

# bench_door_tokens ORG T: T door tokens of ORG, comma-separated.
bench_door_tokens() {
	local t=()
	for i in $(seq "$2"); do t+=("$(bin/treffpunkt token add --org "$1" --role door --name "scanner $i" | tail -n1)"); done
	(IFS=,; echo "${t[*]}")
}

bench_cleanup() {
	local p
	bench_apps_stop
	for p in "${BENCH_PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${BENCH_PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
	if [[ -n $BENCH_PG_DATA ]]; then
		bench_as_pg "$BENCH_PG_BIN/pg_ctl" -D "$BENCH_PG_DATA" -m fast -w stop >/dev/null 2>&1 || true
	fi
	# PG_LOG=file keeps the server's log (e.g. with auto_explain in PG_OPTS).
	if [[ -n ${PG_LOG:-} && -f $BENCH_TMP/pg.log ]]; then cp "$BENCH_TMP/pg.log" "$PG_LOG"; fi
	rm -rf "$BENCH_TMP"
}
