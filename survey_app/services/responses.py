"""The respondent journey: find the link, save each section, submit exactly once."""
from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import Integer, String, bindparam, case, func, insert, select, text, true, update
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.exc import IntegrityError

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
from . import bursts, tokens, totals
from .driver_sql import DriverStatement, begin, commit, delete_matching, dialect_name, insert_rows, rollback
from .structure import SURVEY_REF_COLUMNS, QuestionView, SectionView, SurveyRef, SurveyStructure


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


class StoredAnswer(NamedTuple):
    """One stored answer, as pages read it (the columns of _ANSWER_COLUMNS)."""

    question_id: int
    item_code: str
    option_code: str
    number: int | None
    text: str | None


@dataclass
class InvitationRef:
    """The columns of an invitation (and its participant) that the journey reads: plain values, no ORM load."""

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


# Every respondent request runs these. Built once, on the tables rather than the ORM classes: a
# plain Core statement executes in half the time of an ORM-enabled one, and these run per page.
_responses, _answers, _invitations = Response.__table__, Answer.__table__, Invitation.__table__
_surveys, _participants = Survey.__table__, Participant.__table__
_RESPONSE_COLUMNS = (_responses.c.id, _responses.c.status, _responses.c.last_section, _responses.c.started_at)
_PERSONAL_LINK = DriverStatement(
    select(*SURVEY_REF_COLUMNS, _invitations.c.id, _invitations.c.opened_at, _invitations.c.completed_at,
           _participants.c.language, _participants.c.country, _participants.c.cohort, *_RESPONSE_COLUMNS)
    .select_from(_invitations)
    .join(_surveys, _surveys.c.id == _invitations.c.survey_id)
    .join(_participants, _participants.c.id == _invitations.c.participant_id)
    .outerjoin(_responses, _responses.c.invitation_id == _invitations.c.id)
    .where(_invitations.c.token_hash == bindparam("token_hash"))
)
_RESUME_LINK = DriverStatement(
    select(*SURVEY_REF_COLUMNS, *_RESPONSE_COLUMNS)
    .select_from(_responses)
    .join(_surveys, _surveys.c.id == _responses.c.survey_id)
    .where(_responses.c.resume_token_hash == bindparam("token_hash"))
)
_ANSWER_COLUMNS = (_answers.c.question_id, _answers.c.item_code, _answers.c.option_code, _answers.c.number,
                   _answers.c.text)
# A second query, not a join: joined, every answer row would repeat (and decode) the link's columns.
_ALL_ANSWERS = DriverStatement(select(*_ANSWER_COLUMNS).where(_answers.c.response_id == bindparam("response_id"))
                               .order_by(_answers.c.id))
# On PostgreSQL the link and its answers are one query (one round trip): the answers folded into
# one array per column, in the order they were stored, beside the link's single row.
_ANSWER_ARRAYS = (
    select(*(func.array_agg(aggregate_order_by(column, _answers.c.id)) for column in _ANSWER_COLUMNS))
    .where(_answers.c.response_id == _responses.c.id)
    .lateral("stored")
)
_WITH_ANSWERS_POSTGRESQL = {
    kind: DriverStatement(link.statement.add_columns(*_ANSWER_ARRAYS.c).outerjoin(_ANSWER_ARRAYS, true()))
    for kind, link in (("s", _PERSONAL_LINK), ("r", _RESUME_LINK))
}
_ANSWER_INSERT_COLUMNS = ("response_id", "question_id", "item_code", "option_code", "number", "text",
                          "quote_approved")
_RESPONSE_OF_INVITATION = DriverStatement(
    select(*_RESPONSE_COLUMNS).where(_responses.c.invitation_id == bindparam("invitation_id")))
