"""Surveys are data: loading, validating and updating survey definition files."""
from __future__ import annotations

import copy

import pytest
import yaml
from sqlalchemy import select

from survey_app.extensions import db
from survey_app.models import Answer, Option, Question, Response, Survey
from survey_app.services import surveys as survey_service
from tests.conftest import LEGACY_SURVEY


def legacy_definition() -> dict:
    return survey_service.read_definition(LEGACY_SURVEY)


def test_legacy_survey_loads_with_every_section_and_question(ctx):
    result = survey_service.load_survey_file(LEGACY_SURVEY)
    survey = result.survey
    assert result.created
    assert survey.slug == "legacy-projects"
    assert survey.open_link is True
    assert [s.code for s in survey.sections] == ["about", "platforms", "engaging"]
    codes = [q.code for q in survey.questions]
    assert codes == ["cohort_year", "country", "role", "platforms_used", "work_frequency", "preferred_platform",
                     "hearing_rank", "channels", "activities", "connected", "other_platforms", "suggestions",
                     "quote_ok"]
    by_code = {q.code: q for q in survey.questions}
    years = [o.code for o in by_code["cohort_year"].choices]
    assert years[0] == "2006" and "2025" in years and years[-1] == "prefer_not"
    assert len(by_code["country"].choices) > 190
    assert {o.code for o in by_code["country"].choices} >= {"cn", "in", "eg", "sd", "iq", "ke", "ng", "gr", "tr", "br"}
    assert [o.code for o in by_code["work_frequency"].rows][:2] == ["facebook", "instagram"]
    assert by_code["platforms_used"].choices[-1].is_exclusive
    assert any(o.is_other for o in by_code["preferred_platform"].choices)


def test_reloading_the_same_file_changes_nothing(ctx):
    survey_service.load_survey_file(LEGACY_SURVEY)
    result = survey_service.load_survey_file(LEGACY_SURVEY)
    assert not result.created and result.changes == []
    assert db.session.scalar(select(Survey.id).where(Survey.slug == "legacy-projects")) is not None


def _answer(survey: Survey, question_code: str, option_code: str) -> None:
    question = next(q for q in survey.questions if q.code == question_code)
    response = Response(survey_id=survey.id)
    db.session.add(response)
    db.session.flush()
    db.session.add(Answer(response_id=response.id, question_id=question.id, option_code=option_code))
    db.session.commit()


def test_removing_an_answered_option_is_refused_with_a_clear_message(ctx):
    survey = survey_service.load_survey_file(LEGACY_SURVEY).survey
    _answer(survey, "preferred_platform", "wechat")
    definition = legacy_definition()
    question = definition["sections"][1]["questions"][2]
    question["options"] = [o for o in question["options"] if o["code"] != "wechat"]
    with pytest.raises(survey_service.SurveyFileError, match="option 'wechat' of question 'preferred_platform'"):
        survey_service.apply_definition(survey_service.parse_definition(definition))
    assert db.session.scalar(select(Option.id).where(Option.code == "wechat").join(Question)
                             .where(Question.code == "preferred_platform")) is not None


def test_removing_an_answered_question_is_refused(ctx):
    survey = survey_service.load_survey_file(LEGACY_SURVEY).survey
    _answer(survey, "connected", "agree")
    definition = legacy_definition()
    definition["sections"][2]["questions"] = [q for q in definition["sections"][2]["questions"]
                                              if q["code"] != "connected"]
    with pytest.raises(survey_service.SurveyFileError, match="question 'connected' has stored answers"):
        survey_service.apply_definition(survey_service.parse_definition(definition))


def test_unanswered_changes_are_applied_and_reported(ctx):
    survey_service.load_survey_file(LEGACY_SURVEY)
    definition = legacy_definition()
    question = definition["sections"][1]["questions"][2]
    question["options"].insert(0, {"code": "mastodon", "label": {"en": "Mastodon"}})
    definition["title"]["en"] = "New title"
    result = survey_service.apply_definition(survey_service.parse_definition(definition))
    assert "option mastodon added to preferred_platform" in result.changes
    assert result.survey.title["en"] == "New title"
    preferred = next(q for q in result.survey.questions if q.code == "preferred_platform")
    assert preferred.choices[0].code == "mastodon"


