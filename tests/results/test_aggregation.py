"""Aggregated results equal counts made directly from the stored answers; small groups are withheld."""
from __future__ import annotations

from collections import Counter, defaultdict

from sqlalchemy import select

from survey_app.countries import country_codes
from survey_app.extensions import db
from survey_app.models import Answer, Question, Response, Survey
from survey_app.regions import REGION_NAMES, region_of
from survey_app.services import results as rs

from .conftest import TINY_COUNTRY


def _complete_answers(survey_id: int, countries: set[str] | None = None):
    rows = db.session.execute(
        select(Answer, Question.code, Response.country).join(Response).join(Question)
        .where(Response.survey_id == survey_id, Response.status == "complete")
    ).all()
    return [(a, code) for a, code, country in rows if countries is None or country in countries]


def test_every_country_has_a_region():
    assert all(region_of(code) in REGION_NAMES for code in country_codes())


def test_counts_match_direct_counts_for_every_question_type(ctx, legacy):
    survey = db.session.get(Survey, legacy.survey_id)
    results = rs.summarise(survey)
    answers = _complete_answers(survey.id)
    by_question = {q.code: q for q in results.questions}
    choice = defaultdict(Counter)
    respondents = defaultdict(set)
    matrix = defaultdict(Counter)
    ranks = defaultdict(list)
    for answer, code in answers:
        respondents[code].add(answer.response_id)
        if answer.item_code and answer.option_code:
            matrix[code][(answer.item_code, answer.option_code)] += 1
        elif answer.option_code:
            choice[code][answer.option_code] += 1
        elif answer.item_code:
            ranks[(code, answer.item_code)].append(answer.number)

    for code in ("role", "preferred_platform", "platforms_used", "channels", "connected"):
        q = by_question[code]
        assert q.base == len(respondents[code])
        shown = {o.code: o.count for o in q.options}
        assert shown == {k: v for k, v in choice[code].items()} | {k: 0 for k in shown if k not in choice[code]}
        for option in q.options:
            assert option.percent == round(100 * option.count / q.base, 1)
    assert "do not add up to 100" in by_question["platforms_used"].note
    counts = [o.count for o in by_question["preferred_platform"].options]
    assert counts == sorted(counts, reverse=True)

    q = by_question["work_frequency"]
    for row in q.rows:
        for cell in row.counts:
            assert cell.count == matrix["work_frequency"][(row.code, cell.code)]
        assert row.base == sum(c.count for c in row.counts)

    q = by_question["hearing_rank"]
    for item in q.ranks:
        numbers = ranks[("hearing_rank", item.code)]
        assert item.ranked_by == len(numbers)
        assert item.mean_rank == round(sum(numbers) / len(numbers), 2)
        assert item.first_count == numbers.count(1)

    assert by_question["suggestions"].texts == sum(1 for a, c in answers if c == "suggestions" and a.text)


def test_status_counts_and_partials_apart(ctx, legacy):
    survey = db.session.get(Survey, legacy.survey_id)
    results = rs.summarise(survey)
    statuses = Counter(db.session.execute(select(Response.status).where(Response.survey_id == survey.id)).scalars())
    assert results.status.completed == statuses["complete"] == results.completed_all
    assert results.status.partial == statuses["partial"] > 0
    assert results.status.invited > results.status.completed_invited > 0
    assert results.status.response_rate == round(100 * results.status.completed_invited / results.status.invited, 1)


def test_filters_combine(ctx, legacy):
    survey = db.session.get(Survey, legacy.survey_id)
    filter_ = rs.ResultFilter.from_values(regions=["mena"], languages=["ar"])
    results = rs.summarise(survey, filter_)
    expected = db.session.execute(select(Response.id).where(
        Response.survey_id == survey.id, Response.status == "complete", Response.language == "ar",
    )).scalars().all()
    in_region = {r.id for r in db.session.execute(select(Response).where(Response.survey_id == survey.id)).scalars()
                 if region_of(r.country) == "mena"}
    assert results.completed == len(set(expected) & in_region) > 0
    assert not results.withheld


def test_group_below_minimum_is_withheld(ctx, legacy):
    survey = db.session.get(Survey, legacy.survey_id)
    results = rs.summarise(survey, rs.ResultFilter.from_values(countries=[TINY_COUNTRY]))
    assert results.withheld and results.questions == [] and results.completed == 0
    assert "fewer than 5" in results.withheld_reason
    choices = rs.filter_choices(survey)
    assert TINY_COUNTRY not in {code for code, _label in choices["countries"]}


def test_country_chart_and_crosstab_hide_the_small_country(ctx, legacy):
    survey = db.session.get(Survey, legacy.survey_id)
    results = rs.summarise(survey)
    country_q = next(q for q in results.questions if q.code == "country")
    assert TINY_COUNTRY.lower() not in {o.code for o in country_q.options}
    assert all(o.count >= 5 for o in country_q.options)
    assert results.crosstab is not None
    for column in results.crosstab.columns:
        if column.base < 5:
            assert not column.shown


def test_withheld_groups_adds_a_complementary_group():
    counts = {"a": 2, "b": 7, "c": 30}
    assert rs.withheld_groups(counts, 5) == {"a", "b"}  # the total minus c would otherwise give a
    assert rs.withheld_groups({"a": 6, "b": 7}, 5) == set()
    assert rs.withheld_groups({"a": 3, "b": 4, "c": 30}, 5) == {"a", "b"}


def test_quote_needs_consent_and_categories_become_bars(ctx, legacy):
    survey = db.session.get(Survey, legacy.survey_id)
    questions = {q.code: q for q in survey.questions}
    page = rs.list_free_text(survey, "suggestions", per_page=500)
    refused = next(i for i in page.items if not i.consent)
    try:
        rs.set_quote_approval(survey, refused.answer_id, True, actor=None)
    except rs.ResultsError as exc:
        assert "did not agree" in str(exc)
    else:
        raise AssertionError("approval without consent was accepted")
    other_answer = db.session.execute(select(Answer).join(Response).where(
        Answer.question_id == questions["preferred_platform"].id, Answer.option_code == "other",
        Response.status == "complete")).scalars().first()
    rs.set_category(survey, other_answer.id, "  LINE ", actor=None)
    options = {o.label: o.count for o in next(q for q in rs.summarise(survey).questions
                                              if q.code == "preferred_platform").options}
    assert options["Other: LINE"] == 1
