"""Running totals of complete real responses: added at submit, subtracted before erasure, rebuilt on demand.

Results read these small tables instead of grouping every answer, so the dashboard and the PDF
cost the same at 100,000 responses as at 1,000.  Staff test responses (previews) are never
counted.  Every change to a complete response calls
this module in the caller's transaction, so totals and responses commit (or roll back)
together.  Rows are upserted in key order, response group first, so concurrent submits on
PostgreSQL queue on the same counters instead of deadlocking.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row, TextClause, delete, func, insert, literal, select, text, union_all, update

from ..extensions import db
from ..models import NO_COHORT, Answer, AnswerTotal, Response, ResponseStatus, ResponseTotal, Survey
from .statements import insert_with_conflicts

GroupKey = tuple[int, str, int, str]  # survey_id, country, cohort, language
CellKey = tuple[int, int, str, str, int, str, str]  # survey, question, item, option, number, category, country
CELL_METRICS = ("answers", "numbers", "texts", "respondents")
# The responses the totals count: complete, and not a staff test (a preview is never counted).
_COUNTED = (Response.status == ResponseStatus.COMPLETE.value, Response.is_test.is_(False))


def group_key(survey_id: int, country: str | None, cohort: int | None, language: str) -> GroupKey:
    """The response_totals key of a respondent: NULLs become '' and NO_COHORT."""
    return survey_id, country or "", NO_COHORT if cohort is None else cohort, language


def add_response(response_id: int) -> None:
    """Count a response that has just become complete; call it before the submit commits.

    Every submit runs this, so the database does it alone (INSERT ... SELECT ... ON CONFLICT DO
    UPDATE), in the key order the other writers here use.
    """
    params = {"response_id": response_id}
    db.session.execute(_ADD_GROUP, {**params, "no_cohort": NO_COHORT})
    db.session.execute(_add_cells(db.session.get_bind().dialect.name), params)


def subtract_responses(response_ids: Sequence[int]) -> None:
    """Take complete responses out of the totals; call it before deleting or changing them."""
    found = _collect(response_ids)
    _subtract(found)
    _refresh_periods(set(found[0]), exclude=response_ids)


def recategorise(answer: Answer, category: str | None) -> None:
    """Move one answer of a complete response to another "Other" category (before it is changed)."""
    row = db.session.execute(
        select(Response.survey_id, Response.country).where(Response.id == answer.response_id, *_COUNTED)
    ).first()
    if row is None or (answer.category or "") == (category or ""):
        return
    survey_id, country = row
    cells: Counter[tuple[CellKey, str]] = Counter()
    for sign, cat in ((-1, answer.category), (+1, category)):
        key = (survey_id, answer.question_id, answer.item_code, answer.option_code, answer.number or 0,
               cat or "", country or "")
        cells[(key, "answers")] += sign
        cells[(key, "numbers")] += sign * (answer.number is not None)
        cells[(key, "texts")] += sign * (answer.text is not None)
    _upsert_cells(cells)


_ADD_GROUP = text("""
INSERT INTO response_totals (survey_id, country, cohort, language, responses, first_submitted_at,
                             last_submitted_at)
SELECT survey_id, COALESCE(country, ''), COALESCE(cohort, :no_cohort), language, 1, submitted_at, submitted_at
FROM responses WHERE id = :response_id AND status = 'complete' AND NOT is_test
ON CONFLICT (survey_id, country, cohort, language) DO UPDATE SET
  responses = response_totals.responses + excluded.responses,
  first_submitted_at = CASE WHEN response_totals.first_submitted_at IS NULL
    OR excluded.first_submitted_at < response_totals.first_submitted_at
    THEN excluded.first_submitted_at ELSE response_totals.first_submitted_at END,
  last_submitted_at = CASE WHEN response_totals.last_submitted_at IS NULL
    OR excluded.last_submitted_at > response_totals.last_submitted_at
    THEN excluded.last_submitted_at ELSE response_totals.last_submitted_at END
""")
# The answers' cells and, on each question's blank cell, one respondent per question answered;
# summed first, since an answer may fall on that blank cell too. Ordered like _upsert_cells.
_ADD_CELLS = """
INSERT INTO answer_totals (survey_id, question_id, item_code, option_code, number, category, country,
                           answers, numbers, texts, respondents)
SELECT c.survey_id, c.question_id, c.item_code, c.option_code, c.number, c.category, c.country,
       SUM(c.answers), SUM(c.numbers), SUM(c.texts), SUM(c.respondents)
