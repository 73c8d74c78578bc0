"""The respondent journey: find the link, save each section, submit exactly once."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..models import Answer, Invitation, InvitationStatus, Participant, Response, ResponseStatus, Survey
from ..models.base import utcnow
from . import tokens
from .structure import QuestionView, SectionView, SurveyStructure


class AlreadySubmitted(Exception):
    """The response was submitted; it can no longer change."""


@dataclass(frozen=True)
class AnswerRow:
    """One answer value as stored: codes, never labels."""

    question_id: int
    item_code: str = ""
    option_code: str = ""
    number: int | None = None
    text: str | None = None


@dataclass
class RespondentLink:
    """What a secret link resolves to: the survey, and the invitation and response if any."""

    kind: str  # "s" personal link, "r" open-link resume link
    token: str
    survey: Survey
    invitation: Invitation | None
    response: Response | None

    @property
    def submitted(self) -> bool:
        if self.response is not None and self.response.status == ResponseStatus.COMPLETE.value:
            return True
        return self.invitation is not None and self.invitation.completed_at is not None


def find_personal_link(token: str) -> RespondentLink | None:
    """Resolve a personal invitation token (by its hash) to its survey, invitation and response."""
    if not tokens.looks_like_token(token):
        return None
    row = db.session.execute(
        select(Invitation, Survey, Response)
        .join(Survey, Survey.id == Invitation.survey_id)
        .outerjoin(Response, Response.invitation_id == Invitation.id)
        .where(Invitation.token_hash == tokens.hash_token(token))
    ).first()
    if row is None:
        return None
    invitation, survey, response = row
    return RespondentLink("s", token, survey, invitation, response)


def find_resume_link(token: str) -> RespondentLink | None:
    """Resolve an open-link resume token to its survey and response."""
    if not tokens.looks_like_token(token):
        return None
    row = db.session.execute(
        select(Response, Survey)
        .join(Survey, Survey.id == Response.survey_id)
        .where(Response.resume_token_hash == tokens.hash_token(token))
    ).first()
    if row is None:
        return None
    response, survey = row
    return RespondentLink("r", token, survey, None, response)


def _stamp(anonymous: bool) -> datetime:
    """Now, or only the day for anonymous surveys, so times cannot pair people with responses."""
    now = utcnow()
    return _day(now) if anonymous else now


def mark_opened(invitation: Invitation, anonymous: bool = False) -> None:
    """Record that the personal link was visited (no tracking pixel: only a real visit counts). Commit."""
    if invitation.opened_at is None:
        db.session.execute(
            update(Invitation)
            .where(Invitation.id == invitation.id, Invitation.opened_at.is_(None))
            .values(opened_at=_stamp(anonymous), status=case(
                (Invitation.status == InvitationStatus.CREATED.value, InvitationStatus.OPENED.value),
                else_=Invitation.status,
            ))
        )
        db.session.commit()


def start_open_response(survey: Survey, language: str) -> tuple[Response, str]:
    """Create a response for an open-link respondent and return it with its resume token. Commit."""
    token = tokens.new_resume_token()
    response = Response(survey_id=survey.id, resume_token_hash=tokens.hash_token(token), language=language)
    db.session.add(response)
    db.session.commit()
    return response, token


def _ensure_response(link: RespondentLink, language: str) -> Response:
    """Return the link's response, creating it for a personal link on first save (one per invitation)."""
    if link.response is not None:
        return link.response
    assert link.invitation is not None
    invitation = link.invitation
    # Anonymous surveys copy nothing from the participant onto the response.
    participant = None if link.survey.anonymous else db.session.get(Participant, invitation.participant_id)
    response = Response(
        survey_id=link.survey.id, invitation_id=invitation.id, language=language,
        started_at=_stamp(link.survey.anonymous),
        country=participant.country if participant else None,
        cohort=participant.cohort if participant else None,
    )
    try:
        with db.session.begin_nested():
            db.session.add(response)
    except IntegrityError:
        # Another tab or a double click created it first: use that one.
        response = db.session.execute(
            select(Response).where(Response.invitation_id == invitation.id)
        ).scalar_one()
    else:
        db.session.execute(
            update(Invitation)
            .where(Invitation.id == invitation.id, Invitation.completed_at.is_(None))
            .values(status=InvitationStatus.STARTED.value, started_at=_stamp(link.survey.anonymous))
        )
    link.response = response
    return response