_MARK_OPENED = DriverStatement(
    update(_invitations)
    .where(_invitations.c.id == bindparam("invitation_id"), _invitations.c.opened_at.is_(None))
    .values(opened_at=bindparam("opened_at"), status=case(
        (_invitations.c.status == InvitationStatus.CREATED.value, InvitationStatus.OPENED.value),
        else_=_invitations.c.status,
    ))
)
_MARK_STARTED = DriverStatement(
    update(_invitations)
    .where(_invitations.c.id == bindparam("invitation_id"), _invitations.c.completed_at.is_(None))
    .values(status=InvitationStatus.STARTED.value, started_at=bindparam("started_at"))
)
_NEW_RESPONSE_VALUES = ("survey_id", "invitation_id", "language", "status", "started_at", "updated_at", "country",
                         "cohort", "last_section")
# Every column with a default is given, so nothing depends on Python-side defaults at execution. Only
# personal links create their response at the first save (the open link creates it at the start).
_NEW_RESPONSE = DriverStatement(
    insert(_responses).values({name: bindparam(name, type_=_responses.c[name].type) for name in _NEW_RESPONSE_VALUES})
    .values(channel=ResponseChannel.PERSONAL.value)
    .returning(_responses.c.id)
)
# The same three writes as one PostgreSQL statement: the answers arrive as one array per column.
_FIRST_SAVE_POSTGRESQL = DriverStatement(text("""
WITH created AS (
  INSERT INTO responses (survey_id, invitation_id, language, status, started_at, updated_at, country, cohort,
                         last_section, channel)
  VALUES (:survey_id, :invitation_id, :language, :status, :started_at, :updated_at, :country, :cohort, :last_section,
          'personal')
  RETURNING id
), started AS (
  UPDATE invitations SET status = 'started', started_at = :started_at
  WHERE id = :invitation_id AND completed_at IS NULL
), stored AS (
  INSERT INTO answers (response_id, question_id, item_code, option_code, number, text, quote_approved)
  SELECT created.id, a.question_id, a.item_code, a.option_code, a.number, a.text, FALSE
  FROM created, unnest(CAST(:question_ids AS INTEGER[]), CAST(:item_codes AS VARCHAR[]),
                       CAST(:option_codes AS VARCHAR[]), CAST(:numbers AS INTEGER[]), CAST(:texts AS TEXT[]))
       WITH ORDINALITY AS a(question_id, item_code, option_code, number, text, position)
  ORDER BY a.position
)
SELECT id FROM created
""").bindparams(*(bindparam(name, type_=_responses.c[name].type) for name in _NEW_RESPONSE_VALUES)))


def _response_ref(row, offset: int) -> ResponseRef | None:
    rid, status, last_section, started_at = row[offset:offset + 4]
    return None if rid is None else ResponseRef(rid, status, last_section, started_at)


def find_link(kind: str, token: str, with_answers: bool = False) -> RespondentLink | None:
    """Resolve a secret link (by its token's hash) to its survey, invitation and response, in one query.

    kind "s" is a personal invitation link, "r" an open-link resume link. With with_answers, the
    response's answers are read too, into link.answers (on the same connection).
    """
    if not tokens.looks_like_token(token):
        return None
    personal = kind == "s"
    in_one = with_answers and dialect_name() == "postgresql"
    if in_one:
        statement = _WITH_ANSWERS_POSTGRESQL[kind]
    else:
        statement = _PERSONAL_LINK if personal else _RESUME_LINK
    row = statement.first({"token_hash": tokens.hash_token(token)})
    if row is None:
        return None
    n = len(SURVEY_REF_COLUMNS)
    invitation = InvitationRef(*row[n:n + 6]) if personal else None
    end = n + 6 if personal else n
    link = RespondentLink(kind, token, SurveyRef(*row[:n]), invitation, _response_ref(row, end))
    if link.response is None or not with_answers:
        link.answers = {} if with_answers else None
    elif in_one:
        arrays = row[end + len(_RESPONSE_COLUMNS):]
        link.answers = {} if arrays[0] is None else _grouped(StoredAnswer(*answer) for answer in zip(*arrays))
    else:
        link.answers = _grouped(StoredAnswer(*answer) for answer in _ALL_ANSWERS.all({"response_id": link.response.id}))
    return link


def _stamp(anonymous: bool) -> datetime:
    """Now, or only the day for anonymous surveys, so times cannot pair people with responses."""
    now = utcnow()
    return _day(now) if anonymous else now


