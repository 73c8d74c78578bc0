"""Staff pages in a real browser: tables that read well at 320 px, the language switcher, opening and closing."""
from __future__ import annotations

import re

import pytest

from survey_app.extensions import db
from survey_app.models import Invitation, Participant
from survey_app.services import audit, tokens
from survey_app.services import staff as staff_service
from tests.browser.support import ui
from tests.browser.test_accessibility import axe_violations, check_page_at_both_widths
from tests.conftest import STAFF_PASSWORD

pytestmark = pytest.mark.browser
SLUG = "legacy-staff-pages"
LONG_EMAIL = "international.training.programme.fellow.2019@museum-of-contemporary-art.example.org"

# For each word of the tables' text: how many lines its box takes. A word broken across lines has more than one.
# A line may end after a hyphen, as in print ("museum-of-" / "art.example.org"), never inside a run of letters.
WORDS_BROKEN = """() => {
  const broken = [];
  for (const cell of document.querySelectorAll('.table th, .table td')) {
    const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      for (const match of node.data.matchAll(/[^\\s\\-\\u2010]+/g)) {
        const range = document.createRange();
        range.setStart(node, match.index);
        range.setEnd(node, match.index + match[0].length);
        const lines = new Set([...range.getClientRects()].filter(r => r.width > 0).map(r => Math.round(r.top)));
        if (lines.size > 1) broken.push(match[0]);
      }
    }
  }
  return broken;
}"""


@pytest.fixture(scope="module")
def tables_survey(live_server) -> int:
    """A copy of the legacy survey with fellows whose long addresses make the participants table wide."""
    from tests.browser.conftest import LEGACY_SURVEY, _load

    if SLUG in live_server.surveys:
        return live_server.surveys[SLUG]
    with live_server.app.app_context():
        survey_id = live_server.surveys[SLUG] = _load(LEGACY_SURVEY, slug=SLUG)
        for n, country in enumerate(("KE", "CN", "EG", "MX")):
            seed = tokens.new_seed()
            participant = Participant(survey_id=survey_id, name=f"Fellow with a long address {n}",
                                      email=f"{n}.{LONG_EMAIL}", country=country, cohort=2019, language="en",
                                      attributes={})
            participant.invitation = Invitation(survey_id=survey_id, token_seed=seed,
                                                token_hash=tokens.hash_token(tokens.token_from_seed(seed)))
            db.session.add(participant)
        audit.record("participants.imported", survey_id, None, added=4)  # a row for the audit log's table
        db.session.commit()
        db.session.remove()
    return survey_id


@pytest.mark.parametrize("lang", ["en", "ru", "ar"])
def test_a_wide_staff_table_scrolls_in_its_own_box_at_320_px(open_page, live_server, staff_state, tables_survey,
                                                            lang):
    page = open_page(lang, width=320, staff_state=staff_state)
    page.goto(f"{live_server.url}/staff/surveys/{SLUG}/participants")
    assert page.evaluate("document.documentElement.lang") == lang
    assert page.evaluate("document.documentElement.scrollWidth") <= 320, "the page itself scrolls sideways"
    box = page.locator(".table-wrap").first
    assert box.evaluate("e => e.scrollWidth > e.clientWidth"), "the table fits: nothing to scroll"
    assert box.evaluate("e => getComputedStyle(e).overflowX") == "auto"
    # Reachable and named, so a keyboard user can scroll it and a screen reader says what it is (WCAG 2.1.1).
    assert box.get_attribute("tabindex") == "0" and box.get_attribute("role") == "region"
    assert box.get_attribute("aria-label") == ui(live_server, lang, "Participants")
    assert page.evaluate(WORDS_BROKEN) == []
    assert page.locator(".table td", has_text=LONG_EMAIL).first.evaluate(
        "e => getComputedStyle(e).overflowWrap") == "normal"
    box.focus()
    page.keyboard.press("ArrowLeft" if lang == "ar" else "ArrowRight")
    page.wait_for_function("e => e.scrollLeft !== 0", arg=box.element_handle())


@pytest.mark.parametrize("path", ["/staff/", "/staff/audit", "/staff/admin/users",
                                  f"/staff/surveys/{SLUG}/invitations", f"/staff/surveys/{SLUG}/privacy?q=Fellow"])
