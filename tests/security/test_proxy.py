"""Behind a proxy: the real client counts (only when proxies are trusted); foreign origins are refused."""
from __future__ import annotations

import logging
import re
import shutil
import subprocess

import pytest

from survey_app.extensions import db
from survey_app.models import Role
from survey_app.services import staff as staff_service
from survey_app.services import surveys as survey_service
from tests.conftest import (
    LEGACY_SURVEY,
    REDIS_TEST_URL,
    STAFF_PASSWORD,
    csrf_from,
    make_app,
    redis_available,
    service_missing,
)
from tests.security.helpers import post_login, random_token
from tests.servers import NGINX_SAMPLE, LoopbackClient, closed_port, gunicorn, nginx, nginx_binary

PROXY = "127.0.0.1"  # where the (pretend) proxy connects from in the view tests


@pytest.fixture
def app_overrides():
    return {"TOKEN_GUESS_LIMIT": "3 per minute", "LOGIN_LIMIT": "3 per minute",
            "RATELIMIT_STORAGE_URI": "memory://"}


TRUSTING = {"TOKEN_GUESS_LIMIT": "3 per minute", "LOGIN_LIMIT": "3 per minute", "RATELIMIT_STORAGE_URI": "memory://",
            "TRUSTED_PROXIES": 1}


def _via_proxy(client_address: str, **headers: str) -> dict:
    """Arguments for a test-client request that came through one proxy for client_address."""
    return {"environ_base": {"REMOTE_ADDR": PROXY},
            "headers": {"X-Forwarded-For": client_address, **headers}}


# --- TRUSTED_PROXIES -------------------------------------------------------------------------------

def test_forwarded_headers_are_ignored_when_no_proxy_is_trusted(app, make_survey, make_invitation):
    """With the default 0, a client cannot dodge the limits by inventing X-Forwarded-For values."""
    good = make_invitation(make_survey())
    client = app.test_client()
    for n in range(3):
        assert client.get(f"/s/{random_token()}", **_via_proxy(f"10.9.0.{n}")).status_code == 404
    assert client.get(f"/s/{random_token()}", **_via_proxy("10.9.0.50")).status_code == 429
    assert client.get(f"/s/{good}/1", **_via_proxy("10.9.0.51")).status_code == 429  # it is all one client


@pytest.mark.parametrize("app_overrides", [TRUSTING])
def test_behind_a_trusted_proxy_each_client_has_its_own_budget(app, make_survey, make_invitation, app_overrides):
    good = make_invitation(make_survey())
    guesser, fellow = app.test_client(), app.test_client()
    for _ in range(3):
        assert guesser.get(f"/s/{random_token()}", **_via_proxy("10.9.1.31")).status_code == 404
    assert guesser.get(f"/s/{random_token()}", **_via_proxy("10.9.1.31")).status_code == 429
    # A forged entry on the left is not believed: the proxy's own (rightmost) entry is the client.
    assert guesser.get(f"/s/{good}/1", **_via_proxy("10.9.1.32, 10.9.1.31")).status_code == 429
    assert fellow.get(f"/s/{good}/1", **_via_proxy("10.9.1.32")).status_code == 200


@pytest.mark.parametrize("app_overrides", [TRUSTING])
def test_behind_a_trusted_proxy_failed_sign_ins_stay_with_their_client(app, make_staff, app_overrides, caplog):
    admin = make_staff(role=Role.ADMIN.value)
    stranger = app.test_client()
    for name in ("nobody1", "nobody2", "nobody3"):
        assert post_login(stranger, f"{name}@itp.example", "wrong-password-xx", address=PROXY,
                          headers={"X-Forwarded-For": "10.9.2.31"}).status_code == 200
    with caplog.at_level(logging.WARNING, logger="survey_app.auth.throttle"):
        assert post_login(stranger, admin, STAFF_PASSWORD, address=PROXY,
                          headers={"X-Forwarded-For": "10.9.2.31"}).status_code == 429
    assert post_login(app.test_client(), admin, STAFF_PASSWORD, address=PROXY,
                      headers={"X-Forwarded-For": "10.9.2.32"}).status_code == 302
    # The log names the real client, not the proxy every request comes through.
    assert "10.9.2.31" in caplog.text and PROXY not in caplog.text


