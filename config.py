"""Configuration read from the environment: embedded default, testing and production."""
from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = Path(os.environ.get("INSTANCE_PATH", BASE_DIR / "instance"))

LANGUAGES = ["en", "fr", "es", "ar", "zh", "ru"]


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


def _dev_secret_key(instance_dir: Path) -> str:
    """Generate a development key once and keep it, so sessions survive restarts."""
    path = instance_dir / "secret_key"
    if path.exists():
        return path.read_text().strip()
    instance_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key


def _local_base_url() -> str:
    """BASE_URL, else the address `make run` serves on: http://127.0.0.1:PORT (5000 by default)."""
    base_url = (os.environ.get("BASE_URL") or "").strip()
    if base_url:
        return base_url.rstrip("/")
    port = (os.environ.get("PORT") or "").strip() or "5000"
    if not port.isdigit():
        raise RuntimeError(f"PORT must be a port number, not {port!r}")
    return f"http://127.0.0.1:{int(port)}"


def _production_base_url() -> str:
    """The public https:// address every e-mailed link starts with; refuse to start without one."""
    base_url = (os.environ.get("BASE_URL") or "").strip().rstrip("/")
    if not base_url:
        raise RuntimeError("BASE_URL must be set in production to the service's public https:// address "
                           "(for example BASE_URL=https://surveys.example.org): every e-mailed link starts with it")
    parts = urlsplit(base_url)
    if parts.scheme != "https" or not parts.hostname or parts.query or parts.fragment or "@" in parts.netloc:
        raise RuntimeError(f"BASE_URL must be the service's public https:// address in production, not {base_url!r} "
                           "(for example BASE_URL=https://surveys.example.org)")
    return base_url


def _database_url(default: str) -> str:
    url = os.environ.get("DATABASE_URL", default)
    # Heroku-style URLs name the driver "postgres"; SQLAlchemy wants psycopg 3.
    if url.startswith("postgres://"):
        url = "postgresql+psycopg://" + url[len("postgres://"):]
    elif url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


class Config:
    """Settings shared by every environment; subclasses override what differs."""

    ENV_NAME = "base"
    INSTANCE_PATH = str(INSTANCE_DIR)
    SECRET_KEY: str | None = None
    SQLALCHEMY_DATABASE_URI = ""
    SQLALCHEMY_ENGINE_OPTIONS: dict = {}
    # Where e-mailed links and the links shown on pages point. Locally it follows PORT, as `make run`
    # does; production requires an https:// BASE_URL (ProductionConfig).
    BASE_URL = "http://127.0.0.1:5000"
    LANGUAGES = LANGUAGES
    BABEL_DEFAULT_LOCALE = "en"
    BABEL_TRANSLATION_DIRECTORIES = str(BASE_DIR / "survey_app" / "translations")

    # A fellow may type for hours: the CSRF token lives as long as the session.
    WTF_CSRF_TIME_LIMIT = None
    # Secret-link forms carry link-bound tokens (survey_app/respond/csrf.py), good this long.
    RESPOND_CSRF_MAX_AGE = timedelta(days=30)
    WTF_CSRF_SSL_STRICT = True
    MAX_CONTENT_LENGTH = _env_int("MAX_CONTENT_LENGTH", 8 * 1024 * 1024)
    MAX_FORM_MEMORY_SIZE = 1024 * 1024

    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False
    PERMANENT_SESSION_LIFETIME = timedelta(days=30)
    REMEMBER_COOKIE_DURATION = timedelta(seconds=0)
    STAFF_IDLE_TIMEOUT = timedelta(minutes=_env_int("STAFF_IDLE_MINUTES", 60))
    STAFF_ABSOLUTE_TIMEOUT = timedelta(hours=_env_int("STAFF_ABSOLUTE_HOURS", 12))

    MAIL_SERVER = os.environ.get("MAIL_SERVER") or None
    MAIL_PORT = _env_int("MAIL_PORT", 25)
    MAIL_USE_TLS = _env_bool("MAIL_USE_TLS", False)
    MAIL_USE_SSL = _env_bool("MAIL_USE_SSL", False)
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME") or None
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD") or None
    MAIL_DEFAULT_SENDER = os.environ.get("MAIL_DEFAULT_SENDER", "ITP Surveys <itp-surveys@localhost>")
    MAIL_MAX_PER_MINUTE = _env_int("MAIL_MAX_PER_MINUTE", 0)
    MAIL_MAX_ATTEMPTS = _env_int("MAIL_MAX_ATTEMPTS", 5)
    # Messages sent between two ledger commits: more is faster, but a killed worker may leave up
    # to this many 'uncertain' (never resent; staff decide). One when MAIL_MAX_PER_MINUTE is set.
    MAIL_SEND_GROUP = _env_int("MAIL_SEND_GROUP", 20)
    # Both default to files under the app's INSTANCE_PATH (filled in by create_app).
    MAIL_OUTBOX_DIR = os.environ.get("MAIL_OUTBOX_DIR") or None

    REDIS_URL = os.environ.get("REDIS_URL") or None
    HUEY_SQLITE_PATH = os.environ.get("HUEY_SQLITE_PATH") or None
    HUEY_IMMEDIATE = False

    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI") or os.environ.get("REDIS_URL") or "memory://"
    RATELIMIT_ENABLED = True
    RATELIMIT_HEADERS_ENABLED = False
    TOKEN_GUESS_LIMIT = os.environ.get("TOKEN_GUESS_LIMIT", "10 per 10 minutes")
    # New responses through a survey's open link, per client address.
    OPEN_LINK_LIMIT = os.environ.get("OPEN_LINK_LIMIT", "10 per 10 minutes")
    # Failed sign-ins per client address (any accounts), then per (account, address): past either,
    # that address is refused. Per account only a wait for browsers new to it (survey_app/auth/throttle.py).
    LOGIN_LIMIT = os.environ.get("LOGIN_LIMIT", "5 per minute;20 per hour")
    LOGIN_ACCOUNT_ADDRESS_LIMIT = os.environ.get("LOGIN_ACCOUNT_ADDRESS_LIMIT", "5 per minute;10 per hour")
    LOGIN_DELAY_AFTER = _env_int("LOGIN_DELAY_AFTER", 10)
    LOGIN_DELAY_MAX_SECONDS = _env_int("LOGIN_DELAY_MAX_SECONDS", 60)
    LOGIN_ALERT_AFTER = _env_int("LOGIN_ALERT_AFTER", 10)

    # Proxies in front that set X-Forwarded-For/-Proto/-Host (1 for the documented nginx); 0 trusts none.
    TRUSTED_PROXIES = _env_int("TRUSTED_PROXIES", 0)

    PREFERRED_URL_SCHEME = "http"
    HSTS = False


