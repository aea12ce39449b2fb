#!/usr/bin/env bash
# scripts/validate-feeds.sh — check a running Treffpunkt's calendar feeds with
# two independent parsers and against its JSON API (docs/calendar.md).
#
#   scripts/validate-feeds.sh BASE_URL [FEED_PATH...]
#   scripts/validate-feeds.sh --check-tools
#
# It starts nothing: BASE_URL is a running server (`make run`, or the Go test
# TestFeedsPassIndependentValidators in internal/web, which `make test` runs).
# It checks /calendar.ics and the feed of every organisation and event that
# the API lists (from 80 days ago on), and each FEED_PATH given, e.g. a
# personal /feeds/TOKEN.ics or /calendar.ics?lang=ar.
#
# Each feed must come as text/calendar with CRLF lines of at most 75 octets,
# parse in Debian's python3-vobject (validate=True) and in npm's ical.js, and
# both parsers must read the same UID, start, end, status, sequence and
# summary for every event, matching the API's starts_at/ends_at (RFC 3339).
#
# Tools: python3 with vobject (apt-get install python3-vobject; PYTHON picks
# the interpreter), node, and ical.js installed with
#   npm install --no-save --prefix var/npm ical.js
# (ICALJS_DIR names that prefix; default ./var/npm, which git ignores).
# --check-tools exits 0 when all are there, else 3 and says what is missing.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
ICALJS_DIR="${ICALJS_DIR:-$ROOT/var/npm}"

missing=()
python="${PYTHON:-}"
if [[ -z "$python" ]]; then
	# A pyenv or virtualenv python3 may not see Debian's packages.
	for c in python3 /usr/bin/python3; do
		if command -v "$c" >/dev/null 2>&1 && "$c" -c 'import vobject' 2>/dev/null; then
			python="$c"
			break
		fi
	done
fi
[[ -n "$python" ]] || missing+=("python3 with vobject (apt-get install python3-vobject)")
command -v node >/dev/null 2>&1 || missing+=("node (apt-get install nodejs)")
[[ -f "$ICALJS_DIR/node_modules/ical.js/package.json" ]] ||
	missing+=("ical.js in $ICALJS_DIR (npm install --no-save --prefix $ICALJS_DIR ical.js)")

if ((${#missing[@]} > 0)); then
	printf 'validate-feeds: missing %s\n' "${missing[@]}" >&2
	exit 3
fi
if [[ "${1:-}" == "--check-tools" ]]; then
	exit 0
fi
if [[ $# -lt 1 ]]; then
	echo "usage: $0 BASE_URL [FEED_PATH...]" >&2
	exit 2
fi

exec "$python" "$ROOT/scripts/validate-feeds.py" --icaljs "$ICALJS_DIR" "$@"
