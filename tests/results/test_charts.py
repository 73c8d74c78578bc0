"""The right chart for each question type: natural order for scales, diverging agreement, one matrix chart, n stated."""
from __future__ import annotations

from collections import Counter

import pytest
from sqlalchemy import select

from survey_app.extensions import db
from survey_app.figures import CHART_KINDS, Stacked
from survey_app.models import Answer, Question, Response, Survey
from survey_app.questions import OptionView, QuestionView, get_type
from survey_app.services import results as rs
from survey_app.services.surveys import SurveyFileError, parse_definition

LIKERT_ORDER = ["Strongly disagree", "Disagree", "Neither agree nor disagree", "Agree", "Strongly agree"]


def _question(results, code):
    return next(q for q in results.questions if q.code == code)


def _charts(question):
    return [f for f in question.figures if f.kind in CHART_KINDS]


def _complete_counts(survey_id: int, code: str) -> Counter:
    question = db.session.execute(select(Question).where(Question.survey_id == survey_id,
                                                         Question.code == code)).scalar_one()
    return Counter(db.session.execute(
        select(Answer.option_code).join(Response)
        .where(Answer.question_id == question.id, Response.status == "complete")).scalars())


def test_cohort_years_keep_their_natural_order(ctx, legacy):
    """The legacy survey's cohort question (a range of years) is charted 2006, 2007 … 2025, then the extra."""
    survey = db.session.get(Survey, legacy.survey_id)
    question = _question(rs.summarise(survey), "cohort_year")
    [chart] = _charts(question)
    assert chart.kind == "bars" and chart.ordered
    assert [bar.label for bar in chart.bars] == [str(year) for year in range(2006, 2026)] + ["Prefer not to say"]
    counts = _complete_counts(survey.id, "cohort_year")
    assert [bar.count for bar in chart.bars] == [counts.get(str(y), 0) for y in range(2006, 2026)] + [
        counts.get("prefer_not", 0)]
    # Not sorted by size: with 300 synthetic answers the years are not already in order of frequency.
    assert [bar.count for bar in chart.bars] != sorted((bar.count for bar in chart.bars), reverse=True)


def test_choices_without_a_scale_are_sorted_by_frequency(ctx, legacy):
    survey = db.session.get(Survey, legacy.survey_id)
    [chart] = _charts(_question(rs.summarise(survey), "preferred_platform"))
    assert not chart.ordered
    counts = [bar.count for bar in chart.bars]
    assert counts == sorted(counts, reverse=True)


def test_likert_is_one_diverging_stacked_bar_with_its_distribution(ctx, legacy):
    survey = db.session.get(Survey, legacy.survey_id)
    question = _question(rs.summarise(survey), "connected")
    [chart] = _charts(question)
    assert isinstance(chart, Stacked) and chart.diverging and len(chart.rows) == 1
    assert list(chart.scale) == LIKERT_ORDER
    counts = _complete_counts(survey.id, "connected")
    codes = ["strongly_disagree", "disagree", "neutral", "agree", "strongly_agree"]
    [row] = chart.rows
    assert [s.count for s in row.segments] == [counts.get(code, 0) for code in codes]
    assert row.base == question.base == sum(counts.values())
    # Disagreement lies left of the centre line, agreement right of it, the neutral middle across it.
    spans = chart.spans(row)
    centre = chart.centre
    assert spans[1].start + spans[1].width <= centre <= spans[3].start
    assert spans[2].start < centre < spans[2].start + spans[2].width
    assert chart.side(0) == chart.side(1) == -1 and chart.side(2) == 0 and chart.side(3) == chart.side(4) == 1
    left, right = chart.totals(row)
    assert left == pytest.approx(100 * (counts["strongly_disagree"] + counts["disagree"]) / row.base, abs=0.15)
    assert right == pytest.approx(100 * (counts["agree"] + counts["strongly_agree"]) / row.base, abs=0.15)


def test_matrix_is_one_chart_with_a_bar_per_row_on_a_shared_scale(ctx, legacy):
    """The platform-frequency grid is one chart of six bars, not six charts."""
    survey = db.session.get(Survey, legacy.survey_id)
    question = _question(rs.summarise(survey), "work_frequency")
    [chart] = _charts(question)
    assert isinstance(chart, Stacked) and not chart.diverging and chart.ordinal
    assert list(chart.scale) == ["Daily", "Weekly", "Monthly", "Rarely", "Never"]
    assert [row.label.split(" (n = ")[0] for row in chart.rows] == [
        "Facebook", "Instagram", "Twitter/X", "WeChat", "WhatsApp", "LinkedIn"]
    for row, matrix_row in zip(chart.rows, question.rows, strict=True):
        assert row.label == f"{matrix_row.label} (n = {matrix_row.base})"
        spans = chart.spans(row)
        assert spans[0].start == 0  # every row starts at the same place and fills the same 0-100 % scale
        assert spans[-1].start + spans[-1].width == pytest.approx(1.0, abs=0.002)
        assert [s.count for s in row.segments] == [c.count for c in matrix_row.counts]
    # Each category keeps one fill on every row, darkest at "Daily".
    fills = [chart.style(i)[0] for i in range(5)]
    assert len(set(fills)) == 5