def _logout_through(client, **request):
    page = client.get("/staff/password", **request)
    return client.post("/staff/logout", data={"csrf_token": csrf_from(page.data)}, **request)


@pytest.mark.parametrize("app_overrides, status", [
    ({"TRUSTED_PROXIES": 1, "BASE_URL": "https://surveys.example.org"}, 302),
    ({"TRUSTED_PROXIES": 0, "BASE_URL": "https://surveys.example.org"}, 403),
])
def test_scheme_and_host_come_from_the_proxy_only_when_trusted(app, make_staff, app_overrides, status):
    """The public https://host is the service's own origin only when the proxy that says so is trusted."""
    email = make_staff()
    client = app.test_client()
    public = "https://public.example.org"
    via = {"environ_base": {"REMOTE_ADDR": PROXY}, "base_url": "http://127.0.0.1:8000",
           "headers": {"X-Forwarded-For": "10.9.3.1", "X-Forwarded-Proto": "https",
                       "X-Forwarded-Host": "public.example.org", "Origin": public,
                       "Referer": f"{public}/staff/login"}}
    page = client.get("/staff/login", **via)
    response = client.post("/staff/login", data={"email": email, "password": STAFF_PASSWORD,
                                                 "csrf_token": csrf_from(page.data)}, **via)
    assert response.status_code == status


# --- Origin ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("origin", [
    "https://evil.example", "null", "http://localhost:8080", "https://localhost", "http://localhost.evil.example",
    "http://evil.example@localhost", "http://localhost/path", "not an origin", "",
])
def test_a_staff_post_from_another_origin_is_refused(app, staff_client, origin):
    """Even with a valid CSRF token (a leaked one, say), and changing nothing."""
    response = _logout_through(staff_client, headers={"Origin": origin})
    assert response.status_code == 403
    assert staff_client.get("/staff/").status_code == 200  # still signed in


@pytest.mark.parametrize("origin", ["http://localhost", "HTTP://LOCALHOST:80", "http://127.0.0.1:5000"])
def test_a_staff_post_from_our_own_origin_goes_through(app, staff_client, origin):
    """Our origin is the request's own scheme and host, or BASE_URL's (http://127.0.0.1:5000 here)."""
    assert _logout_through(staff_client, headers={"Origin": origin}).status_code == 302
    assert staff_client.get("/staff/").status_code == 302  # signed out


def test_without_origin_csrf_still_decides(app, staff_client):
    assert staff_client.post("/staff/logout").status_code == 400
    assert staff_client.get("/staff/").status_code == 200
    assert _logout_through(staff_client).status_code == 302


def test_sign_in_from_another_origin_is_refused(app, make_staff):
    """Login CSRF: another site cannot sign a visitor in to an account of its choosing."""
    client = app.test_client()
    response = post_login(client, make_staff(), STAFF_PASSWORD, headers={"Origin": "https://evil.example"})
    assert response.status_code == 403
    assert client.get("/staff/").status_code == 302


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE"])
def test_other_unsafe_methods_from_another_origin_are_refused(app, staff_client, method):
    response = staff_client.open("/staff/", method=method, headers={"Origin": "https://evil.example"})
    assert response.status_code == 403


def test_reading_staff_pages_and_respondent_posts_are_not_origin_checked(app, staff_client, make_survey):
    """GETs change nothing; the respondent forms carry link-bound tokens (their own CSRF defence)."""
    make_survey()
    assert staff_client.get("/staff/", headers={"Origin": "https://evil.example"}).status_code == 200
    fellow = app.test_client()
    start = fellow.get("/survey/legacy-projects")
    response = fellow.post("/survey/legacy-projects", data={"csrf_token": csrf_from(start.data)},
                           headers={"Origin": "https://elsewhere.example"})
    assert response.status_code == 302


