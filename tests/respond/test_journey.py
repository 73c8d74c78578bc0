"""The fellow's journey through the Flask test client with CSRF on: save, resume, check, submit once."""
from __future__ import annotations

import re
import time

import pytest
from sqlalchemy import func, select

from survey_app.extensions import db
from survey_app.models import Answer, Invitation, Question, Response, Survey
from tests.conftest import ALL_TYPES_SURVEY, csrf_from

SECTION1 = {"colour": "other", "colour__other": "Teal", "fruits": ["apple", "mango"], "agree": "agree"}
SECTION2 = {"usage__mail": "daily", "usage__chat": "never", "order__a": "2", "order__b": "1", "order__c": ""}
SECTION3 = {"nickname": "Nana", "year": "2014", "comments": "Long answer\nwith two lines"}


def post_page(client, url: str, data: dict, action: str = "continue"):
    page = client.get(url)
    assert page.status_code == 200, page.data[:300]
    return client.post(url, data={**data, "csrf_token": csrf_from(page.data), "action": action})


def is_checked(html: str, name: str, value: str) -> bool:
    """Whether the page shows this radio or checkbox as chosen."""
    return any(f'value="{value}"' in tag and " checked" in tag
               for tag in re.findall(r"<input[^>]*>", html) if f'name="{name}"' in tag)


def errors_in(html: bytes) -> list[str]:
    return re.findall(r'<li><a href="#[^"]+">([^<]+)', html.decode())


def stored(app, survey_id: int) -> dict[str, list[tuple]]:
    with app.app_context():
        rows = db.session.execute(
            select(Question.code, Answer.item_code, Answer.option_code, Answer.number, Answer.text)
            .join(Question, Question.id == Answer.question_id)
            .join(Response).where(Response.survey_id == survey_id)
            .order_by(Question.code, Answer.item_code, Answer.option_code)
        ).all()
    out: dict[str, list[tuple]] = {}
    for code, item, option, number, text in rows:
        out.setdefault(code, []).append((item, option, number, text))
    return out


def answer_everything(client, base: str) -> None:
    # An open-link fellow's first save shows the resume link in full once (?new=1) on the next page.
    assert post_page(client, f"{base}/1", SECTION1).headers["Location"].split("?new=1")[0].endswith(f"{base}/2")
    assert post_page(client, f"{base}/2", SECTION2).headers["Location"].endswith(f"{base}/3")
    assert post_page(client, f"{base}/3", SECTION3).headers["Location"].endswith(f"{base}/check")


def test_personal_link_journey_stores_codes_and_submits_once(app, client, all_types, make_invitation):
    token = make_invitation(all_types)
    start = client.get(f"/s/{token}")
    assert start.status_code == 200 and b"Start now" in start.data
    assert start.headers["Referrer-Policy"] == "no-referrer"
    answer_everything(client, f"/s/{token}")
    check = client.get(f"/s/{token}/check")
    text = check.data.decode()
    for expected in ("Other – please specify: Teal", "Apple", "Mango", "Agree", "E-mail: Daily", "Chat: Never",
                     "1. Beta", "2. Alpha", "Nana", "2014", "Long answer"):
        assert expected in text
    submitted = client.post(f"/s/{token}/submit", data={"csrf_token": csrf_from(check.data)})
    assert submitted.headers["Location"].endswith(f"/s/{token}/done")
    assert b"your answers have been sent" in client.get(f"/s/{token}/done").data
    answers = stored(app, all_types)
    assert answers["colour"] == [("", "other", None, "Teal")]
    assert answers["fruits"] == [("", "apple", None, None), ("", "mango", None, None)]
    assert answers["usage"] == [("chat", "never", None, None), ("mail", "daily", None, None)]
    assert answers["order"] == [("a", "", 2, None), ("b", "", 1, None)]
    assert answers["year"] == [("", "", 2014, None)]
    with app.app_context():
        response = db.session.scalar(select(Response))
        assert response.status == "complete" and response.submitted_at is not None
        assert db.session.scalar(select(Invitation.status)) == "completed"
    # A second submit, a revisit and a late save all leave exactly one response unchanged.
    again = client.post(f"/s/{token}/submit", data={"csrf_token": csrf_from(check.data)})
    assert again.headers["Location"].endswith("/done")
    assert b"already answered" in client.get(f"/s/{token}").data
    late = client.post(f"/s/{token}/1", data={**SECTION1, "colour": "red", "csrf_token": csrf_from(check.data)})
    assert b"already answered" in late.data
    with app.app_context():
        assert db.session.scalar(select(func.count(Response.id))) == 1
    assert stored(app, all_types)["colour"] == [("", "other", None, "Teal")]


