"""Staff sign-in and the staff home with its invited / started / completed counts."""
from __future__ import annotations

import re

from sqlalchemy import select

from survey_app.extensions import db
from survey_app.models import StaffUser
from tests.conftest import STAFF_PASSWORD, csrf_from


def counts(html: str) -> dict[str, int]:
    return {k: int(v) for k, v in re.findall(r'data-count="(\w+)">(\d+)<', html)}


def test_staff_home_lists_surveys_with_counts_and_open_link(app, staff_client, make_survey, make_invitation):
    survey_id = make_survey()
    for _ in range(3):
        make_invitation(survey_id)
    page = staff_client.get("/staff/")
    html = page.data.decode()
    assert page.status_code == 200
    assert "ITP legacy projects survey: staying connected online" in html
    assert counts(html) == {"invited": 3, "started": 0, "completed": 0}
    assert "http://127.0.0.1:5000/survey/legacy-projects" in html


def test_answers_arrive_in_the_staff_counts(app, staff_client, client, make_survey, make_invitation):
    from tests.conftest import ALL_TYPES_SURVEY
    from tests.respond.test_journey import answer_everything

    survey_id = make_survey(ALL_TYPES_SURVEY)
    done, started = make_invitation(survey_id), make_invitation(survey_id)
    make_invitation(survey_id)
    answer_everything(client, f"/s/{done}")
    check = client.get(f"/s/{done}/check")
    client.post(f"/s/{done}/submit", data={"csrf_token": csrf_from(check.data)})
    page = client.get(f"/s/{started}/1")
    client.post(f"/s/{started}/1", data={"colour": "red", "fruits": "fig", "agree": "agree",
                                         "csrf_token": csrf_from(page.data)})
    assert counts(staff_client.get("/staff/").data.decode()) == {"invited": 3, "started": 2, "completed": 1}


def test_staff_pages_need_sign_in(client, make_survey):
    make_survey()
    for url in ("/staff/", "/staff/surveys/legacy-projects", "/staff/password"):
        response = client.get(url)
        assert response.status_code == 302 and "/staff/login" in response.headers["Location"]


def test_sign_in_wrong_password_and_sign_out(app, client, make_staff):
    email = make_staff()
    page = client.get("/staff/login")
    wrong = client.post("/staff/login", data={"email": email, "password": "not-the-password!",
                                              "csrf_token": csrf_from(page.data)})
    assert wrong.status_code == 200 and "The e-mail address or password is not right." in wrong.data.decode()
    right = client.post("/staff/login", data={"email": email, "password": STAFF_PASSWORD,
                                              "csrf_token": csrf_from(page.data)})
    assert right.headers["Location"] == "/staff/"
    home = client.get("/staff/")
    out = client.post("/staff/logout", data={"csrf_token": csrf_from(home.data)})
    assert out.status_code == 302
    assert client.get("/staff/").status_code == 302


def test_cli_staff_create_uses_env_password_and_policy(app, runner, monkeypatch):
    monkeypatch.setenv("SURVEY_STAFF_PASSWORD", "short")
    refused = runner.invoke(args=["staff", "create", "a@itp.example", "--name", "A", "--role", "admin"])
    assert refused.exit_code != 0 and "at least 12 characters" in refused.output
    monkeypatch.setenv("SURVEY_STAFF_PASSWORD", "a sound passphrase 42")
    created = runner.invoke(args=["staff", "create", "A@ITP.example", "--name", "A", "--role", "admin"])
    assert created.exit_code == 0, created.output
    with app.app_context():
        user = db.session.scalar(select(StaffUser))
        assert user.email == "a@itp.example" and user.role == "admin"
        assert user.password_hash != "a sound passphrase 42"


def test_demo_setup_loads_survey_and_prints_login_once(app, runner):
    first = runner.invoke(args=["demo", "setup"])
    assert first.exit_code == 0 and "Demo staff login" in first.output
    password = re.search(r"password: (\S+)", first.output).group(1)
    second = runner.invoke(args=["demo", "setup"])
    assert "no demo login created" in second.output
    client = app.test_client()
    page = client.get("/staff/login")
    signed_in = client.post("/staff/login", data={"email": "demo@itp.example", "password": password,
                                                  "csrf_token": csrf_from(page.data)})
    assert signed_in.headers["Location"] == "/staff/"
