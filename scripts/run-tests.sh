#!/usr/bin/env bash
# Check lint and types, then run the whole suite on SQLite (browser tests included), then again on
# PostgreSQL when it answers (always under CI). Two xdist workers use both cores; the browser tests run in one process.
set -uo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
status=0

pg_up() {
  $BIN/python - <<'PY' 2>/dev/null
import psycopg, os
psycopg.connect(os.environ.get("TEST_PG_DSN", "host=127.0.0.1 port=5432 user=postgres dbname=postgres"), connect_timeout=3).close()
PY
}

echo "== bandit (medium and high findings fail the run)"
$BIN/bandit -q -c pyproject.toml -r survey_app forms config.py --severity-level medium || status=1

echo "== ruff (rules in pyproject.toml)"
$BIN/ruff check survey_app forms config.py tests || status=1

echo "== mypy (settings in pyproject.toml)"
$BIN/mypy || status=1

echo "== test suite on SQLite"
TEST_DATABASE=sqlite $BIN/pytest -n 2 -m "not browser" "$@" || status=1

echo "== browser tests (Chromium, SQLite)"
TEST_DATABASE=sqlite $BIN/pytest -m browser "$@" || status=1

if [ "${REQUIRE_SERVICES:-0}" = "1" ] || pg_up; then
  echo "== test suite on PostgreSQL"
  TEST_DATABASE=postgres $BIN/pytest -n 2 -m "not browser" "$@" || status=1
else
  echo "== PostgreSQL not reachable on 127.0.0.1:5432: skipping the PostgreSQL run"
fi
exit $status
