"""Section pages show back exactly what a fellow chose or typed, escaped, and always the survey's current text."""
from __future__ import annotations

import random
from html.parser import HTMLParser

from survey_app.extensions import db
from survey_app.models import Survey
from survey_app.questions import StoredAnswer
from survey_app.questions.base import SampleTexts
from survey_app.services import surveys as survey_service
from survey_app.services.structure import survey_structure
from tests.conftest import ALL_TYPES_SURVEY, LEGACY_SURVEY, csrf_from

TEXTS = SampleTexts(other=lambda rng: "Telegram & <Signal>", free=lambda rng, lang: 'He said "yes" & <b>no</b>')


class ShownValues(HTMLParser):
    """What a form shows as its values, as a browser would submit it: field name -> values."""

    def __init__(self) -> None:
        super().__init__()
        self.values: dict[str, list[str]] = {}
        self._select: str | None = None
        self._textarea: str | None = None
        self._option: tuple[str | None, bool] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if self._option is not None:  # options are not closed in this markup
            self._close_option("")
        if tag == "input" and a.get("name") and a.get("type") in ("radio", "checkbox"):
            if "checked" in a:
                self.values.setdefault(a["name"], []).append(a.get("value") or "")
        elif tag == "input" and a.get("name") and a.get("type") == "text" and a.get("value"):
            self.values.setdefault(a["name"], []).append(a["value"] or "")
        elif tag == "select":
            self._select = a.get("name")
        elif tag == "option" and self._select:
            self._option = (a.get("value"), "selected" in a)
        elif tag == "textarea":
            self._textarea = a.get("name")

    def _close_option(self, text: str) -> None:
        value, selected = self._option or (None, False)
        if selected and self._select and (value if value is not None else text.strip()):
            self.values.setdefault(self._select, []).append(value if value is not None else text.strip())
        self._option = None

    def handle_data(self, data: str) -> None:
        if self._option is not None:
            self._close_option(data)
        elif self._textarea and data:
            self.values.setdefault(self._textarea, []).append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None


def shown(html: str) -> dict[str, list[str]]:
    parser = ShownValues()
    parser.feed(html)
    return parser.values


def test_a_revisited_page_shows_every_saved_answer(app, client, make_survey, make_invitation):
    """Save each section with sampled answers of every type, then open it again: each is shown as saved."""
    for survey_file in (ALL_TYPES_SURVEY, LEGACY_SURVEY):
        survey_id = make_survey(survey_file)
        token = make_invitation(survey_id)
        with app.app_context():
            structure = survey_structure(db.session.get(Survey, survey_id))
        rng = random.Random(2)  # nosec B311 - test data
        for section in structure.sections:
            page = client.get(f"/s/{token}/{section.number}").get_data(as_text=True)
            answers: dict[str, list[str]] = {}
            for q in section.questions:
                stored = [StoredAnswer(q.id, *answer) for answer in q.kind.sampler(q, rng, TEXTS)(rng, "en")]
                for name, value in q.kind.formdata(q, stored):
                    answers.setdefault(name, []).append(value)
            response = client.post(f"/s/{token}/{section.number}",
                                   data={**answers, "csrf_token": csrf_from(page), "action": "continue"})
            assert response.status_code == 302, response.get_data(as_text=True)[:300]
            again = shown(client.get(f"/s/{token}/{section.number}").get_data(as_text=True))
            assert {name: sorted(v) for name, v in again.items()} == {name: sorted(v) for name, v in answers.items()}


def test_typed_text_is_shown_back_escaped_with_the_messages(app, client, make_survey, make_invitation):
    survey_id = make_survey(ALL_TYPES_SURVEY)
    token = make_invitation(survey_id)
    page = client.get(f"/s/{token}/3").get_data(as_text=True)
    response = client.post(f"/s/{token}/3", data={"csrf_token": csrf_from(page),
                                                  "nickname": '"><script>alert(1)</script>', "year": "not a year"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "There is a problem" in html
    assert "<script>alert(1)" not in html
    assert 'value="&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"' in html
    assert shown(html)["year"] == ["not a year"]


def test_a_reloaded_survey_shows_its_new_text_at_once(app, client, make_survey, make_invitation):
    survey_id = make_survey(ALL_TYPES_SURVEY)
    token = make_invitation(survey_id)
    assert "Favourite colour" in client.get(f"/s/{token}/1").get_data(as_text=True)
    sections = survey_service.parse_definition(survey_service.read_definition(ALL_TYPES_SURVEY))["sections"]
    sections[0]["questions"][0]["label"]["en"] = "The colour you like best"
    make_survey(ALL_TYPES_SURVEY, sections=sections, version=2)
    page = client.get(f"/s/{token}/1").get_data(as_text=True)
    assert "The colour you like best" in page and "Favourite colour" not in page
