#!/usr/bin/env bash
# scripts/pg.sh — private PostgreSQL clusters for development and tests.
#
#   scripts/pg.sh dev-start            start (initialising on first use) the
#                                      development cluster; prints the
#                                      DATABASE_URL as the last line of stdout
#   scripts/pg.sh dev-stop             stop the development cluster (no error if
#                                      it is not running)
#   scripts/pg.sh dev-url              print the development DATABASE_URL
#   scripts/pg.sh test-run -- CMD...   run CMD with TEST_DATABASE_URL pointing at
#                                      a throwaway cluster (or at the existing
#                                      TEST_DATABASE_URL if already set)
#
# Environment:
#   PG_BIN        directory holding initdb/pg_ctl/postgres
#                 (default /usr/lib/postgresql/15/bin, else from PATH)
#   PG_DEV_PORT   TCP port of the development cluster (default 54329)
#
# PostgreSQL refuses to run as root. When this script runs as root, initdb,
# pg_ctl and the server run as the `postgres` system user (via runuser); the
# data directories are owned by that user. Otherwise they run as the current
# user. All diagnostics go to stderr so that stdout stays machine-readable.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
DEV_PORT="${PG_DEV_PORT:-54329}"
DEV_DB="treffpunkt"
DEV_LINK="$ROOT/var/pgdata"

log() { printf 'pg.sh: %s\n' "$*" >&2; }
die() { printf 'pg.sh: error: %s\n' "$*" >&2; exit 1; }

# --- locating the PostgreSQL binaries ---------------------------------------
find_pg_bin() {
	if [[ -n "${PG_BIN:-}" ]]; then
		[[ -x "$PG_BIN/initdb" ]] || die "PG_BIN=$PG_BIN has no initdb"
		return
	fi
	if [[ -x /usr/lib/postgresql/15/bin/initdb ]]; then
		PG_BIN=/usr/lib/postgresql/15/bin
	elif command -v initdb >/dev/null 2>&1; then
		PG_BIN="$(dirname "$(command -v initdb)")"
	elif command -v pg_config >/dev/null 2>&1 && [[ -x "$(pg_config --bindir)/initdb" ]]; then
		PG_BIN="$(pg_config --bindir)"
	else
		die "PostgreSQL server binaries not found (install postgresql-15 or set PG_BIN)"
	fi
}

# --- running things as the server user --------------------------------------
if [[ "$(id -u)" -eq 0 ]]; then
	SERVER_USER=postgres
	id "$SERVER_USER" >/dev/null 2>&1 || die "running as root but there is no '$SERVER_USER' system user"
else
	SERVER_USER="$(id -un)"
fi

# as_server CMD... runs CMD as the server user. The working directory is / so
# that a checkout the server user cannot enter does not break the tools.
as_server() {
	if [[ "$(id -u)" -eq 0 ]]; then
		(cd / && runuser -u "$SERVER_USER" -- "$@")
	else
		(cd / && "$@")
	fi
}

# server_can_use DIR: true if the server user can enter and write DIR (which
# implies it can traverse every ancestor directory).
server_can_use() {
	as_server test -d "$1" -a -x "$1" -a -w "$1" 2>/dev/null
}

# make_server_dir DIR: create DIR (mode 700) owned by the server user.
make_server_dir() {
	mkdir -p "$1"
	if [[ "$(id -u)" -eq 0 ]]; then
		chown "$SERVER_USER:" "$1"
	fi
	chmod 700 "$1"
}

# pick_locale: C.UTF-8 if the system has it, else C.
pick_locale() {
	if locale -a 2>/dev/null | grep -qiE '^c\.utf-?8$'; then
		echo C.UTF-8
	else
		echo C
	fi
}

# init_cluster DATADIR LOGFILE: initdb DATADIR unless it already holds a cluster.
init_cluster() {
	local data="$1" logfile="$2"
	if [[ -f "$data/PG_VERSION" ]]; then
		return 0
	fi
	local loc
	loc="$(pick_locale)"
	log "initialising cluster in $data (locale $loc)"
	if ! as_server "$PG_BIN/initdb" -D "$data" -U postgres --auth=trust \
		--encoding=UTF8 --locale="$loc" >"$logfile" 2>&1; then
		cat "$logfile" >&2 || true
		die "initdb failed"
	fi
}

# start_cluster DATADIR SOCKDIR PORT LOGFILE EXTRA_OPTS: start with pg_ctl -w.
# On failure prints the server log and returns non-zero.
start_cluster() {
	local data="$1" sock="$2" port="$3" logfile="$4" extra="$5"
	local opts
	opts="-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$(printf '%q' "$sock") $extra"
	if ! as_server "$PG_BIN/pg_ctl" -D "$data" -l "$logfile" -o "$opts" -w -t 60 start >&2; then
		log "server failed to start; last lines of $logfile:"
		tail -n 40 "$logfile" >&2 || true
		if tail -n 40 "$logfile" 2>/dev/null | grep -q 'could not bind'; then
			log "port $port is in use (another cluster?); pick another with PG_DEV_PORT=..."
		fi
		return 1
	fi
}

