"""The fellow's whole journey in a real browser, by visible labels only, with JavaScript on and off."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from survey_app.extensions import db
from survey_app.models import Answer, Invitation, Question, Response
from survey_app.services import tokens
from tests.browser.support import LANGUAGES, Answerer, structure, ui

pytestmark = pytest.mark.browser

# Names of a few options in the survey's own words, per language, to prove the page really is translated.
NICKNAMES = {"en": "Nour", "ar": "نور", "zh": "小明"}


def html_lang_dir(page) -> tuple[str, str]:
    return tuple(page.evaluate("[document.documentElement.lang, document.documentElement.dir]"))


def active_id(page) -> str:
    return page.evaluate("document.activeElement && document.activeElement.id")


def assert_language_switcher(page, server, current: str) -> None:
    """Every language is offered, named in itself and marked with its own lang."""
    items = page.get_by_role("navigation", name=ui(server, current, "Language")).get_by_role("listitem").locator("> *")
    assert items.count() == len(LANGUAGES)
    found = {items.nth(i).get_attribute("lang"): items.nth(i).inner_text() for i in range(items.count())}
    from survey_app.i18n import LANGUAGE_NAMES

    assert found == {code: LANGUAGE_NAMES[code] for code in LANGUAGES}
    assert items.and_(page.locator(f'[lang="{current}"]')).get_attribute("aria-current") == "true"


def continue_button(page, server, lang):
    return page.get_by_role("button", name=ui(server, lang, "Save and continue"), exact=True)


def expect_error_summary_focused(page, server, lang, messages: list[str]) -> None:
    summary = page.get_by_role("alert")
    assert summary.get_by_role("heading", name=ui(server, lang, "There is a problem")).is_visible()
    for message in messages:
        assert summary.get_by_role("link", name=re.compile("^" + re.escape(message))).first.is_visible()
    expect(page.get_by_role("alert")).to_be_focused()
    assert page.title().startswith(ui(server, lang, "Error:"))


@pytest.mark.parametrize("js", [True, False], ids=["js", "nojs"])
@pytest.mark.parametrize("lang", ["en", "ar", "zh"])
def test_personal_link_journey_every_question_type(open_page, live_server, lang, js):
    """Answer all question types through a personal link in the invitation's language, then submit once."""
    server = live_server
    token = server.invite("all-types", language=lang)
    # The browser asks for English: the invitation's language must win over Accept-Language.
    page = open_page("en", width=1280 if js else 320, js=js)
    survey = structure(server, "all-types")
    fill = Answerer(page, server, survey, lang)

    page.goto(f"{server.url}/s/{token}")
    assert html_lang_dir(page) == (lang, "rtl" if lang == "ar" else "ltr")
    assert_language_switcher(page, server, lang)
    page.get_by_role("button", name=ui(server, lang, "Start now")).click()

    # Page 1: an error (nothing chosen, and "None of these" with another fruit), then its correction.
    # With JavaScript, ticking "None of these" clears the other fruit, so only the server's first message shows.
    fill.tick("fruits", ["apple", "none"])
    fruits = survey.questions["fruits"]
    assert fill.group("fruits").get_by_role("checkbox", name=fill.option_label(fruits, "apple"),
                                            exact=True).is_checked() is not js
    continue_button(page, server, lang).click()
    colour_error = ui(server, lang, "Select %(name)s", name=ui(
        server, lang, "an answer to “%(question)s”", question=fill.t(survey.questions["colour"].label)))
    exclusive_error = ui(server, lang, "“%(none)s” cannot be selected with another answer to “%(question)s”",
                         none=fill.option_label(fruits, "none"), question=fill.t(fruits.label))
    expect_error_summary_focused(page, server, lang, [colour_error] + ([] if js else [exclusive_error]))
    page.get_by_role("alert").get_by_role("link", name=colour_error, exact=True).click()
    expect(fill.group("colour").get_by_role("radio").first).to_be_focused()
    fill.choose("colour", "other", other_text="Teal")
    # With JavaScript, ticking Apple again clears "None of these"; without, the fellow unticks it.
    fill.tick("fruits", ["apple", "mango"] if js else ["mango"], untick=[] if js else ["none"])
    fill.choose("agree", "agree")
    continue_button(page, server, lang).click()

    # Page 2: the grid, one radio group per row, and the ranking.
    page.get_by_role("heading", level=1, name=re.compile(re.escape(fill.t(survey.sections[1].title)))).wait_for()
    fill.grid("usage", {"mail": "daily", "chat": "never"})
    fill.rank("order", {"a": 2, "b": 1, "c": 3})
    continue_button(page, server, lang).click()

    # Page 3: short text, a number and a long text.
    fill.write("nickname", NICKNAMES[lang])
    fill.write("year", "2012")
    fill.write("comments", "First line.\nSecond line.")
    continue_button(page, server, lang).click()

    # Check your answers, then Change one answer and come back.
    check_heading = re.compile(re.escape(ui(server, lang, "Check your answers before sending them")))
    page.get_by_role("heading", level=1, name=check_heading).wait_for()
    assert page.get_by_text(NICKNAMES[lang], exact=True).is_visible()
    colour_label = fill.t(survey.questions["colour"].label)
    page.get_by_role("link", name=f"{ui(server, lang, 'Change')} {colour_label}", exact=True).click()
    assert "return=check" in page.url
    fill.choose("colour", "blue")
    continue_button(page, server, lang).click()
    page.wait_for_url(re.compile(r"/check(#.*)?$"))
    colour_row = page.locator(".summary-list > div").filter(has=page.get_by_role("term").filter(has_text=colour_label))
    assert fill.option_label(survey.questions["colour"], "blue") in colour_row.inner_text()

    page.get_by_role("button", name=ui(server, lang, "Send my answers")).click()
    page.wait_for_url(re.compile(r"/done(#.*)?$"))
    confirmation = page.get_by_role("status")
    thanks = ui(server, lang, "Thank you: your answers have been sent")
    assert confirmation.get_by_role("heading", name=thanks).is_visible()
    assert html_lang_dir(page)[0] == lang

    page.goto(f"{server.url}/s/{token}")
    already = ui(server, lang, "You have already answered this survey")
    assert page.get_by_role("heading", level=1).inner_text() == already

    with server.app.app_context():
        invitation = db.session.execute(
            select(Invitation).where(Invitation.token_hash == tokens.hash_token(token))).scalar_one()
        responses = db.session.execute(select(Response).where(Response.invitation_id == invitation.id)).scalars().all()
        assert [r.status for r in responses] == ["complete"]
        assert responses[0].language == lang
        rows = db.session.execute(
            select(Question.code, Answer.item_code, Answer.option_code, Answer.number, Answer.text)
            .join(Question, Question.id == Answer.question_id).where(Answer.response_id == responses[0].id)
        ).all()
        db.session.remove()
    assert sorted(rows) == sorted([
        ("agree", "", "agree", None, None),
        ("colour", "", "blue", None, None),
        ("comments", "", "", None, "First line.\nSecond line."),
        ("fruits", "", "apple", None, None),
        ("fruits", "", "mango", None, None),
        ("nickname", "", "", None, NICKNAMES[lang]),
        ("order", "a", "", 2, None),
        ("order", "b", "", 1, None),
        ("order", "c", "", 3, None),
        ("usage", "chat", "never", None, None),
        ("usage", "mail", "daily", None, None),
        ("year", "", "", 2012, None),
    ])


