"""Time and peak memory of the results PDF, the dashboard aggregation and the CSV export.

Usage: .venv/bin/python bench/report_cost.py 300 10000 100000
Each size gets its own SQLite file under /tmp/survey-bench/data-<generator version> (built once
with the dev generator); each measurement runs in a fresh process so that its peak resident
memory is its own.
"""
from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

MEASURE = """
import io, json, resource, sys, time
from config import TestingConfig
from survey_app import create_app
from survey_app.services import exports, report, results
from survey_app.services import surveys as survey_service
app = create_app({"CONFIG": TestingConfig, "SQLALCHEMY_DATABASE_URI": sys.argv[1], "INSTANCE_PATH": sys.argv[2]})
what = sys.argv[3]
with app.app_context():
    survey = survey_service.get_survey("legacy-projects")
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    began = time.perf_counter()
    if what == "pdf":
        size = len(report.render_pdf_bytes(survey))
    elif what == "dashboard":
        size = results.summarise(survey).completed
    else:
        size = sum(len(chunk) for chunk in exports.iter_csv(survey))
    seconds = time.perf_counter() - began
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"seconds": round(seconds, 2), "peak_mb": round(peak / 1024), "grown_mb": round((peak - base) / 1024), "size": size}))
"""


def build(n: int, folder: Path) -> str:
    url = f"sqlite:///{folder / f'bench-{n}.db'}"
    if (folder / f"bench-{n}.db").exists():
        return url
    from config import TestingConfig
    from survey_app import create_app
    from survey_app.dev.generate import generate
    from survey_app.extensions import db
    from survey_app.services import surveys as survey_service

    app = create_app({"CONFIG": TestingConfig, "SQLALCHEMY_DATABASE_URI": url, "INSTANCE_PATH": str(folder)})
    with app.app_context():
        db.create_all()
        survey = survey_service.load_survey_file(survey_service.bundled_survey_path("legacy-projects")).survey
        began = time.perf_counter()
        generate(survey, n, seed=1)
        print(f"generated {n} responses in {time.perf_counter() - began:.1f} s", flush=True)
    return url


def main(sizes: list[int]) -> None:
    from bench.results_cost import generator_version

    # Keyed like the bench cache: a changed generator or schema never reuses stale files.
    folder = Path(tempfile.gettempdir()) / "survey-bench" / f"data-{generator_version()}"
    folder.mkdir(parents=True, exist_ok=True)
    for n in sizes:
        url = build(n, folder)
        for what in ("dashboard", "pdf", "csv"):
            out = subprocess.run([sys.executable, "-c", MEASURE, url, str(folder), what], cwd=ROOT,
                                 capture_output=True, text=True, check=True).stdout
            print(json.dumps({"responses": n, "measure": what, **json.loads(out)}), flush=True)


if __name__ == "__main__":
    main([int(arg) for arg in sys.argv[1:]] or [300, 10_000])