is_running() {
	[[ -f "$1/PG_VERSION" ]] && as_server "$PG_BIN/pg_ctl" -D "$1" status >/dev/null 2>&1
}

stop_cluster() {
	local data="$1"
	is_running "$data" || return 0
	as_server "$PG_BIN/pg_ctl" -D "$data" -m fast -w -t 60 stop >&2 ||
		as_server "$PG_BIN/pg_ctl" -D "$data" -m immediate -w -t 30 stop >&2
}

# --- development cluster ----------------------------------------------------
#
# Layout (the "cluster dir", normally ./var/pgdata):
#   data/               PGDATA
#   server.log          server log
#   .s.PGSQL.<port>     unix socket
dev_url() {
	echo "postgres://postgres@127.0.0.1:${DEV_PORT}/${DEV_DB}?sslmode=disable"
}

# The cluster dir lives in the checkout (./var/pgdata) when the server user can
# reach it. When the script runs as root in a checkout the postgres user cannot
# traverse (CI may clone under /root, which is mode 700), or the checkout path
# is so long that the unix socket path would exceed the ~107-byte kernel limit,
# the cluster lives in /var/tmp/treffpunkt-<hash of repo path>/pgdata instead
# and ./var/pgdata becomes a symlink to it, so it is still found (and reused)
# via the checkout on the next run.
dev_fallback_dir() {
	local h
	h="$(printf '%s' "$ROOT" | sha256sum | cut -c1-12)"
	echo "/var/tmp/treffpunkt-$h/pgdata"
}

