"""Results costs, one measure per fresh process: the dashboard aggregation, the PDF and the CSV export.

    python -m bench.results_cost build DIR N [N ...]           # DIR/legacy-N.db: survey + N responses
    python -m bench.results_cost measure DB INSTANCE dashboard|pdf|csv

`make bench` builds each size once, all in one process (cached under bench/out/, keyed by
`generator_version()`), and runs each measure in a new process, so the peak resident memory printed is that measure's own. A
measure prints one JSON line: seconds, peak RSS (MB), its growth during the measured work, and the
output's size. The data builder uses the project's generator (survey_app/dev/generate.py), the
same one behind `flask dev generate`.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SLUG = "legacy-projects"
MEASURES = ("dashboard", "pdf", "csv")


def generator_version() -> str:
    """Cache key of generated databases: the generator, the models and the bundled survey."""
    digest = hashlib.sha1()
    files = [ROOT / "survey_app" / "dev" / "generate.py", ROOT / "survey_app" / "surveys" / f"{SLUG}.yaml",
             ROOT / "survey_app" / "services" / "totals.py",  # the generator fills the running totals
             *sorted((ROOT / "survey_app" / "models").glob("*.py"))]
    for path in files:
        if path.exists():
            digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def database_path(folder: Path, responses: int) -> Path:
    return folder / f"legacy-{responses}.db"


def build(db_path: Path, responses: int) -> None:
    """Write the bundled survey and `responses` generated answers to a new SQLite file."""
    from survey_app import create_app
    from survey_app.dev.generate import generate
    from survey_app.extensions import db
    from survey_app.services import surveys as survey_service

    tmp = db_path.with_suffix(".building")
    tmp.unlink(missing_ok=True)
    instance = db_path.parent / f"{db_path.stem}-instance"
    os.environ.setdefault("SECRET_KEY", "bench-secret-key-0123456789abcdef0123456789")
    app = create_app({"CONFIG": "development", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}",
                      "INSTANCE_PATH": str(instance), "HUEY_SQLITE_PATH": str(instance / "huey.db"),
                      "MAIL_OUTBOX_DIR": str(instance / "outbox"), "RATELIMIT_ENABLED": False})
    began = time.perf_counter()
    with app.app_context():
        db.create_all()
        survey = survey_service.load_survey_file(survey_service.bundled_survey_path(SLUG)).survey
        if responses:
            generate(survey, responses, seed=7)
        db.session.commit()
        db.engine.dispose()
    for suffix in ("-wal", "-shm"):
        Path(str(tmp) + suffix).unlink(missing_ok=True)
    tmp.rename(db_path)
    print(json.dumps({"built": str(db_path), "responses": responses,
                      "seconds": round(time.perf_counter() - began, 2)}))


def measure(what: str, db_path: Path, instance: Path) -> dict:
    """Time one results measure on a built database, with this process's peak memory."""
    from config import TestingConfig
    from survey_app import create_app
    from survey_app.services import exports, report, results
    from survey_app.services import surveys as survey_service

    app = create_app({"CONFIG": TestingConfig, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{db_path}",
                      "INSTANCE_PATH": str(instance)})
    with app.app_context():
        survey = survey_service.get_survey(SLUG)
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
    return {"seconds": round(seconds, 2), "peak_mb": round(peak / 1024), "grown_mb": round((peak - base) / 1024),
            "size": size}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.results_cost", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="action", required=True)
    build_args = commands.add_parser("build")
    build_args.add_argument("folder", type=Path)
    build_args.add_argument("responses", type=int, nargs="+")
    measure_args = commands.add_parser("measure")
    measure_args.add_argument("db", type=Path)
    measure_args.add_argument("instance", type=Path)
    measure_args.add_argument("what", choices=MEASURES)
    args = parser.parse_args(argv)
    if args.action == "build":
        for responses in args.responses:
            build(database_path(args.folder, responses), responses)
    else:
        print(json.dumps(measure(args.what, args.db, args.instance)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
