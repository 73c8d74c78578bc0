"""Cached section pages: filled in per fellow, they must equal the page rendered directly, byte for byte."""
from __future__ import annotations

import random

import pytest
from werkzeug.datastructures import MultiDict

from survey_app.respond import rendering
from survey_app.services import responses as response_service
from survey_app.services.structure import QuestionView, survey_structure
from tests.conftest import ALL_TYPES_SURVEY, LEGACY_SURVEY

HOSTILE = ["", "Teal", '"><script>alert(1)</script>', "a & b < c", "متحف الخرطوم", "博物馆\nline two",
           "{{ 7*7 }}", "\x00\x1f", "it's “quoted”", "%(name)s"]


def random_values(rng: random.Random, questions: tuple[QuestionView, ...]) -> MultiDict:
    """What a fellow might have answered, or typed into a page that failed validation (codes or not)."""
    values = MultiDict()
    for q in questions:
        codes = [o.code for o in q.choices] + ["not-a-code"]
        if q.type in ("single", "likert"):
            if rng.random() < 0.8:
                values.add(q.code, rng.choice(codes))
        elif q.type == "multiple":
            for code in rng.sample(codes, rng.randint(0, len(codes))):
                values.add(q.code, code)
        elif q.type == "matrix":
            for row in q.rows:
                if rng.random() < 0.8:
                    values.add(f"{q.code}__{row.code}", rng.choice(codes))
        elif q.type == "ranking":
            ranks = [str(n) for n in range(1, len(q.choices) + 1)] + ["", "99"]
            for item in q.choices:
                values.add(f"{q.code}__{item.code}", rng.choice(ranks))
        else:
            values.add(q.code, rng.choice(HOSTILE))
        if q.other_option is not None and rng.random() < 0.7:
            values.add(f"{q.code}__other", rng.choice(HOSTILE))
    return values


@pytest.mark.parametrize("survey_file", [ALL_TYPES_SURVEY, LEGACY_SURVEY], ids=["all-types", "legacy"])
def test_cached_page_equals_the_page_rendered_directly(app, make_survey, make_invitation, survey_file):
    survey_id = make_survey(survey_file)
    token = make_invitation(survey_id)
    rng = random.Random(7)
    variants = ["", "?lang=ar", "?lang=zh&return=check", "?return=check", "?new=1&lang=fr"]
    with app.app_context():
        sections = survey_structure(response_service.find_link("s", token).survey).sections
    for section in sections:
        for query in variants:
            with app.test_request_context(f"/s/{token}/{section.number}{query}"):
                from survey_app.i18n import current_language

                link = response_service.find_link("s", token)
                structure = survey_structure(link.survey)
                language = current_language()
                flags = {"returning_to_check": "return=check" in query, "new_resume": "new=1" in query}
                for _ in range(6):
                    values = random_values(rng, section.questions)
                    cached = rendering.section_page(structure, section, language, link, values, **flags)
                    direct = rendering.section_page(structure, section, language, link, values, use_cache=False,
                                                    **flags)
                    assert cached == direct
                assert token in cached and 'name="csrf_token" value="' in cached
                assert structure.rendered, "the page was not cached"


def test_typed_text_is_escaped_in_the_cached_page(app, make_survey, make_invitation):
    survey_id = make_survey(ALL_TYPES_SURVEY)
    token = make_invitation(survey_id)
    with app.test_request_context(f"/s/{token}/3"):
        link = response_service.find_link("s", token)
        structure = survey_structure(link.survey)
        section = structure.section(3)
        for _ in range(2):  # the second call is filled in from the cache
            page = rendering.section_page(structure, section, "en", link,
                                          MultiDict({"nickname": '"><script>alert(1)</script>'}))
            assert "<script>alert(1)" not in page
            assert 'value="&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"' in page


def test_pages_with_unknown_arguments_or_messages_are_not_cached(app, make_survey, make_invitation):
    survey_id = make_survey(ALL_TYPES_SURVEY)
    token = make_invitation(survey_id)
    for query, flash in (("?utm_source=mail", False), ("?return=elsewhere", False), ("?lang=xx-evil", False),
                         ("?lang=fr&lang=ar&lang=zh&lang=ru", False), ("", True)):
        with app.test_request_context(f"/s/{token}/1{query}"):
            from flask import flash as add_flash

            link = response_service.find_link("s", token)
            structure = survey_structure(link.survey)
            structure.rendered.clear()
            if flash:
                add_flash("Saved")
            rendering.section_page(structure, structure.section(1), "en", link, MultiDict())
            assert not [key for key in structure.rendered if key[0] == "page"]


def test_a_reloaded_survey_shows_its_new_text_at_once(app, client, make_survey, make_invitation):
    from survey_app.services import surveys as survey_service

    survey_id = make_survey(ALL_TYPES_SURVEY)
    token = make_invitation(survey_id)
    assert "Favourite colour" in client.get(f"/s/{token}/1").get_data(as_text=True)
    assert "Favourite colour" in client.get(f"/s/{token}/1").get_data(as_text=True)  # now from the cache
    sections = survey_service.parse_definition(survey_service.read_definition(ALL_TYPES_SURVEY))["sections"]
    sections[0]["questions"][0]["label"]["en"] = "The colour you like best"
    make_survey(ALL_TYPES_SURVEY, sections=sections, version=2)
    page = client.get(f"/s/{token}/1").get_data(as_text=True)
    assert "The colour you like best" in page and "Favourite colour" not in page