def _profile_values(section: SectionView, rows: list[AnswerRow]) -> dict[str, object]:
    """Copy answers flagged as respondent profile (country, cohort) onto the response for filtering."""
    values: dict[str, object] = {}
    by_question = {q.id: q for q in section.questions}
    for row in rows:
        question = by_question.get(row.question_id)
        profile = question.settings.get("profile") if question else None
        if profile == "country" and row.option_code:
            values["country"] = row.option_code.upper()
        elif profile == "cohort" and row.option_code.isdigit():
            values["cohort"] = int(row.option_code)
    return values


_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def storable_text(text: str | None) -> str | None:
    """Drop control characters (NUL above all, which PostgreSQL refuses) but keep tabs and line breaks."""
    return None if text is None else _CONTROL_CHARS.sub("", text)


def _update_partial(response_id: int, values: dict[str, object]) -> bool:
    """Update a response only while it is partial; False (rolled back) once it was submitted.

    The guarded UPDATE both checks the status and locks the row, so of a save and a submit, or of
    several submits, racing on one response exactly one sees it partial.
    """
    result = db.session.execute(
        update(Response)
        .where(Response.id == response_id, Response.status == ResponseStatus.PARTIAL.value)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount == 0:
        db.session.rollback()
        return False
    return True


def save_section(link: RespondentLink, section: SectionView, rows: list[AnswerRow], language: str) -> Response:
    """Replace the answers of one section, refusing once the response is submitted. Commit."""
    if link.submitted:
        raise AlreadySubmitted()
    response = _ensure_response(link, language)
    now = utcnow()
    values: dict[str, object] = {
        "updated_at": now,
        "last_section": case((Response.last_section < section.number, section.number),
                             else_=Response.last_section),
    }
    values.update(_profile_values(section, rows))
    if not _update_partial(response.id, values):
        raise AlreadySubmitted()
    question_ids = [q.id for q in section.questions]
    db.session.execute(
        delete(Answer).where(Answer.response_id == response.id, Answer.question_id.in_(question_ids))
    )
    if rows:
        db.session.execute(insert(Answer), [
            {"response_id": response.id, "question_id": r.question_id, "item_code": r.item_code,
             "option_code": r.option_code, "number": r.number, "text": storable_text(r.text)}
            for r in rows
        ])
    db.session.commit()
    return response


def stored_answers(response_id: int, question_ids: list[int] | None = None) -> dict[int, list[Answer]]:
    """Answers of a response grouped by question id."""
    stmt = select(Answer).where(Answer.response_id == response_id)
    if question_ids is not None:
        stmt = stmt.where(Answer.question_id.in_(question_ids))
    grouped: dict[int, list[Answer]] = {}
    for answer in db.session.execute(stmt.order_by(Answer.id)).scalars():
        grouped.setdefault(answer.question_id, []).append(answer)
    return grouped


def unanswered_required(structure: SurveyStructure, answers: dict[int, list[Answer]]) -> list[tuple[SectionView, QuestionView]]:
    """Required questions with no stored answer, so submit can send the fellow back to them."""
    missing = []
    for section in structure.sections:
        for question in section.questions:
            if not question.required:
                continue
            stored = answers.get(question.id, [])
            if question.type == "matrix":
                answered_rows = {a.item_code for a in stored}
                if not all(row.code in answered_rows for row in question.rows):
                    missing.append((section, question))
            elif not stored:
                missing.append((section, question))
    return missing


def _day(moment: datetime) -> datetime:
    return moment.replace(hour=0, minute=0, second=0, microsecond=0)


def submit_response(link: RespondentLink) -> bool:
    """Complete the response exactly once; return False when it was already submitted. Commit.

    The guarded UPDATE ... WHERE status = 'partial' lets exactly one of several simultaneous
    submits (double click, two tabs, resubmitted form) win; the others see it done.
    """
    response = link.response
    if response is None:
        return False
    now = utcnow()
    anonymous = link.survey.anonymous
    stamp = _day(now) if anonymous else now
    values: dict[str, object] = {"status": ResponseStatus.COMPLETE.value, "submitted_at": stamp, "updated_at": stamp}
    if anonymous:
        # Keep no link between an anonymous response and the invitation, and no precise times.
        values.update(invitation_id=None, started_at=_day(response.started_at))
    if not _update_partial(response.id, values):
        return False
    if link.invitation is not None:
        db.session.execute(
            update(Invitation)
            .where(Invitation.id == link.invitation.id)
            .values(status=InvitationStatus.COMPLETED.value, completed_at=stamp)
        )
    db.session.commit()
    return True
