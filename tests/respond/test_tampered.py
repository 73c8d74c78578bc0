"""Tampered section posts (repeated fields, non-ASCII digits, huge numbers) get the page back with a message."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from survey_app.extensions import db
from survey_app.models import Answer
from survey_app.questions.number import NUMBER_LIMIT, number_bounds, parse_whole_number
from survey_app.services.structure import QuestionView
from tests.conftest import ALL_TYPES_SURVEY, LEGACY_SURVEY, csrf_from
from tests.respond.test_journey import is_checked
from tests.security.helpers import section_data, structure_of


def _open_link_prefix(client, slug: str) -> str:
    page = client.get(f"/survey/{slug}")
    started = client.post(f"/survey/{slug}", data={"csrf_token": csrf_from(page.data)})
    assert started.status_code == 302, started.data[:500]
    return re.match(r"(?:https?://[^/]+)?(/r/[^/]+)/1", started.headers["Location"]).group(1)


@pytest.fixture(params=["s", "r"])
def link_for(request, app, make_survey, make_invitation):
    """Build the personal (/s/) or resume (/r/) link prefix of a fresh respondent of a survey file."""

    def make(client, path) -> tuple[str, int]:
        survey_id = make_survey(path)
        if request.param == "s":
            return f"/s/{make_invitation(survey_id)}", survey_id
        slug = "legacy-projects" if path == LEGACY_SURVEY else "all-types"
        return _open_link_prefix(client, slug), survey_id

    return make


def _question_block(html: str, code: str) -> str:
    """The markup of one question: its messages are shown beside it, inside this block."""
    start = html.index(f'id="q-{code}"')
    end = html.find('<div class="form-group', start)
    return html[start:end if end != -1 else len(html)]


HEARING = "Rank the ways of hearing from the ITP, from most to least preferred"
RANK_FROM_LIST = f"Choose each rank for “{HEARING}” from the list"
YEAR = "Enter an answer to “Year you started”"
# (survey file, section, question code, fields to change, message shown beside the question: naming it)
CASES = [
    (LEGACY_SURVEY, 2, "hearing_rank", {"hearing_rank__fb_group": "²"}, RANK_FROM_LIST),
    (LEGACY_SURVEY, 2, "hearing_rank", {"hearing_rank__fb_group": "٣"}, RANK_FROM_LIST),
    (LEGACY_SURVEY, 2, "hearing_rank", {"hearing_rank__fb_group": "99"}, RANK_FROM_LIST),
    (LEGACY_SURVEY, 2, "hearing_rank", {"hearing_rank__fb_group": ["1", "1"]},
     f"Give each item in “{HEARING}” only one rank"),
    (LEGACY_SURVEY, 2, "platforms_used", {"platforms_used": ["facebook", "facebook"]},
     "Select each answer to “Which platforms do you use at least once a month?” only once"),
    (LEGACY_SURVEY, 3, "activities", {"activities": "REPEAT"},
     "Select each answer to “Which online activities have you joined?” only once"),
    (LEGACY_SURVEY, 2, "preferred_platform", {"preferred_platform": ["facebook", "twitter"]},
     "Select only one answer to “Which ONE platform do you prefer for keeping in touch with the ITP network?”"),
    (LEGACY_SURVEY, 2, "work_frequency", {"work_frequency__facebook": "REPEAT"},
     "Select only one answer in each row of “How often do you use each platform for work?”"),
    (ALL_TYPES_SURVEY, 1, "agree", {"agree": ["agree", "agree"]}, "Select only one answer to “Surveys are useful”"),
    (ALL_TYPES_SURVEY, 1, "colour", {"colour": "other", "colour__other": ["Teal", "Cyan"]},
     "Enter only one other answer to “Favourite colour”"),
    (ALL_TYPES_SURVEY, 2, "order", {"order__a": "٢"}, "Choose each rank for “Rank these” from the list"),
    (ALL_TYPES_SURVEY, 2, "usage", {"usage__mail": ["daily", "never"]},
     "Select only one answer in each row of “How often do you use each?”"),
    (ALL_TYPES_SURVEY, 3, "nickname", {"nickname": ["Nana", "Nono"]}, "Enter only one answer to “Your nickname”"),
    (ALL_TYPES_SURVEY, 3, "comments", {"comments": ["one", "two"]}, "Enter only one answer to “Any comments?”"),
    (ALL_TYPES_SURVEY, 3, "year", {"year": ["2000", "2001"]}, "Enter only one number for “Year you started”"),
    (ALL_TYPES_SURVEY, 3, "year", {"year": "٢٠١٥"}, f"{YEAR} using the digits 0 to 9"),
    (ALL_TYPES_SURVEY, 3, "year", {"year": "２０１５"}, f"{YEAR} using the digits 0 to 9"),
    (ALL_TYPES_SURVEY, 3, "year", {"year": "²"}, f"{YEAR} using the digits 0 to 9"),
    (ALL_TYPES_SURVEY, 3, "year", {"year": "1_990"}, f"{YEAR} as a whole number, like 2015"),
    (ALL_TYPES_SURVEY, 3, "year", {"year": "+1990"}, f"{YEAR} as a whole number, like 2015"),
    (ALL_TYPES_SURVEY, 3, "year", {"year": "9" * 5000}, f"{YEAR} as a number between 1950 and 2030"),
    (ALL_TYPES_SURVEY, 3, "year", {"year": "-" + "9" * 30}, f"{YEAR} as a number between 1950 and 2030"),
    (ALL_TYPES_SURVEY, 3, "year", {"year": "2031"}, f"{YEAR} as a number between 1950 and 2030"),
]


@pytest.mark.parametrize("path, number, code, changes, message", CASES,
                         ids=[f"{c[2]}-{i}" for i, c in enumerate(CASES)])
def test_tampered_post_comes_back_with_a_message(app, link_for, path, number, code, changes, message):
    client = app.test_client()
    prefix, survey_id = link_for(client, path)
    structure = structure_of(app, survey_id)
    body: dict[str, object] = dict(section_data(structure, number))
    for name, value in changes.items():
        body[name] = [body[name], body[name]] if value == "REPEAT" else value
    page = client.get(f"{prefix}/{number}")
    response = client.post(f"{prefix}/{number}", data={**body, "csrf_token": csrf_from(page.data)})
    assert response.status_code == 200, response.status_code
    html = response.data.decode()
    block = _question_block(html, code)
    assert message in block and 'class="error-message"' in block
    assert message in html.split('class="error-summary', 1)[1].split("</ul>", 1)[0]  # and in the summary
    # What was sent is shown again: chosen boxes stay ticked, typed text stays in its box.
    for name, value in body.items():
        values = value if isinstance(value, list) else [value]
        question = next(q for s in structure.sections for q in s.questions if name.startswith(q.code))
        if question.type in {"multiple", "single", "likert", "matrix"} and not name.endswith("__other") \
                and not (question.type == "single" and len(question.choices) > 15):
            assert all(is_checked(html, name, v) for v in values), (name, values)
        elif question.type in {"text", "textarea", "number"} or name.endswith("__other"):
            assert values[0] in html, name
    with app.app_context():
        assert db.session.scalar(select(func.count(Answer.id))) == 0  # nothing stored


def test_an_untouched_post_still_saves(app, link_for):
    """The same pages accept the valid body the cases above start from (trimmed numbers too)."""
    client = app.test_client()
    prefix, survey_id = link_for(client, ALL_TYPES_SURVEY)
    body = {**section_data(structure_of(app, survey_id), 3), "year": " 2015 "}
    page = client.get(f"{prefix}/3")
    response = client.post(f"{prefix}/3", data={**body, "csrf_token": csrf_from(page.data)})
    assert response.status_code == 302
    with app.app_context():
        assert db.session.scalar(select(Answer.number).where(Answer.number.is_not(None))) == 2015


def _number_question(**settings) -> QuestionView:
    return QuestionView(id=1, code="n", type="number", required=False, label={"en": "n"}, hint={},
                        settings=settings, choices=(), rows=())


def test_whole_numbers_are_ascii_digits_within_a_sane_bound():
    assert parse_whole_number("2015") == 2015 and parse_whole_number("-7") == -7 and parse_whole_number("007") == 7
    for raw in ("٣", "²", "２", "1_000", "+5", "1.5", "1e3", "", "-", "--1", str(NUMBER_LIMIT + 1),
                "9" * 5000, "0x10"):
        assert parse_whole_number(raw) is None, raw
    assert parse_whole_number(str(NUMBER_LIMIT)) == NUMBER_LIMIT
    assert number_bounds(_number_question()) == (-NUMBER_LIMIT, NUMBER_LIMIT)
    assert number_bounds(_number_question(min_value=0)) == (0, NUMBER_LIMIT)
    assert number_bounds(_number_question(max_value=10 ** 12)) == (-NUMBER_LIMIT, NUMBER_LIMIT)
