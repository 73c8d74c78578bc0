"""Deny by default: walk the whole URL map anonymously and as each role; tokens reach only their own."""
from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from survey_app.extensions import db
from survey_app.models import Answer, Response, Role
from survey_app.security import _PUBLIC_ATTR, _ROLES_ATTR
from tests.conftest import csrf_from
from tests.security.helpers import answer_all, build_url, section_data, structure_of

# Adding a public route means adding it here, on purpose, after review.
PUBLIC_ENDPOINTS = {
    "static",
    "auth.login",
    "respond.index",
    "respond.accessibility",
    "respond.privacy",
    "respond.health",
    "respond.open_link",
    "respond.personal_link",
    "respond.section",
    "respond.check",
    "respond.submit",
    "respond.done",
    "optout.optout",     # the opt-out link in every e-mail: token-throttled like the answer links
    "optout.one_click",  # RFC 8058 one-click unsubscribe, posted by mail programs
    "public_report.report_page",  # the published web version of a report: token-throttled, 404 once withdrawn
}
# Paths under which every route must be limited to administrators.
ADMIN_ONLY_PREFIX = "/staff/admin/"
METHODS = ("GET", "POST")


def _rules(app):
    for rule in app.url_map.iter_rules():
        for method in METHODS:
            if method in rule.methods:
                yield rule, method


def _view(app, endpoint):
    return app.view_functions[endpoint]


def _is_public(app, endpoint) -> bool:
    return endpoint == "static" or getattr(_view(app, endpoint), _PUBLIC_ATTR, False)


def _admin_only(app, endpoint) -> bool:
    roles = getattr(_view(app, endpoint), _ROLES_ATTR, None)
    return roles is not None and Role.STAFF.value not in roles


def test_public_endpoints_are_exactly_the_reviewed_list(app):
    public = {rule.endpoint for rule in app.url_map.iter_rules() if _is_public(app, rule.endpoint)}
    assert public == PUBLIC_ENDPOINTS, (
        f"unreviewed public endpoints: {sorted(public - PUBLIC_ENDPOINTS)}; "
        f"listed but no longer public: {sorted(PUBLIC_ENDPOINTS - public)}"
    )


def test_admin_paths_are_admin_only(app):
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith(ADMIN_ONLY_PREFIX):
            assert _admin_only(app, rule.endpoint), f"{rule.rule} is under {ADMIN_ONLY_PREFIX} but open to staff"


def test_every_staff_route_refuses_anonymous_users(app, client, make_survey):
    make_survey()
    csrf = csrf_from(client.get("/staff/login").data)  # a valid token, so CSRF is not what refuses
    checked = 0
    for rule, method in _rules(app):
        if _is_public(app, rule.endpoint):
            continue
        url = build_url(app, rule)
        if method == "GET":
            response = client.get(url)
            assert response.status_code == 302, (url, response.status_code)
            location = urlsplit(response.headers["Location"])
            assert location.path == "/staff/login", (url, response.headers["Location"])
        else:
            for data in ({}, {"csrf_token": csrf}):
                response = client.post(url, data=data)
                assert response.status_code in {400, 401, 403}, (url, data, response.status_code)
        assert b"legacy" not in response.data.lower() or response.status_code != 200
        checked += 1
    assert checked >= 5  # the walk really walked


def test_public_routes_need_no_sign_in(app, client, make_survey):
    make_survey()
    for rule, method in _rules(app):
        if method != "GET" or not _is_public(app, rule.endpoint) or rule.endpoint == "static":
            continue
        response = client.get(build_url(app, rule))
        location = response.headers.get("Location", "")
        assert "/staff/login" not in location, rule.rule
        assert response.status_code < 500, (rule.rule, response.status_code)


