"""Secret links: entropy, hashed storage, throttled guessing, never logged, no referrer."""
from __future__ import annotations

import ast
import base64
import logging
import threading
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from sqlalchemy import text

from survey_app.extensions import db
from survey_app.services import tokens
from survey_app.services.responses import find_link
from tests.conftest import csrf_from
from tests.security.helpers import answer_all, random_token, section_data, structure_of

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def app_overrides():
    return {"TOKEN_GUESS_LIMIT": "3 per minute", "RATELIMIT_STORAGE_URI": "memory://"}


def _resume_token(client) -> str:
    start = client.get("/survey/legacy-projects")
    location = client.post("/survey/legacy-projects", data={"csrf_token": csrf_from(start.data)}).headers["Location"]
    return urlsplit(location).path.split("/")[2]


# --- entropy -------------------------------------------------------------------------------------

def test_tokens_carry_at_least_128_bits(ctx, monkeypatch):
    calls = []
    real = tokens.secrets.token_bytes

    def spy(n):
        calls.append(n)
        return real(n)

    monkeypatch.setattr(tokens.secrets, "token_bytes", spy)
    seed = tokens.new_seed()
    assert calls == [16] and len(seed) == 16  # the seed comes from `secrets`, 128 bits
    token = tokens.token_from_seed(seed)
    assert len(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))) * 8 >= 128
    resume = tokens.new_resume_token()
    assert len(base64.urlsafe_b64decode(resume + "=" * (-len(resume) % 4))) * 8 >= 128
    many = {tokens.token_from_seed(tokens.new_seed()) for _ in range(2000)}
    assert len(many) == 2000
    assert tokens.token_from_seed(seed, "optout") != token  # the opt-out link cannot answer


def test_every_token_in_the_code_comes_from_the_tokens_service():
    """Invitation tokens are only minted from new_seed(); nobody uses random or uuid for secrets."""
    for path in (ROOT / "survey_app").rglob("*.py"):
        source = path.read_text()
        tree = ast.parse(source)
        for node in ast.walk(tree):
            if isinstance(node, ast.Import | ast.ImportFrom):
                names = [a.name for a in node.names] + [getattr(node, "module", None) or ""]
                assert "random" not in names or "dev" in path.parts, f"{path}: use secrets, not random"


def test_tokens_are_compared_in_constant_time():
    """Raw token values are never compared with == in Python; lookups go through their hash."""
    assert tokens.tokens_equal("abc", "abc") and not tokens.tokens_equal("abc", "abd")
    source = (ROOT / "survey_app" / "services" / "tokens.py").read_text()
    assert "hmac.compare_digest" in source
    offenders = []
    for path in (ROOT / "survey_app").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Compare) and any(isinstance(op, ast.Eq | ast.NotEq) for op in node.ops):
                for operand in [node.left, *node.comparators]:
                    if isinstance(operand, ast.Name) and "token" in operand.id.lower() \
                            and "csrf" not in operand.id.lower():
                        offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert not offenders, offenders


# --- storage -------------------------------------------------------------------------------------

def _all_text_in_database(app) -> str:
    chunks = []
    with app.app_context():
        for table in db.metadata.sorted_tables:
            for row in db.session.execute(table.select()):
                chunks.extend(repr(value) for value in row)
    return "\n".join(chunks)


def test_database_holds_only_hashes(app, make_survey, make_invitation, make_staff, login):
    survey_id = make_survey()
    structure = structure_of(app, survey_id)
    personal = make_invitation(survey_id)
    fellow = app.test_client()
    answer_all(fellow, f"/s/{personal}", structure)
    stranger = app.test_client()
    resume = _resume_token(stranger)
    answer_all(stranger, f"/r/{resume}", structure)
    staff = app.test_client()
    login(staff, make_staff())
    with staff.session_transaction() as session:
        staff_token = session["_user_id"]
    with app.app_context():
        optout = tokens.token_from_seed(
            db.session.execute(text("SELECT token_seed FROM invitations")).scalar_one(), "optout")
    secrets_ = [personal, resume, staff_token, optout]
    dump = _all_text_in_database(app)
    for secret in secrets_:
        assert secret not in dump
    assert tokens.hash_token(personal) in dump and tokens.hash_token(resume) in dump
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    if uri.startswith("sqlite:///"):
        with app.app_context():
            db.session.execute(text("PRAGMA wal_checkpoint(FULL)"))
        path = Path(uri[len("sqlite:///"):])
        raw = b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))
        for secret in secrets_:
            assert secret.encode() not in raw


