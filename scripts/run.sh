#!/usr/bin/env bash
# scripts/run.sh — used by `make run` (after `make build`).
#
# Uses DATABASE_URL if set; otherwise starts (or reuses) the private development
# cluster via scripts/pg.sh dev-start. Then migrates, loads the demo data (only
# into an empty database; prints the demo logins) and serves in the foreground.
# Ctrl-C stops the app; the database keeps running until `make db-stop`.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

if [[ -z "${DATABASE_URL:-}" ]]; then
	DATABASE_URL="$(scripts/pg.sh dev-start | tail -n1)"
fi
export DATABASE_URL

bin/treffpunkt migrate
bin/treffpunkt demo
echo "(the database keeps running after the app stops; stop it with: make db-stop)" >&2
exec bin/treffpunkt serve
