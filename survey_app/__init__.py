"""survey_app: surveys and feedback for the British Museum's International Training Programme."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from flask import Flask

from config import Config, load_config

ROOT = Path(__file__).resolve().parent.parent


def create_app(config: Config | type[Config] | str | dict[str, Any] | None = None) -> Flask:
    """Build the application; config may be a Config object or class, its name, or overrides."""
    app = Flask(
        __name__,
        template_folder=str(ROOT / "templates"),
        static_folder="static",
    )
    _load_config(app, config)
    instance = Path(app.config["INSTANCE_PATH"])
    instance.mkdir(parents=True, exist_ok=True)
    app.instance_path = str(instance)
    if not app.config.get("HUEY_SQLITE_PATH"):
        app.config["HUEY_SQLITE_PATH"] = str(instance / "huey.db")
    if not app.config.get("MAIL_OUTBOX_DIR"):
        app.config["MAIL_OUTBOX_DIR"] = str(instance / "outbox")

    register_proxies(app)
    register_logging(app)
    register_origin_check(app)
    register_extensions(app)
    register_jobs(app)
    register_blueprints(app)
    register_security(app)
    register_i18n(app)
    register_templating(app)
    register_errorhandlers(app)
    register_commands(app)
    return app


def _load_config(app: Flask, config: Config | type[Config] | str | dict[str, Any] | None) -> None:
    overrides: dict[str, Any] = {}
    if isinstance(config, dict):
        overrides = config
        config = overrides.pop("CONFIG", None) if "CONFIG" in overrides else None
    if config is None or isinstance(config, str):
        config = load_config(config)
    elif isinstance(config, type):
        config = config()
    app.config.from_object(config)
    app.config.update(overrides)
    if app.config.get("ENV_NAME") == "production":
        # The interactive debugger runs code typed in a browser: never in production, whatever
        # FLASK_DEBUG says. `flask run` reads the flag after loading the app, so reset it too.
        app.debug = False
        os.environ["FLASK_DEBUG"] = "0"
    if not app.config.get("SECRET_KEY"):
        raise RuntimeError("SECRET_KEY is not set")


def register_proxies(app: Flask) -> None:
    """Take the client's address, scheme and host from X-Forwarded-* only when proxies are trusted.

    TRUSTED_PROXIES is how many proxies stand in front (1 for the documented nginx); ProxyFix then
    reads that many values from the right of each header, so whatever a client put further left is
    ignored. With 0, the headers are never read and the socket's address is the client.
    """
    count = int(app.config.get("TRUSTED_PROXIES") or 0)
    if count < 0:
        raise RuntimeError("TRUSTED_PROXIES must be 0 or more")
    if count:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count, x_host=count)  # type: ignore[method-assign]


def register_logging(app: Flask) -> None:
    """Log to stderr in a format that never includes query strings (tokens live in paths)."""
    from .logging import configure_logging

    configure_logging(app)


def register_origin_check(app: Flask) -> None:
    """Refuse foreign-origin staff posts before anything else, CSRF included, looks at them."""
    from .security import refuse_foreign_origin

    app.before_request(refuse_foreign_origin)


def register_extensions(app: Flask) -> None:
    from . import models  # noqa: F401  (register the tables on db.metadata)
    from .extensions import babel, csrf, db, huey, limiter, login_manager, mail, migrate

    db.init_app(app)
    _configure_sqlite(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True, compare_type=True)
    mail.init_app(app)
    csrf.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    huey.init_app(app)
    from .i18n import select_locale

    babel.init_app(app, locale_selector=select_locale)


def _configure_sqlite(app: Flask) -> None:
    """Use WAL, a busy timeout, foreign keys and secure deletion on every SQLite connection."""
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        return
    from sqlalchemy import event

    from .extensions import db

    with app.app_context():
        engine = db.engine

    @event.listens_for(engine, "connect")
    def _set_sqlite_pragmas(dbapi_connection, _record) -> None:  # pragma: no cover - trivial
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        # Overwrite deleted rows with zeros, so an erased person's data does not linger in free pages.
        cursor.execute("PRAGMA secure_delete=ON")
        cursor.close()


def register_jobs(app: Flask) -> None:
    """Let services ask for background tasks, queued once their transaction commits (survey_app/jobs.py)."""
    from . import jobs, tasks

    jobs.init_app(app, tasks.QUEUED_AFTER_COMMIT)


def register_blueprints(app: Flask) -> None:
    from .admin.views import bp as admin_bp
    from .auth.views import bp as auth_bp
    from .invitations.views import bp as invitations_bp
    from .participants.views import bp as participants_bp
    from .privacy.views import bp as privacy_bp
    from .respond.optout import bp as optout_bp
    from .respond.preview import bp as preview_bp
    from .respond.report import bp as public_report_bp
    from .respond.views import bp as respond_bp
    from .results.views import bp as results_bp
    from .staff.views import bp as staff_bp

    for blueprint in (respond_bp, auth_bp, staff_bp, invitations_bp, participants_bp, optout_bp, results_bp,
                      privacy_bp, admin_bp, public_report_bp, preview_bp):
        app.register_blueprint(blueprint)


def register_security(app: Flask) -> None:
    from .security import init_security

    init_security(app)


def register_i18n(app: Flask) -> None:
    from .i18n import init_i18n

    init_i18n(app)


def register_templating(app: Flask) -> None:
    from .templating import init_templating

    init_templating(app)


def register_errorhandlers(app: Flask) -> None:
    from .errors import init_errors

    init_errors(app)


def register_commands(app: Flask) -> None:
    from .cli import init_cli

    init_cli(app)