# link_target: print the target of the ./var/pgdata symlink (need not exist).
link_target() {
	local t
	t="$(readlink "$DEV_LINK")" || return 1
	[[ "$t" == /* ]] || t="$ROOT/var/$t"
	echo "$t"
}

# dev_dir_existing: print the cluster dir if it has been set up, else nothing.
dev_dir_existing() {
	if [[ -L "$DEV_LINK" ]]; then
		link_target || true
	elif [[ -d "$DEV_LINK" ]]; then
		(cd "$DEV_LINK" && pwd -P)
	fi
}

# dev_dir_prepare: set up (if necessary) and print the cluster dir.
dev_dir_prepare() {
	local dir
	mkdir -p "$ROOT/var"
	if [[ -L "$DEV_LINK" ]]; then
		dir="$(link_target)" || die "cannot read symlink $DEV_LINK"
		# The target may have been cleaned from /var/tmp; recreate it.
		if [[ ! -d "$dir" ]]; then
			make_server_dir "$(dirname "$dir")"
			make_server_dir "$dir"
		fi
		server_can_use "$dir" || die "$SERVER_USER cannot use $dir (target of $DEV_LINK)"
		echo "$dir"
		return
	fi
	if [[ -d "$DEV_LINK" ]]; then
		dir="$(cd "$DEV_LINK" && pwd -P)"
		if ! server_can_use "$dir"; then
			if [[ -z "$(ls -A "$dir")" ]]; then
				rmdir "$dir" # empty leftover: fall through to the fallback below
			else
				die "$SERVER_USER cannot use $dir; fix permissions or remove it (this deletes the dev database)"
			fi
		else
			echo "$dir"
			return
		fi
	fi
	[[ -e "$DEV_LINK" ]] && die "$DEV_LINK exists and is neither a directory nor a symlink"

	# First run: try inside the checkout.
	dir="$ROOT/var/pgdata"
	local sock_path="$dir/.s.PGSQL.$DEV_PORT"
	if ((${#sock_path} <= 100)); then
		make_server_dir "$dir"
		if server_can_use "$dir"; then
			echo "$dir"
			return
		fi
		rmdir "$dir"
		log "$SERVER_USER cannot reach $ROOT/var; using $(dev_fallback_dir) instead"
	else
		log "checkout path too long for a unix socket; using $(dev_fallback_dir) instead"
	fi

	dir="$(dev_fallback_dir)"
	make_server_dir "$(dirname "$dir")"
	make_server_dir "$dir"
	server_can_use "$dir" || die "$SERVER_USER cannot use $dir either"
	ln -s "$dir" "$DEV_LINK"
	echo "$dir"
}

cmd_dev_start() {
	find_pg_bin
	local dir data logfile
	dir="$(dev_dir_prepare)"
	data="$dir/data"
	logfile="$dir/server.log"
	if [[ ! -f "$data/PG_VERSION" ]]; then
		init_cluster "$data" "$dir/initdb.log"
	else
		log "reusing cluster in $data"
	fi
	if is_running "$data"; then
		log "server already running"
	else
		log "starting server on 127.0.0.1:$DEV_PORT (log: $logfile)"
		start_cluster "$data" "$dir" "$DEV_PORT" "$logfile" "" || exit 1
	fi
	local psql=("$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$DEV_PORT" -U postgres -d postgres)
	if [[ "$("${psql[@]}" -tAc "SELECT 1 FROM pg_database WHERE datname = '$DEV_DB'")" != "1" ]]; then
		log "creating database $DEV_DB"
		"${psql[@]}" -c "CREATE DATABASE $DEV_DB" >&2
	fi
	log "development database is up; stop it with: make db-stop"
	dev_url
}

cmd_dev_stop() {
	find_pg_bin
	local dir
	dir="$(dev_dir_existing)"
	if [[ -z "$dir" ]] || ! is_running "$dir/data"; then
		log "development server is not running"
		return 0
	fi
	log "stopping development server ($dir/data)"
	stop_cluster "$dir/data"
}

# --- throwaway test cluster -------------------------------------------------
port_is_free() {
	python3 - "$1" <<'EOF' 2>/dev/null
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
try:
    s.bind(("127.0.0.1", int(sys.argv[1])))
except OSError:
    sys.exit(1)
finally:
    s.close()
EOF
}

free_port() {
	local p i
	for i in $(seq 1 200); do
		p=$((20000 + RANDOM % 40001))
		if port_is_free "$p"; then
			echo "$p"
			return 0
		fi
	done
	die "no free TCP port found"
}

TEST_TMP=""
TEST_DATA=""
test_cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	if [[ -n "$TEST_DATA" ]]; then
		stop_cluster "$TEST_DATA" >/dev/null 2>&1 || true
	fi
	if [[ -n "$TEST_TMP" && -d "$TEST_TMP" ]]; then
		rm -rf "$TEST_TMP"
		log "removed test cluster $TEST_TMP"
	fi
	exit "$rc"
}

cmd_test_run() {
	[[ "${1:-}" == "--" ]] && shift
	(($# > 0)) || die "usage: pg.sh test-run -- COMMAND [ARGS...]"
	if [[ -n "${TEST_DATABASE_URL:-}" ]]; then
		exec "$@"
	fi
	find_pg_bin

	trap test_cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM

	# A short path under /tmp keeps the unix socket path below the length
	# limit; /tmp is world-traversable so the postgres user can enter it.
	local base="${TMPDIR:-/tmp}"
	TEST_TMP="$(mktemp -d "$base/treffpunkt-pgtest.XXXXXX")"
	if [[ "$(id -u)" -eq 0 ]]; then
		chown "$SERVER_USER:" "$TEST_TMP"
	fi
	chmod 700 "$TEST_TMP"
	if ! server_can_use "$TEST_TMP" && [[ "$base" != /tmp ]]; then
		rm -rf "$TEST_TMP"
		TEST_TMP="$(mktemp -d /tmp/treffpunkt-pgtest.XXXXXX)"
		if [[ "$(id -u)" -eq 0 ]]; then
			chown "$SERVER_USER:" "$TEST_TMP"
		fi
		chmod 700 "$TEST_TMP"
	fi
	server_can_use "$TEST_TMP" || die "$SERVER_USER cannot use $TEST_TMP"

	local data="$TEST_TMP/data" logfile="$TEST_TMP/server.log"
	init_cluster "$data" "$TEST_TMP/initdb.log"
	TEST_DATA="$data"

	# max_connections: go test runs 2 packages at once (-p, one per core) and
	# each runs up to 4 tests at once (-parallel in the Makefile); a test's
	# pool holds up to testdb.MaxOpenConns (20), a two-instance test twice
	# that, plus change listeners and the template's admin pool.
	local extra="-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=400 -c shared_buffers=128MB"
	local port attempt started=""
	for attempt in 1 2 3 4 5; do
		port="$(free_port)"
		# Truncate the log so a failure shows only this attempt.
		: >"$logfile"
		if [[ "$(id -u)" -eq 0 ]]; then
			chown "$SERVER_USER:" "$logfile"
		fi
		if start_cluster "$data" "$TEST_TMP" "$port" "$logfile" "$extra" 2>/dev/null; then
			started=1
			break
		fi
		# Lost a race for the port? Try another one; otherwise give up.
		if ! grep -qi 'could not bind\|address already in use' "$logfile"; then
			break
		fi
		log "port $port was taken, retrying"
	done
	if [[ -z "$started" ]]; then
		log "test cluster failed to start; server log ($logfile):"
		cat "$logfile" >&2 || true
		exit 1
	fi

	export TEST_DATABASE_URL="postgres://postgres@127.0.0.1:${port}/postgres?sslmode=disable"
	log "test cluster in $TEST_TMP (data $data, 127.0.0.1:$port, socket dir $TEST_TMP)"
	log "TEST_DATABASE_URL=$TEST_DATABASE_URL"

	local rc=0
	"$@" || rc=$?
	exit "$rc"
}

# --- main -------------------------------------------------------------------
usage() {
	sed -n '2,14p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
	exit 2
}

sub="${1:-}"
[[ $# -gt 0 ]] && shift
case "$sub" in
dev-start) cmd_dev_start "$@" ;;
dev-stop) cmd_dev_stop "$@" ;;
dev-url) dev_url ;;
test-run) cmd_test_run "$@" ;;
-h | --help | help | "") usage ;;
*)
	log "unknown subcommand: $sub"
	usage
	;;
esac
