"""Free-text review in a real browser, with the keyboard and without JavaScript; the published report page."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from survey_app.extensions import db
from survey_app.models import Answer, Survey, TextReview
from survey_app.services import report_settings
from survey_app.services import results as rs
from tests.browser.support import ui
from tests.browser.test_accessibility import check_page_at_both_widths

pytestmark = pytest.mark.browser
SLUG = "legacy-review"


@pytest.fixture(scope="module")
def review_survey(live_server) -> int:
    """A copy of the legacy survey with synthetic answers, its free text and "Other" answers to review."""
    from survey_app.dev.generate import generate
    from tests.browser.conftest import LEGACY_SURVEY, _load

    if SLUG in live_server.surveys:
        return live_server.surveys[SLUG]
    with live_server.app.app_context():
        survey_id = live_server.surveys[SLUG] = _load(LEGACY_SURVEY, slug=SLUG)
        generate(db.session.get(Survey, survey_id), 40, seed=21)
        db.session.remove()
    return survey_id


def _consent(live_server, survey_id: int) -> dict[int, bool]:
    with live_server.app.app_context():
        items = rs.list_free_text(db.session.get(Survey, survey_id), "suggestions", per_page=500).items
        db.session.remove()
    return {item.answer_id: item.consent for item in items}


def _state(live_server, answer_ids: list[int]) -> dict[int, tuple[bool, bool]]:
    with live_server.app.app_context():
        approved = dict(db.session.execute(select(Answer.id, Answer.quote_approved)
                                           .where(Answer.id.in_(answer_ids))).all())
        rejected = dict(db.session.execute(select(TextReview.answer_id, TextReview.rejected)
                                           .where(TextReview.answer_id.in_(answer_ids))).all())
        db.session.remove()
    return {i: (bool(approved.get(i)), bool(rejected.get(i))) for i in answer_ids}


def test_approve_many_answers_with_the_keyboard(open_page, live_server, staff_state, review_survey):
    page = open_page("en", width=1280, staff_state=staff_state)
    page.goto(f"{live_server.url}/staff/surveys/{SLUG}/results/text?question=suggestions&state=unreviewed")
    rows = page.locator("tr[data-answer]")
    assert rows.count() >= 4
    chosen = [int(rows.nth(i).get_attribute("data-answer")) for i in (0, 2)]
    page.locator("h1").click()  # focus on the page, not in a form field
    for key in ("j", "x", "j", "j", "x"):
        page.keyboard.press(key)
    assert page.locator("input[name=answer]:checked").count() == 2
    page.keyboard.press("a")
    page.wait_for_load_state()
    consent = _consent(live_server, review_survey)
    expected = sum(consent[i] for i in chosen)
    notices = page.locator(".notices").inner_text()
    assert ui(live_server, "en", "%(num)d answer changed." if expected == 1 else "%(num)d answers changed.",
              num=expected) in notices or (expected == 1 and "1 answer changed." in notices)
    state = _state(live_server, chosen)
    for answer_id in chosen:
        assert state[answer_id][0] is consent[answer_id]  # approved exactly when the fellow consented


def test_reject_many_answers_without_javascript(open_page, live_server, staff_state, review_survey):
    page = open_page("en", width=320, js=False, staff_state=staff_state)
    page.goto(f"{live_server.url}/staff/surveys/{SLUG}/results/text?question=suggestions&state=unreviewed")
    boxes = page.locator("input[name=answer]")
    chosen = [int(boxes.nth(i).get_attribute("value")) for i in range(3)]
    for i in range(3):
        boxes.nth(i).check()
    page.get_by_label("With the selected answers").select_option("reject")
    page.get_by_role("button", name="Apply to the selected answers").click()
    page.wait_for_url(re.compile(r"state=unreviewed"))
    assert "3 answers changed." in page.locator(".notices").inner_text()
    assert all(rejected for _approved, rejected in _state(live_server, chosen).values())
    assert page.locator("[data-select-all]").is_hidden()  # the script's extras need the script


@pytest.mark.parametrize("lang", ["en", "ar", "zh"])
def test_the_review_page_with_answers_has_no_axe_violations(open_page, live_server, staff_state, review_survey, lang):
    page = open_page(lang, width=320, staff_state=staff_state)
    page.goto(f"{live_server.url}/staff/surveys/{SLUG}/results/text?question=preferred_platform&lang={lang}")
    assert page.locator("tr[data-answer]").count() >= 1
    check_page_at_both_widths(page, "staff-review-with-answers", lang)


@pytest.mark.parametrize("lang", ["en", "ar", "zh"])
def test_the_published_report_has_no_axe_violations_and_loads_nothing_from_elsewhere(open_page, live_server,
                                                                                   review_survey, lang):
    with live_server.app.app_context():
        survey = db.session.get(Survey, review_survey)
        report_settings.publish(survey, None)
        token = report_settings.public_token(report_settings.settings_for(survey))
        db.session.remove()
    page = open_page(lang, width=320)
    response = page.goto(f"{live_server.url}/reports/{token}?lang={lang}")
    assert response.status == 200 and response.headers["cache-control"] == "no-store"
    assert page.evaluate("document.documentElement.lang") == lang
    assert page.locator("svg[role=img] title").count() >= 5
    check_page_at_both_widths(page, "public-report", lang)