@pytest.mark.parametrize("role", [Role.STAFF.value, Role.ADMIN.value])
def test_each_role_gets_exactly_its_routes(app, make_survey, make_staff, login, role):
    make_survey()
    client = app.test_client()
    login(client, make_staff(role=role))
    csrf = csrf_from(client.get("/staff/password").data)
    for rule, method in _rules(app):
        if _is_public(app, rule.endpoint) or rule.endpoint == "auth.logout":
            continue
        url = build_url(app, rule)
        response = client.get(url) if method == "GET" else client.post(url, data={"csrf_token": csrf})
        assert response.status_code < 500, (role, method, url, response.status_code)
        assert "/staff/login" not in response.headers.get("Location", ""), (role, method, url)
        if _admin_only(app, rule.endpoint) and role == Role.STAFF.value:
            assert response.status_code == 403, (role, method, url, response.status_code)
        else:
            assert response.status_code != 403, (role, method, url)
    # Still signed in: nothing in the walk signed this client out.
    assert client.get("/staff/").status_code == 200


def test_disabled_account_is_refused_at_once(app, make_staff, login):
    from survey_app.models import StaffUser

    client = app.test_client()
    email = make_staff()
    login(client, email)
    with app.app_context():
        db.session.execute(select(StaffUser).where(StaffUser.email == email)).scalar_one().active = False
        db.session.commit()
    assert client.get("/staff/").status_code == 302


def _answers_of(app, response_id):
    with app.app_context():
        return {(a.question_id, a.item_code, a.option_code, a.text)
                for a in db.session.execute(select(Answer).where(Answer.response_id == response_id)).scalars()}


def test_personal_token_reaches_only_its_own_response(app, make_survey, make_invitation):
    survey_id = make_survey()
    structure = structure_of(app, survey_id)
    token_a, token_b = make_invitation(survey_id), make_invitation(survey_id)
    alice, bob = app.test_client(), app.test_client()
    answer_all(bob, f"/s/{token_b}", structure, text="BOB-PRIVATE-ANSWER")
    with app.app_context():
        bob_id = db.session.execute(select(Response.id)).scalar_one()
    before = _answers_of(app, bob_id)

    # Alice, holding Bob's cookies or not, tampers with ids: nothing of Bob's shows or changes.
    for number in range(1, len(structure.sections) + 1):
        page = alice.get(f"/s/{token_a}/{number}")
        assert b"BOB-PRIVATE-ANSWER" not in page.data
        body = section_data(structure, number, text="ALICE")
        body.update(csrf_token=csrf_from(page.data), response_id=str(bob_id), response=str(bob_id),
                    invitation_id="1", token=token_b)
        assert alice.post(f"/s/{token_a}/{number}", data=body).status_code == 302
    check = alice.get(f"/s/{token_a}/check")
    assert b"BOB-PRIVATE-ANSWER" not in check.data and b"ALICE" in check.data
    assert _answers_of(app, bob_id) == before
    with app.app_context():
        assert db.session.execute(select(Response.id).where(Response.id != bob_id)).scalar_one()


def test_tokens_do_not_cross_kinds_or_surveys(app, make_survey, make_invitation, client):
    survey_id = make_survey()
    token = make_invitation(survey_id)
    assert client.get(f"/r/{token}/1").status_code == 404  # a personal token is not a resume token
    start = client.get("/survey/legacy-projects")
    resumed = client.post("/survey/legacy-projects", data={"csrf_token": csrf_from(start.data)})
    resume = urlsplit(resumed.headers["Location"]).path.split("/")[2]
    assert client.get(f"/s/{resume}").status_code == 404  # a resume token is not a personal token
    assert client.get(f"/r/{resume}/1").status_code == 200


def test_resume_token_reaches_only_its_own_response(app, make_survey):
    survey_id = make_survey()
    structure = structure_of(app, survey_id)
    tokens = []
    for secret in ("FIRST-SECRET", "SECOND-SECRET"):
        client = app.test_client()
        start = client.get("/survey/legacy-projects")
        location = client.post("/survey/legacy-projects",
                               data={"csrf_token": csrf_from(start.data)}).headers["Location"]
        token = urlsplit(location).path.split("/")[2]
        answer_all(client, f"/r/{token}", structure, text=secret)
        tokens.append(token)
    other = app.test_client()
    page = other.get(f"/r/{tokens[0]}/check")
    assert b"FIRST-SECRET" in page.data and b"SECOND-SECRET" not in page.data
    page = other.get(f"/r/{tokens[1]}/check")
    assert b"SECOND-SECRET" in page.data and b"FIRST-SECRET" not in page.data
