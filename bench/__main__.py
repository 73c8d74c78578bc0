"""`python -m bench` (`make bench`): every measure against a baseline served the same way, in one run.

Each measure runs at least three times, interleaved with its baseline (baseline, subject, baseline,
subject, ...), so the noise of a shared machine falls on both; the table gives medians and ratios,
each against its floor (issue 19). `--quick` (`make bench-smoke`) is one round on tiny sizes that
checks the harness end to end; its numbers mean nothing. Either exits non-zero when a measure could
not be taken or the rows stored did not match the requests answered.
"""
from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.error
import urllib.parse
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from .common import (BENCH, BIN, HOST, PG_ADMIN, ROOT, Server, app_env, load_average, machine, median,
                     pg_database_url, wrk, write_tokens)

SAVE_LUA = BENCH / "lua" / "save.lua"
NOTES = BENCH / "NOTES.md"  # what the measures mean; appended to the full run's RESULTS.md

# The floors to keep (issue 19, item 5), as fractions of the baseline beside each measure.
PAGE_FLOOR = 0.25  # respondent section page, of a bare Flask hello world
WRITE_FLOOR = 0.2  # section save and final submit, of the one-row insert app on the same database
MAIL_FLOOR = 0.7  # invitations through the real worker, of a bare Flask-Mail loop


@dataclass
class Plan:
    """How long and how big: the full run fits 10 minutes on 2 cores; --quick fits one."""

    runs: int = 3
    wrk_seconds: int = 5
    threads: int = 2
    connections: int = 8
    # Invitations per run for saves and again for submits: more than a run can use (2,000 a second).
    # A run that uses them up is flagged in the notes, and its rate counts only the stored ones.
    pool: int = 10_000
    mails: int = 10_000  # per round, the size; fewer when all rounds would not fit the budget
    budget: float = 570.0  # seconds: the whole run must stay under 10 minutes on 2 cores
    sizes: tuple[int, ...] = (300, 1_000, 10_000, 100_000)  # results measured at each; the last is the large
    small: int = 1_000  # the size that time(largest) is divided by
    csv_size: int = 100_000
    parallel_measures: int = 1  # results measures run at once (each in its own process)

    @classmethod
    def quick(cls) -> "Plan":
        """One round of everything on tiny sizes: checks the harness, measures nothing."""
        return cls(runs=1, wrk_seconds=1, connections=4, pool=300, mails=50, sizes=(50, 200), small=50,
                   csv_size=200, budget=60.0, parallel_measures=2)


@dataclass
class Row:
    measure: str
    baseline_name: str
    baseline: float | None
    subject: float | None
    unit: str
    target: str
    ratio: float | None = None
    met: bool | None = None
    note: str = ""
    runs: list = field(default_factory=list)


