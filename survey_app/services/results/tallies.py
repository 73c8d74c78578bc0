"""Each question's answers as cells, read from the running totals or counted from the answers.

Both sources give the same QuestionTally (tests/results/test_totals.py), which each question's
type summarises (survey_app/questions). The totals are kept per country, so they serve no filter
or a country or region filter at a cost set by the survey, not its responses; any other filter
counts the answers of the filtered responses in two GROUP BY queries.
"""
from __future__ import annotations

from collections import defaultdict

from sqlalchemy import func, select

from ...extensions import db
from ...models import Answer, AnswerTotal, Response
from ...questions import QuestionTally
from .disclosure import complete_condition
from .filters import ResultFilter

Tallies = dict[int, QuestionTally]
# {country: {option: n}} of the cross-tabulated question.
CountryCounts = dict[str | None, dict[str, int]]


def from_totals(survey_id: int, filter_: ResultFilter) -> Tallies:
    """Sum the running totals over the filtered countries: one query over a few thousand rows."""
    keys = (AnswerTotal.question_id, AnswerTotal.item_code, AnswerTotal.option_code, AnswerTotal.number,
            AnswerTotal.category)
    rows = db.session.execute(
        select(*keys, func.sum(AnswerTotal.answers), func.sum(AnswerTotal.numbers), func.sum(AnswerTotal.texts),
               func.sum(AnswerTotal.respondents))
        .where(AnswerTotal.survey_id == survey_id, *filter_.country_conditions(AnswerTotal.country))
        .group_by(*keys)
    ).all()
    tallies: Tallies = defaultdict(QuestionTally)
    for qid, item, option, number, category, answers, numbers, texts, respondents in rows:
        tally = tallies[qid]
        if answers or numbers or texts:
            tally.add((item, option, number, category), int(answers), int(numbers), int(texts))
        tally.respondents += int(respondents)
    return tallies


def by_counting(survey_id: int, filter_: ResultFilter) -> Tallies:
    """Count every answer of the filtered complete responses, cell by cell (any filter)."""
    joined = (select().select_from(Answer).join(Response, Response.id == Answer.response_id)
              .where(complete_condition(survey_id), *filter_.response_conditions()))
    number, category = func.coalesce(Answer.number, 0), func.coalesce(Answer.category, "")
    tallies: Tallies = defaultdict(QuestionTally)
    for qid, item, option, value, cat, answers, numbers, texts in db.session.execute(
        joined.add_columns(Answer.question_id, Answer.item_code, Answer.option_code, number, category, func.count(),
                           func.count(Answer.number), func.count(Answer.text))
        .group_by(Answer.question_id, Answer.item_code, Answer.option_code, number, category)
    ).all():
        tallies[qid].add((item, option, value, cat), answers, numbers, texts)
    for qid, respondents in db.session.execute(
        joined.add_columns(Answer.question_id, func.count(func.distinct(Answer.response_id)))
        .group_by(Answer.question_id)
    ).all():
        tallies[qid].respondents = respondents
    return tallies


def countries_from_totals(survey_id: int, question_id: int, filter_: ResultFilter) -> CountryCounts:
    """One question's choices per respondent country, from the running totals."""
    counts: CountryCounts = defaultdict(dict)
    for country, option, n in db.session.execute(
        select(AnswerTotal.country, AnswerTotal.option_code, func.sum(AnswerTotal.answers))
        .where(AnswerTotal.survey_id == survey_id, AnswerTotal.question_id == question_id,
               AnswerTotal.option_code != "", *filter_.country_conditions(AnswerTotal.country))
        .group_by(AnswerTotal.country, AnswerTotal.option_code)
    ).all():
        if n:
            counts[country or None][option] = int(n)
    return counts


def countries_by_counting(survey_id: int, question_id: int, filter_: ResultFilter) -> CountryCounts:
    """One question's choices per respondent country, counted from the answers."""
    counts: CountryCounts = defaultdict(dict)
    for country, option, n in db.session.execute(
        select(Response.country, Answer.option_code, func.count())
        .select_from(Answer).join(Response, Response.id == Answer.response_id)
        .where(complete_condition(survey_id), *filter_.response_conditions(), Answer.question_id == question_id,
               Answer.option_code != "")
        .group_by(Response.country, Answer.option_code)
    ).all():
        counts[country][option] = n
    return counts
