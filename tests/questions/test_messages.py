"""Each question type's messages name their question: by the survey file's error_name, else by its label."""
from __future__ import annotations

from dataclasses import replace

import pytest
from flask_babel import force_locale
from werkzeug.datastructures import MultiDict

from survey_app.extensions import db
from survey_app.models import Survey
from survey_app.questions import QuestionView, type_names
from survey_app.services.structure import survey_structure
from tests.conftest import ALL_TYPES_SURVEY


@pytest.fixture
def by_type(app, make_survey) -> dict[str, QuestionView]:
    """One question of each type (all-types.yaml has them all), made required."""
    survey_id = make_survey(ALL_TYPES_SURVEY)
    with app.app_context():
        questions = survey_structure(db.session.get(Survey, survey_id)).questions.values()
    found: dict[str, QuestionView] = {}
    for q in questions:
        found.setdefault(q.type, replace(q, required=True))
    return found


def _pick(lang: str):
    return lambda texts: texts.get(lang) or texts["en"]


def test_the_fixture_covers_every_registered_type(by_type):
    assert set(by_type) == set(type_names())


@pytest.mark.parametrize("lang", ["en", "fr", "ar", "zh", "ru", "es"])
def test_an_unanswered_question_is_named_by_its_label(app, by_type, lang):
    with app.test_request_context(), force_locale(lang):
        for q in by_type.values():
            errors = q.kind.read(q, MultiDict(), _pick(lang)).errors
            assert errors, q.type
            label = q.label.get(lang) or q.label["en"]
            assert all(label in message for message in errors), (q.type, errors)


@pytest.mark.parametrize("lang, expected", [
    ("en", {"single": "Select your favourite colour", "text": "Enter your favourite colour",
            "number": "Enter your favourite colour"}),
    ("fr", {"single": "Sélectionnez votre couleur préférée", "text": "Saisissez votre couleur préférée",
            "number": "Saisissez votre couleur préférée"}),
])
def test_a_short_name_from_the_survey_file_reads_in_the_message(app, by_type, lang, expected):
    name = {"en": "your favourite colour", "fr": "votre couleur préférée"}
    with app.test_request_context(), force_locale(lang):
        for type_name, message in expected.items():
            q = by_type[type_name]
            q = replace(q, settings={**q.settings, "error_name": name})
            assert q.kind.read(q, MultiDict(), _pick(lang)).errors == [message]


def test_number_messages_name_the_question(app, by_type):
    number = by_type["number"]
    q = replace(number, settings={**number.settings, "error_name": {"en": "the year you started"}})
    with app.test_request_context(), force_locale("en"):
        def read(value: str) -> list[str]:
            return q.kind.read(q, MultiDict({q.code: value})).errors
        assert read("٢٠١٥") == ["Enter the year you started using the digits 0 to 9"]
        assert read("20.5") == ["Enter the year you started as a whole number, like 2015"]
        assert read("1900") == ["Enter the year you started as a number between 1950 and 2030"]


def test_exclusive_choice_with_another_says_so(app, by_type):
    q = by_type["multiple"]
    exclusive = next(o for o in q.choices if o.is_exclusive)
    other = next(o for o in q.choices if not o.is_exclusive and not o.is_other)
    with app.test_request_context(), force_locale("fr"):
        errors = q.kind.read(q, MultiDict([(q.code, other.code), (q.code, exclusive.code)]), _pick("fr")).errors
    label, none = q.label.get("fr") or q.label["en"], exclusive.label.get("fr") or exclusive.label["en"]
    assert errors == [f"« {none} » ne peut pas être sélectionné avec une autre réponse à la question « {label} »"]
    with app.test_request_context(), force_locale("en"):
        errors = q.kind.read(q, MultiDict(), _pick("en")).errors
    assert errors == [f"Select an answer to “{q.label['en']}”, or “{exclusive.label['en']}”"]


def test_a_short_name_missing_in_the_pages_language_gives_way_to_the_label(app, by_type):
    q = by_type["single"]
    q = replace(q, settings={**q.settings, "error_name": {"en": "your favourite colour"}})
    with app.test_request_context(), force_locale("fr"):
        errors = q.kind.read(q, MultiDict(), _pick("fr")).errors
    assert errors == [f"Sélectionnez une réponse à la question « {q.label['fr']} »"]
