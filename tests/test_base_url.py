"""Links that work wherever it runs: the address `make run` serves on, PORT included, unless BASE_URL says otherwise."""
from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest

from config import DevelopmentConfig
from survey_app import create_app
from survey_app.extensions import db
from survey_app.models import Survey
from survey_app.services import invitations as invitation_service
from survey_app.services import participants as participant_service
from survey_app.services import staff as staff_service
from survey_app.services import surveys as survey_service
from tests.conftest import LEGACY_SURVEY, STAFF_PASSWORD, csrf_from
from tests.invitations.conftest import links_in
from tests.invitations.smtp_server import FaultyHandler, SmtpServer

ROOT = Path(__file__).resolve().parents[1]

FAKE_PROGRAM = """#!/bin/sh
echo "$(basename "$0") $* BASE_URL=${BASE_URL:-unset}" >> "$(dirname "$0")/calls.log"
if [ "$(basename "$0")" = flask ] && [ "$1" = run ]; then
  # Like the real server, stay up until the worker started beside it has begun.
  for _ in $(seq 50); do grep -q '^huey_consumer' "$(dirname "$0")/calls.log" && exit 0; sleep 0.1; done
fi
"""


def _make_run(tmp_path: Path, **env: str) -> list[str]:
    """Run `make run` with stand-ins for flask, the worker and pybabel that note what they were given."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name in ("flask", "huey_consumer", "pybabel"):
        program = bin_dir / name
        program.write_text(FAKE_PROGRAM)
        program.chmod(0o755)
    stamp = tmp_path / "installed"
    stamp.touch()  # newer than pyproject.toml: nothing to install
    environment = {k: v for k, v in os.environ.items() if k not in ("BASE_URL", "PORT", "MAKEFLAGS", "MAKELEVEL")}
    environment.update(env)
    subprocess.run(["make", "-s", "-C", str(ROOT), "run", f"BIN={bin_dir}", f"STAMP={stamp}"], env=environment,
                   check=True, capture_output=True, timeout=60)
    log = bin_dir / "calls.log"
    for _ in range(50):  # the worker runs in the background: give it a moment to note its call
        if "huey_consumer" in log.read_text():
            break
        time.sleep(0.1)
    return [line for line in log.read_text().splitlines() if not line.startswith("pybabel")]


@pytest.mark.database_independent
def test_make_run_gives_the_web_server_and_the_worker_links_on_its_port(tmp_path):
    calls = _make_run(tmp_path, PORT="8000")
    assert "flask run --host 127.0.0.1 --port 8000 BASE_URL=http://127.0.0.1:8000" in calls
    assert "huey_consumer survey_app.worker.huey --workers 2 --logfile instance/worker.log " \
           "BASE_URL=http://127.0.0.1:8000" in calls  # the worker sends the e-mails
    assert all(call.endswith("BASE_URL=http://127.0.0.1:8000") for call in calls)  # db upgrade, demo setup too


@pytest.mark.database_independent
def test_make_run_keeps_a_base_url_that_is_set(tmp_path):
    calls = _make_run(tmp_path, PORT="8000", BASE_URL="https://surveys.example.org")
    assert len(calls) == 4 and all(call.endswith("BASE_URL=https://surveys.example.org") for call in calls)


@pytest.mark.parametrize("env, expected", [
    ({}, "http://127.0.0.1:5000"),
    ({"PORT": "8000"}, "http://127.0.0.1:8000"),
    ({"PORT": "8000", "BASE_URL": "https://surveys.example.org/"}, "https://surveys.example.org"),
])
def test_the_embedded_default_follows_port_unless_base_url_is_set(monkeypatch, env, expected):
    monkeypatch.delenv("BASE_URL", raising=False)
    monkeypatch.delenv("PORT", raising=False)
    monkeypatch.setenv("SECRET_KEY", "s" * 48)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert DevelopmentConfig().BASE_URL == expected


@pytest.fixture
def port_8000_app(tmp_path, monkeypatch):
    """The embedded default as `PORT=8000 make run` builds it (development config from the environment)."""
    monkeypatch.delenv("BASE_URL", raising=False)
    monkeypatch.setenv("PORT", "8000")
    monkeypatch.setenv("SECRET_KEY", "s" * 48)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'port.db'}")
    with SmtpServer(FaultyHandler()) as smtp:
        app = create_app({"CONFIG": DevelopmentConfig, "INSTANCE_PATH": str(tmp_path / "instance"),
                          "HUEY_SQLITE_PATH": str(tmp_path / "huey.db"), "RATELIMIT_STORAGE_URI": "memory://",
                          "MAIL_SERVER": "127.0.0.1", "MAIL_PORT": smtp.port, "MAIL_SEND_TASKS": 1})
        with app.app_context():
            db.create_all()
        yield app, smtp
        with app.app_context():
            db.engine.dispose()


@pytest.mark.database_independent
def test_with_port_8000_e_mailed_links_resume_link_and_open_link_all_point_at_8000(port_8000_app):
    app, smtp = port_8000_app
    with app.app_context():
        survey = survey_service.load_survey_file(LEGACY_SURVEY).survey
        participant_service.import_file(survey, b"name,email,country,cohort,language\n"
                                                b"Port Fellow,port@example.org,KE,2015,en\n")
        staff_service.create_staff("port.staff@itp.example", "Port Staff", STAFF_PASSWORD)
        invitation_service.send_invitations(db.session.get(Survey, survey.id), actor=None)
        invitation_service.send_pending()
    link, optout = links_in(smtp.handler.received[0].message)
    assert link.startswith("http://127.0.0.1:8000/s/") and optout.startswith("http://127.0.0.1:8000/optout/")
    fellow = app.test_client()
    assert fellow.get(link.removeprefix("http://127.0.0.1:8000")).status_code == 200

    staff = app.test_client()
    page = staff.get("/staff/login")
    assert staff.post("/staff/login", data={"email": "port.staff@itp.example", "password": STAFF_PASSWORD,
                                            "csrf_token": csrf_from(page.data)}).status_code == 302
    home = staff.get("/staff/").get_data(as_text=True)
    assert ">http://127.0.0.1:8000/survey/legacy-projects</a>" in home
    assert "127.0.0.1:5000" not in home

    visitor = app.test_client()
    start = visitor.get("/survey/legacy-projects")
    started = visitor.post("/survey/legacy-projects", data={"csrf_token": csrf_from(start.data)})
    assert started.status_code == 302
    section = visitor.get(started.headers["Location"]).get_data(as_text=True)
    assert "http://127.0.0.1:8000/r/" in section and "127.0.0.1:5000" not in section