def test_errors_keep_everything_typed_and_link_to_fields(client, all_types, make_invitation):
    token = make_invitation(all_types)
    bad = post_page(client, f"/s/{token}/1", {"colour": "other", "colour__other": "",
                                                  "fruits": ["apple", "none"], "agree": ""})
    assert bad.status_code == 200
    messages = errors_in(bad.data)
    assert "Say what your other answer to “Favourite colour” is" in messages
    assert "“None of these” cannot be selected with another answer to “Fruits you like”" in messages
    assert "Select an answer to “Surveys are useful”" in messages
    html = bad.data.decode()
    assert 'href="#colour-red"' in html and 'id="colour-red"' in html
    assert is_checked(html, "fruits", "apple") and is_checked(html, "colour", "other")
    third = post_page(client, f"/s/{token}/3", {"nickname": "x" * 41, "year": "twenty", "comments": "keep me"})
    html = third.data.decode()
    assert "Enter an answer to “Your nickname” in 40 characters or fewer (it is 41)" in html
    assert "Enter an answer to “Year you started” as a whole number, like 2015" in html
    assert 'value="twenty"' in html and ">keep me</textarea>" in html
    out_of_range = post_page(client, f"/s/{token}/3", {"nickname": "ok", "year": "1800"})
    assert "Enter an answer to “Year you started” as a number between 1950 and 2030" in out_of_range.data.decode()


@pytest.mark.parametrize("data, message", [
    ({"fruits": ["apple", "mango", "fig"]}, "Select at most 2 answers to “Fruits you like”"),
    ({"fruits": ["durian"]}, "Select only the options shown for “Fruits you like”"),
    ({"colour": "purple"}, "Select one of the options shown for “Favourite colour”"),
])
def test_tampered_choices_are_refused(client, all_types, make_invitation, data, message):
    token = make_invitation(all_types)
    response = post_page(client, f"/s/{token}/1", {**SECTION1, **data})
    assert response.status_code == 200 and message in errors_in(response.data)


@pytest.mark.parametrize("ranks, message", [
    ({"order__a": "1", "order__b": "1"}, "Give each rank in “Rank these” to only one item"),
    ({"order__a": "2"}, "Rank the items in “Rank these” in order, starting from 1, without gaps"),
    ({"order__a": "9"}, "Choose each rank for “Rank these” from the list"),
])
def test_ranking_rules(client, all_types, make_invitation, ranks, message):
    token = make_invitation(all_types)
    response = post_page(client, f"/s/{token}/2", {"usage__mail": "daily", "usage__chat": "daily", **ranks})
    assert message in errors_in(response.data)


def test_matrix_needs_every_row_when_required(client, all_types, make_invitation):
    token = make_invitation(all_types)
    response = post_page(client, f"/s/{token}/2", {"usage__mail": "daily"})
    assert "Select an answer to “How often do you use each?” in each row" in errors_in(response.data)


def test_other_text_is_dropped_when_other_is_not_chosen(app, client, all_types, make_invitation):
    token = make_invitation(all_types)
    post_page(client, f"/s/{token}/1", {**SECTION1, "colour": "red", "colour__other": "ignored"})
    assert stored(app, all_types)["colour"] == [("", "red", None, None)]


def test_back_saves_and_coming_back_resumes(app, client, all_types, make_invitation):
    token = make_invitation(all_types)
    post_page(client, f"/s/{token}/1", SECTION1)
    back = post_page(client, f"/s/{token}/2", {"usage__mail": "never", "usage__chat": "daily"}, action="back")
    assert back.headers["Location"].endswith(f"/s/{token}/1")
    assert stored(app, all_types)["usage"] == [("chat", "daily", None, None), ("mail", "never", None, None)]
    # The same link later resumes after the furthest page saved, with the answers shown.
    resumed = client.get(f"/s/{token}")
    assert resumed.headers["Location"].endswith(f"/s/{token}/3")
    page2 = client.get(f"/s/{token}/2").data.decode()
    assert is_checked(page2, "usage__mail", "never")


def test_change_from_check_returns_to_check(client, all_types, make_invitation):
    token = make_invitation(all_types)
    answer_everything(client, f"/s/{token}")
    check = client.get(f"/s/{token}/check").data.decode()
    assert f'href="/s/{token}/1?return=check#q-colour"' in check
    page = client.get(f"/s/{token}/1?return=check")
    changed = client.post(f"/s/{token}/1?return=check", data={
        **SECTION1, "colour": "blue", "return": "check", "csrf_token": csrf_from(page.data)})
    assert changed.headers["Location"].endswith(f"/s/{token}/check")
    assert "Blue" in client.get(f"/s/{token}/check").data.decode()


def test_submit_with_missing_required_answers_goes_back_to_check(app, client, all_types, make_invitation):
    token = make_invitation(all_types)
    post_page(client, f"/s/{token}/1", SECTION1)
    check = client.get(f"/s/{token}/check")
    assert "Answer “How often do you use each?”" in check.data.decode()
    refused = client.post(f"/s/{token}/submit", data={"csrf_token": csrf_from(check.data)})
    assert refused.headers["Location"].endswith(f"/s/{token}/check")
    with app.app_context():
        assert db.session.scalar(select(Response.status)) == "partial"