class Bench:
    def __init__(self, plan: Plan, out: Path, work: Path, cache: Path, only: set[str] | None) -> None:
        self.plan, self.out, self.work, self.cache, self.only = plan, out, work, cache, only
        self.rows: list[Row] = []
        self.holes: list[str] = []
        self.checks: list[str] = []
        self.commands: list[str] = []
        self.extra: list[str] = []
        self.results_lines: list[str] = []
        self.notes: list[str] = []
        self.failures: list[str] = []  # rows stored that do not match the requests answered
        self.began = time.monotonic()

    # -- bookkeeping -------------------------------------------------------------------------
    def log(self, text: str) -> None:
        print(f"[bench {time.monotonic() - self.began:6.1f}s] {text}", file=sys.stderr, flush=True)

    def command(self, cmd: list[str] | str) -> None:
        text = cmd if isinstance(cmd, str) else shlex.join(str(c) for c in cmd)
        text = text.replace(str(self.work), "$WORK").replace(str(ROOT) + "/", "")
        if text not in self.commands:
            self.commands.append(text)

    def ratio_row(self, measure: str, baseline_name: str, pairs: list[tuple[float, float]], unit: str,
                  minimum: float, note: str = "", rows_ok: bool = True) -> Row:
        """A row of the table: met when the median ratio reaches its floor and every row was stored."""
        base = median([b for b, _ in pairs])
        subj = median([s for _, s in pairs])
        ratio = median([s / b for b, s in pairs if b])  # median of per-round ratios: robust to drift
        met = None if ratio is None else ratio >= minimum and rows_ok
        row = Row(measure, baseline_name, base, subj, unit, f"≥ {minimum}", ratio, met, note, pairs)
        self.rows.append(row)
        return row

    def hole(self, what: str, reason: str) -> None:
        self.holes.append(f"{what}: not measured: {reason}")
        self.log(f"HOLE {what}: {reason}")

    # -- web: respondent page, saves and submits -----------------------------------------------
    def stage_web(self, kind: str) -> None:
        plan = self.plan
        stage_dir = self.work / kind
        stage_dir.mkdir()
        if kind == "sqlite":
            url = f"sqlite:///{stage_dir / 'bench.db'}"
            dbname = None
        else:
            dbname = f"bench_{os.getpid()}_{uuid.uuid4().hex[:6]}"
            _pg_admin(f'CREATE DATABASE "{dbname}"')
            url = pg_database_url(dbname)
        env = {**app_env(stage_dir, url), "WEB_CONCURRENCY": "2"}
        servers: list[Server] = []
        try:
            info_path = stage_dir / "info.json"
            pool = plan.pool * plan.runs
            cmd = [str(BIN / "python"), "-m", "bench.prepare", str(info_path), "--save", str(pool),
                   "--submit", str(pool)]
            self.command(cmd)
            self.log(f"{kind}: preparing {2 * pool} invitations")
            subprocess.run(cmd, cwd=ROOT, env={**os.environ, **env}, check=True, timeout=300)
            info = json.loads(info_path.read_text())
            subprocess.run([str(BIN / "python"), "-m", "bench.baselines.insert_app"], cwd=ROOT,
                           env={**os.environ, **env}, check=True, timeout=60)

            survey = Server(f"survey-{kind}", "survey_app.wsgi:app", env).start(stage_dir, "/health")
            servers.append(survey)
            insert = Server(f"insert-{kind}", "bench.baselines.insert_app:app", env).start(stage_dir)
            servers.append(insert)
            hello = None
            if kind == "sqlite":
                hello = Server("hello", "bench.baselines.hello:app", env).start(stage_dir)
                servers.append(hello)
            for server in servers:
                self.command(server.command)

            page_path = f"/s/{info['page_token']}/1"
            cookie, csrf, html = _cookies_and_csrf(survey.url(page_path))
            if html.count("<fieldset") < info["questions"]:
                raise RuntimeError("the respondent page does not show the six questions")
            form_body = urllib.parse.urlencode(_form_fields())
            status, location = _post(survey.url(page_path), f"{form_body}&csrf_token={csrf}", cookie)
            if status != 302 or not location.endswith("/check"):
                raise RuntimeError(f"a valid save answered {status} {location}: CSRF or form broken")
            if kind == "sqlite":
                self.page_weight(survey, info)

            counter = _Counter(url)
            pages, saves, submits = [], [], []
            tally: dict[str, list[dict]] = {"save": [], "submit": [], "insert": []}
            for run in range(plan.runs):
                if hello is not None:
                    base = wrk(hello.url("/"), plan.wrk_seconds, plan.threads, plan.connections)
                    subj = wrk(survey.url(page_path), plan.wrk_seconds, plan.threads, plan.connections)
                    self.command(base.command.replace(hello.url("/"), "http://127.0.0.1:$HELLO/"))
                    self.command(subj.command.replace(survey.url(page_path), "http://127.0.0.1:$APP/s/$TOKEN/1"))
                    if subj.non_2xx_3xx:
                        raise RuntimeError(f"respondent page answered {subj.non_2xx_3xx} errors")
                    pages.append((base.requests_per_second, subj.requests_per_second))
                    self.log(f"page run {run + 1}: hello {base.requests_per_second:.0f} req/s, "
                             f"page {subj.requests_per_second:.0f} req/s")
                save_file = stage_dir / f"save-{run}.txt"
                submit_file = stage_dir / f"submit-{run}.txt"
                chunk = slice(run * plan.pool, (run + 1) * plan.pool)
                write_tokens(save_file, info, info["save_tokens"][chunk])
                write_tokens(submit_file, info, info["submit_tokens"][chunk])

                ins = self._posting(insert, "/insert", "insert", save_file, form_body, "", counter, tally)
                sav = self._posting(survey, "/", "save", save_file, form_body, cookie, counter, tally)
                ins2 = self._posting(insert, "/insert", "insert", submit_file, form_body, "", counter, tally)
                sub = self._posting(survey, "/", "submit", submit_file, "", cookie, counter, tally)
                saves.append((ins, sav))
                submits.append((ins2, sub))
                self.log(f"{kind} run {run + 1}: insert {ins:.0f}/{ins2:.0f}, save {sav:.0f}, submit {sub:.0f} req/s")
            if pages:
                self.ratio_row("Respondent page GET /s/<token>/1 (6 questions, CSRF on), req/s",
                               "Flask hello world", pages, "req/s", PAGE_FLOOR)
            label = "SQLite (WAL)" if kind == "sqlite" else "PostgreSQL"
            rows_ok = {mode: self._rows_match(label, mode, items) for mode, items in tally.items()}
            self.ratio_row(f"Section save POST /s/<token>/1 on {label}, req/s", "1-row INSERT app, same DB",
                           saves, "req/s", WRITE_FLOOR, _tally_note(tally["save"]), rows_ok["save"])
            self.ratio_row(f"Final submit POST /s/<token>/submit on {label}, req/s", "1-row INSERT app, same DB",
                           submits, "req/s", WRITE_FLOOR, _tally_note(tally["submit"]), rows_ok["submit"])
            self.checks.append(f"{label}: " + "; ".join(
                f"{mode}: {_tally_note(items)} ({'match' if rows_ok[mode] else '**MISMATCH**'})"
                for mode, items in tally.items()))
            counter.dispose()
        finally:
            for server in servers:
                server.stop()
            if dbname:
                with contextlib.suppress(Exception):
                    _pg_admin(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')

    def _rows_match(self, label: str, mode: str, items: list[dict]) -> bool:
        """Every answered request stored, nothing refused or stored twice, each run.

        A request still in flight when wrk stops may be stored without being counted: at most one per
        connection.
        """
        for number, item in enumerate(items, 1):
            extra = item["stored"] - item["answered"]
            if item["errors"] or not 0 <= extra <= self.plan.connections:
                self.failures.append(f"{label} {mode}, run {number}: {item['answered']} answered with a "
                                     f"redirect, {item['stored']} rows stored, {item['errors']} other answers")
                return False
        return True

    def _posting(self, server: Server, path: str, mode: str, tokens: Path, body: str, cookie: str,
                 counter: "_Counter", tally: dict) -> float:
        """One wrk run of POSTs, each on a fresh token; check rows stored against answers counted."""
        before = counter.count(mode)
        result = wrk(server.url(path), self.plan.wrk_seconds, self.plan.threads, self.plan.connections,
                     script=SAVE_LUA, env={"BENCH_MODE": mode, "BENCH_TOKENS": str(tokens),
                                           "BENCH_BODY": body, "BENCH_COOKIE": cookie})
        self.command(f"BENCH_MODE={mode} BENCH_TOKENS=... BENCH_BODY=... BENCH_COOKIE=... "
                     + result.command.replace(server.url(path), f"http://127.0.0.1:$PORT{path}"))
        time.sleep(0.5)  # let requests still in flight when wrk stopped reach the database
        stored = counter.count(mode) - before
        counts = result.counts or {}
        exhausted = counts.get("exhausted", 0)
        # Once the pool runs out, each request is a GET of a page that does not exist (404): not an error.
        other = counts.get("c2xx", 0) + counts.get("c4xx", 0) + counts.get("c5xx", 0)
        tally[mode].append({"answered": counts.get("c3xx", 0), "stored": stored, "errors": max(0, other - exhausted),
                            "exhausted": exhausted})
        # Only requests that stored something count: were the pool to run out, the cheap 404s that
        # follow would otherwise pass for saves.
        return result.redirects_per_second()

    def stage_postgres(self) -> None:
        try:
            _pg_admin("SELECT 1")
        except Exception as exc:
            self.hole("PostgreSQL saves and submits", f"PostgreSQL not reachable at {PG_ADMIN}: {type(exc).__name__}")
            return
        self.stage_web("postgres")

    # -- page weight ------------------------------------------------------------------------------
    def page_weight(self, survey: Server, info: dict) -> None:
        for label, path in (("start page /s/<token>", f"/s/{info['save_tokens'][-1]}"),
                            ("section page /s/<token>/1", f"/s/{info['page_token']}/1"),
                            ("check answers /s/<token>/check", f"/s/{info['page_token']}/check")):
            total, count, parts = _page_weight(survey.url(path))
            self.extra.append(f"| {label} | {count} | {total / 1024:.1f} KiB | {parts} |")

    # -- invitations ------------------------------------------------------------------------------
    def stage_mail(self) -> None:
        """bench/send_rate.py: the Huey worker and the bare loop, paired per run (run last: it is sized to fit)."""
        script = BENCH / "send_rate.py"
        if not script.exists():
            self.hole("Invitations through the real worker", "bench/send_rate.py is not in the tree")
            return
        pattern = re.compile(r"(\d+) invitations:\s+([\d.]+) msg/s through the ledger; "
                             r"bare Flask-Mail loop\s+([\d.]+) msg/s; ratio [\d.]+; prepared in ([\d.]+) s; "
                             r"queue on (\w+)")
        queues = set()

        def run(count: int) -> tuple[float, float, float]:
            cmd = [str(BIN / "python"), "bench/send_rate.py", str(count)]
            self.command(cmd)
            done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=900)
            match = pattern.search(done.stdout)
            if done.returncode != 0 or not match:
                raise RuntimeError(f"bench/send_rate.py failed (exit {done.returncode}): "
                                   f"{(done.stderr or done.stdout)[-400:]}")
            queues.add(match.group(5))
            return float(match.group(3)), float(match.group(2)), float(match.group(4))

        mails, runs = self.plan.mails, self.plan.runs
        if mails > 1_000:
            # A 500-message probe (not counted) splits a round into a fixed part (starting Python and
            # the app) and a part per message (preparing the fellow, our send and the bare loop's);
            # keep the largest size whose rounds all fit what is left of the budget, with a quarter
            # to spare: a round of 20,000 once took 1.3 times what such a probe foresaw.
            probe = 500
            began = time.monotonic()
            bare, ours, prepared = run(probe)
            wall = time.monotonic() - began
            per_message = prepared / probe + 1 / ours + 1 / bare
            fixed = max(0.0, wall - probe * per_message)
            left = self.plan.budget - (time.monotonic() - self.began)
            for size in (mails, 7_500, 5_000, 2_000, 1_000):
                if size <= mails and (1.25 * runs * (fixed + size * per_message) <= left or size == 1_000):
                    break
            if size != mails:
                self.notes.append(f"Invitations: {size:,} per run, not {mails:,}: the {probe}-message probe gave "
                                  f"{fixed:.1f} s a round plus {per_message * 1000:.1f} ms a message, and {runs} "
                                  f"rounds of {mails:,} would not have fitted the {left:.0f} s left of the budget "
                                  f"(`python -m bench --only mail` runs the full size).")
            mails = size
        pairs = []
        for number in range(runs):
            pairs.append(run(mails)[:2])
            self.log(f"mail run {number + 1}: bare loop {pairs[-1][0]:.0f} msg/s, ledger {pairs[-1][1]:.0f} msg/s")
        self.ratio_row(f"Invitations: {mails:,} through the real worker (huey_consumer, queue on "
                       f"{' and '.join(sorted(queues))}) to aiosmtpd, msg/s",
                       "Flask-Mail loop, one connection", pairs, "msg/s", MAIL_FLOOR,
                       "send_rate.py asserts one message per recipient, with distinct Message-IDs")
        self.checks.append(f"Invitations: every run of bench/send_rate.py checked that {mails:,} messages arrived, "
                           "one per recipient with distinct Message-IDs matching the ledger, for our path and "
                           "for the bare loop (it exits non-zero otherwise)")

    # -- results: dashboard, CSV export, PDF ---------------------------------------------------
    def stage_results(self) -> None:
        """Time and peak RSS of the dashboard, the PDF and the CSV (bench/results_cost.py), fresh processes."""
        from .results_cost import database_path, generator_version

        data_dir = self.cache / f"data-{generator_version()}"
        data_dir.mkdir(parents=True, exist_ok=True)
        small, large, csv_size = self.plan.small, self.plan.sizes[-1], self.plan.csv_size
        sizes = sorted(set(self.plan.sizes) | {0, csv_size})
        dbs = {size: database_path(data_dir, size) for size in sizes}
        missing = [size for size, path in dbs.items() if not path.exists()]
        if missing:
            cmd = [str(BIN / "python"), "-m", "bench.results_cost", "build", str(data_dir), *map(str, missing)]
            self.command(cmd)
            self.log(f"generating {', '.join(f'{n:,}' for n in missing)} responses once (cached in {data_dir})")
            done = subprocess.run(cmd, cwd=ROOT, timeout=900, capture_output=True, text=True)
            if done.returncode != 0:
                raise RuntimeError(f"results_cost build: {done.stderr[-500:]}")
        # What each round measures: the ratio pairs every round; the other sizes once.
        every = [("dashboard", small), ("dashboard", large), ("pdf", small), ("pdf", large), ("csv", 0),
                 ("csv", csv_size)]
        once = [(what, size) for size in self.plan.sizes if size not in (small, large)
                for what in ("dashboard", "pdf")]
        measured: dict[tuple[str, int], list[dict]] = {}

        def measure_command(what: str, size: int) -> list[str]:
            instance = self.work / f"report-{what}-{size}"
            instance.mkdir(exist_ok=True)
            cmd = [str(BIN / "python"), "-m", "bench.results_cost", "measure", str(dbs[size]), str(instance), what]
            self.command(cmd)
            return cmd

        def run_measure(cmd: list[str]) -> dict:
            done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)
            if done.returncode != 0:
                raise RuntimeError(f"{shlex.join(cmd[1:])}: {done.stderr[-500:]}")
            return json.loads(done.stdout.strip().splitlines()[-1])

        # One process at a time, so none competes with another for the cores; the smoke run, whose
        # numbers mean nothing, runs two at a time to keep CI short.
        with ThreadPoolExecutor(max_workers=self.plan.parallel_measures) as pool:
            for run in range(self.plan.runs):
                todo = every + (once if run == 0 else [])
                commands = [measure_command(what, size) for what, size in todo]
                for key, result in zip(todo, pool.map(run_measure, commands)):
                    measured.setdefault(key, []).append(result)
                self.log(f"results round {run + 1} done")
        for what, label in (("dashboard", "Dashboard aggregation (results.summarise)"),
                            ("pdf", "PDF report (report.render_pdf_bytes)")):
            for size in self.plan.sizes:
                items = measured[(what, size)]
                self.results_lines.append(
                    f"| {label} | {size:,} | {median([m['seconds'] for m in items]):.2f} s | "
                    f"{median([m['peak_mb'] for m in items]):.0f} MB | {len(items)} |")
            big = measured[(what, large)]
            big_s = median([m["seconds"] for m in big])
            big_mb = median([m["peak_mb"] for m in big])
            pairs = [(a["seconds"], b["seconds"]) for a, b in zip(measured[(what, small)], big)]
            growth = median([b / a for a, b in pairs if a]) if pairs else None
            self.rows.append(Row(f"{label} at {large:,} responses, seconds", "—", None, big_s, "s", "≤ 10 s",
                                 None, big_s <= 10))
            self.rows.append(Row(f"{label} at {large:,} responses, peak RSS", "—", None, big_mb, "MB", "≤ 300 MB",
                                 None, big_mb <= 300))
            self.rows.append(Row(f"{label}: time({large:,}) / time({small:,})", f"time({small:,})",
                                 median([a for a, _ in pairs]), big_s, "s", "≤ 5", growth,
                                 None if growth is None else growth <= 5, runs=pairs))
        pairs = [(e["peak_mb"], f["peak_mb"]) for e, f in zip(measured[("csv", 0)], measured[("csv", csv_size)])]
        growth = median([f - e for e, f in pairs])
        full = measured[("csv", csv_size)]
        self.rows.append(Row(f"CSV export of {csv_size:,} responses: peak RSS growth over an empty export",
                             "empty export", median([e for e, _ in pairs]), median([f for _, f in pairs]), "MB",
                             "≤ 50 MB growth", None, growth <= 50, runs=pairs))
        self.results_lines.append(f"| CSV export (exports.iter_csv) | 0 | "
                                  f"{median([m['seconds'] for m in measured[('csv', 0)]]):.2f} s | "
                                  f"{median([e for e, _ in pairs]):.0f} MB | {len(pairs)} |")
        self.results_lines.append(f"| CSV export (exports.iter_csv) | {csv_size:,} | "
                                  f"{median([m['seconds'] for m in full]):.2f} s | "
                                  f"{median([f for _, f in pairs]):.0f} MB (growth {growth:.0f} MB; "
                                  f"{median([m['size'] for m in full]) / 1e6:.0f} MB of CSV) | {len(pairs)} |")

    # -- report -------------------------------------------------------------------------------
    def write(self, facts: dict[str, str], started: dt.datetime, quick: bool) -> None:
        def num(value: float | None, unit: str = "") -> str:
            if value is None:
                return "—"
            text = f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.2f}"
            return f"{text} {unit}".strip()

        lines = ["# Benchmark results", ""]
        if quick:
            lines += ["**Smoke run (`--quick`, `make bench-smoke`): one round on tiny sizes and one-second runs; "
                      "these numbers mean nothing.**", ""]
        lines += [f"Run on {started:%Y-%m-%d %H:%M} UTC, {time.monotonic() - self.began:.0f} s in all, "
                  f"by `{' '.join(['python -m bench', *sys.argv[1:]])}` (`make bench`).", "",
                  "## Machine", "", "| | |", "|---|---|"]
        lines += [f"| {k} | {v} |" for k, v in facts.items()]
        rounds = "one round" if self.plan.runs == 1 else f"medians of {self.plan.runs} interleaved runs"
        lines += ["", f"## Results ({rounds})", "",
                  "Every web figure is requests per second under gunicorn with 2 sync workers "
                  "(`deploy/gunicorn.conf.py`, access log off), measured by wrk on 127.0.0.1; the ratio is "
                  "the median of the per-round ratios subject / baseline. Saves, submits and inserts count only "
                  "requests answered with a redirect (something stored), each fellow on a fresh invitation.", "",
                  f"Targets are the floors of issue 19: the respondent page at least {PAGE_FLOOR} of a bare Flask "
                  f"hello world; a section save and a final submit at least {WRITE_FLOOR} of the 1-row insert app on "
                  "the same database, and met only if every run stored exactly the rows it answered for; "
                  "invitations, the dashboard, the PDF and the CSV keep the targets they met before it. "
                  "Floors to keep, not targets to chase.", "",
                  "| Measure | Baseline | Baseline median | Subject median | Ratio | Target | Met? |",
                  "|---|---|---|---|---|---|---|"]
        for row in self.rows:
            met = "—" if row.met is None else ("yes" if row.met else "**no**")
            # Three decimals: at two, a ratio just under its target (0.347) would print as met (0.35).
            ratio = "—" if row.ratio is None else f"{row.ratio:.3f}"
            lines.append(f"| {row.measure} | {row.baseline_name} | {num(row.baseline, row.unit)} | "
                         f"{num(row.subject, row.unit)} | {ratio} | {row.target} | {met} |")
        for hole in self.holes:
            lines.append(f"| {hole.split(':', 1)[0]} | — | — | — | — | — | not measured |")
        if self.holes:
            lines += ["", "### Not measured", ""] + [f"- {h}" for h in self.holes]
        if self.notes:
            lines += ["", "### Sizes this run chose", ""] + [f"- {n}" for n in self.notes]
        if self.results_lines:
            lines += ["", "### Results pages and report by size (medians; peak RSS of a fresh process)", "",
                      "| What | Responses | Seconds | Peak RSS | Runs |", "|---|---|---|---|---|",
                      *self.results_lines]
        if self.extra:
            lines += ["", "### Respondent page weight (HTML plus every linked stylesheet, script and image)", "",
                      "| Page | Requests | Bytes | Parts |", "|---|---|---|---|", *self.extra]
        if self.checks:
            lines += ["", "### Rows stored = requests answered", "",
                      "wrk counts answers in a Lua `response()` hook; rows are counted in the database after "
                      "each run. A request still in flight when wrk's clock stops may be stored without being "
                      "counted (at most one per connection); a run matches when no request was refused and "
                      "the rows stored exceed the redirects by no more than that.", "",
                      *[f"- {c}" for c in self.checks], *[f"- **Mismatch**: {f}" for f in self.failures]]
        lines += ["", "### Per-run values", ""]
        for row in self.rows:
            if row.runs:
                lines.append(f"- {row.measure}: " + ", ".join(f"({b:,.1f}, {s:,.1f})" for b, s in row.runs))
        lines += ["", "## Commands", "", "```", *self.commands, "```"]
        if NOTES.exists() and not quick:
            lines += ["", NOTES.read_text().strip()]
        self.out.write_text("\n".join(lines) + "\n")
        self.log(f"wrote {self.out}")


