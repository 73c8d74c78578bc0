"""Profile the respondent page, a section save and a submit in-process (CPU time per request).

    .venv/bin/python -m bench.profile_respond [--requests 300] [--profile page|save|submit] [--pg]

Builds the bench database (bench.prepare) under a temporary folder, then drives the app through the
Flask test client with the same configuration the bench's gunicorn gets. CPU time (process_time)
is what matters here: the machine may be shared, wall time is not comparable between runs.
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
    if dbname:
        from survey_app.extensions import db

        with app.app_context():
            db.engine.dispose()
        import psycopg

        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
    return 0


if __name__ == "__main__":
    sys.exit(main())
