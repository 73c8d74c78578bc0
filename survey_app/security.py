"""Deny-by-default access control and the security headers every response carries."""
from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar
from urllib.parse import urlsplit

from flask import Flask, abort, redirect, request, url_for
from flask_login import current_user

F = TypeVar("F", bound=Callable)

# Endpoints anyone may reach; every other endpoint needs a signed-in staff member.
_PUBLIC_ATTR = "_survey_app_public"
_ROLES_ATTR = "_survey_app_roles"

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'; object-src 'none'"
)


def public(view: F) -> F:
    """Mark a view as reachable without signing in (respondent pages, sign-in, health)."""
    setattr(view, _PUBLIC_ATTR, True)
    return view


def roles_required(*roles: str) -> Callable[[F], F]:
    """Restrict a staff view to some roles; the check itself runs in enforce_access()."""

    def decorator(view: F) -> F:
        setattr(view, _ROLES_ATTR, frozenset(roles))
        return view

    return decorator


def enforce_access() -> object | None:
    """Refuse any non-public endpoint to anonymous users and to users lacking the role."""
    if request.endpoint is None or request.endpoint == "static":
        return None
    from flask import current_app

    view = current_app.view_functions.get(request.endpoint)
    if view is None or getattr(view, _PUBLIC_ATTR, False):
        return None
    if not current_user.is_authenticated:
        if request.method == "GET":
            return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
        abort(401)
    roles = getattr(view, _ROLES_ATTR, None)
    if roles is not None and current_user.role not in roles:
        abort(403)
    return None


def is_safe_next(target: str | None) -> bool:
    """Allow only our own absolute paths as redirect targets (no //host, no scheme)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return False
    # Browsers drop tabs and newlines inside URLs, so "/\t/evil.example" would become "//evil.example".
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in target):
        return False
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc


def safe_redirect_target(target: str | None, default: str) -> str:
    return target if is_safe_next(target) else default


# Added to every response that does not set its own (one pass over the headers: this runs per request).
_SECURITY_HEADERS = (
    ("Content-Security-Policy", CONTENT_SECURITY_POLICY),
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Referrer-Policy", "no-referrer"),
    ("Cross-Origin-Opener-Policy", "same-origin"),
    ("Permissions-Policy", "camera=(), microphone=(), geolocation=()"),
)
_HSTS = ("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
def set_security_headers(response):
    """Add CSP and friends; let nothing but our own static files be stored by a browser or proxy.

    Any page or download may carry personal data or a personal link (an outbox .eml, an export, a
    respondent page), so no-store is the rule for every endpoint except "static", whatever the
    content type: a download added later cannot be missed.
    """
    headers = response.headers
    present = {key.lower() for key in headers.keys()}
    from flask import current_app

    wanted = _SECURITY_HEADERS + ((_HSTS,) if current_app.config.get("HSTS") else ())
    headers.extend([(key, value) for key, value in wanted if key.lower() not in present])
    if request.endpoint != "static":
        headers["Cache-Control"] = "no-store"
    return response


def init_security(app: Flask) -> None:
    app.before_request(enforce_access)
    app.after_request(set_security_headers)
    from .auth.sessions import init_sessions

    init_sessions(app)
