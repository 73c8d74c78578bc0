"""Shared fixtures: an app per test on SQLite (default) or PostgreSQL (TEST_DATABASE=postgres)."""
from __future__ import annotations

import os
import re
import secrets
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from config import TestingConfig
from survey_app import create_app
from survey_app.extensions import db
from survey_app.models import Invitation, Participant, Role
from survey_app.services import surveys as survey_service
from survey_app.services import tokens

REQUIRE_SERVICES = os.environ.get("REQUIRE_SERVICES") == "1"
TEST_DATABASE = os.environ.get("TEST_DATABASE", "sqlite")
PG_ADMIN_URL = os.environ.get("TEST_PG_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
REDIS_TEST_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
LEGACY_SURVEY = survey_service.bundled_survey_path("legacy-projects")
ALL_TYPES_SURVEY = Path(__file__).parent / "data" / "all-types.yaml"
STAFF_PASSWORD = "correct-horse-battery-9"


def pytest_collection_modifyitems(items) -> None:
    """The PostgreSQL pass skips tests marked database_independent: they ran in the SQLite pass."""
    if TEST_DATABASE != "postgres":
        return
    once = pytest.mark.skip(reason="does not use TEST_DATABASE: runs once, in the SQLite pass")
    for item in items:
        if item.get_closest_marker("database_independent"):
            item.add_marker(once)


def service_missing(reason: str) -> None:
    """Skip a test whose service is absent, unless CI demands every service (then fail)."""
    if REQUIRE_SERVICES:
        pytest.fail(f"REQUIRE_SERVICES=1 but {reason}")
    pytest.skip(reason)


def postgres_available() -> str | None:
    """Return why PostgreSQL cannot be used, or None when it answers."""
    try:
        engine = create_engine(PG_ADMIN_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
    except Exception as exc:  # any failure means "not reachable here"
        return f"PostgreSQL not reachable at {PG_ADMIN_URL}: {type(exc).__name__}"
    return None


def redis_available() -> str | None:
    try:
        import redis

        redis.Redis.from_url(REDIS_TEST_URL, socket_connect_timeout=2).ping()
    except Exception as exc:
        return f"Redis not reachable at {REDIS_TEST_URL}: {type(exc).__name__}"
    return None


@pytest.fixture(scope="session")
def pg_database_factory() -> Iterator[Callable[[], str]]:
    """Create fresh PostgreSQL databases for this run and drop them at the end."""
    reason = postgres_available()
    created: list[str] = []

    def make() -> str:
        if reason:
            service_missing(reason)
        name = f"survey_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
        admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        created.append(name)
        return PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name

    yield make
    if created:
        admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            for name in created:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def pg_session_url(pg_database_factory) -> str:
    """One PostgreSQL database for the whole run; tests truncate it after use."""
    return pg_database_factory()


@pytest.fixture
def database_url(request, tmp_path) -> str:
    if TEST_DATABASE == "postgres":
        return request.getfixturevalue("pg_session_url")
    return f"sqlite:///{tmp_path / 'test.db'}"


def make_app(database_url: str, tmp_path: Path, **overrides):
    """Build an app for tests with its own instance folder, queue file and outbox."""
    config = {
        "CONFIG": TestingConfig,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "INSTANCE_PATH": str(tmp_path / "instance"),
        "HUEY_SQLITE_PATH": str(tmp_path / "instance" / "huey.db"),
        "MAIL_OUTBOX_DIR": str(tmp_path / "instance" / "outbox"),
    }
    config.update(overrides)
    return create_app(config)


@pytest.fixture
def app_overrides() -> dict:
    """Override in a test module to change config for the `app` fixture."""
    return {}


@pytest.fixture
def app(database_url, tmp_path, app_overrides):
    app = make_app(database_url, tmp_path, **app_overrides)
    with app.app_context():
        db.create_all()
    yield app
    with app.app_context():
        db.session.remove()
        if database_url.startswith("postgresql"):
            tables = ", ".join(f'"{t.name}"' for t in db.metadata.sorted_tables)
            with db.engine.begin() as conn:
                conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        db.engine.dispose()


@pytest.fixture
def ctx(app):
    """An application context for service-level tests."""
    with app.app_context():
        yield app


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


_CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def csrf_from(html: str | bytes) -> str:
    """Pull the CSRF token out of a rendered form, as a browser would submit it."""
    if isinstance(html, bytes):
        html = html.decode()
    match = _CSRF_RE.search(html)
    assert match, "no csrf_token in page"
    return match.group(1)


@pytest.fixture
def make_survey(app) -> Callable[..., int]:
    """Load a survey file (the bundled legacy-projects survey by default) and return its id."""

    def make(path: Path | str = LEGACY_SURVEY, **changes) -> int:
        with app.app_context():
            definition = survey_service.parse_definition(survey_service.read_definition(path))
            definition.update(changes)
            return survey_service.apply_definition(definition).survey.id

    return make


@pytest.fixture
def make_staff(app) -> Callable[..., str]:
    """Create a staff account and return its e-mail; the password is STAFF_PASSWORD unless given."""
    counter = {"n": 0}

    def make(role: str = Role.STAFF.value, email: str | None = None, password: str = STAFF_PASSWORD,
             name: str = "Staff Member") -> str:
        from survey_app.services import staff as staff_service

        counter["n"] += 1
        email = email or f"staff{counter['n']}-{role}@itp.example"
        with app.app_context():
            user = staff_service.create_staff(email, name, password, role)
            return user.email

    return make


@pytest.fixture
def login(app) -> Callable:
    """Sign a test client in through the real sign-in form (CSRF on)."""

    def do_login(client, email: str, password: str = STAFF_PASSWORD):
        page = client.get("/staff/login")
        response = client.post("/staff/login", data={
            "email": email, "password": password, "csrf_token": csrf_from(page.data),
        })
        assert response.status_code == 302, response.data[:500]
        return response

    return do_login


@pytest.fixture
def staff_client(app, make_staff, login):
    """A test client signed in as an ordinary staff member."""
    client = app.test_client()
    login(client, make_staff())
    return client


@pytest.fixture
def admin_client(app, make_staff, login):
    client = app.test_client()
    login(client, make_staff(role=Role.ADMIN.value))
    return client


@pytest.fixture
def make_invitation(app) -> Callable[..., str]:
    """Create a participant with an invitation and return the personal token."""
    counter = {"n": 0}

    def make(survey_id: int, name: str = "Test Fellow", email: str | None = None, country: str | None = "KE",
             cohort: int | None = 2015, language: str | None = "en") -> str:
        counter["n"] += 1
        with app.app_context():
            participant = Participant(
                survey_id=survey_id, name=name, email=email or f"fellow{counter['n']}@example.org",
                country=country, cohort=cohort, language=language, attributes={},
            )
            seed = tokens.new_seed()
            token = tokens.token_from_seed(seed)
            participant.invitation = Invitation(survey_id=survey_id, token_seed=seed,
                                                token_hash=tokens.hash_token(token))
            db.session.add(participant)
            db.session.commit()
            return token

    return make


def random_email() -> str:
    return f"user-{secrets.token_hex(4)}@example.org"
