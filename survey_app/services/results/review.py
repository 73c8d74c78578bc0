"""Free-text review: staff approve quotes (only with the fellow's consent) and categorise "Other" answers.

Answers are filtered by question, language and review state, and reviewed many at a time
(bulk_review); "Other" answers get a category suggested from those already coded, and approved
quotes may carry a translation per report language, which clears their "needs translation" flag.
"""
from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, Select, and_, delete, false, func, not_, or_, select, true

from ...extensions import db
from ...models import Answer, QuoteTranslation, Response, StaffUser, Survey, TextReview
from ...models.base import utcnow
from ...models.report import REVIEW_ACTIONS, REVIEW_STATES, TRANSLATION_MAX
from ...models.response import CATEGORY_MAX
from ...questions import QuestionView
from .. import audit, paging, totals
from ..structure import survey_structure
from .disclosure import complete_condition

# The review states staff filter by; an answer can be in more than one (approved and needing a translation).
STATES = REVIEW_STATES
ACTIONS = REVIEW_ACTIONS
# Coded answers read for suggestions: the most recent, so the cost stays flat as answers grow.
SUGGESTION_SAMPLE = 5000
_WORD = re.compile(r"\w+")


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
    quotable: bool = False
    rejected: bool = False
    needs_translation: bool = False
    suggestion: str | None = None
    translations: dict[str, str] = field(default_factory=dict)


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
    translation: str | None = None  # into the report's language, when staff entered one


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


def _state_condition(state: str) -> ColumnElement[bool]:
    """Answers in one review state; TextReview columns are NULL for answers never reviewed."""
    rejected = TextReview.rejected.is_(True)
    if state == "approved":
        return Answer.quote_approved.is_(True)
    if state == "rejected":
        return rejected
    if state == "categorised":
        return Answer.category.is_not(None)
    if state == "needs_translation":
        return TextReview.needs_translation.is_(True)
    return and_(Answer.quote_approved.is_(False), Answer.category.is_(None), or_(TextReview.rejected.is_(None),
                                                                                 not_(rejected)))


def list_free_text(survey: Survey, question_code: str | None = None, page: int = 1, per_page: int = 50,
                   lang: str = "en", only_other: bool = False, state: str | None = None,
                   language: str | None = None) -> TextPage:
    """Page through free-text answers of complete responses, with each respondent's quoting consent.

    Filtered by question, by the language the fellow answered in, and by review state (STATES).
    """
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
    base = (select(Answer, Response.language, consent_col, TextReview.rejected, TextReview.needs_translation)
            .join(Response, Response.id == Answer.response_id)
            .outerjoin(TextReview, TextReview.answer_id == Answer.id)
            .where(complete_condition(survey.id), Answer.question_id.in_(list(by_id)),
                   Answer.text.is_not(None), Answer.text != ""))
    if language:
        base = base.where(Response.language == language)
    if state in STATES:
        base = base.where(_state_condition(state))
    total = db.session.execute(select(func.count()).select_from(base.subquery())).scalar_one()
    page, pages, offset = paging.window(total, page, per_page)
    rows = db.session.execute(
        base.order_by(Answer.question_id, Answer.id).limit(per_page).offset(offset)
    ).all()
    items = []
    for answer, answer_language, consent, rejected, needs_translation in rows:
        question = by_id[answer.question_id]
        option = question.choice(answer.option_code)
        items.append(TextAnswer(
            answer_id=answer.id, response_id=answer.response_id, question_code=question.code,
            question_label=survey.text(question.label, lang),
            option_label=survey.text(option.label, lang) if option else "", text=answer.text or "",
            language=answer_language, consent=bool(consent), quote_approved=answer.quote_approved,
            category=answer.category, is_other=bool(option and option.is_other),
            quotable=bool(question.settings.get("quotable")), rejected=bool(rejected),
            needs_translation=bool(needs_translation),
        ))
    _add_translations(items)
    _add_suggestions(survey, items)
    return TextPage(items, page, pages, total)


def _add_translations(items: Sequence[TextAnswer]) -> None:
    approved = {item.answer_id: item for item in items if item.quote_approved}
    if not approved:
        return
    for row in db.session.execute(select(QuoteTranslation).where(QuoteTranslation.answer_id.in_(list(approved)))
                                  ).scalars():
        approved[row.answer_id].translations[row.language] = row.text


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
    if not approved and answer.quote_approved:
        _drop_translations(answer.id)
    answer.quote_approved = approved
    review = db.session.get(TextReview, answer.id)
    if approved and review is not None:
        review.rejected = False
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


