"""Profile the respondent page, a section save and a submit in-process (CPU time per request).

    .venv/bin/python -m bench.profile_respond [--requests 300] [--profile page|save|submit] [--pg] [--statements]
                                              [--phases]

Builds the bench database (bench.prepare) under a temporary folder, then drives the app through the
Flask test client with the same configuration the bench's gunicorn gets. CPU time (process_time)
is what matters here: the machine may be shared, wall time is not comparable between runs.
--statements adds the wall time of each SQL statement and of each commit on the respondent path,
without a profiler's overhead (which inflates Python code several times more than the database).
--phases adds the wall time of each part of a request, also without a profiler: the whole WSGI call,
every Flask hook, the session cookie, the view and the respondent functions it calls, beside the
whole WSGI call of the bench's 1-row insert app on the same database and form body.
"""
from __future__ import annotations

import argparse
import cProfile
import functools
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
    parser.add_argument("--phases", action="store_true", help="time each part of a request (hooks, view, services)")
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
    statements = _time_statements() if args.statements or args.phases else None
    phases = _time_phases(app) if args.phases else None
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
    timed = {}
    for name, fn, expect in (("page", do_page, 200), ("save", do_save, 302), ("submit", do_submit, 302)):
        for i in range(20):  # warm caches
            assert fn(i) == expect, (name, fn(i))
        if phases is not None:  # count only the measured requests
            phases.clear()
            statements.clear()
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
        if phases is not None:
            timed[name] = {**{key: seconds for key, (_calls, seconds) in phases.items()},
                           **{f"SQL {sql}": seconds for sql, (_calls, seconds) in statements.items()}}
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
    if phases is not None:
        timed["insert"] = _insert_baseline(folder, env, n, args.pg)
        _print_phases(timed, n)
    if statements is not None and not args.phases:
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


def _timed(tally: dict[str, list], key: str, fn):
    """`fn` adding its calls and wall time to tally[key]."""
    def timed(*args, **kwargs):
        entry = tally.setdefault(key, [0, 0.0])  # before the call: the tally lists outer parts first
        began = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            entry[0] += 1
            entry[1] += time.perf_counter() - began
    timed.__dict__.update(getattr(fn, "__dict__", {}))  # keeps @public and the roles on views
    return timed


def _time_phases(app) -> dict[str, list]:
    """Wrap the app's hooks, session interface, views and respondent services with timers; return the tally."""
    from forms import respond as respond_forms
    from survey_app.respond import csrf as link_csrf
    from survey_app.respond import views
    from survey_app.services import responses

    tally: dict[str, list] = {}
    timer = functools.partial(_timed, tally)

    def name(fn) -> str:
        fn = getattr(fn, "func", fn)  # functools.partial
        return f"{fn.__module__.split('.')[0]}.{fn.__qualname__.replace('.<locals>', '')}"

    app.wsgi_app = timer("WSGI call, whole", app.wsgi_app)
    for kind, table in (("before", app.before_request_funcs), ("after", app.after_request_funcs),
                        ("teardown", app.teardown_request_funcs)):
        for key, functions in table.items():
            table[key] = [timer(f"  hook {kind}: {name(f)}", f) for f in functions]
    app.teardown_appcontext_funcs[:] = [timer(f"  hook teardown: {name(f)}", f) for f in app.teardown_appcontext_funcs]
    interface = app.session_interface
    interface.open_session = timer("  session cookie: open", interface.open_session)
    interface.save_session = timer("  session cookie: save", interface.save_session)
    for endpoint in ("respond.section", "respond.submit", "respond.personal_link"):
        app.view_functions[endpoint] = timer(f"  view {endpoint}", app.view_functions[endpoint])
    for module, attribute, key in (
            (views, "_load", "link: guess limit, connection, lookup"), (responses, "find_link", "  link lookup"),
            (respond_forms.SectionAnswers, "validate", "answers: check"),
            (respond_forms.SectionAnswers, "answer_rows", "answers: rows"), (link_csrf, "is_valid", "CSRF check"),
            (views, "current_language", "language"), (views, "url_for", "url_for"), (views, "redirect", "redirect"),
            (responses, "save_section", "save_section"), (responses, "submit_response", "submit_response"),
            (responses, "unanswered_required", "unanswered_required"),
            (views.rendering, "section_page", "page fill")):
        setattr(module, attribute, timer(f"    {key}", getattr(module, attribute)))
    return tally


def _insert_baseline(folder: Path, env: dict[str, str], n: int, pg: bool) -> dict[str, float]:
    """The WSGI call of bench/baselines/insert_app.py, on the same kind of database and form body."""
    from werkzeug.datastructures import MultiDict

    os.environ["DATABASE_URL"] = env["DATABASE_URL"] if pg else f"sqlite:///{folder / 'insert.db'}"
    from bench.baselines import insert_app

    insert_app.create_table()
    tally: dict[str, list] = {}
    insert_app.app.wsgi_app = _timed(tally, "WSGI call, whole", insert_app.app.wsgi_app)
    client = insert_app.app.test_client()
    for i in range(n + 20):
        if i == 20:
            tally.clear()  # after the warm-up, as for the others
        if client.post("/insert", data=MultiDict([*FORM_FIELDS, ("token", f"t{i}")])).status_code != 303:
            raise SystemExit("the insert baseline failed")
    return {key: seconds for key, (_calls, seconds) in tally.items()}


def _print_phases(timed: dict[str, dict[str, float]], n: int) -> None:
    """One column per request kind: µs per request, wall time, nested parts indented under their whole."""
    kinds = [kind for kind in ("page", "save", "submit", "insert") if kind in timed]
    keys: list[str] = []
    for kind in ("save", "submit", "page"):  # the save's order first: it passes through most parts
        keys += [key for key in timed[kind] if key not in keys and timed[kind][key] > 0]
    sql = sorted((key for key in keys if key.startswith("SQL ")), key=lambda key: -timed["save"].get(key, 0.0))
    keys = [key for key in keys if not key.startswith("SQL ")]
    print(f"\n{'µs per request (wall)':70}" + "".join(f"{kind:>9}" for kind in kinds))
    for key in keys + sql:
        print(f"{key[:70]:70}" + "".join(f"{timed[kind].get(key, 0.0) / n * 1e6:9.1f}" for kind in kinds))


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
