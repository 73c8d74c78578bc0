"""Security headers on every kind of page, error pages without traces, production fails safe."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from config import ProductionConfig
from survey_app import create_app
from survey_app.extensions import db
from survey_app.security import public
from tests.conftest import csrf_from, make_app

ROOT = Path(__file__).resolve().parents[2]
EXPECTED_CSP = {
    "default-src": "'self'", "script-src": "'self'", "style-src": "'self'", "img-src": "'self' data:",
    "font-src": "'self'", "connect-src": "'self'", "form-action": "'self'", "frame-ancestors": "'none'",
    "base-uri": "'none'", "object-src": "'none'",
}


def _csp(response) -> dict[str, str]:
    policy = response.headers["Content-Security-Policy"]
    return {part.split()[0]: " ".join(part.split()[1:]) for part in policy.split(";") if part.strip()}


def _referrer_policy(response) -> str:
    """Staff pages send Referer and Origin to this service only: browsers replace Origin by "null" on
    posts from a no-referrer page, and the Origin check refuses "null". Everything else sends none."""
    path = response.request.path
    return "same-origin" if path == "/staff" or path.startswith("/staff/") else "no-referrer"


def _assert_headers(response, where: str, html: bool = True) -> None:
    csp = _csp(response)
    assert csp == EXPECTED_CSP, where
    assert "unsafe-inline" not in response.headers["Content-Security-Policy"]
    assert "unsafe-eval" not in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff", where
    assert response.headers["X-Frame-Options"] == "DENY", where
    assert response.headers["Referrer-Policy"] == _referrer_policy(response), where
    if html:
        assert response.mimetype == "text/html", where
        assert "no-store" in response.headers["Cache-Control"], where


def test_headers_on_every_kind_of_page(app, make_survey, make_invitation, staff_client, client):
    survey_id = make_survey()
    token = make_invitation(survey_id)
    pages = {
        "home": client.get("/"),
        "login": client.get("/staff/login"),
        "personal start": client.get(f"/s/{token}"),
        "section": client.get(f"/s/{token}/1"),
        "open link": client.get("/survey/legacy-projects"),
        "404": client.get("/no-such-page"),
        "unknown token": client.get("/s/" + "x" * 24),
        "405": client.get("/staff/logout"),
        "staff home": staff_client.get("/staff/"),
        "staff survey": staff_client.get("/staff/surveys/legacy-projects"),
        "password": staff_client.get("/staff/password"),
    }
    for where, response in pages.items():
        _assert_headers(response, where)
    assert "Strict-Transport-Security" not in pages["home"].headers  # HSTS only in production
    health = client.get("/health")
    _assert_headers(health, "health", html=False)
    assert "no-store" in health.headers["Cache-Control"]
    css = client.get("/static/css/site.css")
    _assert_headers(css, "static", html=False)


def test_redirects_carry_the_headers_too(app, client):
    response = client.get("/staff/")
    assert response.status_code == 302
    _assert_headers(response, "redirect", html=False)


def _prod_app(tmp_path, monkeypatch, **overrides):
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'prod.db'}")
    monkeypatch.setenv("BASE_URL", "https://surveys.example.org")
    config = {"CONFIG": ProductionConfig, "INSTANCE_PATH": str(tmp_path / "instance"),
              "HUEY_SQLITE_PATH": str(tmp_path / "huey.db"), "RATELIMIT_STORAGE_URI": "memory://"}
    config.update(overrides)
    return create_app(config)


def test_production_sends_hsts_and_secure_settings(tmp_path, monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "s" * 48)
    app = _prod_app(tmp_path, monkeypatch)
    with app.app_context():
        db.create_all()
    response = app.test_client().get("/", base_url="https://localhost")
    hsts = response.headers["Strict-Transport-Security"]
    assert int(re.search(r"max-age=(\d+)", hsts).group(1)) >= 31536000
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert app.config["WTF_CSRF_SSL_STRICT"] is True
    assert app.config.get("PASSWORD_HASH_METHOD", "scrypt") == "scrypt"
    assert not app.debug and not app.testing
    with app.app_context():
        db.engine.dispose()


@pytest.mark.parametrize("secret", [None, "", "too-short-secret"])
def test_production_refuses_to_start_without_a_strong_secret(tmp_path, monkeypatch, secret):
    if secret is None:
        monkeypatch.delenv("SECRET_KEY", raising=False)
    else:
        monkeypatch.setenv("SECRET_KEY", secret)
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        _prod_app(tmp_path, monkeypatch)


def test_production_is_never_in_debug_mode(tmp_path, monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "s" * 48)
    monkeypatch.setenv("FLASK_DEBUG", "1")
    app = _prod_app(tmp_path, monkeypatch, DEBUG=True)
    assert app.debug is False
    from flask.helpers import get_debug_flag

    assert get_debug_flag() is False  # so `flask run` starts neither the debugger nor the reloader


@pytest.fixture
def raising_app(tmp_path):
    app = make_app(f"sqlite:///{tmp_path / 'raise.db'}", tmp_path, MAX_CONTENT_LENGTH=4096,
                   PROPAGATE_EXCEPTIONS=False)

    @app.route("/test-only/boom")
    @public
    def boom():
        raise RuntimeError("secret-internal-detail /home/app/survey_app/secret.py")

    with app.app_context():
        db.create_all()
    yield app
    with app.app_context():
        db.engine.dispose()


TRACE_MARKERS = ("Traceback", "RuntimeError", "secret-internal-detail", "File \"", "werkzeug", ".py")


def test_error_pages_show_no_trace(raising_app, make_survey, make_invitation):
    client = raising_app.test_client()
    pages = {
        500: client.get("/test-only/boom"),
        404: client.get("/nope"),
        405: client.post("/accessibility"),
        413: client.post("/staff/login", data={"email": "x" * 10000}),
    }
    for code, response in pages.items():
        assert response.status_code == code
        body = response.get_data(as_text=True)
        for marker in TRACE_MARKERS:
            assert marker not in body, (code, marker)
        _assert_headers(response, str(code))
        assert "<h1>" in body  # our own page, in the site's layout
    assert "too large" in pages[413].get_data(as_text=True).lower()


def test_oversized_answer_gets_a_clear_message(app, make_survey, make_invitation):
    survey_id = make_survey()
    token = make_invitation(survey_id)
    client = app.test_client()
    page = client.get(f"/s/{token}/1")
    limit = app.config["MAX_CONTENT_LENGTH"]
    response = client.post(f"/s/{token}/1", data={"csrf_token": csrf_from(page.data), "x": "a" * (limit + 10)})
    assert response.status_code == 413
    assert "too large" in response.get_data(as_text=True).lower()
    assert app.config["MAX_FORM_MEMORY_SIZE"] <= limit


def test_csrf_failure_page_is_plain(app, client):
    response = client.post("/staff/login", data={"email": "a@b.example", "password": "x" * 12})
    assert response.status_code == 400
    assert "Traceback" not in response.get_data(as_text=True)


# --- the templates themselves keep the CSP honest -------------------------------------------

INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I)
INLINE_STYLE = re.compile(r"<style\b|\sstyle\s*=", re.I)
HANDLER = re.compile(r"\son[a-z]+\s*=", re.I)
JS_URL = re.compile(r"""(href|src|action)\s*=\s*["']?\s*javascript:""", re.I)
AUTOESCAPE_OFF = re.compile(r"autoescape\s+false|\|\s*safe\b|Markup\(", re.I)


