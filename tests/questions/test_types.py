"""Each question type reads back what it stores, refuses tampered posts, and exports one value per column."""
from __future__ import annotations

import random
from collections import Counter

import pytest
from werkzeug.datastructures import MultiDict

from survey_app.extensions import db
from survey_app.models import Survey
from survey_app.questions import AnswerRow, QuestionView, StoredAnswer
from survey_app.questions.base import SampleTexts
from survey_app.services.structure import survey_structure
from tests.conftest import ALL_TYPES_SURVEY, LEGACY_SURVEY

TEXTS = SampleTexts(other=lambda rng: "Telegram", free=lambda rng, lang: "More meetings, please")


@pytest.fixture
def questions(app, make_survey, request) -> list[QuestionView]:
    survey_id = make_survey(request.param)
    with app.app_context():
        return list(survey_structure(db.session.get(Survey, survey_id)).questions.values())


def _stored(q: QuestionView, answers) -> list[StoredAnswer]:
    return [StoredAnswer(q.id, item, option, number, text) for item, option, number, text in answers]


@pytest.mark.parametrize("questions", [ALL_TYPES_SURVEY, LEGACY_SURVEY], indirect=True, ids=["all-types", "legacy"])
def test_what_a_type_stores_reads_back_as_the_same_answer(app, questions):
    """formdata() of stored answers, posted again, is valid and stores exactly those answers."""
    rng = random.Random(11)  # nosec B311 - test data
    with app.test_request_context():
        for q in questions:
            sample = q.kind.sampler(q, rng, TEXTS)
            for _ in range(25):
                stored = _stored(q, sample(rng, "en"))
                reading = q.kind.read(q, MultiDict(q.kind.formdata(q, stored)))
                if not stored and q.required:
                    assert reading.errors, q.code
                    continue
                assert reading.valid, (q.code, stored, reading.errors)
                expected = Counter(AnswerRow(q.id, *answer[1:]) for answer in stored)
                assert Counter(reading.rows) == expected, q.code


@pytest.mark.parametrize("questions", [ALL_TYPES_SURVEY], indirect=True, ids=["all-types"])
@pytest.mark.parametrize("value", ["²", "٣", "３", "1.0", "-1", "1e2", "9" * 5000, " ", "not-a-code"])
def test_tampered_values_come_back_as_messages_not_rows(app, questions, value):
    """Non-ASCII digits, odd numbers and unknown codes in any field are refused with a message."""
    with app.test_request_context():
        for q in questions:
            for name in q.kind.field_names(q):
                posted = MultiDict(q.kind.formdata(q, _stored(q, q.kind.sampler(q, random.Random(1), TEXTS)(
                    random.Random(1), "en"))))  # nosec B311 - test data
                posted.setlist(name, [value])
                reading = q.kind.read(q, posted)
                if reading.valid:  # a text box may hold any text; other answers stay what was sampled
                    assert all(row.text in (None, value.strip(), "Telegram", "More meetings, please")
                               for row in reading.rows), (q.code, name, reading.rows)
                    assert all(row.number is None or str(row.number).isascii() for row in reading.rows)
                else:
                    assert all(isinstance(message, str) and message for message in reading.errors)


@pytest.mark.parametrize("questions", [ALL_TYPES_SURVEY], indirect=True, ids=["all-types"])
def test_a_value_sent_twice_is_refused_with_a_message(app, questions):
    """A field posted twice (a tampered form: browsers never do it) is a message, never two rows or a 500."""
    rng = random.Random(5)  # nosec B311 - test data
    with app.test_request_context():
        for q in questions:
            posted = MultiDict(q.kind.formdata(q, _stored(q, q.kind.sampler(q, rng, TEXTS)(rng, "en"))))
            for name in q.kind.field_names(q):
                values = posted.getlist(name)
                if not values:
                    continue
                tampered = posted.copy()
                tampered.setlist(name, [values[0], values[0]])
                reading = q.kind.read(q, tampered)
                assert reading.errors, (q.code, name)
                assert not reading.rows


@pytest.mark.parametrize("questions", [ALL_TYPES_SURVEY, LEGACY_SURVEY], indirect=True, ids=["all-types", "legacy"])
def test_export_gives_one_value_per_column(app, questions):
    rng = random.Random(3)  # nosec B311 - test data
    with app.test_request_context():
        for q in questions:
            columns = q.kind.export_columns(q, lambda texts: texts.get("en", ""))
            labels = {o.code: o.label["en"] for o in q.choices}
            assert q.kind.export_values(q, [], labels) == [""] * len(columns), q.code
            for _ in range(5):
                stored = _stored(q, q.kind.sampler(q, rng, TEXTS)(rng, "en"))
                values = q.kind.export_values(q, stored, labels)
                assert len(values) == len(columns), q.code
                if stored:
                    assert any(value not in ("", 0) for value in values), (q.code, stored, values)


@pytest.mark.parametrize("questions", [ALL_TYPES_SURVEY], indirect=True, ids=["all-types"])
def test_a_matrix_is_complete_only_with_every_row(app, questions):
    matrix = next(q for q in questions if q.rows)
    full = _stored(matrix, [(row.code, matrix.choices[0].code, None, None) for row in matrix.rows])
    assert matrix.kind.is_complete(matrix, full)
    assert not matrix.kind.is_complete(matrix, full[:-1])