def _words(text: str) -> set[str]:
    return {word for word in _WORD.findall(text.casefold()) if len(word) > 1 or not word.isascii()}


def suggest(text: str, coded: Sequence[tuple[str, str]]) -> str | None:
    """The category of the coded answers most like this text, from (text, category) pairs.

    A category whose name the text contains wins (a fellow writing "we use Telegram" for the
    category "Telegram"); otherwise the category of the coded texts sharing most words, when
    they share at least half of the shorter one's words.
    """
    words = _words(text)
    if not words:
        return None
    named = Counter(category for _text, category in coded if _words(category) and _words(category) <= words)
    if named:
        return named.most_common(1)[0][0]
    scores: Counter[str] = Counter()
    for other, category in coded:
        shared = words & _words(other)
        if shared and len(shared) * 2 >= min(len(words), len(_words(other))):
            scores[category] += len(shared)
    return scores.most_common(1)[0][0] if scores else None


def _coded_answers(survey: Survey, question_ids: set[int]) -> dict[int, list[tuple[str, str]]]:
    rows = db.session.execute(
        select(Answer.question_id, Answer.text, Answer.category).join(Response, Response.id == Answer.response_id)
        .where(Response.survey_id == survey.id, Answer.question_id.in_(question_ids), Answer.category.is_not(None),
               Answer.text.is_not(None))
        .order_by(Answer.id.desc()).limit(SUGGESTION_SAMPLE)
    ).all()
    coded: dict[int, list[tuple[str, str]]] = {}
    for question_id, text, category in rows:
        coded.setdefault(question_id, []).append((text or "", category or ""))
    return coded


def _add_suggestions(survey: Survey, items: Sequence[TextAnswer]) -> None:
    """Suggest a category for each uncategorised "Other" answer, from its own question's coded answers."""
    waiting = [item for item in items if item.is_other and not item.category]
    if not waiting:
        return
    ids = {q.code: q.id for q in reviewable_questions(survey)}
    coded = _coded_answers(survey, {ids[item.question_code] for item in waiting})
    for item in waiting:
        item.suggestion = suggest(item.text, coded.get(ids[item.question_code], []))


@dataclass
class BulkOutcome:
    """What a bulk action did: how many answers changed, and why the others were left alone."""

    changed: int = 0
    refused: Counter[str] = field(default_factory=Counter)


def _review_row(answer_id: int, rows: dict[int, TextReview]) -> TextReview:
    row = rows.get(answer_id)
    if row is None:
        row = rows[answer_id] = TextReview(answer_id=answer_id, rejected=False, needs_translation=False)
        db.session.add(row)
    row.reviewed_at = utcnow()
    return row


def bulk_review(survey: Survey, answer_ids: Sequence[int], action: str, category: str = "",
                actor: StaffUser | None = None) -> BulkOutcome:
    """Apply one review action to many answers of this survey at once; refuse per answer with a reason. Commit.

    approve needs the respondent's "yes" and a quotable question; categorise and suggested apply
    only to "Other – please specify" answers; translated clears the flag without a translation.
    """
    if action not in ACTIONS:
        raise ResultsError("Choose what to do with the selected answers.")
    questions = {q.id: q for q in _questions(survey)}
    answers = db.session.execute(
        select(Answer).join(Response, Response.id == Answer.response_id)
        .where(Answer.id.in_(set(answer_ids)), Response.survey_id == survey.id, Answer.question_id.in_(list(questions)))
        .order_by(Answer.id)
    ).scalars().all()
    outcome = BulkOutcome()
    outcome.refused["not_found"] = len(set(answer_ids)) - len(answers)
    reviews = {row.answer_id: row for row in db.session.execute(
        select(TextReview).where(TextReview.answer_id.in_([a.id for a in answers]))).scalars()}
    consented: set[int] = set()
    consent_query = _consented_responses(survey)
    if action == "approve" and consent_query is not None:
        consented = set(db.session.execute(
            consent_query.where(Answer.response_id.in_({a.response_id for a in answers}))).scalars())
    category = " ".join(category.split())[:CATEGORY_MAX]
    coded = _coded_answers(survey, {a.question_id for a in answers}) if action == "suggested" else {}
    for answer in answers:
        question = questions[answer.question_id]
        option = question.choice(answer.option_code)
        is_other = bool(option is not None and option.is_other)
        if action == "approve":
            if not question.settings.get("quotable"):
                outcome.refused["not_quotable"] += 1
                continue
            if answer.response_id not in consented:
                outcome.refused["no_consent"] += 1
                continue
            answer.quote_approved = True
            _review_row(answer.id, reviews).rejected = False
        elif action in ("reject", "unreview"):
            if answer.quote_approved:
                _drop_translations(answer.id)
            answer.quote_approved = False
            _review_row(answer.id, reviews).rejected = action == "reject"
        elif action in ("categorise", "suggested"):
            if not is_other:
                outcome.refused["not_other"] += 1
                continue
            chosen = (category if action == "categorise"
                      else suggest(answer.text or "", coded.get(answer.question_id, [])))
            if action == "suggested" and not chosen:
                outcome.refused["no_suggestion"] += 1
                continue
            totals.recategorise(answer, chosen or None)
            answer.category = chosen or None
        elif action == "needs_translation":
            _review_row(answer.id, reviews).needs_translation = True
        else:  # translated
            if answer.id not in reviews or not reviews[answer.id].needs_translation:
                outcome.refused["unchanged"] += 1
                continue
            _review_row(answer.id, reviews).needs_translation = False
        outcome.changed += 1
    outcome.refused = Counter({reason: n for reason, n in outcome.refused.items() if n})
    audit.record("results.bulk_review", survey.id, actor=actor, review_action=action, changed=outcome.changed,
                 refused=sum(outcome.refused.values()))
    db.session.commit()
    return outcome


