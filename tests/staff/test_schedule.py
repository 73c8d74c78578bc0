"""Opening and closing a survey from its overview: now or at a date and time (UTC), after a confirmation."""
from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from survey_app.extensions import db
from survey_app.models import AuditEvent, Survey, SurveyState
from tests.conftest import csrf_from

OVERVIEW = "/staff/surveys/legacy-projects"


def _survey(app) -> Survey:
    with app.app_context():
        survey = db.session.scalar(select(Survey).where(Survey.slug == "legacy-projects"))
        db.session.expunge(survey)
        return survey


def _events(app) -> list[tuple[str, dict]]:
    with app.app_context():
        return [(e.action, e.detail) for e in db.session.scalars(select(AuditEvent).order_by(AuditEvent.id))
                if e.action.startswith("survey.")]


def _form(html: str, action: str) -> str:
    match = re.search(rf'<form method="post" action="{OVERVIEW}/{action}".*?</form>', html, re.S)
    assert match, f"no {action} form"
    return match.group(0)


def ask(client, action: str, when: str | None, date: str = "", time: str = ""):
    """Fill the overview's open or close form and press Continue: the confirmation page (or errors)."""
    form = _form(client.get(OVERVIEW).get_data(as_text=True), action)
    data = {"csrf_token": csrf_from(form), f"{action}-date": date, f"{action}-time": time}
    if when:
        data[f"{action}-when"] = when
    return client.post(f"{OVERVIEW}/{action}", data=data)


