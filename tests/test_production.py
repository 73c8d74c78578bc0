"""Production set-up: config that fails fast, /health, gunicorn logs without tokens, the bench harness."""
from __future__ import annotations

import subprocess
import urllib.request
from pathlib import Path

import pytest

from config import load_config
from survey_app import create_app
from survey_app.extensions import db
from survey_app.models import Invitation, Participant
from survey_app.services import surveys as survey_service
from survey_app.services import tokens

from .conftest import LEGACY_SURVEY, make_app
from .servers import BIN, ROOT, closed_port, gunicorn

GOOD_SECRET = "production-secret-key-for-tests-0123456789"


@pytest.mark.parametrize("missing", ["SECRET_KEY", "DATABASE_URL"])
def test_production_refuses_to_start_without_secret_or_database(monkeypatch, missing):
    monkeypatch.setenv("SECRET_KEY", GOOD_SECRET)
    monkeypatch.setenv("DATABASE_URL", "postgresql://survey@127.0.0.1/survey")
    monkeypatch.delenv(missing)
    with pytest.raises(RuntimeError, match=missing):
        load_config("production")
    with pytest.raises(RuntimeError, match=missing):
        create_app("production")


def test_production_refuses_a_short_secret(monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "short")
    monkeypatch.setenv("DATABASE_URL", "postgresql://survey@127.0.0.1/survey")
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        load_config("production")


def test_production_config_reads_database_and_secures_cookies(monkeypatch):
    monkeypatch.setenv("SECRET_KEY", GOOD_SECRET)
    monkeypatch.setenv("DATABASE_URL", "postgres://survey@127.0.0.1/survey")
    config = load_config("production")
    assert config.SQLALCHEMY_DATABASE_URI == "postgresql+psycopg://survey@127.0.0.1/survey"
    assert config.SESSION_COOKIE_SECURE is True
    assert config.SQLALCHEMY_ENGINE_OPTIONS["pool_pre_ping"] is True


def test_health_reports_database_and_queue(client):
    response = client.get("/health")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok", "queue": "ok"}


def test_health_is_503_when_the_database_is_unreachable(tmp_path):
    port = closed_port()
    url = f"postgresql+psycopg://postgres@127.0.0.1:{port}/nowhere"
    app = make_app(url, tmp_path, SQLALCHEMY_ENGINE_OPTIONS={"connect_args": {"connect_timeout": 2}})
    response = app.test_client().get("/health")
    assert response.status_code == 503
    body = response.get_json()
    assert body == {"status": "unavailable", "database": "error", "queue": "ok"}
    assert str(port) not in response.get_data(as_text=True)  # says what failed, never why
    with app.app_context():
        db.engine.dispose()


def test_health_is_503_when_the_queue_is_unreachable(tmp_path):
    app = make_app(f"sqlite:///{tmp_path / 'health.db'}", tmp_path,
                   REDIS_URL=f"redis://127.0.0.1:{closed_port()}/0")
    response = app.test_client().get("/health")
    assert response.status_code == 503
    assert response.get_json() == {"status": "unavailable", "database": "ok", "queue": "error"}
    with app.app_context():
        db.engine.dispose()


def _invitation_token(tmp_path: Path, db_url: str) -> tuple[str, str]:
    """A database with the bundled survey and one invitation; return its token and the secret key."""
    app = make_app(db_url, tmp_path)
    with app.app_context():
        db.create_all()
        survey = survey_service.load_survey_file(LEGACY_SURVEY).survey
        participant = Participant(survey_id=survey.id, name="Log Test", email="log.test@example.org",
                                  country="KE", cohort=2015, language="en", attributes={})
        seed = tokens.new_seed()
        token = tokens.token_from_seed(seed)
        participant.invitation = Invitation(survey_id=survey.id, token_seed=seed, token_hash=tokens.hash_token(token))
        db.session.add(participant)
        db.session.commit()
        secret = app.config["SECRET_KEY"]
        db.engine.dispose()
    return token, secret


@pytest.mark.slow
@pytest.mark.database_independent
def test_gunicorn_with_the_deploy_config_serves_health_and_logs_no_token(tmp_path):
    db_url = f"sqlite:///{tmp_path / 'gunicorn.db'}"
    token, secret = _invitation_token(tmp_path, db_url)
    log = tmp_path / "gunicorn.log"
    env = {"SURVEY_APP_ENV": "development", "DATABASE_URL": db_url, "SECRET_KEY": secret,
           "INSTANCE_PATH": str(tmp_path / "instance"), "WEB_CONCURRENCY": "1", "REDIS_URL": "",
           "RATELIMIT_STORAGE_URI": "memory://", "GUNICORN_ACCESS_LOG": "-"}
    with gunicorn(env, log) as base:
        with urllib.request.urlopen(f"{base}/health", timeout=5) as response:
            assert response.status == 200
            assert b'"database":"ok"' in response.read().replace(b" ", b"")
        for path in (f"/s/{token}", f"/s/{token}/1?lang=fr&email=log.test@example.org"):
            request = urllib.request.Request(base + path, headers={"Referer": f"{base}/s/{token}/2?x=1"})
            with urllib.request.urlopen(request, timeout=5) as response:
                assert response.status == 200
    text = log.read_text()
    assert '"GET /health" 200' in text
    assert '"GET /s/[token]/1" 200' in text
    assert token not in text
    assert "log.test" not in text and "lang=fr" not in text


