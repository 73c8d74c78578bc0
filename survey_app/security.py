"""Deny-by-default access control and the security headers every response carries."""
from __future__ import annotations

from collections.abc import Callable
from typing import TypeGuard, TypeVar
from urllib.parse import urlsplit

from flask import Flask, abort, has_request_context, redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from .extensions import login_manager
from .i18n import use_staff_language
from .services import sessions

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


def enforce_access() -> ResponseReturnValue | None:
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


_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
_DEFAULT_PORTS = {"http": 80, "https": 443}


def web_origin(url: str, strict: bool = False) -> str | None:
    """Return scheme://host[:port] in lower case without a default port, or None if it is not one.

    strict: the text must be an origin and nothing more (as in an Origin header), no path or query.
    """
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    scheme, host = parts.scheme.lower(), parts.hostname
    if scheme not in _DEFAULT_PORTS or not host or parts.username is not None or parts.password is not None:
        return None
    if strict and (parts.path or parts.query or parts.fragment):
        return None
    if ":" in host:
        host = f"[{host}]"
    return f"{scheme}://{host}" + (f":{port}" if port and port != _DEFAULT_PORTS[scheme] else "")


def own_origins() -> set[str]:
    """The origins this service answers as: the request's own (after ProxyFix) and BASE_URL's."""
    from flask import current_app

    origins = {web_origin(f"{request.scheme}://{request.host}"), web_origin(current_app.config["BASE_URL"])}
    origins.discard(None)
    return origins  # type: ignore[return-value]


def is_staff_path(path: str) -> bool:
    return path == "/staff" or path.startswith("/staff/")


def refuse_foreign_origin() -> None:
    """Answer 403 to a staff post whose Origin header names another site (or "null").

    Browsers send Origin on cross-site posts and cannot forge it; a request without one (an older
    browser, a script) goes on to the CSRF check as before.
    """
    if request.method in _SAFE_METHODS or not is_staff_path(request.path):
        return
    sent = request.headers.get("Origin")
    if sent is None:
        return
    origin = web_origin(sent, strict=True)
    if origin is None or origin not in own_origins():
        abort(403)


def is_safe_next(target: str | None) -> TypeGuard[str]:
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
    ("Cross-Origin-Opener-Policy", "same-origin"),
    ("Permissions-Policy", "camera=(), microphone=(), geolocation=()"),
)
_HSTS = ("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
def referrer_policy() -> str:
    """no-referrer, except on staff pages: same-origin (the header, and base.html's meta tag).

    Pages reached by secret links, and every public page, name nothing to anyone. Staff pages name
    themselves to this service only, never to another site: browsers send "Origin: null" on posts
    from a no-referrer page, which refuse_foreign_origin() refuses, and over HTTPS Flask-WTF wants
    the Referer. Staff URLs hold no secret.
    """
    return "same-origin" if has_request_context() and is_staff_path(request.path) else "no-referrer"


def set_security_headers(response):
    """Add CSP and friends; let nothing but our own static files be stored by a browser or proxy.

    Any page or download may carry personal data or a personal link (an outbox .eml, an export, a
    respondent page), so no-store is the rule for every endpoint except "static", whatever the
    content type: a download added later cannot be missed.
    """
    headers = response.headers
    present = {key.lower() for key in headers.keys()}
    from flask import current_app

    referrer = (("Referrer-Policy", referrer_policy()),)
    wanted = _SECURITY_HEADERS + referrer + ((_HSTS,) if current_app.config.get("HSTS") else ())
    headers.extend([(key, value) for key, value in wanted if key.lower() not in present])
    if request.endpoint != "static":
        headers["Cache-Control"] = "no-store"
    return response


def staff_pages_in_staff_language() -> None:
    """Show staff pages in the signed-in member's own language, whatever ?lang= or a survey page chose."""
    if is_staff_path(request.path):
        use_staff_language(current_user.language if current_user.is_authenticated else None)


def init_security(app: Flask) -> None:
    # Before the access check, so that its refusals (a 401 page) are in the staff language too.
    app.before_request(staff_pages_in_staff_language)
    app.before_request(enforce_access)
    app.after_request(set_security_headers)
    app.add_template_global(referrer_policy)
    login_manager.user_loader(sessions.user_for_session)
    login_manager.login_view = "auth.login"
    login_manager.session_protection = None  # the server-side row is the protection
    login_manager.login_message = None
