"""The staff interface in the staff member's own language: chosen in the header, kept on the account.

A ?lang= on a staff page, a respondent page's choice or an editor's language tab never moves it.
"""
from __future__ import annotations

import re

from sqlalchemy import select

from survey_app.dev.generate import generate
from survey_app.extensions import db
from survey_app.models import Answer, StaffUser, Survey
from tests.conftest import csrf_from
from tests.results.conftest import add_quote

SURVEY = "/staff/surveys/legacy-projects"


def html_lang(response) -> tuple[str, str]:
    match = re.search(r'<html lang="([^"]+)" dir="([^"]+)">', response.get_data(as_text=True))
    assert match, response.data[:200]
    return match.group(1), match.group(2)


def switch(client, language: str, page: str = "/staff/", next_: str | None = None):
    """Use the header's form as a browser without JavaScript would: pick, press the button."""
    html = client.get(page).get_data(as_text=True)
    form = re.search(r'<form method="post" action="/staff/language".*?</form>', html, re.S)
    assert form, "no language form in the staff header"
    posted_next = re.search(r'name="next" value="([^"]*)"', form.group(0)).group(1)
    return client.post("/staff/language", data={"csrf_token": csrf_from(form.group(0)), "language": language,
                                                "next": posted_next if next_ is None else next_})


def account_language(app, email: str) -> str | None:
    with app.app_context():
        return db.session.scalar(select(StaffUser.language).where(StaffUser.email == email))


def test_the_header_switcher_is_a_labelled_form_with_each_language_in_itself(staff_client):
    html = staff_client.get("/staff/").get_data(as_text=True)
    form = re.search(r'<form method="post" action="/staff/language".*?</form>', html, re.S).group(0)
    assert 'name="csrf_token"' in form
    assert '<label for="staff-language">Language</label>' in form and 'id="staff-language"' in form
    assert '<option value="en" lang="en" selected>English</option>' in form
    assert '<option value="ar" lang="ar">العربية</option>' in form
    assert '<option value="zh" lang="zh">中文（简体）</option>' in form
    assert '<button type="submit"' in form


def test_a_chosen_language_is_kept_on_the_account_across_sessions(app, client, make_staff, login):
    email = make_staff()
    login(client, email)
    response = switch(client, "ar")
    assert response.status_code == 302 and response.headers["Location"] == "/staff/"
    assert account_language(app, email) == "ar"
    home = client.get("/staff/", headers={"Accept-Language": "fr-FR"})
    assert html_lang(home) == ("ar", "rtl")
    assert "اللغة" in home.get_data(as_text=True)  # the header's own label, translated
    assert '<option value="ar" lang="ar" selected>' in home.get_data(as_text=True)

    # Sign out, then in again from another browser that prefers French: still Arabic.
    client.post("/staff/logout", data={"csrf_token": csrf_from(home.data)})
    other = app.test_client()
    login(other, email)
    assert html_lang(other.get("/staff/", headers={"Accept-Language": "fr-FR"})) == ("ar", "rtl")

    switch(other, "en")
    assert account_language(app, email) == "en"
    assert html_lang(other.get("/staff/", headers={"Accept-Language": "fr-FR"})) == ("en", "ltr")


def test_switching_returns_to_the_same_page_and_says_so_in_the_new_language(app, staff_client, make_survey):
    make_survey()
    response = switch(staff_client, "fr", page=f"{SURVEY}/participants?status=invited")
    assert response.headers["Location"] == f"{SURVEY}/participants?status=invited"
    page = staff_client.get(response.headers["Location"])
    assert html_lang(page) == ("fr", "ltr")
    assert "Langue des pages du personnel : Français." in page.get_data(as_text=True)


def test_no_choice_follows_the_browser(staff_client):
    assert html_lang(staff_client.get("/staff/", headers={"Accept-Language": "zh-CN,zh;q=0.9"})) == ("zh", "ltr")
    assert html_lang(staff_client.get("/staff/", headers={"Accept-Language": "ru"})) == ("ru", "ltr")


def test_lang_in_a_staff_address_does_not_switch_the_staff_interface(app, staff_client, make_survey):
    make_survey()
    for url in ("/staff/?lang=ar", f"{SURVEY}?lang=zh", f"{SURVEY}/invitations/texts?lang=ar",
                f"{SURVEY}/translations?lang=ru"):
        response = staff_client.get(url, headers={"Accept-Language": "en-GB"})
        assert response.status_code == 200, url
        assert html_lang(response) == ("en", "ltr"), url
    assert html_lang(staff_client.get("/staff/", headers={"Accept-Language": "en-GB"})) == ("en", "ltr")


def test_the_e_mail_editor_tab_of_another_language_leaves_a_chosen_interface_alone(app, staff_client, make_survey):
    make_survey()
    switch(staff_client, "es")
    editor = staff_client.get(f"{SURVEY}/invitations/texts?lang=ar")
    assert html_lang(editor) == ("es", "ltr")
    assert html_lang(staff_client.get("/staff/")) == ("es", "ltr")


def test_a_respondent_page_language_does_not_carry_into_staff_pages(client, make_staff, login):
    """A staff member who looked at the survey in Arabic (?lang=ar on a public page) keeps an English staff side."""
    login(client, make_staff())
    assert html_lang(client.get("/privacy?lang=ar")) == ("ar", "rtl")
    assert html_lang(client.get("/staff/", headers={"Accept-Language": "en"})) == ("en", "ltr")
    assert html_lang(client.get("/accessibility")) == ("ar", "rtl")  # the public side keeps its choice