@pytest.mark.slow
@pytest.mark.database_independent
def test_bench_quick_run_writes_a_results_file(tmp_path):
    out = tmp_path / "RESULTS.md"
    done = subprocess.run([str(BIN / "python"), "-m", "bench", "--quick", "--only", "sqlite,mail",
                           "--out", str(out)], cwd=ROOT, capture_output=True, text=True, timeout=400)
    assert done.returncode == 0, done.stderr[-2000:]
    text = out.read_text()
    assert "| Measure | Baseline | Baseline median | Subject median | Ratio | Target | Met? |" in text
    assert "Respondent page GET" in text
    assert "Section save POST" in text
    assert "Invitations: 50 through the real worker (huey_consumer" in text
    assert "## Machine" in text and "## Commands" in text


@pytest.mark.database_independent
@pytest.mark.parametrize("database", ["sqlite", "postgres"])
def test_the_bench_save_floor_stores_what_the_app_stores(tmp_path, monkeypatch, database, request):
    """bench's save floor does a whole save, the same rows as the app's, so the gap to it is ours."""
    import importlib

    from sqlalchemy import create_engine, text
    from werkzeug.datastructures import MultiDict

    from bench import prepare
    from bench.common import app_env

    url = (request.getfixturevalue("pg_database_factory")() if database == "postgres"
           else f"sqlite:///{tmp_path / 'bench.db'}")
    for key, value in app_env(tmp_path, url).items():
        monkeypatch.setenv(key, value)
    info = prepare.prepare(tmp_path / "info.json", save=5, submit=0)
    from bench.baselines import save_floor

    floor = importlib.reload(save_floor).app.test_client()
    app = create_app()
    ours = app.test_client()
    by_floor, by_app, forged, incomplete, again = info["save_tokens"][:5]

    def body(token: str, **changes) -> MultiDict:
        fields = [(k, changes.get(k, v)) for k, v in prepare.FORM_FIELDS if changes.get(k, v) is not None]
        return MultiDict([*fields, ("csrf_token", changes.get("csrf_token", info["csrf"][token]))])

    assert floor.post(f"/s/{by_floor}/1", data=body(by_floor)).headers["Location"] == f"/s/{by_floor}/check"
    assert ours.post(f"/s/{by_app}/1", data=body(by_app)).headers["Location"].endswith(f"/s/{by_app}/check")
    assert floor.post(f"/s/{forged}/1", data=body(forged, csrf_token=info["csrf"][by_floor])).status_code == 400
    assert floor.post(f"/s/{incomplete}/1", data=body(incomplete, role=None)).status_code == 400
    floor.post(f"/s/{again}/1", data=body(again, comments="First words"))
    floor.post(f"/s/{again}/1", data=body(again, comments="Second thoughts"))

    engine = create_engine(url)
    conn = engine.connect()

    def stored(token: str) -> tuple:
        response = conn.execute(text(
            "SELECT r.id, r.status, r.language, r.country, r.cohort, r.last_section, i.status FROM responses r "
            "JOIN invitations i ON i.id = r.invitation_id WHERE i.token_hash = :hash"),
            {"hash": tokens.hash_token(token)}).first()
        if response is None:
            return ()
        answers = conn.execute(text("SELECT question_id, item_code, option_code, number, text, quote_approved "
                                    "FROM answers WHERE response_id = :id ORDER BY id"), {"id": response[0]}).all()
        return tuple(response[1:]), [tuple(a) for a in answers]

    assert stored(by_floor) == stored(by_app) != ()
    assert len(stored(by_floor)[1]) == 14
    assert stored(forged) == () and stored(incomplete) == ()
    texts = [a[4] for a in stored(again)[1] if a[4]]
    assert texts == ["Second thoughts"] and len(stored(again)[1]) == 14
    # The app reads what the floor wrote: its check page shows the answers.
    page = ours.get(f"/s/{by_floor}/check")
    assert page.status_code == 200 and b"The programme changed how our museum" in page.data
    conn.close()
    engine.dispose()
    with app.app_context():
        db.engine.dispose()
