"""Production set-up: config that fails fast, /health, gunicorn logs without tokens."""
from __future__ import annotations

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
from .servers import closed_port, gunicorn

GOOD_SECRET = "production-secret-key-for-tests-0123456789"


@pytest.mark.parametrize("missing", ["SECRET_KEY", "DATABASE_URL", "BASE_URL"])
def test_production_refuses_to_start_without_secret_database_or_base_url(monkeypatch, missing):
    monkeypatch.setenv("SECRET_KEY", GOOD_SECRET)
    monkeypatch.setenv("DATABASE_URL", "postgresql://survey@127.0.0.1/survey")
    monkeypatch.setenv("BASE_URL", "https://surveys.example.org")
    monkeypatch.delenv(missing)
    with pytest.raises(RuntimeError, match=missing):
        load_config("production")
    with pytest.raises(RuntimeError, match=missing):
        create_app("production")


@pytest.mark.parametrize("base_url", ["http://surveys.example.org", "surveys.example.org", "https://",
                                      "ftp://surveys.example.org", "https://surveys.example.org/?x=1", "  "])
def test_production_refuses_a_base_url_that_is_not_a_public_https_address(monkeypatch, base_url):
    """Links e-mailed from production must be https:// to a host: the message names what to set."""
    monkeypatch.setenv("SECRET_KEY", GOOD_SECRET)
    monkeypatch.setenv("DATABASE_URL", "postgresql://survey@127.0.0.1/survey")
    monkeypatch.setenv("BASE_URL", base_url)
    with pytest.raises(RuntimeError, match=r"BASE_URL must .*https://.*BASE_URL=https://surveys\.example\.org"):
        load_config("production")


def test_production_takes_its_https_base_url(monkeypatch):
    monkeypatch.setenv("SECRET_KEY", GOOD_SECRET)
    monkeypatch.setenv("DATABASE_URL", "postgresql://survey@127.0.0.1/survey")
    monkeypatch.setenv("BASE_URL", "https://surveys.example.org/")
    monkeypatch.setenv("PORT", "8000")  # a local port never leaks into production links
    assert load_config("production").BASE_URL == "https://surveys.example.org"


def test_production_refuses_a_short_secret(monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "short")
    monkeypatch.setenv("DATABASE_URL", "postgresql://survey@127.0.0.1/survey")
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        load_config("production")


def test_production_config_reads_database_and_secures_cookies(monkeypatch):
    monkeypatch.setenv("SECRET_KEY", GOOD_SECRET)
    monkeypatch.setenv("BASE_URL", "https://surveys.example.org")
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
