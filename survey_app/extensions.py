"""Flask extensions, created unbound here and bound to the app in create_app()."""
from __future__ import annotations

from typing import Any

from flask import Flask
from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_mail import Mail
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from huey import Huey
from huey.storage import MemoryStorage, RedisStorage, SqliteStorage
from sqlalchemy import MetaData

# Named constraints so that Alembic migrations are stable on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

db = SQLAlchemy(metadata=MetaData(naming_convention=NAMING_CONVENTION))
migrate = Migrate()
mail = Mail()
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()
limiter = Limiter(key_func=get_remote_address, default_limits=[])


class FlaskHuey(Huey):
    """A Huey whose storage is chosen from the app config (Redis or SQLite) in init_app."""

    def __init__(self) -> None:
        super().__init__("survey_app", storage_class=MemoryStorage, utc=True)
        self.app: Flask | None = None

    def init_app(self, app: Flask) -> None:
        """Point the queue at Redis when REDIS_URL is set, else at SQLite under instance/."""
        self.app = app
        kwargs: dict[str, Any]
        if app.config.get("REDIS_URL"):
            self.storage_class = RedisStorage
            kwargs = {"url": app.config["REDIS_URL"]}
        else:
            self.storage_class = SqliteStorage
            kwargs = {"filename": app.config["HUEY_SQLITE_PATH"]}
        self.storage_kwargs = kwargs
        self.storage = self.create_storage()
        self.immediate = bool(app.config.get("HUEY_IMMEDIATE"))
        app.extensions["huey"] = self


huey = FlaskHuey()

__all__ = ["db", "migrate", "mail", "login_manager", "csrf", "babel", "limiter", "huey"]