def _templates():
    return sorted(p for p in (ROOT / "templates").rglob("*") if p.suffix in {".html", ".htm", ".j2"})


def test_templates_have_no_inline_script_style_or_handlers():
    problems = []
    for path in _templates():
        source = path.read_text(encoding="utf-8")
        if path.parts[-2] == "email":
            continue  # e-mails are not served under our CSP; they are checked for escaping instead
        for pattern, what in ((INLINE_SCRIPT, "inline <script>"), (INLINE_STYLE, "inline style"),
                              (HANDLER, "on*= handler"), (JS_URL, "javascript: URL")):
            for match in pattern.finditer(source):
                line = source[:match.start()].count("\n") + 1
                problems.append(f"{path.relative_to(ROOT)}:{line}: {what}")
    assert not problems, "\n".join(problems)
    assert len(_templates()) > 10


def test_templates_never_turn_autoescaping_off():
    problems = []
    for path in _templates():
        source = path.read_text(encoding="utf-8")
        for match in AUTOESCAPE_OFF.finditer(source):
            line = source[:match.start()].count("\n") + 1
            problems.append(f"{path.relative_to(ROOT)}:{line}: {match.group(0)}")
    assert not problems, "\n".join(problems)


def test_autoescape_is_on_for_every_template_kind(app):
    with app.app_context():
        env = app.jinja_env
        for name in ("page.html", "mail.txt", "mail.html", "thing.xml", "report.htm"):
            if name.endswith((".html", ".htm", ".xml")):
                assert env.autoescape(name) if callable(env.autoescape) else env.autoescape, name


def test_no_template_is_built_from_user_text():
    """render_template_string / from_string / Template( on request data would be template injection."""
    offenders = []
    for path in (ROOT / "survey_app").rglob("*.py"):
        source = path.read_text()
        for pattern in (r"render_template_string", r"\.from_string\(", r"(?<![\w.])Template\(",
                        r"jinja2\.Template", r"\|\s*safe\b"):
            if re.search(pattern, source):
                offenders.append(f"{path.relative_to(ROOT)}: {pattern}")
    for path in (ROOT / "forms").rglob("*.py"):
        if "render_template_string" in path.read_text() or "Markup(" in path.read_text():
            offenders.append(str(path.relative_to(ROOT)))
    assert not offenders, offenders
