"""Results costs in a fresh process: the dashboard page and the CSV export, seconds and peak memory.

    python -m bench.results_cost build DB --responses N     # survey + N synthetic responses (cached)
    python -m bench.results_cost dashboard DB               # GET the dashboard as signed-in staff
    python -m bench.results_cost csv DB                     # stream the CSV export through the view

Each measure prints one JSON line: seconds, peak RSS (MB) of the whole process, and the RSS
before the measured work, so a caller can take the growth. The data builder uses the project's
generator (survey_app/dev/generate.py), the same one behind `flask dev generate`.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SLUG = "legacy-projects"
STAFF_EMAIL = "bench-staff@itp.example"
STAFF_PASSWORD = "bench-correct-horse-battery-9"


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


def _app(db_path: Path):
    from survey_app import create_app

    os.environ.setdefault("SECRET_KEY", "bench-secret-key-0123456789abcdef0123456789")
    instance = db_path.parent / f"{db_path.stem}-instance"
    return create_app({"CONFIG": "development", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{db_path}",
                       "INSTANCE_PATH": str(instance), "HUEY_SQLITE_PATH": str(instance / "huey.db"),
                       "MAIL_OUTBOX_DIR": str(instance / "outbox"), "RATELIMIT_ENABLED": False,
                       "WTF_CSRF_SSL_STRICT": False})


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def current_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def build(db_path: Path, responses: int) -> None:
    from survey_app.dev.generate import generate
    from survey_app.extensions import db
    from survey_app.services import staff as staff_service
    from survey_app.services import surveys as survey_service

    tmp = db_path.with_suffix(".building")
    if tmp.exists():
        tmp.unlink()
    app = _app(tmp)
    began = time.perf_counter()
    with app.app_context():
        db.create_all()
        survey = survey_service.load_survey_file(survey_service.bundled_survey_path(SLUG)).survey
        if responses:
            generate(survey, responses, seed=7)
        staff_service.create_staff(STAFF_EMAIL, "Bench Staff", STAFF_PASSWORD, "admin")
        db.session.commit()
        db.engine.dispose()
    for suffix in ("-wal", "-shm"):
        Path(str(tmp) + suffix).unlink(missing_ok=True)
    tmp.rename(db_path)
    print(json.dumps({"built": str(db_path), "responses": responses,
                      "seconds": round(time.perf_counter() - began, 2)}))


_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def _signed_in_client(app):
    client = app.test_client()
    page = client.get("/staff/login").get_data(as_text=True)
    match = _CSRF.search(page)
    response = client.post("/staff/login", data={"email": STAFF_EMAIL, "password": STAFF_PASSWORD,
                                                  "csrf_token": match.group(1) if match else ""})
    if response.status_code != 302:
        raise RuntimeError(f"staff sign-in failed: {response.status_code}")
    return client


def measure(what: str, db_path: Path) -> dict:
    app = _app(db_path)
    client = _signed_in_client(app)
    # Warm the templates and the ORM on a page that does not touch the responses.
    client.get(f"/staff/surveys/{SLUG}/results/text")
    before = current_rss_mb()
    began = time.perf_counter()
    size = 0
    if what == "dashboard":
        response = client.get(f"/staff/surveys/{SLUG}/results/")
        size = len(response.data)
    else:
        response = client.get(f"/staff/surveys/{SLUG}/results/export.csv", buffered=False)
        for chunk in response.response:
            size += len(chunk)
        response.close()
    seconds = time.perf_counter() - began
    if response.status_code != 200:
        raise RuntimeError(f"{what}: HTTP {response.status_code}")
    return {"what": what, "seconds": round(seconds, 4), "peak_rss_mb": round(rss_mb(), 1),
            "rss_before_mb": round(before, 1), "bytes": size}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=["build", "dashboard", "csv"])
    parser.add_argument("db", type=Path)
    parser.add_argument("--responses", type=int, default=0)
    args = parser.parse_args(argv)
    if args.action == "build":
        build(args.db, args.responses)
    else:
        print(json.dumps(measure(args.action, args.db)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