FROM (
  SELECT r.survey_id, a.question_id, a.item_code, a.option_code, COALESCE(a.number, 0) AS number,
         COALESCE(a.category, '') AS category, COALESCE(r.country, '') AS country, 1 AS answers,
         CASE WHEN a.number IS NULL THEN 0 ELSE 1 END AS numbers,
         CASE WHEN a.text IS NULL THEN 0 ELSE 1 END AS texts, 0 AS respondents
  FROM answers a JOIN responses r ON r.id = a.response_id
  WHERE a.response_id = :response_id AND r.status = 'complete' AND NOT r.is_test
  UNION ALL
  SELECT DISTINCT r.survey_id, a.question_id, '', '', 0, '', COALESCE(r.country, ''), 0, 0, 0, 1
  FROM answers a JOIN responses r ON r.id = a.response_id
  WHERE a.response_id = :response_id AND r.status = 'complete' AND NOT r.is_test
) AS c
WHERE true
GROUP BY c.survey_id, c.question_id, c.item_code, c.option_code, c.number, c.category, c.country
ORDER BY c.survey_id, c.question_id, c.item_code{collate}, c.option_code{collate}, c.number,
         c.category{collate}, c.country{collate}
ON CONFLICT (survey_id, question_id, item_code, option_code, number, category, country) DO UPDATE SET
  answers = answer_totals.answers + excluded.answers, numbers = answer_totals.numbers + excluded.numbers,
  texts = answer_totals.texts + excluded.texts, respondents = answer_totals.respondents + excluded.respondents
"""
# Python sorts text by code point, as SQLite does; PostgreSQL needs the "C" collation for that.
_ADD_CELLS_BY_DIALECT = {dialect: text(_ADD_CELLS.format(collate=collate))
                         for dialect, collate in (("sqlite", ""), ("postgresql", ' COLLATE "C"'))}


def _add_cells(dialect: str) -> TextClause:
    """The cells' upsert, ordered as Python orders keys (the one place the dialects differ)."""
    return _ADD_CELLS_BY_DIALECT[dialect]


# --- collecting ------------------------------------------------------------------------------

Tally = tuple[dict[GroupKey, int], Counter]  # responses per group, and cell metrics


def _collect(response_ids: Sequence[int]) -> Tally:
    """Read the complete responses among these ids, with their answers, and tally them."""
    if not response_ids:
        return {}, Counter()
    responses = db.session.execute(
        select(Response.id, Response.survey_id, Response.country, Response.cohort, Response.language)
        .where(Response.id.in_(list(response_ids)), *_COUNTED)
    ).all()
    complete = [r[0] for r in responses]
    answers = db.session.execute(
        select(Answer.response_id, Answer.question_id, Answer.item_code, Answer.option_code, Answer.number,
               Answer.text.is_not(None), Answer.category)
        .where(Answer.response_id.in_(complete))
    ).all() if complete else []
    return _tally(responses, answers)


def _tally(responses: Sequence[Row[Any]], answers: Sequence[Row[Any]]) -> Tally:
    groups: Counter[GroupKey] = Counter()
    where: dict[int, tuple[int, str]] = {}
    for response_id, survey_id, country, cohort, language in responses:
        groups[group_key(survey_id, country, cohort, language)] += 1
        where[response_id] = (survey_id, country or "")
    cells: Counter[tuple[CellKey, str]] = Counter()
    answered: set[tuple[int, int]] = set()
    for response_id, question_id, item, option, number, has_text, category in answers:
        survey_id, country = where[response_id]
        key = (survey_id, question_id, item, option, number or 0, category or "", country)
        cells[(key, "answers")] += 1
        if number is not None:
            cells[(key, "numbers")] += 1
        if has_text:
            cells[(key, "texts")] += 1
        if (response_id, question_id) not in answered:
            answered.add((response_id, question_id))
            cells[((survey_id, question_id, "", "", 0, "", country), "respondents")] += 1
    return groups, cells


# --- writing ---------------------------------------------------------------------------------

def _subtract(found: Tally) -> None:
    """Take tallied responses and their answers off the totals (first and last times: _refresh_periods)."""
    groups, cells = found
    if groups:
        stmt = insert_with_conflicts(ResponseTotal)
        stmt = stmt.on_conflict_do_update(index_elements=["survey_id", "country", "cohort", "language"],
                                          set_={"responses": ResponseTotal.responses + stmt.excluded.responses})
        db.session.execute(stmt, [
            {"survey_id": key[0], "country": key[1], "cohort": key[2], "language": key[3], "responses": -n}
            for key, n in sorted(groups.items())
        ])
    _upsert_cells(Counter({k: -v for k, v in cells.items()}))