# --- guessing ------------------------------------------------------------------------------------

def _token_rules(app):
    """Every public GET route whose path carries a token, including ones added later."""
    from survey_app.security import _PUBLIC_ATTR

    for rule in app.url_map.iter_rules():
        if "token" in rule.arguments and "GET" in rule.methods and \
                getattr(app.view_functions[rule.endpoint], _PUBLIC_ATTR, False):
            yield rule


def test_guessing_tokens_is_throttled_on_every_token_route(app, make_survey):
    from tests.security.helpers import build_url

    make_survey()
    rules = list(_token_rules(app))
    assert {r.endpoint for r in rules} >= {"respond.personal_link", "respond.section", "respond.check"}
    for n, rule in enumerate(rules):
        client = app.test_client()
        address = f"10.20.{n}.1"
        for _ in range(3):
            response = client.get(build_url(app, rule), environ_base={"REMOTE_ADDR": address})
            assert response.status_code == 404, (rule.rule, response.status_code)
        response = client.get(build_url(app, rule), environ_base={"REMOTE_ADDR": address})
        assert response.status_code == 429, (rule.rule, response.status_code)


def test_guessing_shares_one_budget_across_link_pages(app, make_survey, make_invitation):
    survey_id = make_survey()
    good = make_invitation(survey_id)
    client = app.test_client()
    guesser = {"REMOTE_ADDR": "10.1.1.1"}
    assert client.get(f"/s/{random_token()}", environ_base=guesser).status_code == 404
    assert client.get(f"/r/{random_token()}/1", environ_base=guesser).status_code == 404
    assert client.get(f"/s/{random_token()}/check", environ_base=guesser).status_code == 404
    assert client.get(f"/s/{random_token()}/2", environ_base=guesser).status_code == 429
    assert client.get(f"/s/{good}", environ_base=guesser).status_code == 429
    # A fellow elsewhere, and a fellow answering normally, is never throttled.
    fellow = app.test_client()
    other = {"REMOTE_ADDR": "10.1.1.2"}
    for _ in range(6):
        assert fellow.get(f"/s/{good}", environ_base=other).status_code in {200, 302}
    assert fellow.get(f"/s/{good}/1", environ_base=other).status_code == 200


def _optout_token(app, personal_token: str) -> str:
    """Give the invitation of `personal_token` its opt-out link, as sending does, and return its token."""
    from sqlalchemy import select

    from survey_app.models import Invitation

    with app.app_context():
        invitation = db.session.execute(
            select(Invitation).where(Invitation.token_hash == tokens.hash_token(personal_token))).scalar_one()
        token = tokens.token_from_seed(invitation.token_seed, "optout")
        invitation.optout_token_hash = tokens.hash_token(token)
        db.session.commit()
    return token


def test_optout_guesses_share_the_one_budget_of_link_guesses(app, make_survey, make_invitation):
    survey_id = make_survey()
    good = make_invitation(survey_id)
    optout = _optout_token(app, good)
    client = app.test_client()
    guesser = {"REMOTE_ADDR": "10.3.3.3"}
    assert client.get(f"/optout/{random_token()}", environ_base=guesser).status_code == 404
    assert client.post(f"/optout/{random_token()}/one-click", data={"List-Unsubscribe": "One-Click"},
                       environ_base=guesser).status_code == 404
    assert client.get(f"/s/{random_token()}", environ_base=guesser).status_code == 404
    # The budget (3) is spent across the three kinds of link: now every token page refuses this address.
    for path in (f"/r/{random_token()}/1", f"/s/{good}", f"/optout/{optout}", f"/optout/{optout}/one-click"):
        refused = client.get(path, environ_base=guesser)
        assert refused.status_code == 429, path
    assert client.post(f"/optout/{optout}/one-click", data={"List-Unsubscribe": "One-Click"},
                       environ_base=guesser).status_code == 429
    page = refused.data.decode()
    assert "You can try again in 1 minute." in page and 'data-retry-minutes="1"' in page
    # Another address is unaffected, and the person is still on the list: the refused one-click did nothing.
    other = {"REMOTE_ADDR": "10.3.3.4"}
    assert client.get(f"/optout/{optout}", environ_base=other).status_code == 200
    assert client.get(f"/s/{good}", environ_base=other).status_code in {200, 302}
    with app.app_context():
        from survey_app.models import Participant

        assert db.session.execute(text("SELECT opted_out_at FROM participants")).scalar() is None
        assert db.session.query(Participant).count() == 1