def mark_opened(invitation: InvitationRef, anonymous: bool = False) -> None:
    """Record that the personal link was visited (no tracking pixel: only a real visit counts). Commit."""
    if invitation.opened_at is None:
        _MARK_OPENED.execute({"invitation_id": invitation.id, "opened_at": _stamp(anonymous)})
        commit()


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


def _first_save(link: RespondentLink, language: str, values: dict[str, object],
                answers: list[tuple]) -> ResponseRef | None:
    """Create the personal link's response with `values` and its first answers; None if another save won.

    One response per invitation: of two first saves racing (double click, two tabs), the unique
    invitation_id lets one INSERT in; the other rolls back (it has written nothing) and gets None,
    with link.response now the winner's row, to save into as any later save does. On PostgreSQL
    the response, the invitation's status and the answers are one statement (one round trip).
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
           "cohort": None if anonymous else invitation.cohort, "last_section": 0}
    row.update(values)
    try:
        if dialect_name() == "postgresql":
            columns = list(zip(*answers)) if answers else [()] * 5
            (response_id,) = _FIRST_SAVE_POSTGRESQL.first({
                **row, "question_ids": list(columns[0]), "item_codes": list(columns[1]),
                "option_codes": list(columns[2]), "numbers": list(columns[3]), "texts": list(columns[4])})
        else:
            begin()
            (response_id,) = _NEW_RESPONSE.first(row)
            _MARK_STARTED.execute({"invitation_id": invitation.id, "started_at": started})
            _insert_answers(response_id, answers)
    except IntegrityError:
        rollback()
        link.response = _response_ref(_RESPONSE_OF_INVITATION.first({"invitation_id": invitation.id}), 0)
        return None
    link.response = ResponseRef(response_id, row["status"], row["last_section"], started)
    return link.response


def _insert_answers(response_id: int, answers: list[tuple]) -> None:
    insert_rows(_answers, _ANSWER_INSERT_COLUMNS, [(response_id, *answer, False) for answer in answers])


def _profile_values(section: SectionView, rows: list[AnswerRow]) -> dict[str, object]:
    """Copy answers flagged as respondent profile (country, cohort) onto the response for filtering."""
    values: dict[str, object] = {}
    by_question = {q.id: q for q in section.questions}
    for row in rows:
        question = by_question.get(row.question_id)
        profile = question.settings.get("profile") if question else None
        if profile == "country" and row.option_code:
            values["country"] = row.option_code.upper()
        elif profile == "cohort" and row.option_code.isascii() and row.option_code.isdigit():
            values["cohort"] = int(row.option_code)
    return values


_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def storable_text(text: str | None) -> str | None:
    """Drop control characters (NUL above all, which PostgreSQL refuses) but keep tabs and line breaks."""
    return None if text is None else _CONTROL_CHARS.sub("", text)


# Saves of a section already saved once, and submits: guarded by status = 'partial' (see _guarded).
_RESAVE = DriverStatement(
    update(_responses)
    .where(_responses.c.id == bindparam("response_id"), _responses.c.status == ResponseStatus.PARTIAL.value)
    .values(updated_at=bindparam("now"),
            last_section=case((_responses.c.last_section < bindparam("section"), bindparam("section")),
                              else_=_responses.c.last_section),
            country=func.coalesce(bindparam("country", type_=String), _responses.c.country),
            cohort=func.coalesce(bindparam("cohort", type_=Integer), _responses.c.cohort))
)
_COMPLETE = (
    update(_responses)
    .where(_responses.c.id == bindparam("response_id"), _responses.c.status == ResponseStatus.PARTIAL.value)
    .values(status=ResponseStatus.COMPLETE.value, submitted_at=bindparam("stamp"), updated_at=bindparam("stamp"))
)
# Anonymous surveys keep no link between a response and the invitation, and no precise times.
_SUBMIT = DriverStatement(_COMPLETE)
_SUBMIT_ANONYMOUS = DriverStatement(_COMPLETE.values(invitation_id=None, started_at=bindparam("started")))
_COMPLETE_INVITATION = DriverStatement(
    update(_invitations).where(_invitations.c.id == bindparam("invitation_id"))
    .values(status=InvitationStatus.COMPLETED.value, completed_at=bindparam("stamp"))
)


# On PostgreSQL the guarded UPDATE also completes the invitation (one round trip for both). The
# totals are added by the next statement, not this one: its snapshot may predate a save that this
# UPDATE waited for, whereas a later statement sees the answers as they are now committed.
_SUBMIT_POSTGRESQL = """
WITH done AS (
  UPDATE responses SET status = 'complete', submitted_at = :stamp, updated_at = :stamp{anonymous}
  WHERE id = :response_id AND status = 'partial'
  RETURNING id
), invited AS (
  UPDATE invitations SET status = 'completed', completed_at = :stamp
  WHERE id = :invitation_id AND EXISTS (SELECT FROM done)
)
SELECT id FROM done
"""


def _submit_postgresql(anonymous: bool) -> DriverStatement:
    sql = _SUBMIT_POSTGRESQL.format(anonymous=", invitation_id = NULL, started_at = :started" if anonymous else "")
    binds = [bindparam("stamp", type_=_responses.c.submitted_at.type), bindparam("invitation_id", type_=Integer)]
    if anonymous:
        binds.append(bindparam("started", type_=_responses.c.started_at.type))
    return DriverStatement(text(sql).bindparams(*binds))


_SUBMITS_POSTGRESQL = {anonymous: _submit_postgresql(anonymous) for anonymous in (False, True)}


def _guarded(statement: DriverStatement, params: dict[str, object]) -> bool:
    """Run an UPDATE guarded by status = 'partial'; False (rolled back) once the response was submitted.

    The guarded UPDATE both checks the status and locks the row, so of a save and a submit, or of
    several submits, racing on one response exactly one sees it partial.
    """
    if statement.execute(params).rowcount == 0:
        rollback()
        return False
    return True


def save_section(link: RespondentLink, section: SectionView, rows: list[AnswerRow], language: str) -> ResponseRef:
    """Replace the answers of one section, refusing once the response is submitted. Commit."""
    if link.submitted:
        raise AlreadySubmitted()
    values: dict[str, object] = _profile_values(section, rows)
    answers = [(r.question_id, r.item_code, r.option_code, r.number, storable_text(r.text)) for r in rows]
    if link.response is None:
        created = _first_save(link, language, {**values, "last_section": section.number}, answers)
        if created is not None:
            commit()
            return created
    response = link.response
    begin()
    if not _guarded(_RESAVE, {"response_id": response.id, "now": utcnow(), "section": section.number,
                              "country": values.get("country"), "cohort": values.get("cohort")}):
        raise AlreadySubmitted()
    delete_matching(_answers, "response_id", response.id, "question_id", [q.id for q in section.questions])
    _insert_answers(response.id, answers)
    commit()
    return response


def _grouped(answers: Iterable[StoredAnswer]) -> dict[int, list[StoredAnswer]]:
    """Answers grouped by question id, in the order they were stored."""
    grouped: dict[int, list[StoredAnswer]] = {}
    for answer in answers:
        grouped.setdefault(answer.question_id, []).append(answer)
    return grouped


def unanswered_required(structure: SurveyStructure, answers: dict[int, list[StoredAnswer]]) -> list[tuple[SectionView, QuestionView]]:
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
    anonymous = link.survey.anonymous
    stamp = _stamp(anonymous)
    params: dict[str, object] = {"response_id": response.id, "stamp": stamp}
    if anonymous:
        params["started"] = _day(response.started_at)
    invitation_id = None if link.invitation is None else link.invitation.id
    begin()
    if dialect_name() == "postgresql":
        if not _guarded(_SUBMITS_POSTGRESQL[anonymous], {**params, "invitation_id": invitation_id}):
            return False
    else:
        if not _guarded(_SUBMIT_ANONYMOUS if anonymous else _SUBMIT, params):
            return False
        if invitation_id is not None:
            _COMPLETE_INVITATION.execute({"invitation_id": invitation_id, "stamp": stamp})
    totals.add_response(response.id)
    commit()
    return True
