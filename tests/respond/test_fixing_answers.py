"""Fixing answers is easy: going back loses nothing, messages name their question, countries read well."""
from __future__ import annotations

import html as html_lib
import re

import pytest
from sqlalchemy import func, select

from survey_app.countries import collation_key, country_names
from survey_app.extensions import db
from survey_app.models import Answer, Question, Response
from tests.conftest import LEGACY_SURVEY, csrf_from
from tests.respond.test_journey import SECTION1, SECTION2, SECTION3, errors_in, is_checked, post_page, stored


def _select_options(page: str, name: str) -> list[tuple[str, str]]:
    """(value, label) of a drop-down list's options, in the order shown."""
    block = page.split(f'name="{name}"', 1)[1].split("</select>", 1)[0]
    return [(value, html_lib.unescape(label).strip())
            for value, label in re.findall(r'<option value="([^"]*)"[^>]*>([^<]*)', block)]


def _summary_links(page: bytes) -> list[tuple[str, str]]:
    """(target, text) of each link of the error summary."""
    summary = page.decode().split('class="error-summary', 1)[1].split("</ul>", 1)[0]
    links = re.findall(r'<li><a href="#([^"]+)">([^<]+)</a>', summary)
    return [(href, html_lib.unescape(text)) for href, text in links]


# --- going back ------------------------------------------------------------------------------

def test_going_back_saves_what_is_valid_and_keeps_the_rest_as_typed(app, client, all_types, make_invitation):
    token = make_invitation(all_types)
    base = f"/s/{token}"
    post_page(client, f"{base}/1", SECTION1)
    post_page(client, f"{base}/2", SECTION2)
    back = post_page(client, f"{base}/3", {"nickname": "Nana", "year": "twenty", "comments": "x" * 5001},
                     action="back")
    # Back goes back: no message, no page with errors.
    assert back.status_code == 302 and back.headers["Location"].endswith(f"{base}/2")
    answers = stored(app, all_types)
    assert answers["nickname"] == [("", "", None, "Nana")]  # the valid answer is saved
    assert "year" not in answers and "comments" not in answers  # the invalid ones are not answers
    with app.app_context():
        texts = db.session.scalars(select(Answer.text)).all()
        assert "twenty" not in texts and "x" * 5001 not in texts
        # Page 3 is not done: a later visit of the personal link starts there, not after it.
        assert db.session.scalar(select(Response.last_section)) == 2

    again = client.get(f"{base}/3").data.decode()
    assert 'value="twenty"' in again and 'value="Nana"' in again and "x" * 5001 in again
    assert 'class="error-summary' not in again  # shown as typed, not judged yet

    # Going forward still checks; fixing the answers saves them and drops what was kept.
    forward = post_page(client, f"{base}/3", {"nickname": "Nana", "year": "twenty", "comments": "ok"})
    assert forward.status_code == 200
    assert "Enter an answer to “Year you started” as a whole number, like 2015" in errors_in(forward.data)
    done = post_page(client, f"{base}/3", SECTION3)
    assert done.headers["Location"].endswith(f"{base}/check")
    with app.app_context():
        assert db.session.scalar(select(Response.draft)) is None
    assert stored(app, all_types)["year"] == [("", "", 2014, None)]


def test_going_back_with_an_answer_made_invalid_keeps_it_as_typed_and_drops_the_old_answer(
        app, client, all_types, make_invitation):
    token = make_invitation(all_types)
    base = f"/s/{token}"
    post_page(client, f"{base}/1", SECTION1)
    post_page(client, f"{base}/2", SECTION2)
    # The matrix changed (valid), the ranks changed to two items ranked 1 (not valid).
    back = post_page(client, f"{base}/2", {"usage__mail": "never", "usage__chat": "daily", "order__a": "1",
                                           "order__b": "1"}, action="back")
    assert back.headers["Location"].endswith(f"{base}/1")
    answers = stored(app, all_types)
    assert answers["usage"] == [("chat", "daily", None, None), ("mail", "never", None, None)]
    assert "order" not in answers  # the old ranks are replaced by what was typed, kept aside
    page = client.get(f"{base}/2").data.decode()
    assert re.search(r'name="order__a">.*?<option selected>1', page, re.S)
    assert re.search(r'name="order__b">.*?<option selected>1', page, re.S)


def test_check_page_asks_to_settle_answers_kept_as_typed_before_sending(app, client, all_types, make_invitation):
    token = make_invitation(all_types)
    base = f"/s/{token}"
    post_page(client, f"{base}/1", SECTION1)
    post_page(client, f"{base}/2", SECTION2)
    post_page(client, f"{base}/3", SECTION3)
    # Back from the last page with an optional answer made too long: kept, not saved.
    post_page(client, f"{base}/3", {**SECTION3, "comments": "y" * 5001}, action="back")
    check = client.get(f"{base}/check")
    assert "Your answer to “Any comments?” is not saved yet: check it" in check.data.decode()
    refused = client.post(f"{base}/submit", data={"csrf_token": csrf_from(check.data)})
    assert refused.headers["Location"].endswith(f"{base}/check")
    with app.app_context():
        assert db.session.scalar(select(Response.status)) == "partial"
    post_page(client, f"{base}/3", SECTION3)
    check = client.get(f"{base}/check")
    client.post(f"{base}/submit", data={"csrf_token": csrf_from(check.data)})
    with app.app_context():
        assert db.session.scalar(select(Response.status)) == "complete"
        assert db.session.scalar(select(Response.draft)) is None