class DevelopmentConfig(Config):
    """Embedded default: SQLite in WAL mode, Huey on SQLite, e-mails as .eml files."""

    ENV_NAME = "development"

    def __init__(self) -> None:
        self.BASE_URL = _local_base_url()
        self.SECRET_KEY = os.environ.get("SECRET_KEY") or _dev_secret_key(INSTANCE_DIR)
        self.SQLALCHEMY_DATABASE_URI = _database_url(f"sqlite:///{INSTANCE_DIR / 'survey_app.db'}")


class TestingConfig(Config):
    """Settings for the test suite; tests pass the database URL and paths they need."""

    ENV_NAME = "testing"
    TESTING = True
    SECRET_KEY = "testing-secret-key-not-for-production-use-0123456789"
    SQLALCHEMY_DATABASE_URI = "sqlite://"
    BASE_URL = "http://127.0.0.1:5000"
    MAIL_SERVER = None
    REDIS_URL = None
    RATELIMIT_STORAGE_URI = "memory://"
    TRUSTED_PROXIES = 0
    PASSWORD_HASH_METHOD = "pbkdf2:sha256:1000"


class ProductionConfig(Config):
    """Production: every secret from the environment, secure cookies, HSTS."""

    ENV_NAME = "production"
    SESSION_COOKIE_SECURE = True
    PREFERRED_URL_SCHEME = "https"
    HSTS = True

    def __init__(self) -> None:
        secret = os.environ.get("SECRET_KEY")
        if not secret or len(secret) < 32:
            raise RuntimeError("SECRET_KEY must be set (32+ characters) in production")
        if "DATABASE_URL" not in os.environ:
            raise RuntimeError("DATABASE_URL must be set in production")
        self.BASE_URL = _production_base_url()
        self.SECRET_KEY = secret
        self.SQLALCHEMY_DATABASE_URI = _database_url(os.environ["DATABASE_URL"])
        # hide_parameters: a failed query's error message must not carry answers or e-mails into logs.
        self.SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True, "pool_size": 5, "max_overflow": 5,
                                          "hide_parameters": True}


CONFIGS: dict[str, type[Config]] = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}


def load_config(name: str | None = None) -> Config:
    """Return the config object named by the argument or by SURVEY_APP_ENV."""
    name = name or os.environ.get("SURVEY_APP_ENV", "development")
    try:
        return CONFIGS[name]()
    except KeyError:
        raise RuntimeError(f"unknown SURVEY_APP_ENV {name!r}; use one of {sorted(CONFIGS)}") from None
