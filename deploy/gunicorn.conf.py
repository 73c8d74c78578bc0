"""gunicorn settings for survey_app: `gunicorn -c deploy/gunicorn.conf.py survey_app.wsgi:app`.

Sync workers (see docs/production.md): respondent pages are short, CPU-bound renders, and each
worker holds its own small database pool, so N processes give N requests in flight, predictably.
Every value can be overridden from the environment or on the command line.
"""
import multiprocessing
import os
import sys
from pathlib import Path

from gunicorn.glogging import Logger

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from survey_app.logging import redact  # noqa: E402  (needs the project root on sys.path)

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
worker_class = "sync"
workers = int(os.environ.get("WEB_CONCURRENCY") or multiprocessing.cpu_count() * 2 + 1)
# A respondent request takes milliseconds; 30 s only stops a stuck worker. Exports stream.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "30"))
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "5"))
# Recycle workers now and then so a slow leak can never take a machine down mid-campaign. Not too
# often: a new worker spends about a second of CPU importing and building the app, which over
# 5,000 sub-millisecond requests was a fifth of their cost; over 100,000 it is a hundredth.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "100000"))
max_requests_jitter = int(os.environ.get("GUNICORN_MAX_REQUESTS_JITTER", "10000"))
# Each worker builds its own app: no database or Redis connection is ever shared across a fork.
preload_app = os.environ.get("GUNICORN_PRELOAD", "0") == "1"
# The proxy in front terminates TLS; trust its X-Forwarded-* headers only from these addresses.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
# The documented set-up: gunicorn on 127.0.0.1 behind one nginx (deploy/nginx/survey_app.conf), so
# the app takes the client's address, scheme and host from that one proxy's X-Forwarded-* headers
# (Werkzeug's ProxyFix, in create_app). Set TRUSTED_PROXIES=0 if clients ever reach gunicorn directly,
# 2 with a load balancer in front of nginx. Workers are forked from here, so they inherit it.
os.environ.setdefault("TRUSTED_PROXIES", "1")

# gunicorn 23+ opens a control socket at one fixed path per user; several instances on one
# machine (web + bench, or blue/green) would fight over it, and nothing here needs it.
control_socket_disable = os.environ.get("GUNICORN_CONTROL_SOCKET", "0") != "1"

# Logs go to stderr for journald / the platform. An empty GUNICORN_ACCESS_LOG turns access logs off.
_access = os.environ.get("GUNICORN_ACCESS_LOG", "-")
accesslog = _access or None
errorlog = os.environ.get("GUNICORN_ERROR_LOG", "-")
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
# The client's address (the real one: ProxyFix has rewritten REMOTE_ADDR by the time gunicorn logs),
# so refusals and attacks can be traced; no user agent, referrer or query string, nothing secret.
access_log_format = '%(h)s %(t)s "%(m)s %(U)s" %(s)s %(b)s %(M)sms'


def _path_only(value: str | None) -> str:
    """Drop the query string and mask token-bearing paths and e-mail addresses."""
    if not value or value == "-":
        return "-"
    return redact(value.split("?", 1)[0])


class RedactingLogger(Logger):
    """gunicorn's logger with every path and referrer redacted, and no header or environ atoms.

    Personal links carry their secret in the path (/s/<token>/1); gunicorn logs the path before
    the app sees the request, so the app's logging filter cannot be relied on here. The client
    address is REMOTE_ADDR as the app left it: the forwarded client when TRUSTED_PROXIES is set.
    """

    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        safe = {key: value for key, value in atoms.items() if not key.startswith("{")}
        safe["U"] = _path_only(environ.get("PATH_INFO"))
        safe["r"] = f"{environ.get('REQUEST_METHOD')} {safe['U']} {environ.get('SERVER_PROTOCOL')}"
        safe["q"] = "-"
        safe["f"] = _path_only(environ.get("HTTP_REFERER"))
        safe["h"] = environ.get("REMOTE_ADDR") or "-"
        safe["a"] = "-"
        safe["u"] = "-"
        return safe

    def error(self, msg, *args, **kwargs):
        super().error(_formatted(msg, args), **kwargs)

    def warning(self, msg, *args, **kwargs):
        super().warning(_formatted(msg, args), **kwargs)


def _formatted(msg, args) -> str:
    """Format first, then redact, so a token passed as an argument is masked too."""
    try:
        text = str(msg) % args if args else str(msg)
    except (TypeError, ValueError):
        text = " ".join([str(msg), *map(str, args)])
    return redact(text).replace("%", "%%")


logger_class = RedactingLogger
