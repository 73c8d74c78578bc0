"""The respondent journey: find the link, save each section, submit exactly once.

Everything runs on db.session, the same code on SQLite and PostgreSQL. Correctness rests on the
database: one response per invitation (a unique key; a losing first save finds the winner's
response), and a guarded UPDATE ... WHERE status = 'partial' that lets exactly one of several
racing submits, or a save racing a submit, see the response still open.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Integer, String, bindparam, case, delete, func, insert, null, select, update

from ..extensions import db
from ..models import (
    Answer,
    Invitation,
    InvitationStatus,
    Participant,
    Response,
    ResponseChannel,
    ResponseStatus,
    Survey,
)
from ..models.base import utcnow
from ..questions import AnswerRow, QuestionView, StoredAnswer, group_by_question, storable_text
from . import bursts, tokens, totals
from .statements import insert_with_conflicts, rows_changed
from .structure import SURVEY_REF_COLUMNS, SectionView, SurveyRef, SurveyStructure


class AlreadySubmitted(Exception):
    """The response was submitted; it can no longer change."""


# Posted fields kept as typed, by question id (a string: the JSON column's keys).
Draft = dict[str, list[list[str]]]


@dataclass
class InvitationRef:
    """The columns of an invitation (and its participant) that the journey reads."""

    id: int
    opened_at: datetime | None
    completed_at: datetime | None
    language: str | None
    country: str | None
    cohort: int | None


@dataclass
class ResponseRef:
    """The columns of a response that the journey reads."""

    id: int
    status: str
    last_section: int
    started_at: datetime
    is_test: bool = False  # a staff preview (services/test_responses.py)
    language: str = "en"
    # What could not be saved yet when the fellow went back a page: {question id: [[name, value], ...]}.
    draft: Draft | None = None


@dataclass
class RespondentLink:
    """What a secret link resolves to: the survey, and the invitation and response if any."""

    kind: str  # "s" personal link, "r" open-link resume link
    token: str
    survey: SurveyRef
    invitation: InvitationRef | None
    response: ResponseRef | None
    # The response's answers by question id, when looked up with_answers=True (else None).
    answers: dict[int, list[StoredAnswer]] | None = None

    @property
    def submitted(self) -> bool:
        if self.response is not None and self.response.status == ResponseStatus.COMPLETE.value:
            return True
        return self.invitation is not None and self.invitation.completed_at is not None

    @property
    def is_test(self) -> bool:
        """A staff preview: staff only, any survey state, required questions may be skipped."""
        return self.response is not None and self.response.is_test


# Core statements on the tables: the journey reads a few columns as plain values, not ORM objects.
_responses, _answers, _invitations = Response.__table__, Answer.__table__, Invitation.__table__
_surveys, _participants = Survey.__table__, Participant.__table__
_RESPONSE_COLUMNS = (_responses.c.id, _responses.c.status, _responses.c.last_section, _responses.c.started_at,
                     _responses.c.is_test, _responses.c.language, _responses.c.draft)
_INVITATION_COLUMNS = (_invitations.c.id, _invitations.c.opened_at, _invitations.c.completed_at,
                       _participants.c.language, _participants.c.country, _participants.c.cohort)
_PERSONAL_LINK = (
    select(*SURVEY_REF_COLUMNS, *_INVITATION_COLUMNS, *_RESPONSE_COLUMNS)
    .select_from(_invitations)
    .join(_surveys, _surveys.c.id == _invitations.c.survey_id)
    .join(_participants, _participants.c.id == _invitations.c.participant_id)
    .outerjoin(_responses, _responses.c.invitation_id == _invitations.c.id)
    .where(_invitations.c.token_hash == bindparam("token_hash"))
)
_RESUME_LINK = (
    select(*SURVEY_REF_COLUMNS, *_RESPONSE_COLUMNS)
    .select_from(_responses)
    .join(_surveys, _surveys.c.id == _responses.c.survey_id)
    .where(_responses.c.resume_token_hash == bindparam("token_hash"))
)
_ALL_ANSWERS = (
    select(_answers.c.question_id, _answers.c.item_code, _answers.c.option_code, _answers.c.number, _answers.c.text)
    .where(_answers.c.response_id == bindparam("response_id"))
    .order_by(_answers.c.id)
)


def _response_ref(row: Any, offset: int = 0) -> ResponseRef | None:
    rid, status, last_section, started_at, is_test, language, draft = row[offset:offset + len(_RESPONSE_COLUMNS)]
    return None if rid is None else ResponseRef(rid, status, last_section, started_at, bool(is_test), language,
                                                draft or None)


def find_link(kind: str, token: str, with_answers: bool = False) -> RespondentLink | None:
    """Resolve a secret link (by its token's hash) to its survey, invitation and response.

    kind "s" is a personal invitation link, "r" an open-link resume link. With with_answers, the
    response's answers are read too, into link.answers.
    """
    if not tokens.looks_like_token(token):
        return None
    personal = kind == "s"
    row = db.session.execute(_PERSONAL_LINK if personal else _RESUME_LINK,
                             {"token_hash": tokens.hash_token(token)}).first()
    if row is None:
        return None
    n, m = len(SURVEY_REF_COLUMNS), len(_INVITATION_COLUMNS)
    invitation = InvitationRef(*row[n:n + m]) if personal else None
    link = RespondentLink(kind, token, SurveyRef(*row[:n]), invitation, _response_ref(row, n + m if personal else n))
    if with_answers:
        link.answers = {} if link.response is None else group_by_question(
            StoredAnswer(*answer) for answer in db.session.execute(_ALL_ANSWERS, {"response_id": link.response.id}))
    return link


def _day(moment: datetime) -> datetime:
    return moment.replace(hour=0, minute=0, second=0, microsecond=0)


def _stamp(anonymous: bool) -> datetime:
    """Now, or only the day for anonymous surveys, so times cannot pair people with responses."""
    now = utcnow()
    return _day(now) if anonymous else now


def mark_opened(invitation: InvitationRef | None, anonymous: bool = False) -> None:
    """Record that the personal link was visited (no tracking pixel: only a real visit counts). Commit."""
    if invitation is None or invitation.opened_at is not None:
        return
    db.session.execute(
        update(Invitation)
        .where(Invitation.id == invitation.id, Invitation.opened_at.is_(None))
        .values(opened_at=_stamp(anonymous), status=case(
            (Invitation.status == InvitationStatus.CREATED.value, InvitationStatus.OPENED.value),
            else_=Invitation.status))
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


def start_open_response(survey: Survey, language: str, client_address: str | None) -> tuple[Response, str]:
    """Create a response for an open-link respondent and return it with its resume token. Commit.

    The response is marked as the open channel and, unless the survey is anonymous, carries a keyed
    hash of the client's address (see services/bursts.py), never the address.
    """
    token = tokens.new_resume_token()
    hashed = None if survey.anonymous or not client_address else bursts.client_hash(survey.id, client_address)
    response = Response(survey_id=survey.id, resume_token_hash=tokens.hash_token(token), language=language,
                        channel=ResponseChannel.OPEN.value, client_hash=hashed)
    db.session.add(response)
    db.session.commit()
    return response, token


def _first_save(link: RespondentLink, language: str, values: dict[str, Any],
                answers: list[dict[str, Any]]) -> ResponseRef | None:
    """Create the personal link's response with its first answers; None if another first save won.

    One response per invitation: of two first saves racing (double click, two tabs), the unique
    invitation_id lets one INSERT in; the other inserts nothing and finds the winner's response
    in link.response, to save into as any later save does, in the same transaction.
    """
    invitation = link.invitation
    if invitation is None:  # an open-link response is created at the start, never here
        raise ValueError("a resume link without its response")
    anonymous = link.survey.anonymous
    started = _stamp(anonymous)
    row = {"survey_id": link.survey.id, "invitation_id": invitation.id, "language": language,
           "status": ResponseStatus.PARTIAL.value, "started_at": started, "updated_at": started,
           # Anonymous surveys copy nothing from the participant onto the response.
           "country": None if anonymous else invitation.country,
           "cohort": None if anonymous else invitation.cohort, "last_section": 0,
           "channel": ResponseChannel.PERSONAL.value, **values}
    response_id = db.session.execute(
        insert_with_conflicts(_responses).on_conflict_do_nothing().values(row).returning(_responses.c.id)).scalar()
    if response_id is None:
        link.response = _response_ref(db.session.execute(
            select(*_RESPONSE_COLUMNS).where(_responses.c.invitation_id == invitation.id)).one())
        return None
    db.session.execute(
        update(Invitation).where(Invitation.id == invitation.id, Invitation.completed_at.is_(None))
        .values(status=InvitationStatus.STARTED.value, started_at=started)
        .execution_options(synchronize_session=False))
    _insert_answers(response_id, answers)
    draft = row.get("draft")
    link.response = ResponseRef(response_id, row["status"], row["last_section"], started, language=language,
                                draft=draft if isinstance(draft, dict) else None)
    return link.response


def _insert_answers(response_id: int, answers: list[dict[str, Any]]) -> None:
    if answers:
        db.session.execute(insert(_answers), [{**answer, "response_id": response_id, "quote_approved": False}
                                              for answer in answers])


def _profile_values(section: SectionView, rows: list[AnswerRow]) -> dict[str, Any]:
    """Copy answers flagged as respondent profile (country, cohort) onto the response for filtering."""
    values: dict[str, Any] = {}
    by_question = {q.id: q for q in section.questions}
    for row in rows:
        question = by_question.get(row.question_id)
        profile = question.settings.get("profile") if question else None
        if profile == "country" and row.option_code:
            values["country"] = row.option_code.upper()
        elif profile == "cohort" and row.option_code.isascii() and row.option_code.isdigit():
            values["cohort"] = int(row.option_code)
    return values


def _guarded(statement: Any) -> bool:
    """Run an UPDATE guarded by status = 'partial'; False (rolled back) once the response was submitted.

    The guarded UPDATE both checks the status and locks the row, so of a save and a submit, or of
    several submits, racing on one response exactly one sees it partial.
    """
    if rows_changed(statement.execution_options(synchronize_session=False)) == 0:
        db.session.rollback()
        return False
    return True


def _partial(response_id: int) -> Any:
    return update(Response).where(Response.id == response_id, Response.status == ResponseStatus.PARTIAL.value)


Kept = Mapping[int, Sequence[tuple[str, str]]]


def merged_draft(current: Draft | None, section: SectionView, kept: Kept) -> Draft | None:
    """The response's draft with this section's part replaced by what is kept now (None when empty)."""
    ids = {str(q.id) for q in section.questions}
    draft = {key: fields for key, fields in (current or {}).items() if key not in ids}
    for question_id, fields in kept.items():
        values = [[name, storable_text(value) or ""] for name, value in fields if value]
        if values:
            draft[str(question_id)] = values
    return draft or None


def save_section(link: RespondentLink, section: SectionView, rows: list[AnswerRow], language: str,
                 kept: Kept | None = None, completed: bool = True) -> ResponseRef:
    """Replace the answers of one section, refusing once the response is submitted. Commit.

    rows are the valid answers. kept holds, by question, the posted fields of answers not valid yet,
    kept as a draft (never as answers) when the fellow goes back a page; completed is False then,
    so the page does not count as done for where the link resumes.
    """
    if link.submitted:
        raise AlreadySubmitted()
    values = _profile_values(section, rows)
    answers = [{"question_id": r.question_id, "item_code": r.item_code, "option_code": r.option_code,
                "number": r.number, "text": storable_text(r.text)} for r in rows]
    reached = section.number if completed else 0
    draft = merged_draft(link.response.draft if link.response else None, section, kept or {})
    if link.response is None:
        created = _first_save(link, language, {**values, "last_section": reached,
                                                 "draft": null() if draft is None else draft}, answers)
        if created is not None:
            db.session.commit()
            return created
    response = link.response
    assert response is not None  # found or created by the first save
    if not _guarded(_partial(response.id).values(
            updated_at=utcnow(),
            draft=null() if draft is None else draft,
            last_section=case((Response.last_section < reached, reached), else_=Response.last_section),
            country=func.coalesce(bindparam("country", values.get("country"), type_=String), Response.country),
            cohort=func.coalesce(bindparam("cohort", values.get("cohort"), type_=Integer), Response.cohort))):
        raise AlreadySubmitted()
    db.session.execute(delete(Answer).where(Answer.response_id == response.id,
                                            Answer.question_id.in_([q.id for q in section.questions])))
    _insert_answers(response.id, answers)
    db.session.commit()
    return response


def unanswered_required(structure: SurveyStructure,
                        answers: dict[int, list[StoredAnswer]]) -> list[tuple[SectionView, QuestionView]]:
    """Required questions not fully answered, so submit can send the fellow back to them."""
    return [(section, question) for section in structure.sections for question in section.questions
            if question.required and not question.kind.is_complete(question, answers.get(question.id, []))]


def unsaved_answers(structure: SurveyStructure, draft: Draft | None) -> list[tuple[SectionView, QuestionView]]:
    """Questions whose answer was kept as typed but not saved (not valid yet): settle them before sending."""
    if not draft:
        return []
    return [(section, question) for section in structure.sections for question in section.questions
            if str(question.id) in draft]


def submit_response(link: RespondentLink) -> bool:
    """Complete the response exactly once; return False when it was already submitted. Commit.

    The guarded UPDATE ... WHERE status = 'partial' lets exactly one of several simultaneous
    submits (double click, two tabs, resubmitted form) win; the others see it done. The running
    totals are added in the same transaction, so results never count a response twice or miss one.
    """
    response = link.response
    if response is None:
        return False
    anonymous = link.survey.anonymous
    stamp = _stamp(anonymous)
    # A draft is never kept once the answers are sent (the check page asked to settle it first).
    values: dict[str, Any] = {"status": ResponseStatus.COMPLETE.value, "submitted_at": stamp, "updated_at": stamp,
                              "draft": null()}
    if anonymous:
        # Anonymous surveys keep no link between a response and the invitation, and no precise times.
        values.update(invitation_id=None, started_at=_day(response.started_at))
    if not _guarded(_partial(response.id).values(**values)):
        return False
    if link.invitation is not None:
        db.session.execute(
            update(Invitation).where(Invitation.id == link.invitation.id)
            .values(status=InvitationStatus.COMPLETED.value, completed_at=stamp)
            .execution_options(synchronize_session=False))
    totals.add_response(response.id)
    db.session.commit()
    return True
