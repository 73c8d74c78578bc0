"""Profile the respondent page, a section save and a submit in-process (CPU time per request).

    .venv/bin/python -m bench.profile_respond [--requests 300] [--profile page|save|submit] [--pg] [--statements]

Builds the bench database (bench.prepare) under a temporary folder, then drives the app through the
Flask test client with the same configuration the bench's gunicorn gets. CPU time (process_time)
is what matters here: the machine may be shared, wall time is not comparable between runs.
--statements adds the wall time of each SQL statement and of each commit on the respondent path,
without a profiler's overhead (which inflates Python code several times more than the database).
"""
from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import re
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from .common import BIN, PG_ADMIN, ROOT, app_env, pg_database_url
from .prepare import FORM_FIELDS


def _environment(folder: Path, pg: bool) -> tuple[dict[str, str], str | None]:
    dbname = None
    if pg:
        import psycopg

        dbname = f"profile_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{dbname}"')
        url = pg_database_url(dbname)
    else:
        url = f"sqlite:///{folder / 'bench.db'}"
    return app_env(folder, url), dbname


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--profile", choices=["page", "save", "submit"])
    parser.add_argument("--pg", action="store_true", help="PostgreSQL instead of a SQLite file")
    parser.add_argument("--statements", action="store_true", help="time each statement and commit")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="profile-respond-"))
    env, dbname = _environment(folder, args.pg)
    n = args.requests
    subprocess.run([str(BIN / "python"), "-m", "bench.prepare", str(folder / "info.json"), "--save", str(n + 40),
                    "--submit", str(n + 40)], cwd=ROOT, env={**os.environ, **env}, check=True)
    info = json.loads((folder / "info.json").read_text())
    os.environ.update(env)
    from survey_app import create_app

    app = create_app()
    statements = _time_statements() if args.statements else None
    client = app.test_client()
    page = f"/s/{info['page_token']}/1"
    html = client.get(page).get_data(as_text=True)
    if not re.search(r'name="csrf_token" value="([^"]+)"', html):
        raise SystemExit("no CSRF token on the respondent page")
    from werkzeug.datastructures import MultiDict

    def body(token: str) -> MultiDict:
        return MultiDict([("csrf_token", info["csrf"][token]), *FORM_FIELDS])

    def do_page(i: int) -> int:
        return client.get(page).status_code

    def do_save(i: int) -> int:
        token = info["save_tokens"][i]
        return client.post(f"/s/{token}/1", data=body(token)).status_code

    def do_submit(i: int) -> int:
        token = info["submit_tokens"][i]
        return client.post(f"/s/{token}/submit", data={"csrf_token": info["csrf"][token]}).status_code

    report = {}
    for name, fn, expect in (("page", do_page, 200), ("save", do_save, 302), ("submit", do_submit, 302)):
        for i in range(20):  # warm caches
            assert fn(i) == expect, (name, fn(i))
        profiler = cProfile.Profile() if args.profile == name else None
        began_cpu, began = time.process_time(), time.perf_counter()
        if profiler:
            profiler.enable()
        for i in range(20, 20 + n):
            status = fn(i)
            if status != expect:
                raise SystemExit(f"{name} answered {status}")
        if profiler:
            profiler.disable()
        cpu = (time.process_time() - began_cpu) / n * 1000
        wall = (time.perf_counter() - began) / n * 1000
        report[name] = (cpu, wall)
        if profiler:
            out = io.StringIO()
            pstats.Stats(profiler, stream=out).sort_stats(os.environ.get("PROFILE_SORT", "cumulative")).print_stats(int(os.environ.get("PROFILE_LINES", "45")))
            print(out.getvalue())
    from bench.baselines.hello import app as hello_app

    hello = hello_app.test_client()
    began_cpu = time.process_time()
    for _ in range(n):
        hello.get("/")
    report["hello"] = ((time.process_time() - began_cpu) / n * 1000, 0.0)
    for name, (cpu, wall) in report.items():
        print(f"{name:7} {cpu:6.2f} ms CPU / request   {wall:6.2f} ms wall")
    if statements is not None:
        print(f"\n{'calls':>6} {'µs each':>8}  statement (page, save and submit together, warm-up included)")
        for sql, (calls, seconds) in sorted(statements.items(), key=lambda item: -item[1][1]):
            print(f"{calls:6d} {seconds / calls * 1e6:8.1f}  {sql}")
    if dbname:
        from survey_app.extensions import db

        with app.app_context():
            db.engine.dispose()
        import psycopg

        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
    return 0


def _time_statements() -> dict[str, list]:
    """Wrap the respondent path's statement runner and commit with timers; return the running tally."""
    from survey_app.services import driver_sql

    tally: dict[str, list] = {}
    run, commit = driver_sql._run, driver_sql.RespondentConnection.commit

    def add(key: str, began: float) -> None:
        entry = tally.setdefault(key, [0, 0.0])
        entry[0] += 1
        entry[1] += time.perf_counter() - began

    def timed_run(connection, sql, parameters):
        began = time.perf_counter()
        try:
            return run(connection, sql, parameters)
        finally:
            add(" ".join(sql.split())[:70], began)

    def timed_commit(self):
        began = time.perf_counter()
        try:
            return commit(self)
        finally:
            add("COMMIT", began)

    driver_sql._run = timed_run
    driver_sql.RespondentConnection.commit = timed_commit
    return tally


if __name__ == "__main__":
    sys.exit(main())