# -- helpers ----------------------------------------------------------------------------------
class _Counter:
    """Counts what each mode stores, read straight from the database after every wrk run."""

    QUERIES = {"save": "SELECT COUNT(*) FROM responses",
               "submit": "SELECT COUNT(*) FROM responses WHERE status = 'complete'",
               "insert": "SELECT COUNT(*) FROM bench_rows"}

    def __init__(self, url: str) -> None:
        from sqlalchemy import create_engine

        self.engine = create_engine(url)

    def count(self, mode: str) -> int:
        from sqlalchemy import text

        with self.engine.connect() as conn:
            return int(conn.execute(text(self.QUERIES[mode])).scalar())

    def dispose(self) -> None:
        self.engine.dispose()


def _tally_note(items: list[dict]) -> str:
    answered = sum(i["answered"] for i in items)
    stored = sum(i["stored"] for i in items)
    errors = sum(i["errors"] for i in items)
    exhausted = sum(i["exhausted"] for i in items)
    text = f"{answered} answered with a redirect, {stored} rows stored"
    if errors:
        text += f", {errors} other answers (errors or re-shown forms)"
    if exhausted:
        text += f", token pool ran out ({exhausted})"
    return text


def _pg_admin(sql: str) -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN, autocommit=True, connect_timeout=5) as conn:
        conn.execute(sql)


