"""CPU per stored request under wrk: gunicorn workers, PostgreSQL backends and wrk, save and submit vs insert.

    .venv/bin/python -m bench.cpu_per_request sqlite|postgres [--invitations 10000] [--seconds 4]

Where `make bench` gives rates, this says where the machine's two cores went: CPU seconds (user +
system, from /proc) of the app's workers, of the database server's processes and of wrk, per
request answered with a redirect. A rate well below what the CPU figures allow means requests
wait (round trips, locks) rather than compute.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import urllib.parse
import uuid
from pathlib import Path

from .__main__ import SAVE_LUA, _form_fields, _pg_admin
from .common import BIN, ROOT, Server, app_env, pg_database_url, wrk, write_tokens


def _cpu_seconds(pids: list[int]) -> dict[int, float]:
    found = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:  # a process that ended in between
            continue
        found[pid] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime
    return found


def _used(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU used in between, counting processes started in between (a new database backend) whole."""
    return sum(seconds - before.get(pid, 0.0) for pid, seconds in after.items())


def _postgres_pids() -> list[int]:
    out = subprocess.run(["pgrep", "-x", "postgres"], capture_output=True, text=True).stdout
    return [int(pid) for pid in out.split()]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("database", choices=["sqlite", "postgres"])
    parser.add_argument("--invitations", type=int, default=10_000, help="fresh invitations for saves, and again for submits")
    parser.add_argument("--seconds", type=int, default=4)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="cpu-per-request-"))
    dbname = None
    if args.database == "sqlite":
        url = f"sqlite:///{folder / 'bench.db'}"
    else:
        dbname = f"cpu_{uuid.uuid4().hex[:8]}"
        _pg_admin(f'CREATE DATABASE "{dbname}"')
        url = pg_database_url(dbname)
    env = {**app_env(folder, url), "WEB_CONCURRENCY": "2"}
    run_env = {**os.environ, **env}
    subprocess.run([str(BIN / "python"), "-m", "bench.prepare", str(folder / "info.json"), "--save",
                    str(args.invitations), "--submit", str(args.invitations)], cwd=ROOT, env=run_env, check=True)
    subprocess.run([str(BIN / "python"), "-m", "bench.baselines.insert_app"], cwd=ROOT, env=run_env, check=True)
    info = json.loads((folder / "info.json").read_text())
    for kind in ("save", "submit"):
        write_tokens(folder / f"{kind}.txt", info, info[f"{kind}_tokens"])
    survey = Server("survey", "survey_app.wsgi:app", env).start(folder, "/health")
    insert = Server("insert", "bench.baselines.insert_app:app", env).start(folder)
    body = urllib.parse.urlencode(_form_fields())
    try:
        print(f"{'':8} {'stored/s':>9} {'workers':>9} {'database':>9} {'wrk':>9}   (CPU ms per stored request)")
        for mode, server, path, tokens in (("insert", insert, "/insert", "save"), ("save", survey, "/", "save"),
                                           ("submit", survey, "/", "submit")):
            workers = server.worker_pids()
            before = _cpu_seconds(workers), _cpu_seconds(_postgres_pids() if dbname else []), os.times()
            result = wrk(server.url(path), args.seconds, 2, 8, script=SAVE_LUA, env={
                "BENCH_MODE": mode, "BENCH_TOKENS": str(folder / f"{tokens}.txt"),
                "BENCH_BODY": "" if mode == "submit" else body, "BENCH_COOKIE": ""})
            after = _cpu_seconds(workers), _cpu_seconds(_postgres_pids() if dbname else []), os.times()
            stored = (result.counts or {}).get("c3xx", 0) or 1
            wrk_cpu = (after[2].children_user + after[2].children_system
                       - before[2].children_user - before[2].children_system)
            print(f"{mode:8} {result.redirects_per_second():9.0f} {1000 * _used(before[0], after[0]) / stored:9.3f} "
                  f"{1000 * _used(before[1], after[1]) / stored:9.3f} {1000 * wrk_cpu / stored:9.3f}", flush=True)
    finally:
        survey.stop()
        insert.stop()
        if dbname:
            _pg_admin(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
    return 0


if __name__ == "__main__":
    sys.exit(main())