def test_going_back_with_nothing_typed_stores_nothing(app, client, all_types, make_invitation):
    token = make_invitation(all_types)
    base = f"/s/{token}"
    post_page(client, f"{base}/1", SECTION1)
    back = post_page(client, f"{base}/2", {}, action="back")
    assert back.headers["Location"].endswith(f"{base}/1")
    with app.app_context():
        assert db.session.scalar(select(Response.draft)) is None
        assert db.session.scalar(select(Response.last_section)) == 1
    assert "usage" not in stored(app, all_types)


# --- messages that name their question -----------------------------------------------------------

NAMED = {
    "en": ["Select the year you took part in the ITP summer programme", "Select the country you work in"],
    "ar": ["يُرجى اختيار العام الذي شاركتم فيه في برنامج ITP الصيفي", "يُرجى اختيار البلد الذي تعملون فيه"],
    "zh": ["请选择您参加 ITP 夏季项目的年份", "请选择您工作所在的国家"],
}


@pytest.mark.parametrize("lang", NAMED)
def test_error_summary_names_each_question_and_links_to_it(client, make_survey, make_invitation, lang):
    token = make_invitation(make_survey(LEGACY_SURVEY), language=lang)
    page = post_page(client, f"/s/{token}/1", {"role": "curator"})
    assert page.status_code == 200
    assert _summary_links(page.data) == [("cohort_year", NAMED[lang][0]), ("country", NAMED[lang][1])]
    html = page.data.decode()
    # The same message beside the field, which the link's target is.
    assert '<p class="error-message" id="cohort_year-error"><span class="visually-hidden">' in html
    assert NAMED[lang][0] in html.split('id="cohort_year-error"', 1)[1].split("</p>", 1)[0]
    assert 'id="cohort_year"' in html and 'id="country"' in html


FALLBACK = {
    "en": "Select an answer to “Surveys are useful”",
    "ar": "يُرجى اختيار إجابة عن سؤال «الاستبيانات مفيدة»",
    "zh": "请选择“调查很有用”的答案",
}


@pytest.mark.parametrize("lang", FALLBACK)
def test_without_a_short_name_the_message_quotes_the_label(client, all_types, make_invitation, lang):
    token = make_invitation(all_types, language=lang)
    page = post_page(client, f"/s/{token}/1", {**SECTION1, "agree": ""})
    assert _summary_links(page.data) == [("agree-disagree", FALLBACK[lang])]


def test_none_of_these_with_another_answer_says_exactly_that(client, make_survey, make_invitation):
    token = make_invitation(make_survey(LEGACY_SURVEY))
    post_page(client, f"/s/{token}/1", {"cohort_year": "2015", "country": "ke"})
    page = post_page(client, f"/s/{token}/2", {"platforms_used": ["facebook", "none"],
                                              "preferred_platform": "facebook"})
    assert errors_in(page.data) == [
        "“None of these” cannot be selected with another answer to “Which platforms do you use at least once a month?”"]
    html = page.data.decode()
    assert is_checked(html, "platforms_used", "facebook") and is_checked(html, "platforms_used", "none")
    assert 'data-exclusive' in html.split('value="none"', 1)[1].split(">", 1)[0]


# --- countries ---------------------------------------------------------------------------------

@pytest.mark.parametrize("lang", ["en", "fr", "ar"])
def test_country_list_uses_cldr_names_sorted_for_the_pages_language(client, make_survey, make_invitation, lang):
    token = make_invitation(make_survey(LEGACY_SURVEY), language=lang)
    page = client.get(f"/s/{token}/1").data.decode()
    options = [(code, label) for code, label in _select_options(page, "country") if code]
    names = country_names(lang)
    assert len(options) > 200
    assert all(label == names[code.upper()] for code, label in options)
    labels = [label for _code, label in options]
    assert labels == sorted(labels, key=collation_key)
    if lang == "en":
        assert labels.index("Côte d’Ivoire") < labels.index("Czechia")
        assert labels.index("Åland Islands") < labels.index("Albania")
    if lang == "fr":
        # Accented initials sort with their letter, not after Z.
        assert labels.index("Égypte") < labels.index("Émirats arabes unis") < labels.index("Équateur") \
            < labels.index("Espagne") < labels.index("Zambie")
        assert labels.index("Côte d’Ivoire") < labels.index("Croatie")
    if lang == "ar":
        assert names["EG"] == "مصر" and "مصر" in labels
        # Alef with hamza (إثيوبيا) sorts among the alefs, before the letter ب.
        assert labels.index("إثيوبيا") < labels.index("البرازيل") < labels.index("باكستان")


def test_the_bundled_survey_loads_countries_in_english_collation_order(app, make_survey):
    survey_id = make_survey(LEGACY_SURVEY)
    with app.app_context():
        question = db.session.scalar(select(Question).where(Question.survey_id == survey_id,
                                                            Question.code == "country"))
        codes = [o.code for o in question.choices]
        assert codes.index("ci") < codes.index("cz")
        assert db.session.scalar(select(func.count()).select_from(Answer)) == 0


def test_going_back_with_an_expired_page_keeps_everything_and_judges_nothing(app, client, all_types,
                                                                             make_invitation):
    token = make_invitation(all_types)
    base = f"/s/{token}"
    post_page(client, f"{base}/1", SECTION1)
    page = client.post(f"{base}/2", data={"order__a": "1", "order__b": "1", "csrf_token": "stale",
                                          "action": "back"})
    assert page.status_code == 200
    html = page.data.decode()
    assert "Your session had expired" in html and 'class="error-message"' not in html
    assert re.search(r'name="order__b">.*?<option selected>1', html, re.S)  # as typed
    assert "usage" not in stored(app, all_types) and "order" not in stored(app, all_types)