def confirm(client, page) -> object:
    """Press the confirmation page's button, sending back exactly what it holds."""
    html = page.get_data(as_text=True)
    form = re.search(r'<form method="post" action="[^"]+/(open|close)">.*?</form>', html, re.S).group(0)
    action = re.search(r'action="[^"]+/(open|close)"', form).group(1)
    data = dict(re.findall(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"', form))
    return client.post(f"{OVERVIEW}/{action}", data=data)


def text(page) -> str:
    """The page's words without markup, spaces collapsed."""
    html = re.sub(r"<[^>]+>", " ", page.get_data(as_text=True))
    return re.sub(r"\s+", " ", html)


def test_close_now_asks_first_then_fellows_see_the_closed_page(app, staff_client, client, make_survey,
                                                               make_invitation):
    survey_id = make_survey()
    token = make_invitation(survey_id)
    assert "This survey is closed" not in client.get(f"/s/{token}").get_data(as_text=True)
    asked = ask(staff_client, "close", "now")
    assert asked.status_code == 200
    words = text(asked)
    assert "Close the survey now?" in words
    assert "From now on, fellows who open their link will see “This survey is closed”." in words
    assert "Times are in UTC (Coordinated Universal Time)." in words
    assert _survey(app).state() is SurveyState.OPEN and _events(app) == []  # asking changes nothing

    done = confirm(staff_client, asked)
    assert done.status_code == 302 and done.headers["Location"] == OVERVIEW
    overview = staff_client.get(OVERVIEW)
    assert "The survey is closed." in text(overview)
    assert 'data-state="closed"' in overview.get_data(as_text=True)
    assert _survey(app).state() is SurveyState.CLOSED
    assert "This survey is closed" in client.get(f"/s/{token}").get_data(as_text=True)
    [(action, detail)] = _events(app)
    assert action == "survey.closed" and detail["previous_state"] == "open"


def test_close_at_a_time_says_when_in_utc_and_fellows_answer_until_then(app, staff_client, make_survey):
    make_survey()
    asked = ask(staff_client, "close", "at", "2099-01-12", "17:00")
    words = text(asked)
    assert "Close the survey on January 12, 2099 at 17:00 (UTC)?" in words
    assert ("Fellows who open their link will see “This survey is closed” from January 12, 2099 at 17:00 (UTC). "
            "Until then nothing changes for them.") in words
    confirm(staff_client, asked)
    survey = _survey(app)
    assert survey.closes_at == datetime(2099, 1, 12, 17, 0, tzinfo=UTC)
    assert survey.state() is SurveyState.OPEN
    assert survey.state(datetime(2099, 1, 12, 17, 0, tzinfo=UTC)) is SurveyState.CLOSED
    overview = text(staff_client.get(OVERVIEW))
    assert "The survey will close on January 12, 2099 at 17:00 (UTC)." in overview
    assert "It closes on January 12, 2099 at 17:00 (UTC)." in overview
    assert _events(app) == [("survey.closing_scheduled", {"previous_state": "open",
                                                          "closes_at": "2099-01-12T17:00+00:00"})]


def test_closing_counts_the_fellows_who_would_not_finish(app, staff_client, client, make_survey, make_invitation):
    survey_id = make_survey()
    token = make_invitation(survey_id)
    page = client.get(f"/s/{token}/1")
    client.post(f"/s/{token}/1", data={"csrf_token": csrf_from(page.data), "cohort_year": "2015", "country": "ke"})
    assert 'data-count="started">1<' in staff_client.get(OVERVIEW).get_data(as_text=True)
    words = text(ask(staff_client, "close", "now"))
    assert "1 fellow has started but not sent their answers: they can no longer finish." in words


def test_open_a_draft_now_and_fellows_can_answer(app, staff_client, client, make_survey, make_invitation):
    survey_id = make_survey(status="draft")
    token = make_invitation(survey_id)
    assert "This survey is closed" in client.get(f"/s/{token}").get_data(as_text=True)
    overview = staff_client.get(OVERVIEW).get_data(as_text=True)
    assert 'data-state="draft"' in overview and f'action="{OVERVIEW}/close"' not in overview
    asked = ask(staff_client, "open", "now")
    words = text(asked)
    assert "Open the survey now?" in words
    assert "From now on, fellows who open their link can answer the survey." in words
    assert "It stays open until you close it." in words
    confirm(staff_client, asked)
    assert _survey(app).state() is SurveyState.OPEN
    assert "This survey is closed" not in client.get(f"/s/{token}").get_data(as_text=True)
    assert [a for a, _d in _events(app)] == ["survey.opened"]


def test_open_at_a_time_shows_not_yet_open_until_then(app, staff_client, client, make_survey, make_invitation):
    survey_id = make_survey(status="draft")
    token = make_invitation(survey_id)
    asked = ask(staff_client, "open", "at", "2099-03-01", "09:30")
    words = text(asked)
    assert "Open the survey on March 1, 2099 at 09:30 (UTC)?" in words
    assert ("Until March 1, 2099 at 09:30 (UTC), fellows who open their link will see “This survey is not open "
            "yet”, with the date it opens. From then on they can answer.") in words
    confirm(staff_client, asked)
    survey = _survey(app)
    assert survey.opens_at == datetime(2099, 3, 1, 9, 30, tzinfo=UTC) and survey.state() is SurveyState.NOT_YET_OPEN
    assert "This survey is not open yet" in client.get(f"/s/{token}").get_data(as_text=True)
    overview = staff_client.get(OVERVIEW).get_data(as_text=True)
    assert "The survey opens on March 1, 2099 at 09:30 (UTC)." in text(staff_client.get(OVERVIEW))
    assert f'action="{OVERVIEW}/open"' in overview and f'action="{OVERVIEW}/close"' in overview
    assert _events(app)[-1][0] == "survey.opening_scheduled"


def test_reopening_a_survey_whose_closing_passed_drops_that_closing(app, staff_client, make_survey):
    past = datetime.now(UTC) - timedelta(days=3)
    make_survey(closes_at=past)
    assert _survey(app).state() is SurveyState.CLOSED
    words = text(ask(staff_client, "open", "now"))
    assert "no longer applies" in words
    confirm(staff_client, ask(staff_client, "open", "now"))
    survey = _survey(app)
    assert survey.state() is SurveyState.OPEN and survey.closes_at is None


def test_a_time_in_the_past_is_refused_keeping_what_was_typed(app, staff_client, make_survey):
    make_survey()
    refused = ask(staff_client, "close", "at", "2020-05-04", "08:15")
    assert refused.status_code == 400
    html = refused.get_data(as_text=True)
    assert "There is a problem" in html
    assert "The closing time must be in the future. It is now" in html
    assert 'value="2020-05-04"' in html and 'value="08:15"' in html
    assert re.search(r'id="close-when-at" name="close-when" value="at" checked', html)
    assert '<a href="#close-date">' in html  # the summary leads to the field
    assert _survey(app).closes_at is None and _events(app) == []


def test_closing_before_the_opening_is_refused(app, staff_client, make_survey):
    make_survey(opens_at=datetime(2098, 6, 1, 12, 0, tzinfo=UTC))
    refused = ask(staff_client, "close", "at", "2098-05-01", "12:00")
    assert refused.status_code == 400
    assert "The closing time must be after the survey opens, on June 1, 2098 at 12:00 (UTC)." in text(refused)
    assert 'value="2098-05-01"' in refused.get_data(as_text=True)


def test_opening_after_a_set_closing_is_refused(app, staff_client, make_survey):
    make_survey(status="draft", closes_at=datetime(2098, 6, 1, 12, 0, tzinfo=UTC))
    refused = ask(staff_client, "open", "at", "2098-07-01", "09:00")
    assert refused.status_code == 400
    assert "The survey is set to close on June 1, 2098 at 12:00 (UTC), before this opening time." in text(refused)


def test_missing_and_malformed_answers_each_get_a_message(app, staff_client, make_survey):
    make_survey()
    nothing = ask(staff_client, "close", None)
    assert nothing.status_code == 400 and "Choose now, or a date and time" in text(nothing)
    wrong = ask(staff_client, "close", "at", "12/01/2099", "5pm")
    words = text(wrong)
    assert "Enter the date as year-month-day, for example 2027-01-12" in words
    assert "Enter the time as hours and minutes on a 24-hour clock, for example 17:00" in words
    assert 'value="12/01/2099"' in wrong.get_data(as_text=True) and 'value="5pm"' in wrong.get_data(as_text=True)


def test_a_confirmation_is_checked_again_when_pressed(app, staff_client, make_survey):
    """Between the two presses someone else closed the survey: the second close is refused, not repeated."""
    make_survey()
    first = ask(staff_client, "close", "now")
    confirm(staff_client, ask(staff_client, "close", "now"))
    again = confirm(staff_client, first)
    assert again.status_code == 400 and "The survey is already closed." in text(again)
    assert [a for a, _d in _events(app)] == ["survey.closed"]


def test_a_time_typed_with_its_own_offset_is_taken_in_utc(app, staff_client, make_survey):
    make_survey()
    confirm(staff_client, ask(staff_client, "close", "at", "2099-01-12", "19:00+02:00"))
    assert _survey(app).closes_at == datetime(2099, 1, 12, 17, 0, tzinfo=UTC)


def test_the_overview_says_times_are_utc_and_the_state_in_the_staff_language(app, client, make_staff, login,
                                                                             make_survey):
    make_survey()
    login(client, make_staff())
    page = client.get(OVERVIEW, headers={"Accept-Language": "fr"})
    words = text(page)
    assert "UTC" in words and "Ouvert" in words
    assert "Times are in UTC" not in words  # translated, not left in English


def test_the_forms_need_csrf(app, staff_client, make_survey):
    make_survey()
    response = staff_client.post(f"{OVERVIEW}/close", data={"close-when": "now", "close-confirmed": "yes"})
    assert response.status_code == 400
    assert _survey(app).state() is SurveyState.OPEN


def test_reloading_the_survey_file_keeps_what_staff_set_unless_the_file_names_it(app, staff_client, make_survey,
                                                                                 tmp_path):
    """A file reloaded to fix a wording never reopens a survey staff closed; one that names status does."""
    import yaml

    from survey_app.services import surveys as survey_service
    from tests.conftest import LEGACY_SURVEY

    data = yaml.safe_load(LEGACY_SURVEY.read_text(encoding="utf-8"))
    data.pop("status")
    unnamed = tmp_path / "without-status.yaml"
    unnamed.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with app.app_context():
        assert survey_service.load_survey_file(unnamed).survey.status == "draft"  # a new survey is a draft
    confirm(staff_client, ask(staff_client, "open", "now"))
    confirm(staff_client, ask(staff_client, "close", "at", "2099-01-12", "17:00"))
    with app.app_context():
        result = survey_service.load_survey_file(unnamed)
        assert result.changes == []
    survey = _survey(app)
    assert survey.state() is SurveyState.OPEN and survey.closes_at == datetime(2099, 1, 12, 17, 0, tzinfo=UTC)
    with app.app_context():
        assert "survey status changed" not in survey_service.load_survey_file(LEGACY_SURVEY).changes
        data["status"] = "closed"
        named = tmp_path / "closed.yaml"
        named.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
        assert "survey status changed" in survey_service.load_survey_file(named).changes
    assert _survey(app).state() is SurveyState.CLOSED


def test_the_staff_home_names_each_state_in_the_staff_language(app, client, make_staff, login, make_survey):
    make_survey(opens_at=datetime(2098, 6, 1, 12, 0, tzinfo=UTC))
    login(client, make_staff())
    assert '<td data-state="not_yet_open">Not yet open</td>' in client.get("/staff/").get_data(as_text=True)
    french = client.get("/staff/", headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert '<td data-state="not_yet_open">Pas encore ouverte</td>' in french


@pytest.mark.parametrize("app_overrides", [{"BABEL_DEFAULT_TIMEZONE": "Asia/Tokyo"}])
def test_times_are_written_in_utc_whatever_babels_time_zone(app, staff_client, make_survey, app_overrides):
    make_survey()
    assert "Close the survey on January 12, 2099 at 17:00 (UTC)?" in text(ask(staff_client, "close", "at",
                                                                                "2099-01-12", "17:00"))