def test_staff_pages_name_themselves_to_us_only_and_link_pages_to_nobody(app, staff_client, make_survey,
                                                                        make_invitation):
    """Under no-referrer a browser posts "Origin: null", which is refused: staff pages are same-origin."""
    token = make_invitation(make_survey())
    meta = re.compile(r'<meta name="referrer" content="([^"]+)">')
    pages = ((staff_client, "/staff/", "same-origin"), (app.test_client(), "/staff/login", "same-origin"),
             (app.test_client(), f"/s/{token}/1", "no-referrer"),
             (app.test_client(), "/survey/legacy-projects", "no-referrer"))
    for client, path, policy in pages:
        response = client.get(path)
        assert response.status_code == 200, path
        assert response.headers["Referrer-Policy"] == policy, path
        assert meta.findall(response.get_data(as_text=True)) == [policy], path


# --- a real nginx in front of a real gunicorn ----------------------------------------------------

MADE_UP = ("made.up1@itp.example", "made.up2@itp.example", "made.up3@itp.example")


def _forget_limits(url: str, *names: str) -> None:
    """Delete the counters of these addresses and accounts (not the whole database: other tests share it)."""
    import redis

    store = redis.Redis.from_url(url)
    for key in store.scan_iter("*LIMITER/*"):
        if any(f"/{name}/".encode() in key for name in names):
            store.delete(key)


def _prepare_database(tmp_path, db_url: str) -> tuple[str, str, str, list[str]]:
    """The bundled survey, one fellow's invitation and an administrator.

    Return the fellow's token, the administrator's e-mail, the secret key and the counter keys of
    the accounts the test signs in to (so that it can delete them after).
    """
    from survey_app.auth.throttle import account_key
    from survey_app.models import Invitation, Participant
    from survey_app.services import tokens

    app = make_app(db_url, tmp_path / "setup")
    with app.app_context():
        db.create_all()
        survey = survey_service.load_survey_file(LEGACY_SURVEY).survey
        seed = tokens.new_seed()
        token = tokens.token_from_seed(seed)
        participant = Participant(survey_id=survey.id, name="Nginx Fellow", email="nginx.fellow@example.org",
                                  country="KE", cohort=2015, language="en", attributes={})
        participant.invitation = Invitation(survey_id=survey.id, token_seed=seed, token_hash=tokens.hash_token(token))
        db.session.add(participant)
        admin = staff_service.create_staff("nginx.admin@itp.example", "Nginx Admin", STAFF_PASSWORD, "admin").email
        db.session.commit()
        secret, accounts = app.config["SECRET_KEY"], [account_key(email) for email in (admin, *MADE_UP)]
        db.engine.dispose()
    return token, admin, secret, accounts