def _drop_translations(answer_id: int) -> None:
    """A quote no longer approved keeps no translation: it will not be published, and retention may erase it."""
    db.session.execute(delete(QuoteTranslation).where(QuoteTranslation.answer_id == answer_id)
                       .execution_options(synchronize_session=False))


def quote_for_translation(survey: Survey, answer_id: int, lang: str = "en") -> TextAnswer:
    """An approved quote of this survey, with its translations, for the translation form."""
    answer, question = _review_answer(survey, answer_id)
    if not answer.quote_approved:
        raise ResultsError("Only approved quotes can be translated.")
    language = db.session.execute(select(Response.language).where(Response.id == answer.response_id)).scalar_one()
    review = db.session.get(TextReview, answer.id)
    item = TextAnswer(answer.id, answer.response_id, question.code, survey.text(question.label, lang), "",
                      answer.text or "", language, True, True, answer.category, False, quotable=True,
                      needs_translation=bool(review and review.needs_translation))
    _add_translations([item])
    return item


def save_translations(survey: Survey, answer_id: int, texts: dict[str, str], actor: StaffUser | None) -> int:
    """Store an approved quote's translations per report language ('' removes one); any clears the flag. Commit."""
    answer, _question = _review_answer(survey, answer_id)
    if not answer.quote_approved:
        raise ResultsError("Only approved quotes can be translated.")
    current = {row.language: row for row in db.session.execute(
        select(QuoteTranslation).where(QuoteTranslation.answer_id == answer.id)).scalars()}
    for lang, text in texts.items():
        if lang not in survey.languages:
            continue
        text = text.strip()[:TRANSLATION_MAX]
        row = current.get(lang)
        if not text:
            if row is not None:
                db.session.delete(row)
                del current[lang]
        elif row is None:
            current[lang] = QuoteTranslation(answer_id=answer.id, language=lang, text=text)
            db.session.add(current[lang])
        else:
            row.text = text
    if current:
        review = db.session.get(TextReview, answer.id)
        if review is not None:
            review.needs_translation = False
    audit.record("results.quote_translated", survey.id, actor=actor, answer_id=answer.id, languages=len(current))
    db.session.commit()
    return len(current)


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
        select(Answer.id, Answer.text, Answer.question_id, Answer.response_id)
        .where(Answer.quote_approved == true(), Answer.question_id.in_(list(labels)), Answer.text.is_not(None))
        .order_by(Answer.question_id, Answer.id)
    ).all()
    if not candidates:
        return []
    languages: dict[int, str] = dict(db.session.execute(
        select(Response.id, Response.language)
        .where(Response.id.in_({c.response_id for c in candidates}), complete_condition(survey.id),
               Response.id.in_(consented))
    ).tuples().all())
    rows = [(answer_id, text, qid, languages[rid]) for answer_id, text, qid, rid in candidates
            if rid in languages][:limit]
    translations: dict[int, str] = dict(db.session.execute(  # type: ignore[arg-type]
        select(QuoteTranslation.answer_id, QuoteTranslation.text)
        .where(QuoteTranslation.answer_id.in_([row[0] for row in rows]), QuoteTranslation.language == lang)
    ).all()) if rows else {}
    return [Quote(text or "", labels.get(qid, ""), language,
                  translations.get(answer_id) if language != lang else None)
            for answer_id, text, qid, language in rows]
