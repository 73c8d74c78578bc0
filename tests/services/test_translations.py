"""Translation coverage: the shipped survey is complete in every language, and gaps are reported by place."""
from __future__ import annotations

import re

import yaml

from survey_app.models import Survey
from survey_app.services import surveys as survey_service
from survey_app.services.translations import missing_translations
from tests.conftest import LEGACY_SURVEY

OTHER_LANGUAGES = ["fr", "es", "ar", "zh", "ru"]


def legacy_definition() -> dict:
    return survey_service.read_definition(LEGACY_SURVEY)


def load(definition: dict) -> Survey:
    return survey_service.apply_definition(survey_service.parse_definition(definition)).survey


def write_survey_file(tmp_path, definition: dict):
    path = tmp_path / "legacy-projects.yaml"
    path.write_text(yaml.safe_dump(definition, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def test_shipped_legacy_survey_has_no_missing_text_in_any_language(ctx):
    survey = survey_service.load_survey_file(LEGACY_SURVEY).survey
    assert survey.languages == ["en", *OTHER_LANGUAGES]
    assert missing_translations(survey) == {lang: [] for lang in OTHER_LANGUAGES}


def test_shipped_other_option_is_translated_not_copied(ctx):
    survey = survey_service.load_survey_file(LEGACY_SURVEY).survey
    others = [o for q in survey.questions for o in q.options if o.is_other]
    assert len(others) == 3
    for option in others:
        for lang in OTHER_LANGUAGES:
            assert option.label[lang] != option.label["en"], (option.question.code, lang)


def test_a_removed_text_is_reported_at_exactly_its_place(ctx):
    definition = legacy_definition()
    role = definition["sections"][0]["questions"][2]
    assert role["code"] == "role" and role["options"][-1]["code"] == "other"
    del role["options"][-1]["label"]["fr"]
    platforms_used = definition["sections"][1]["questions"][0]
    platforms_used["hint"]["es"] = "  "
    del platforms_used["error_name"]["ru"]
    assert missing_translations(load(definition)) == {
        "fr": ["option role/other: label"], "es": ["question platforms_used: hint"],
        "ar": [], "zh": [], "ru": ["question platforms_used: error name"],
    }


def test_matrix_rows_and_section_texts_are_named_as_such(ctx):
    definition = legacy_definition()
    definition["sections"][1]["title"].pop("zh")
    work_frequency = definition["sections"][1]["questions"][1]
    work_frequency["rows"][0]["label"].pop("zh")
    assert missing_translations(load(definition))["zh"] == [
        "section platforms: title", "row work_frequency/facebook: label",
    ]


def test_number_labels_and_generated_countries_need_no_translation(ctx):
    definition = legacy_definition()
    definition["languages"].append("pt")
    missing = missing_translations(load(definition))["pt"]
    assert "question country: label" in missing
    assert "option cohort_year/prefer_not: label" in missing
    assert not [place for place in missing if place.startswith(("option cohort_year/2", "option country/"))]
    assert "survey: intro" in missing and "section about: intro" not in missing  # no intro in English


def test_staff_page_lists_missing_texts_per_language(staff_client, make_survey, tmp_path):
    definition = legacy_definition()
    del definition["sections"][2]["questions"][0]["label"]["ar"]
    make_survey(write_survey_file(tmp_path, definition))
    response = staff_client.get("/staff/surveys/legacy-projects/translations")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "question channels: label" in html
    assert html.count("Nothing is missing") == 4
    assert 'id="missing-ar"' in html and "1 text is missing" in html
    assert not re.search(r"<script(?![^>]*\bsrc=)", html) and "style=" not in html


def test_staff_page_says_when_nothing_is_missing(staff_client, make_survey):
    make_survey()
    html = staff_client.get("/staff/surveys/legacy-projects/translations").get_data(as_text=True)
    assert html.count("Nothing is missing") == len(OTHER_LANGUAGES)


def test_staff_page_is_404_for_an_unknown_survey(staff_client):
    assert staff_client.get("/staff/surveys/no-such-survey/translations").status_code == 404


def test_staff_page_redirects_anonymous_users_to_sign_in(client, make_survey):
    make_survey()
    response = client.get("/staff/surveys/legacy-projects/translations")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/staff/login")
    assert "translations" in response.headers["Location"]  # back to the page after signing in