def test_other_is_shown_through_its_coded_categories(ctx, legacy):
    survey = db.session.get(Survey, legacy.survey_id)
    others = db.session.execute(select(Answer.id).join(Response).join(Question).where(
        Question.code == "preferred_platform", Answer.option_code == "other", Response.status == "complete")
    ).scalars().all()
    assert len(others) >= 3
    rs.set_category(survey, others[0], "LINE", actor=None)
    rs.set_category(survey, others[1], "LINE", actor=None)
    rs.set_category(survey, others[2], "Signal", actor=None)
    [chart] = _charts(_question(rs.summarise(survey), "preferred_platform"))
    bars = {bar.label: bar for bar in chart.bars}
    assert bars["Other: LINE"].count == 2 and bars["Other: Signal"].count == 1
    assert bars["Other, not coded"].count == len(others) - 3
    assert all(bar.muted for label, bar in bars.items() if label.startswith("Other"))
    assert not any("please specify" in label for label in bars)


def test_an_uncoded_other_is_never_labelled_as_the_prompt(ctx, legacy):
    survey = db.session.get(Survey, legacy.survey_id)
    for code in ("role", "platforms_used", "preferred_platform"):
        question = _question(rs.summarise(survey), code)
        labels = [o.label for o in question.options]
        assert "Other, not coded" in labels and not any("please specify" in label for label in labels)


def test_every_chart_states_its_n_and_base(ctx, legacy):
    survey = db.session.get(Survey, legacy.survey_id)
    results = rs.summarise(survey)
    charted = 0
    for question in results.questions:
        for chart in _charts(question):
            charted += 1
            assert f"n = {question.base} respondents who" in chart.base_text, question.code
    assert charted >= 10
    french = _question(rs.summarise(survey, lang="fr"), "role")
    assert _charts(french)[0].base_text == f"n = {french.base} répondants ayant répondu à cette question"


def test_ranking_shows_mean_rank_and_first_choice_share(ctx, legacy):
    survey = db.session.get(Survey, legacy.survey_id)
    question = _question(rs.summarise(survey), "hearing_rank")
    [chart] = _charts(question)
    ranks = [r.mean_rank for r in question.ranks]
    assert ranks == sorted(ranks)  # best mean rank first
    for bar, item in zip(chart.bars, question.ranks, strict=True):
        assert bar.label == item.label and bar.count == item.first_count and bar.percent == item.first_share
        assert bar.detail == f"mean rank {item.mean_rank:.1f}"


def _single(codes, **settings) -> QuestionView:
    return QuestionView(id=1, code="q", type="single", required=True, label={"en": "Q"}, hint={},
                        settings=settings, choices=tuple(OptionView(c, {"en": c}) for c in codes), rows=())


def test_a_range_of_numbers_is_ordinal_unless_the_file_says_otherwise():
    kind = get_type("single")
    assert kind.is_ordinal(_single(["2006", "2007", "2008", "prefer_not"]))
    assert not kind.is_ordinal(_single(["2006", "2007", "2008"], ordinal=False))
    assert not kind.is_ordinal(_single(["1", "5", "9"]))  # numbers, but not a range
    assert not kind.is_ordinal(_single(["none", "2006", "2007"]))  # a word before the numbers
    assert kind.is_ordinal(_single(["low", "middle", "high"], ordinal=True))
    assert not kind.is_ordinal(_single(["a", "b"]))


def _definition(question: dict) -> dict:
    return {"format": 1, "slug": "s", "title": {"en": "S"}, "sections": [
        {"code": "a", "title": {"en": "A"}, "questions": [question]}]}


def test_the_survey_file_marks_scales_and_refuses_them_where_they_do_not_apply():
    options = [{"code": "lo", "label": {"en": "Low"}}, {"code": "hi", "label": {"en": "High"}}]
    parsed = parse_definition(_definition({"code": "q", "type": "single", "ordinal": True, "label": {"en": "Q"},
                                           "options": options}))
    assert parsed["sections"][0]["questions"][0]["settings"] == {"ordinal": True}
    grid = {"code": "g", "type": "matrix", "diverging": True, "label": {"en": "G"}, "options": options,
            "rows": [{"code": "r", "label": {"en": "R"}}]}
    assert parse_definition(_definition(grid))["sections"][0]["questions"][0]["settings"] == {"diverging": True}
    with pytest.raises(SurveyFileError, match="ordinal does not apply to a multiple question"):
        parse_definition(_definition({"code": "q", "type": "multiple", "ordinal": True, "label": {"en": "Q"},
                                      "options": options}))
    with pytest.raises(SurveyFileError, match="expected true or false"):
        parse_definition(_definition({"code": "q", "type": "likert", "diverging": "yes", "label": {"en": "Q"},
                                      "options": options}))


def test_a_frequency_likert_is_stacked_without_diverging(ctx, legacy):
    survey = db.session.get(Survey, legacy.survey_id)
    question = next(q for q in survey.questions if q.code == "connected")
    question.settings = {"diverging": False}
    survey.revision += 1  # the structure snapshot is per revision
    db.session.commit()
    [chart] = _charts(_question(rs.summarise(survey), "connected"))
    assert isinstance(chart, Stacked) and not chart.diverging and chart.centre is None