@pytest.mark.parametrize("mutate, message", [
    (lambda d: d.update(format=99), "format 99 is not supported"),
    (lambda d: d["sections"][0]["questions"][0].update(type="slider"), "unknown type 'slider'"),
    (lambda d: d["sections"][0]["questions"][1].update(code="cohort_year"), "duplicate question code"),
    (lambda d: d["sections"][0].update(code="Bad Code!"), "must be 1-64 characters"),
    (lambda d: d["sections"][1]["questions"][1].pop("rows"), "a matrix question needs rows"),
])
def test_malformed_files_are_refused_with_where_and_why(ctx, mutate, message):
    definition = copy.deepcopy(legacy_definition())
    mutate(definition)
    with pytest.raises(survey_service.SurveyFileError, match=message):
        survey_service.parse_definition(definition)


def test_cli_load_and_list(runner, tmp_path):
    result = runner.invoke(args=["surveys", "load", str(LEGACY_SURVEY)])
    assert result.exit_code == 0, result.output
    assert "legacy-projects: created" in result.output
    listing = runner.invoke(args=["surveys", "list"])
    assert "legacy-projects" in listing.output and "open" in listing.output
    assert "ITP legacy projects survey" in listing.output
    bad = tmp_path / "bad.yaml"
    bad.write_text("format: 1\nslug: [unclosed\n")
    refused = runner.invoke(args=["surveys", "load", str(bad)])
    assert refused.exit_code != 0 and "not valid YAML" in refused.output


def test_cli_refuses_orphaning_change(runner, app, tmp_path):
    runner.invoke(args=["surveys", "load", str(LEGACY_SURVEY)])
    with app.app_context():
        survey = db.session.scalar(select(Survey))
        _answer(survey, "connected", "agree")
    definition = legacy_definition()
    definition["sections"][2]["questions"].pop(2)  # "connected"
    changed = tmp_path / "changed.yaml"
    changed.write_text(yaml.safe_dump(definition, allow_unicode=True))
    result = runner.invoke(args=["surveys", "load", str(changed)])
    assert result.exit_code == 1
    assert "would orphan stored answers" in result.output


def test_reloading_with_matrix_and_ranking_answers_is_allowed_and_removal_refused(ctx):
    survey = survey_service.load_survey_file(LEGACY_SURVEY).survey
    matrix = next(q for q in survey.questions if q.code == "work_frequency")
    ranking = next(q for q in survey.questions if q.code == "hearing_rank")
    response = Response(survey_id=survey.id)
    db.session.add(response)
    db.session.flush()
    db.session.add_all([
        Answer(response_id=response.id, question_id=matrix.id, item_code="facebook", option_code="daily"),
        Answer(response_id=response.id, question_id=ranking.id, item_code="blog", number=1),
    ])
    db.session.commit()
    assert survey_service.load_survey_file(LEGACY_SURVEY).changes == []
    definition = legacy_definition()
    rows = definition["sections"][1]["questions"][1]["rows"]
    definition["sections"][1]["questions"][1]["rows"] = [r for r in rows if r["code"] != "facebook"]
    with pytest.raises(survey_service.SurveyFileError, match="option 'facebook' of question 'work_frequency'"):
        survey_service.apply_definition(survey_service.parse_definition(definition))
    definition = legacy_definition()
    items = definition["sections"][1]["questions"][3]["options"]
    definition["sections"][1]["questions"][3]["options"] = [o for o in items if o["code"] != "blog"]
    with pytest.raises(survey_service.SurveyFileError, match="option 'blog' of question 'hearing_rank'"):
        survey_service.apply_definition(survey_service.parse_definition(definition))