@pytest.mark.parametrize("lang,js", [("zh", True), ("ar", False)], ids=["zh-js", "ar-nojs"])
def test_open_link_journey_legacy_projects(open_page, live_server, lang, js):
    """Start from the open link (language from Accept-Language), answer the real survey, submit, revisit."""
    server = live_server
    page = open_page(lang, width=320, js=js)
    survey = structure(server, "legacy-projects")
    fill = Answerer(page, server, survey, lang)

    page.goto(f"{server.url}/survey/legacy-projects")
    assert html_lang_dir(page) == (lang, "rtl" if lang == "ar" else "ltr")
    assert page.get_by_role("heading", level=1).inner_text() == fill.t(_survey_title(server, "legacy-projects"))
    page.get_by_role("button", name=ui(server, lang, "Start now")).click()
    page.wait_for_url(re.compile(r"/r/[^/]+/1$"))
    resume_url = page.url
    resume_token = resume_url.split("/r/", 1)[1].split("/")[0]
    # Before any answer is saved, the resume link waits behind a one-line disclosure.
    finish_later = page.locator("summary", has_text=ui(server, lang, "Finish later"))
    assert finish_later.is_visible() and page.get_by_role("status").count() == 0

    fill.choose("cohort_year", "2015")
    fill.choose("country", "ke")
    fill.choose("role", "other", other_text="Archivist")
    continue_button(page, server, lang).click()
    # After the first save it is announced (role=status) and shown in full, once, so the fellow can keep it.
    page.wait_for_url(re.compile(r"/r/[^/]+/2\?new=1$"))
    assert page.get_by_role("status").get_by_role("link").inner_text() == resume_url.rsplit("/", 1)[0] + "/2"

    fill.tick("platforms_used", ["facebook", "none"])
    if js:  # "None of these" cleared Facebook: tick it again, which clears "None of these"
        fill.tick("platforms_used", ["facebook"])
        assert not fill.group("platforms_used").get_by_role(
            "checkbox", name=fill.option_label(survey.questions["platforms_used"], "none"), exact=True).is_checked()
    else:
        continue_button(page, server, lang).click()
        platforms = survey.questions["platforms_used"]
        expect_error_summary_focused(page, server, lang, [ui(
            server, lang, "“%(none)s” cannot be selected with another answer to “%(question)s”",
            none=fill.option_label(platforms, "none"), question=fill.t(platforms.label))])
        assert page.locator("summary", has_text=ui(server, lang, "Finish later")).is_visible()
    fill.tick("platforms_used", ["wechat"], untick=[] if js else ["none"])
    fill.grid("work_frequency", {"wechat": "daily", "facebook": "never"})
    fill.choose("preferred_platform", "wechat")
    fill.rank("hearing_rank", {"wechat_group": 1, "newsletter": 2})
    continue_button(page, server, lang).click()

    fill.tick("channels", ["wechat_group", "email"])
    fill.tick("activities", ["none"])
    fill.choose("connected", "agree")
    fill.write("suggestions", "更多线上活动" if lang == "zh" else "مزيد من الأنشطة")
    fill.choose("quote_ok", "yes")
    continue_button(page, server, lang).click()

    page.wait_for_url(re.compile(r"/check(#.*)?$"))
    page.get_by_role("button", name=ui(server, lang, "Send my answers")).click()
    page.wait_for_url(re.compile(r"/done(#.*)?$"))
    page.goto(resume_url)
    already = ui(server, lang, "You have already answered this survey")
    assert page.get_by_role("heading", level=1).inner_text() == already

    with server.app.app_context():
        response = db.session.execute(
            select(Response).where(Response.resume_token_hash == tokens.hash_token(resume_token))).scalar_one()
        assert response.status == "complete" and response.country == "KE" and response.cohort == 2015
        chosen = db.session.execute(
            select(Question.code, Answer.item_code, Answer.option_code, Answer.number, Answer.text)
            .join(Question, Question.id == Answer.question_id).where(Answer.response_id == response.id)
        ).all()
        db.session.remove()
    by_question: dict[str, set] = {}
    for code, item, option, number, text in chosen:
        by_question.setdefault(code, set()).add((item, option, number, text))
    assert by_question["role"] == {("", "other", None, "Archivist")}
    assert by_question["platforms_used"] == {("", "facebook", None, None), ("", "wechat", None, None)}
    assert by_question["work_frequency"] == {("wechat", "daily", None, None), ("facebook", "never", None, None)}
    assert by_question["hearing_rank"] == {("wechat_group", "", 1, None), ("newsletter", "", 2, None)}
    assert by_question["activities"] == {("", "none", None, None)}
    assert by_question["quote_ok"] == {("", "yes", None, None)}


def _survey_title(server, slug: str) -> dict:
    from survey_app.services import surveys as survey_service

    with server.app.app_context():
        title = dict(survey_service.get_survey(slug).title)
        db.session.remove()
        return title


def test_lang_parameter_is_remembered_and_switcher_changes_language(open_page, live_server):
    server = live_server
    token = server.invite("all-types", language="en")
    page = open_page("en")
    page.goto(f"{server.url}/s/{token}?lang=fr")
    assert html_lang_dir(page) == ("fr", "ltr")
    page.goto(f"{server.url}/s/{token}/1")
    assert html_lang_dir(page) == ("fr", "ltr")
    page.get_by_role("link", name="العربية", exact=True).click()
    assert html_lang_dir(page) == ("ar", "rtl")
    assert "lang=ar" in page.url
    page.goto(f"{server.url}/privacy")
    assert html_lang_dir(page) == ("ar", "rtl")
    assert_language_switcher(page, server, "ar")
