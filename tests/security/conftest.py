"""Fixtures of the concurrency tests: an app on each database, served by a real threaded server."""
from __future__ import annotations

import threading

import pytest

from survey_app.extensions import db
from tests.conftest import make_app, postgres_available, service_missing


@pytest.fixture(params=["sqlite", "postgres"])
def server_app(request, tmp_path, pg_database_factory):
    if request.param == "postgres":
        reason = postgres_available()
        if reason:
            service_missing(reason)
        url = pg_database_factory()
    else:
        url = f"sqlite:///{tmp_path / 'concurrent.db'}"
    app = make_app(url, tmp_path, RATELIMIT_ENABLED=False)
    with app.app_context():
        db.create_all()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def live_server(server_app):
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, server_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_port
    server.shutdown()
    thread.join(10)
    server.server_close()
