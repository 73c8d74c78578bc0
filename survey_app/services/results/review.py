"""Free-text review: staff approve quotes (only with the fellow's consent) and categorise "Other" answers."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Select, false, func, select, true

from ...extensions import db
from ...models import Answer, Response, StaffUser, Survey
from ...questions import QuestionView
from .. import audit, paging, totals
from ..structure import survey_structure
from .disclosure import complete_condition

CATEGORY_MAX = 100


class ResultsError(ValueError):
    """A review action was refused; the message says why."""


@dataclass
class TextAnswer:
    answer_id: int
    response_id: int
    question_code: str
    question_label: str
    option_label: str
    text: str
    language: str
    consent: bool
    quote_approved: bool
    category: str | None
    is_other: bool


@dataclass
class TextPage:
    items: list[TextAnswer]
    page: int
    pages: int
    total: int


@dataclass
class Quote:
    text: str
    question_label: str
    language: str


def _questions(survey: Survey) -> list[QuestionView]:
    return list(survey_structure(survey).questions.values())


def consent_question(survey: Survey) -> QuestionView | None:
    """The yes/no question whose "yes" allows quoting (quote_consent: true in the survey file)."""
    return next((q for q in _questions(survey) if q.settings.get("quote_consent")), None)


def reviewable_questions(survey: Survey) -> list[QuestionView]:
    """Questions whose free text staff review: quotable texts and choices with an "Other" box."""
    return [q for q in _questions(survey) if q.kind.reviewable(q)]


def _consented_responses(survey: Survey) -> Select[tuple[int]] | None:
    question = consent_question(survey)
    if question is None:
        return None
    return select(Answer.response_id).where(Answer.question_id == question.id, Answer.option_code == "yes")


def list_free_text(survey: Survey, question_code: str | None = None, page: int = 1, per_page: int = 50,
                   lang: str = "en", only_other: bool = False) -> TextPage:
    """Page through free-text answers of complete responses, with each respondent's quoting consent."""
    questions = reviewable_questions(survey)
    if question_code:
        questions = [q for q in questions if q.code == question_code]
    if only_other:
        questions = [q for q in questions if q.other_option is not None]
    by_id = {q.id: q for q in questions}
    if not by_id:
        return TextPage([], 1, 1, 0)
    consented = _consented_responses(survey)
    consent_col = (Answer.response_id.in_(consented) if consented is not None else false()).label("consent")
    base = (select(Answer, Response.language, consent_col)
            .join(Response, Response.id == Answer.response_id)
            .where(complete_condition(survey.id), Answer.question_id.in_(list(by_id)),
                   Answer.text.is_not(None), Answer.text != ""))
    total = db.session.execute(select(func.count()).select_from(base.subquery())).scalar_one()
    page, pages, offset = paging.window(total, page, per_page)
    rows = db.session.execute(
        base.order_by(Answer.question_id, Answer.id).limit(per_page).offset(offset)
    ).all()
    items = []
    for answer, language, consent in rows:
        question = by_id[answer.question_id]
        option = question.choice(answer.option_code)
        items.append(TextAnswer(
            answer_id=answer.id, response_id=answer.response_id, question_code=question.code,
            question_label=survey.text(question.label, lang),
            option_label=survey.text(option.label, lang) if option else "", text=answer.text or "",
            language=language, consent=bool(consent), quote_approved=answer.quote_approved,
            category=answer.category, is_other=bool(option and option.is_other),
        ))
    return TextPage(items, page, pages, total)


def _review_answer(survey: Survey, answer_id: int) -> tuple[Answer, QuestionView]:
    answer = db.session.execute(
        select(Answer).join(Response, Response.id == Answer.response_id)
        .where(Answer.id == answer_id, Response.survey_id == survey.id)
    ).scalar_one_or_none()
    question = next((q for q in _questions(survey) if answer is not None and q.id == answer.question_id), None)
    if answer is None or question is None:
        raise ResultsError("That answer does not belong to this survey.")
    return answer, question


def set_quote_approval(survey: Survey, answer_id: int, approved: bool, *, actor: StaffUser | None) -> Answer:
    """Approve or withdraw an answer for quoting; approval needs the respondent's "yes". Commit."""
    answer, question = _review_answer(survey, answer_id)
    if not question.settings.get("quotable"):
        raise ResultsError("Only answers to questions marked as quotable can be quoted.")
    if approved:
        consented = _consented_responses(survey)
        allowed = consented is not None and db.session.execute(
            select(func.count()).select_from(consented.where(Answer.response_id == answer.response_id).subquery())
        ).scalar_one() > 0
        if not allowed:
            raise ResultsError("This respondent did not agree to be quoted.")
    answer.quote_approved = approved
    audit.record("results.quote_approved" if approved else "results.quote_withdrawn", survey.id, actor=actor,
                 answer_id=answer.id)
    db.session.commit()
    return answer


def set_category(survey: Survey, answer_id: int, category: str, *, actor: StaffUser | None) -> Answer:
    """Put an "Other – please specify" answer into a category shown in the charts ('' clears it). Commit."""
    answer, question = _review_answer(survey, answer_id)
    option = question.choice(answer.option_code)
    if option is None or not option.is_other:
        raise ResultsError("Only \"Other – please specify\" answers can be categorised.")
    category = " ".join(category.split())[:CATEGORY_MAX]
    totals.recategorise(answer, category or None)
    answer.category = category or None
    audit.record("results.other_categorised", survey.id, actor=actor, answer_id=answer.id, cleared=not category)
    db.session.commit()
    return answer


def known_categories(survey: Survey) -> list[str]:
    rows = db.session.execute(
        select(Answer.category).join(Response, Response.id == Answer.response_id)
        .where(Response.survey_id == survey.id, Answer.category.is_not(None)).distinct()
    ).scalars().all()
    return sorted((row for row in rows if row is not None), key=str.casefold)


def approved_quotes(survey: Survey, lang: str = "en", limit: int = 30) -> list[Quote]:
    """Quotes staff approved whose respondent said yes, from publishable complete responses only."""
    consented = _consented_responses(survey)
    if consented is None:
        return []
    labels = {q.id: survey.text(q.label, lang) for q in _questions(survey)}
    # Two small steps rather than one join, which planners drive from the responses: the
    # approved answers through the partial index ix_answers_quote_approved ("= true" matches
    # it), then which of their responses are complete and consented. Cost follows approvals.
    candidates = db.session.execute(
        select(Answer.text, Answer.question_id, Answer.response_id)
        .where(Answer.quote_approved == true(), Answer.question_id.in_(list(labels)), Answer.text.is_not(None))
        .order_by(Answer.question_id, Answer.id)
    ).all()
    if not candidates:
        return []
    languages = dict(db.session.execute(
        select(Response.id, Response.language)
        .where(Response.id.in_({c.response_id for c in candidates}), complete_condition(survey.id),
               Response.id.in_(consented))
    ).tuples().all())
    rows = [(text, qid, languages[rid]) for text, qid, rid in candidates if rid in languages][:limit]
    return [Quote(text or "", labels.get(qid, ""), language) for text, qid, language in rows]