@pytest.mark.slow
@pytest.mark.redis
@pytest.mark.database_independent
def test_behind_a_real_nginx_one_client_guessing_leaves_the_other_alone(tmp_path):
    """The tester's probe: nginx -> gunicorn (2 workers) -> Redis limits; clients on 127.0.0.31 and .32."""
    if nginx_binary() is None:
        service_missing("nginx is not installed (Debian package nginx; .ci/run installs it)")
    reason = redis_available()
    if reason:
        service_missing(reason)
    guesser_address, fellow_address = "127.0.0.31", "127.0.0.32"
    _forget_limits(REDIS_TEST_URL, guesser_address, fellow_address)
    db_url = f"sqlite:///{tmp_path / 'nginx.db'}"
    token, admin, secret, accounts = _prepare_database(tmp_path, db_url)
    nginx_port = closed_port()
    env = {"SURVEY_APP_ENV": "development", "DATABASE_URL": db_url, "SECRET_KEY": secret,
           "INSTANCE_PATH": str(tmp_path / "instance"), "WEB_CONCURRENCY": "2", "REDIS_URL": "",
           "RATELIMIT_STORAGE_URI": REDIS_TEST_URL, "TRUSTED_PROXIES": "1", "GUNICORN_ACCESS_LOG": "-",
           "BASE_URL": f"http://127.0.0.1:{nginx_port}", "TOKEN_GUESS_LIMIT": "10 per 10 minutes",
           "LOGIN_LIMIT": "5 per minute;20 per hour"}
    log = tmp_path / "gunicorn.log"
    try:
        with gunicorn(env, log) as upstream, nginx(upstream, tmp_path / "nginx", port=nginx_port) as base:
            guesser, fellow = LoopbackClient(base, guesser_address), LoopbackClient(base, fellow_address)
            # Eleven guessed links from one client, one claiming to be the other: nginx overwrites that claim.
            for _ in range(10):
                status, _page = guesser.request(f"/s/{random_token()}", headers={"X-Forwarded-For": fellow_address})
                assert status == 404
            assert guesser.request(f"/s/{random_token()}")[0] == 429
            assert guesser.request(f"/s/{token}/1")[0] == 429
            # The other fellow opens their real link as if nothing happened.
            assert fellow.request(f"/s/{token}/1")[0] == 200
            # Failed sign-ins from the guesser, with made-up e-mails and the administrator's.
            for email in (MADE_UP[0], admin, MADE_UP[1], admin, MADE_UP[2]):
                assert guesser.sign_in(email, "wrong-password-xx") == 200
            assert guesser.sign_in(admin, STAFF_PASSWORD) == 429
            # The administrator signs in from the other address at once.
            administrator = LoopbackClient(base, fellow_address)
            assert administrator.sign_in(admin, STAFF_PASSWORD) == 302
            assert administrator.request("/staff/")[0] == 200
            # Origin through the proxy: the public address (BASE_URL) is ours; another site is not.
            status, page = administrator.request("/staff/password")
            logout = {"csrf_token": csrf_from(page)}
            assert administrator.request("/staff/logout", logout, headers={"Origin": "https://evil.example"})[0] == 403
            assert administrator.request("/staff/logout", logout, headers={"Origin": base})[0] == 302
    finally:
        _forget_limits(REDIS_TEST_URL, guesser_address, fellow_address, *accounts)
    access = log.read_text()
    # gunicorn's access log shows each real client, never the proxy's address for them, and no token.
    assert re.search(rf"^{re.escape(guesser_address)} .*\"GET /s/\[token\]/1\" 429", access, flags=re.MULTILINE)
    assert re.search(rf"^{re.escape(fellow_address)} .*\"GET /s/\[token\]/1\" 200", access, flags=re.MULTILINE)
    assert re.search(rf"^{re.escape(fellow_address)} .*\"POST /staff/login\" 302", access, flags=re.MULTILINE)
    assert not re.search(r"^127\.0\.0\.1 .*\"(GET /s/|POST /staff/login)", access, flags=re.MULTILINE)
    assert token not in access


@pytest.mark.database_independent
def test_the_sample_nginx_configuration_is_valid(tmp_path):
    """deploy/nginx/survey_app.conf as shipped, with test certificates and log paths, passes nginx -t."""
    binary = nginx_binary()
    if binary is None:
        service_missing("nginx is not installed (Debian package nginx; .ci/run installs it)")
    if shutil.which("openssl") is None:
        service_missing("openssl is not installed (Debian package openssl; .ci/run installs it)")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj",
                    "/CN=surveys.example.org", "-keyout", str(tmp_path / "key.pem"),
                    "-out", str(tmp_path / "cert.pem")], check=True, capture_output=True, timeout=60)
    site = NGINX_SAMPLE.read_text()
    for shipped, here in (("/etc/letsencrypt/live/surveys.example.org/fullchain.pem", tmp_path / "cert.pem"),
                          ("/etc/letsencrypt/live/surveys.example.org/privkey.pem", tmp_path / "key.pem"),
                          ("/var/log/nginx/survey_app.access.log", tmp_path / "access.log")):
        assert shipped in site
        site = site.replace(shipped, str(here))
    (tmp_path / "site.conf").write_text(site)
    temp = " ".join(f"{name}_temp_path {tmp_path / name};"
                    for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path / 'nginx.pid'};\nerror_log {tmp_path / 'error.log'};\nevents {{}}\n"
        f"http {{ access_log {tmp_path / 'default.log'}; {temp} include {tmp_path / 'site.conf'}; }}\n")
    done = subprocess.run([binary, "-t", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf"),
                           "-e", str(tmp_path / "error.log")], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "syntax is ok" in done.stderr