def test_respondent_pages_keep_following_lang(client, staff_client):
    """Signed in or not, ?lang= still picks and remembers a public page's language."""
    assert html_lang(staff_client.get("/privacy?lang=zh")) == ("zh", "ltr")
    assert html_lang(staff_client.get("/privacy")) == ("zh", "ltr")


def test_the_sign_in_page_follows_the_browser_not_lang(client):
    assert html_lang(client.get("/staff/login?lang=ar", headers={"Accept-Language": "ru"})) == ("ru", "ltr")


def test_an_unknown_language_is_refused_with_a_message(app, client, make_staff, login):
    email = make_staff()
    login(client, email)
    response = switch(client, "xx")
    assert response.status_code == 302
    assert account_language(app, email) is None
    assert "Choose one of the languages in the list." in client.get("/staff/").get_data(as_text=True)


def test_the_switch_needs_its_csrf_token_and_a_signed_in_member(app, client, make_staff, login):
    assert client.post("/staff/language", data={"language": "ar"}).status_code in {400, 401}
    email = make_staff()
    login(client, email)
    assert client.post("/staff/language", data={"language": "ar", "next": "/staff/"}).status_code == 400
    assert account_language(app, email) is None


def test_the_switch_never_sends_anyone_to_another_site(staff_client):
    response = switch(staff_client, "en", next_="//evil.example/")
    assert response.headers["Location"] == "/staff/"


def _findings_survey(app, make_survey) -> int:
    survey_id = make_survey()
    with app.app_context():
        survey = db.session.get(Survey, survey_id)
        generate(survey, 40, seed=3)
        add_quote(survey, "Recordings help colleagues in other time zones", "yes", True, "en")
        db.session.commit()
    return survey_id


def test_the_findings_editor_marks_its_fields_in_their_language(app, staff_client, make_survey):
    _findings_survey(app, make_survey)
    page = staff_client.get(f"{SURVEY}/results/report/findings?language=ar", headers={"Accept-Language": "en"})
    html = page.get_data(as_text=True)
    assert html_lang(page) == ("en", "ltr")
    textareas = re.findall(r"<textarea [^>]*>", html)
    assert textareas and all('lang="ar" dir="rtl"' in t for t in textareas)
    assert '<span aria-current="page" lang="ar" dir="rtl">العربية</span>' in html
    chinese = staff_client.get(f"{SURVEY}/results/report/findings?language=zh").get_data(as_text=True)
    assert all('lang="zh" dir="ltr"' in t for t in re.findall(r"<textarea [^>]*>", chinese))
    assert html_lang(staff_client.get("/staff/")) == ("en", "ltr")


def test_the_quote_translation_fields_are_each_in_their_own_language(app, staff_client, make_survey):
    survey_id = _findings_survey(app, make_survey)
    with app.app_context():
        answer_id = db.session.scalar(select(Answer.id).where(
            Answer.text == "Recordings help colleagues in other time zones"))
    assert survey_id
    html = staff_client.get(f"{SURVEY}/results/text/{answer_id}/translation").get_data(as_text=True)
    fields = dict(re.findall(r'<textarea [^>]*name="text_(\w+)"[^>]*(lang="\w+" dir="\w+")', html))
    assert fields["ar"] == 'lang="ar" dir="rtl"' and fields["fr"] == 'lang="fr" dir="ltr"'
    assert '<blockquote lang="en" dir="ltr">' in html


def test_the_translations_page_names_each_language_in_its_own_direction(staff_client, make_survey):
    make_survey()
    html = staff_client.get(f"{SURVEY}/translations").get_data(as_text=True)
    assert '<span lang="ar" dir="rtl">العربية</span>' in html
    assert '<span lang="zh" dir="ltr">' in html


def test_switching_from_a_page_shown_after_a_post_returns_to_a_page_that_exists(app, staff_client, make_survey):
    """The overview with a refused date is the answer to POST …/close; the switch goes home, not to a 405."""
    make_survey()
    overview = staff_client.get(SURVEY).get_data(as_text=True)
    refused = staff_client.post(f"{SURVEY}/close", data={"csrf_token": csrf_from(overview), "close-when": "at",
                                                         "close-date": "2001-01-01", "close-time": "10:00"})
    assert refused.status_code == 400
    form = re.search(r'<form method="post" action="/staff/language".*?</form>', refused.get_data(as_text=True),
                     re.S).group(0)
    next_ = re.search(r'name="next" value="([^"]*)"', form).group(1)
    response = staff_client.post("/staff/language", data={"csrf_token": csrf_from(form), "language": "fr",
                                                          "next": next_})
    assert response.headers["Location"] == "/staff/"
    assert staff_client.get(response.headers["Location"]).status_code == 200


def test_a_fellows_e_mail_language_is_offered_by_its_own_name_in_its_own_language(staff_client, make_survey):
    make_survey()
    html = staff_client.get(f"{SURVEY}/participants/add").get_data(as_text=True)
    assert '<option value="ar" lang="ar">العربية</option>' in html
    assert re.search(r'<option value=""( selected)?>', html)  # "the survey's main language" is in the page's