def _upsert_cells(cells: Counter) -> None:
    rows: dict[CellKey, dict[str, Any]] = {}
    for (key, metric), n in cells.items():
        row = rows.setdefault(key, dict.fromkeys(CELL_METRICS, 0))
        row[metric] += n
    if not rows:
        return
    stmt = insert_with_conflicts(AnswerTotal)
    stmt = stmt.on_conflict_do_update(
        index_elements=["survey_id", "question_id", "item_code", "option_code", "number", "category", "country"],
        set_={m: getattr(AnswerTotal, m) + stmt.excluded[m] for m in CELL_METRICS},
    )
    db.session.execute(stmt, [
        {"survey_id": k[0], "question_id": k[1], "item_code": k[2], "option_code": k[3], "number": k[4],
         "category": k[5], "country": k[6], **metrics}
        for k, metrics in sorted(rows.items())
    ])


def _refresh_periods(keys: set[GroupKey], exclude: Sequence[int]) -> None:
    """Recompute first and last submission of groups that lost responses (min and max do not subtract)."""
    for survey_id, country, cohort, language in sorted(keys):
        conditions = [Response.survey_id == survey_id, *_COUNTED, Response.language == language,
                      Response.id.notin_(list(exclude)),
                      Response.country == country if country else Response.country.is_(None),
                      Response.cohort == cohort if cohort != NO_COHORT else Response.cohort.is_(None)]
        first, last = db.session.execute(
            select(func.min(Response.submitted_at), func.max(Response.submitted_at)).where(*conditions)
        ).one()
        db.session.execute(
            update(ResponseTotal)
            .where(ResponseTotal.survey_id == survey_id, ResponseTotal.country == country,
                   ResponseTotal.cohort == cohort, ResponseTotal.language == language)
            .values(first_submitted_at=first, last_submitted_at=last)
            .execution_options(synchronize_session=False)
        )


# --- rebuilding ------------------------------------------------------------------------------

def repair(survey_ids: Sequence[int] | None = None) -> list[str]:
    """Rebuild the totals of these surveys (all when None), one commit each; return their slugs."""
    stmt = select(Survey.id, Survey.slug).order_by(Survey.id)
    if survey_ids is not None:
        stmt = stmt.where(Survey.id.in_(list(survey_ids)))
    done = []
    for survey_id, slug in db.session.execute(stmt).all():
        rebuild(survey_id)
        db.session.commit()
        done.append(slug)
    return done


def rebuild(survey_id: int) -> None:
    """Recompute one survey's totals from its complete responses (repair, bulk writes, retention)."""
    if db.session.get_bind().dialect.name == "postgresql":
        # Concurrent submits wait until the new totals are in, then add themselves on top.
        db.session.execute(text("LOCK TABLE response_totals, answer_totals IN EXCLUSIVE MODE"))
    db.session.execute(delete(ResponseTotal).where(ResponseTotal.survey_id == survey_id)
                       .execution_options(synchronize_session=False))
    db.session.execute(delete(AnswerTotal).where(AnswerTotal.survey_id == survey_id)
                       .execution_options(synchronize_session=False))
    complete = [Response.survey_id == survey_id, *_COUNTED]
    country = func.coalesce(Response.country, "")
    cohort = func.coalesce(Response.cohort, NO_COHORT)
    db.session.execute(insert(ResponseTotal).from_select(
        ["survey_id", "country", "cohort", "language", "responses", "first_submitted_at", "last_submitted_at"],
        select(Response.survey_id, country, cohort, Response.language, func.count(),
               func.min(Response.submitted_at), func.max(Response.submitted_at))
        .where(*complete).group_by(Response.survey_id, country, cohort, Response.language)
    ))
    joined = select().select_from(Answer).join(Response, Response.id == Answer.response_id).where(*complete)
    number, category = func.coalesce(Answer.number, 0), func.coalesce(Answer.category, "")
    cells = joined.add_columns(
        Answer.question_id.label("question_id"), Answer.item_code.label("item_code"),
        Answer.option_code.label("option_code"), number.label("number"), category.label("category"),
        country.label("country"), func.count().label("answers"), func.count(Answer.number).label("numbers"),
        func.count(Answer.text).label("texts"), literal(0).label("respondents"),
    ).group_by(Answer.question_id, Answer.item_code, Answer.option_code, number, category, country)
    respondents = joined.add_columns(
        Answer.question_id, literal(""), literal(""), literal(0), literal(""), country, literal(0), literal(0),
        literal(0), func.count(func.distinct(Answer.response_id)),
    ).group_by(Answer.question_id, country)
    both = union_all(cells, respondents).subquery()
    keys = [both.c.question_id, both.c.item_code, both.c.option_code, both.c.number, both.c.category,
            both.c.country]
    db.session.execute(insert(AnswerTotal).from_select(
        ["survey_id", "question_id", "item_code", "option_code", "number", "category", "country", *CELL_METRICS],
        select(literal(survey_id), *keys, *(func.sum(both.c[m]) for m in CELL_METRICS)).group_by(*keys)
    ))