def _form_fields() -> list[tuple[str, str]]:
    from .prepare import FORM_FIELDS

    return FORM_FIELDS


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def _cookies_and_csrf(url: str) -> tuple[str, str, str]:
    """The cookies a respondent page sets (none: its CSRF token is bound to the link) and its CSRF token."""
    with urllib.request.urlopen(url, timeout=10) as response:
        html = response.read().decode()
        cookies = [h.split(";", 1)[0] for h in response.headers.get_all("Set-Cookie") or []]
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
    if not match:
        raise RuntimeError("no CSRF token on the respondent page")
    return "; ".join(cookies), match.group(1), html


def _post(url: str, body: str, cookie: str) -> tuple[int, str]:
    opener = urllib.request.build_opener(_NoRedirect)
    request = urllib.request.Request(url, data=body.encode(), headers={
        "Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"})
    try:
        with opener.open(request, timeout=10) as response:
            return response.status, response.headers.get("Location", "")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers.get("Location", "")


_LINKED = re.compile(r'<(?:link[^>]+href|script[^>]+src|img[^>]+src)="([^"]+)"')


def _page_weight(url: str) -> tuple[int, int, str]:
    """Bytes and requests for a page and every stylesheet, script and image it links (no cache)."""
    with urllib.request.urlopen(url, timeout=10) as response:
        html = response.read()
    total, parts = len(html), [f"HTML {len(html) / 1024:.1f} KiB"]
    seen: set[str] = set()
    for ref in _LINKED.findall(html.decode()):
        full = urllib.parse.urljoin(url, ref.replace("&amp;", "&"))
        if full in seen or not full.startswith(f"http://{HOST}:"):
            continue
        seen.add(full)
        with urllib.request.urlopen(full, timeout=10) as response:
            size = len(response.read())
        total += size
        parts.append(f"{urllib.parse.urlsplit(full).path.rsplit('/', 1)[-1]} {size / 1024:.1f} KiB")
    return total, 1 + len(seen), ", ".join(parts)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one round on tiny sizes: a smoke check of the harness")
    parser.add_argument("--out", type=Path, default=None,
                        help="where to write the results (bench/RESULTS.md; bench/out/SMOKE.md with --quick)")
    parser.add_argument("--only", default="", help="comma-separated stages: sqlite,postgres,mail,results")
    parser.add_argument("--runs", type=int, default=None, help="rounds per measure (at least 3 for the record)")
    parser.add_argument("--mails", type=int, default=None, help="invitations per send_rate.py run")
    args = parser.parse_args(argv)
    plan = Plan.quick() if args.quick else Plan()
    out = args.out or (BENCH / "out" / "SMOKE.md" if args.quick else BENCH / "RESULTS.md")
    out.parent.mkdir(parents=True, exist_ok=True)
    if args.runs:
        plan.runs = args.runs
    if args.mails:
        plan.mails = args.mails
    started = dt.datetime.now(dt.timezone.utc)
    facts = machine()
    work = Path(tempfile.mkdtemp(prefix="survey-bench-"))
    cache = BENCH / "out" if not args.quick else work / "cache"
    only = {s.strip() for s in args.only.split(",") if s.strip()} or {"sqlite", "postgres", "mail", "results"}
    bench = Bench(plan, out, work, cache, only)
    stages = [("sqlite", lambda: bench.stage_web("sqlite")), ("postgres", bench.stage_postgres),
              ("results", bench.stage_results), ("mail", bench.stage_mail)]
    try:
        for name, stage in stages:
            if name not in only:
                continue
            bench.log(f"stage {name}")
            try:
                stage()
            except Exception as exc:
                traceback.print_exc()
                bench.hole(f"stage {name}", f"{type(exc).__name__}: {exc}")
        # The machine is shared: the load at the end says whether someone else's work ran beside ours.
        facts["load average at end"] = load_average()
        bench.write(facts, started, args.quick)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    for problem in [*bench.holes, *bench.failures]:
        print(f"bench: {problem}", file=sys.stderr)
    return 1 if bench.holes or bench.failures else 0


if __name__ == "__main__":
    sys.exit(main())
