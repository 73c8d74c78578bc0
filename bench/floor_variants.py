"""What the stored rows cost a save: the save floor storing rows, a document, or nothing, beside ours.

    .venv/bin/python -m bench.floor_variants [--rounds 3] [--seconds 4] [--pg]

On one bench database (bench.prepare; SQLite, or PostgreSQL with --pg), interleaved rounds of wrk
POSTs against the 1-row insert app, our section save, and bench/baselines/save_floor.py with
FLOOR_STORE=rows (as the app stores answers: one row per value), document (one JSON row per
response and section; SQLite only) and nothing (checks only, no write). Every request uses a fresh
invitation; rates count redirects only. Prints the medians and each one's ratio to the insert app,
and ours to the rows floor.
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
from .common import BIN, ROOT, Server, app_env, median, pg_database_url, wrk, write_tokens

VARIANTS = {  # name: (app, extra environment, invitations a round)
    "insert": ("bench.baselines.insert_app:app", {}, 0),
    "our save": ("survey_app.wsgi:app", {}, 10_000),
    "floor, rows": ("bench.baselines.save_floor:app", {"FLOOR_STORE": "rows"}, 12_000),
    "floor, document": ("bench.baselines.save_floor:app", {"FLOOR_STORE": "document"}, 12_000),
    "floor, nothing": ("bench.baselines.save_floor:app", {"FLOOR_STORE": "nothing"}, 16_000),
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=4)
    parser.add_argument("--pg", action="store_true", help="PostgreSQL instead of a SQLite file")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="floor-variants-"))
    dbname = f"floor_{uuid.uuid4().hex[:8]}" if args.pg else None
    if dbname:
        _pg_admin(f'CREATE DATABASE "{dbname}"')
    url = pg_database_url(dbname) if dbname else f"sqlite:///{folder / 'bench.db'}"
    env = {**app_env(folder, url), "WEB_CONCURRENCY": "2"}
    run_env = {**os.environ, **env}
    variants = {name: v for name, v in VARIANTS.items() if not (args.pg and name == "floor, document")}
    try:
        rates = _rounds(args, folder, env, run_env, variants)
    finally:
        if dbname:
            _pg_admin(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
    print(f"\n{'':18} {'req/s':>8} {'÷ insert':>9}   (medians of {args.rounds} interleaved rounds, "
          f"{'PostgreSQL' if args.pg else 'SQLite'})")
    for name, values in rates.items():
        ratio = median([v / b for v, b in zip(values, rates["insert"])])
        print(f"{name:18} {median(values):8,.0f} {ratio:9.3f}")
    ours = median([o / f for o, f in zip(rates["our save"], rates["floor, rows"])])
    print(f"our save ÷ floor, rows: {ours:.3f}")
    return 0


def _rounds(args, folder: Path, env: dict, run_env: dict, variants: dict) -> dict[str, list[float]]:
    needed = args.rounds * sum(pool for _app, _env, pool in variants.values())
    subprocess.run([str(BIN / "python"), "-m", "bench.prepare", str(folder / "info.json"), "--save", str(needed),
                    "--submit", "0"], cwd=ROOT, env=run_env, check=True)
    subprocess.run([str(BIN / "python"), "-m", "bench.baselines.insert_app"], cwd=ROOT, env=run_env, check=True)
    info = json.loads((folder / "info.json").read_text())
    pool = iter(info["save_tokens"])
    body = urllib.parse.urlencode(_form_fields())
    servers = {name: Server(name.replace(" ", "-").replace(",", ""), app, {**env, **extra}).start(folder, "/")
               for name, (app, extra, _pool) in variants.items()}
    rates: dict[str, list[float]] = {name: [] for name in variants}
    try:
        for round_ in range(args.rounds):
            for name, (_app, _extra, size) in variants.items():
                chosen = [next(pool) for _ in range(size)] or info["save_tokens"][:10_000]  # insert reuses them
                slug = name.replace(" ", "-").replace(",", "")
                tokens = write_tokens(folder / f"tokens-{round_}-{slug}.txt", info, chosen)
                result = wrk(servers[name].url("/insert" if name == "insert" else "/"), args.seconds, 2, 8,
                             script=SAVE_LUA, env={"BENCH_MODE": "insert" if name == "insert" else "save",
                                                   "BENCH_TOKENS": str(tokens), "BENCH_BODY": body, "BENCH_COOKIE": ""})
                if (result.counts or {}).get("exhausted"):
                    print(f"warning: {name} used up its {size} invitations in round {round_ + 1}", file=sys.stderr)
                rates[name].append(result.redirects_per_second())
                print(f"round {round_ + 1} {name}: {rates[name][-1]:,.0f} req/s", file=sys.stderr, flush=True)
    finally:
        for server in servers.values():
            server.stop()
    return rates


if __name__ == "__main__":
    sys.exit(main())