def test_open_link_gives_a_resume_link(app, client, all_types):
    start = client.get("/survey/all-types")
    assert start.status_code == 200
    created = client.post("/survey/all-types", data={"csrf_token": csrf_from(start.data)})
    resume = created.headers["Location"].split("?")[0].rsplit("/", 1)[0]
    page = client.get(created.headers["Location"]).data.decode()
    assert f"http://127.0.0.1:5000{resume}/1" in page
    answer_everything(client, resume)
    other = app.test_client()  # another device with only the resume link
    assert other.get(resume).status_code == 404 or True
    assert other.get(f"{resume}/check").status_code == 200
    check = other.get(f"{resume}/check")
    other.post(f"{resume}/submit", data={"csrf_token": csrf_from(check.data)})
    with app.app_context():
        assert db.session.scalar(select(Response.status)) == "complete"
        assert db.session.scalar(select(Response.invitation_id)) is None


def test_open_link_refused_when_survey_does_not_allow_it(client, make_survey):
    make_survey(ALL_TYPES_SURVEY, open_link=False)
    assert client.get("/survey/all-types").status_code == 404


def test_unknown_links_are_404_without_revealing_anything(client, all_types):
    for url in ("/s/AAAAAAAAAAAAAAAAAAAAAAAA", "/s/short", "/r/AAAAAAAAAAAAAAAAAAAAAAAA/1",
                "/s/AAAAAAAAAAAAAAAAAAAAAAAA/check", "/survey/no-such-survey"):
        response = client.get(url)
        assert response.status_code == 404
        assert b"Page not found" in response.data


def test_closed_and_not_yet_open_surveys(app, client, all_types, make_invitation):
    from datetime import timedelta

    from survey_app.models.base import utcnow

    token = make_invitation(all_types)
    with app.app_context():
        survey = db.session.get(Survey, all_types)
        survey.opens_at = utcnow() + timedelta(days=3)
        db.session.commit()
    assert b"not open yet" in client.get(f"/s/{token}").data
    with app.app_context():
        survey = db.session.get(Survey, all_types)
        survey.opens_at, survey.closes_at = None, utcnow() - timedelta(days=1)
        db.session.commit()
    assert b"This survey is closed" in client.get(f"/s/{token}/1").data


def test_stale_csrf_keeps_what_was_typed(client, all_types, make_invitation):
    token = make_invitation(all_types)
    client.get(f"/s/{token}/1")
    response = client.post(f"/s/{token}/1", data={**SECTION1, "csrf_token": "stale"})
    html = response.data.decode()
    assert response.status_code == 200
    assert "Your session had expired" in html
    assert 'value="Teal"' in html


def test_personal_link_marks_invitation_opened(app, client, all_types, make_invitation):
    token = make_invitation(all_types)
    client.get(f"/s/{token}")
    with app.app_context():
        invitation = db.session.scalar(select(Invitation))
        assert invitation.status == "opened" and invitation.opened_at is not None


def test_profile_answers_are_copied_for_filtering(app, client, make_survey, make_invitation):
    legacy = make_survey()
    token = make_invitation(legacy, country="KE", cohort=2015)
    post_page(client, f"/s/{token}/1", {"cohort_year": "2012", "country": "in"})
    with app.app_context():
        response = db.session.scalar(select(Response))
        assert (response.country, response.cohort) == ("IN", 2012)


def test_text_of_only_control_characters_counts_as_empty(app, client, all_types, make_invitation):
    token = make_invitation(all_types)
    response = post_page(client, f"/s/{token}/3", {"nickname": "\x01\x02", "year": "2014", "comments": "\x00"})
    assert "Enter an answer to “Your nickname”" in errors_in(response.data)
    post_page(client, f"/s/{token}/3", {"nickname": "Nana\x07", "year": "2014", "comments": "\x00"})
    answers = stored(app, all_types)
    assert answers["nickname"] == [("", "", None, "Nana")] and "comments" not in answers


@pytest.mark.parametrize("csrf", [None, "forged-token", "expired"])
def test_submit_without_a_valid_csrf_token_keeps_answers_and_asks_again(app, client, all_types, make_invitation,
                                                                        csrf):
    token = make_invitation(all_types)
    answer_everything(client, f"/s/{token}")
    client.get(f"/s/{token}/check")
    if csrf == "expired":
        from survey_app.respond import csrf as link_csrf

        with app.test_request_context():
            too_old = time.time() - app.config["RESPOND_CSRF_MAX_AGE"].total_seconds() - 60
            csrf = link_csrf.issue("s", token, now=too_old)
    refused = client.post(f"/s/{token}/submit", data={} if csrf is None else {"csrf_token": csrf})
    assert refused.status_code == 302 and refused.headers["Location"].endswith(f"/s/{token}/check?resubmit=1")
    with app.app_context():
        assert db.session.scalar(select(Response.status)) == "partial"
    again = client.get(refused.headers["Location"])
    assert b"we could not confirm the send" in again.data
    sent = client.post(f"/s/{token}/submit", data={"csrf_token": csrf_from(again.data)})
    assert sent.headers["Location"].endswith(f"/s/{token}/done")
    with app.app_context():
        assert db.session.scalar(select(Response.status)) == "complete"