def test_answer_link_guesses_also_close_the_optout_pages(app, make_survey, make_invitation):
    survey_id = make_survey()
    optout = _optout_token(app, make_invitation(survey_id))
    client = app.test_client()
    guesser = {"REMOTE_ADDR": "10.3.3.5"}
    for _ in range(3):
        assert client.get(f"/s/{random_token()}", environ_base=guesser).status_code == 404
    assert client.get(f"/optout/{optout}", environ_base=guesser).status_code == 429


def test_token_shape_is_checked_before_the_database(ctx):
    for bad in ("", "short", "x" * 65, "a/b" * 8, "tok'en--" * 3, "%00" * 8):
        assert find_link("s", bad) is None


# --- logs and referrers ---------------------------------------------------------------------------

def _visit_token_pages(app, client, structure, personal, resume, environ=None):
    environ = environ or {}
    client.get(f"/s/{personal}", environ_base=environ)
    page = client.get(f"/s/{personal}/1", environ_base=environ)
    client.post(f"/s/{personal}/1", data={**section_data(structure, 1), "csrf_token": csrf_from(page.data)},
                environ_base=environ)
    client.get(f"/s/{personal}/check?return=check&token={personal}", environ_base=environ)
    client.get(f"/r/{resume}/1", environ_base=environ)
    client.get(f"/r/{resume}/check", environ_base=environ)
    client.get(f"/r/{resume}/done", environ_base=environ)


def test_tokens_never_reach_the_logs(app, make_survey, make_invitation, caplog):
    survey_id = make_survey()
    structure = structure_of(app, survey_id)
    personal = make_invitation(survey_id)
    client = app.test_client()
    resume = _resume_token(client)
    caplog.set_level(logging.DEBUG)
    for name in ("werkzeug", app.logger.name, "sqlalchemy.engine", "survey_app"):
        caplog.set_level(logging.DEBUG, logger=name)
    _visit_token_pages(app, client, structure, personal, resume)
    app.logger.info("visited /s/%s and /r/%s", personal, resume)  # even a careless log line is masked
    text_ = caplog.text + "".join(str(r.msg) for r in caplog.records)
    assert personal not in text_ and resume not in text_
    assert "/s/[token]" in caplog.text


def test_tokens_in_exception_logs_are_masked(app, caplog):
    caplog.set_level(logging.ERROR)
    secret = random_token()
    try:
        raise RuntimeError(f"failed for /s/{secret} and fellow@example.org")
    except RuntimeError:
        app.logger.exception("unhandled error")
    formatted = "\n".join(logging.Formatter().format(r) for r in caplog.records)
    assert secret not in formatted and "fellow@example.org" not in formatted and "RuntimeError" in formatted


def test_tokens_never_reach_a_real_servers_access_log(app, make_survey, make_invitation):
    """Run the real werkzeug server and read its access lines: paths are masked."""
    from werkzeug.serving import make_server

    survey_id = make_survey()
    personal = make_invitation(survey_id)
    lines: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record):
            lines.append(self.format(record))

    handler = Collect()
    werkzeug_logger = logging.getLogger("werkzeug")
    werkzeug_logger.addHandler(handler)
    old_level = werkzeug_logger.level
    werkzeug_logger.setLevel(logging.INFO)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        import urllib.request

        base = f"http://127.0.0.1:{server.server_port}"
        for path in (f"/s/{personal}", f"/s/{personal}/1", f"/r/{random_token()}/check"):
            try:
                urllib.request.urlopen(base + path, timeout=10).read()  # noqa: S310 (local test server)
            except urllib.error.HTTPError:
                pass
    finally:
        server.shutdown()
        thread.join(5)
        server.server_close()
        werkzeug_logger.removeHandler(handler)
        werkzeug_logger.setLevel(old_level)
    assert len(lines) >= 3 and any("/s/[token]" in line for line in lines), lines
    assert not any(personal in line for line in lines)


def test_token_pages_send_no_referrer(app, make_survey, make_invitation):
    survey_id = make_survey()
    personal = make_invitation(survey_id)
    client = app.test_client()
    resume = _resume_token(client)
    for url in (f"/s/{personal}", f"/s/{personal}/1", f"/s/{personal}/check", f"/r/{resume}/1",
                f"/r/{resume}/check", f"/s/{random_token()}"):
        response = client.get(url)
        assert response.headers["Referrer-Policy"] == "no-referrer", url
        assert "no-store" in response.headers.get("Cache-Control", ""), url