def test_no_staff_table_breaks_a_word_at_320_px(open_page, live_server, staff_state, tables_survey, path):
    page = open_page("fr", width=320, staff_state=staff_state)
    page.goto(live_server.url + path)
    assert page.locator(".table").count() >= 1, path
    assert page.evaluate(WORDS_BROKEN) == []
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    for i in range(page.locator(".table-wrap").count()):
        box = page.locator(".table-wrap").nth(i)
        assert box.get_attribute("tabindex") == "0" and box.get_attribute("aria-label")


def _sign_in(open_page, live_server, email: str, js: bool = True):
    page = open_page("en", width=320, js=js)
    page.goto(live_server.url + "/staff/login")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password", exact=True).fill(STAFF_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/staff/$"))
    return page


@pytest.mark.parametrize("js", [True, False], ids=["js", "nojs"])
def test_the_language_switcher_keeps_the_staff_side_in_its_language(open_page, live_server, tables_survey, js):
    email = f"switcher-{'js' if js else 'nojs'}@itp.example"
    with live_server.app.app_context():
        staff_service.create_staff(email, "Switching Staff", STAFF_PASSWORD)
        db.session.remove()
    page = _sign_in(open_page, live_server, email, js)
    page.goto(f"{live_server.url}/staff/surveys/{SLUG}")
    page.get_by_label("Language", exact=True).select_option("ar")
    page.get_by_role("button", name="Change", exact=True).click()
    page.wait_for_url(re.compile(rf"/staff/surveys/{SLUG}$"))
    assert page.evaluate("[document.documentElement.lang, document.documentElement.dir]") == ["ar", "rtl"]
    # The e-mail editor's French tab, another page with ?lang=: the interface stays Arabic.
    for path in (f"/staff/surveys/{SLUG}/invitations/texts?lang=fr", f"/staff/surveys/{SLUG}/participants?lang=zh"):
        page.goto(live_server.url + path)
        assert page.evaluate("document.documentElement.lang") == "ar", path
    page.get_by_label(ui(live_server, "ar", "Language"), exact=True).select_option("en")
    page.get_by_role("button", name=ui(live_server, "ar", "Change"), exact=True).click()
    page.wait_for_url(re.compile(r"participants\?lang=zh$"))
    assert page.evaluate("document.documentElement.lang") == "en"


@pytest.mark.parametrize("lang", ["en", "ar", "zh"])
def test_the_header_switcher_has_no_axe_violations(open_page, live_server, staff_state, lang):
    page = open_page(lang, width=320, staff_state=staff_state)
    page.goto(live_server.url + "/staff/")
    assert page.locator("form.staff-language select").is_visible()
    check_page_at_both_widths(page, "staff-language-switcher", lang)


def _ask(page, live_server, action: str, when: str, date: str = "", time: str = "") -> None:
    form = page.locator(f"form[action$='/{action}']")
    name = ui(live_server, page.evaluate("document.documentElement.lang"),
              "Now" if when == "now" else "At a date and time")
    form.get_by_role("radio", name=name, exact=True).check()
    if date:
        form.locator("input[type=date]").fill(date)
        form.locator("input[type=time]").fill(time)
    form.get_by_role("button").click()
    page.wait_for_load_state()


@pytest.mark.parametrize("lang", ["en", "ar", "zh"])
def test_the_open_and_close_pages_have_no_axe_violations(open_page, live_server, staff_state, tables_survey, lang):
    """The overview's forms, a refusal keeping what was typed, and the confirmation page (nothing is changed)."""
    page = open_page(lang, width=320, staff_state=staff_state)
    page.goto(f"{live_server.url}/staff/surveys/{SLUG}")
    assert page.locator("[data-schedule]").is_visible()
    _ask(page, live_server, "close", "at", "2020-01-12", "17:00")
    assert page.get_by_role("alert").is_visible()
    assert page.locator("input[type=date]").input_value() == "2020-01-12"
    check_page_at_both_widths(page, "staff-schedule-refused", lang)
    page.set_viewport_size({"width": 320, "height": 640})
    page.goto(f"{live_server.url}/staff/surveys/{SLUG}")
    _ask(page, live_server, "close", "at", "2099-01-12", "17:00")
    assert page.locator("[data-what-fellows-see]").is_visible()
    assert "UTC" in page.locator("h1").inner_text()
    check_page_at_both_widths(page, "staff-schedule-confirm", lang)
    assert axe_violations(page) == []
