"""Importing a CSV file of fellows: what it would change (the preview), then applying it in one transaction."""
from __future__ import annotations

import csv
from collections import Counter
from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, select
from sqlalchemy.exc import IntegrityError

from ...extensions import db
from ...models import Invitation, Participant, StaffUser, Survey
from ...models.base import utcnow
from .. import audit
from .csv_files import COLUMNS, CsvFileError, open_csv, unreadable_row
from .records import invitation_rows
from .validation import MAX_ATTRIBUTE, ParticipantData, Validator, plain_text

MAX_ROWS = 100_000


class ImportConflict(RuntimeError):
    """The participants changed while an import was being applied; it was rolled back whole."""


@dataclass
class SkippedRow:
    row: int
    reason: str


@dataclass(frozen=True)
class LanguageNotOffered:
    """Fellows in the file whose language the survey does not offer, and the language they get instead."""

    language: str
    count: int
    fallback: str


@dataclass
class ImportPreview:
    """What confirming an import would do; rows are numbered as a spreadsheet shows them."""

    to_add: list[ParticipantData]
    to_update: list[tuple[int, ParticipantData]]
    unchanged: int
    skipped: list[SkippedRow]
    merged: list[SkippedRow]
    total_rows: int
    delimiter: str
    encoding: str
    languages_not_offered: list[LanguageNotOffered] = field(default_factory=list)


@dataclass(frozen=True)
class ImportResult:
    added: int
    updated: int
    unchanged: int
    skipped: int


def languages_not_offered(survey: Survey, people: list[ParticipantData]) -> list[LanguageNotOffered]:
    """One entry per language of these fellows that the survey does not offer, most fellows first.

    Their invitations and reminders go out in the survey's base language (services/invitations
    falls back to it), so that is the language the preview names.
    """
    offered = set(survey.languages or [survey.base_language])
    counts = Counter(p.language for p in people if p.language and p.language not in offered)
    return [LanguageNotOffered(language, count, survey.base_language)
            for language, count in sorted(counts.items(), key=lambda item: (-item[1], item[0]))]


def preview_import(survey: Survey, data: bytes) -> ImportPreview:
    """Read and validate a whole file against the survey's current participants; change nothing."""
    header, keys, reader, delimiter, encoding = open_csv(data)
    validator = Validator.for_survey(survey)
    by_email: dict[str, tuple[int, ParticipantData]] = {}
    skipped: list[SkippedRow] = []
    merged: list[SkippedRow] = []
    row_number = 1
    try:
        for record in reader:
            row_number += 1
            if row_number > MAX_ROWS + 1:
                raise CsvFileError(_l("the file has more than %(limit)s rows. Split it into smaller files and "
                                      "import them one after the other.", limit=MAX_ROWS))
            if not any(cell.strip() for cell in record):
                continue
            if len(record) > len(keys):
                skipped.append(SkippedRow(row_number, f"the row has {len(record)} fields but the header "
                                                      f"names {len(keys)}"))
                continue
            raw: dict[str, str] = {}
            attributes: dict[str, str] = {}
            for key, original, value in zip(keys, header, record, strict=False):
                if key in COLUMNS:
                    raw[key] = value
                elif key and value.strip():
                    name, text = plain_text(original.replace("\ufeff", ""))[:100], plain_text(value)
                    if name and text:
                        attributes[name] = text[:MAX_ATTRIBUTE]
            person, errors = validator.validate(raw, attributes)
            if person is None:
                skipped.append(SkippedRow(row_number, "; ".join(errors.values())))
                continue
            previous = by_email.get(person.email)
            if previous is not None:
                merged.append(SkippedRow(previous[0], f"same e-mail address as row {row_number}; "
                                                      f"row {row_number} was used"))
            by_email[person.email] = (row_number, person)
    except csv.Error as exc:
        raise unreadable_row(row_number, exc) from None

    existing = {
        row.email: row for row in db.session.execute(
            select(Participant.id, Participant.email, Participant.name, Participant.country,
                   Participant.cohort, Participant.language, Participant.attributes)
            .where(Participant.survey_id == survey.id)
        )
    }
    to_add: list[ParticipantData] = []
    to_update: list[tuple[int, ParticipantData]] = []
    unchanged = 0
    people = [person for _row, person in sorted(by_email.values(), key=lambda item: item[0])]
    for person in people:
        current = existing.get(person.email)
        if current is None:
            to_add.append(person)
        elif (current.name, current.country, current.cohort, current.language, current.attributes or {}) != (
                person.name, person.country, person.cohort, person.language, person.attributes):
            to_update.append((current.id, person))
        else:
            unchanged += 1
    merged.sort(key=lambda s: s.row)
    return ImportPreview(to_add=to_add, to_update=to_update, unchanged=unchanged, skipped=skipped,
                         merged=merged, total_rows=row_number - 1, delimiter=delimiter, encoding=encoding,
                         languages_not_offered=languages_not_offered(survey, people))


def apply_import(survey: Survey, preview: ImportPreview, *, actor: StaffUser | None) -> ImportResult:
    """Add and update everyone in one transaction with bulk statements (no per-row flushes).

    If someone adds one of these addresses meanwhile, the whole import is rolled back and
    ImportConflict raised: nothing is half-imported, and checking the file again shows the new state.
    """
    now = utcnow()
    try:
        if preview.to_add:
            db.session.execute(Participant.__table__.insert(), [
                {"survey_id": survey.id, "email": p.email, "created_at": now, "updated_at": now, **p.values()}
                for p in preview.to_add
            ])
            new_emails = {p.email for p in preview.to_add}
            ids = [pid for pid, email in db.session.execute(
                select(Participant.id, Participant.email).where(Participant.survey_id == survey.id)
            ) if email in new_emails]
            db.session.execute(Invitation.__table__.insert(), invitation_rows(survey.id, ids))
        if preview.to_update:
            table = Participant.__table__
            db.session.execute(
                table.update().where(table.c.id == bindparam("pid")).values(
                    name=bindparam("name"), country=bindparam("country"), cohort=bindparam("cohort"),
                    language=bindparam("language"), attributes=bindparam("attributes"),
                    updated_at=bindparam("now")),
                [{"pid": pid, "now": now, **person.values()} for pid, person in preview.to_update])
        result = ImportResult(added=len(preview.to_add), updated=len(preview.to_update),
                              unchanged=preview.unchanged, skipped=len(preview.skipped))
        audit.record("participants.import", survey.id, actor, added=result.added, updated=result.updated,
                     unchanged=result.unchanged, skipped=result.skipped)
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise ImportConflict("participants changed while the import ran") from None
    return result


def import_file(survey: Survey, data: bytes, *, actor: StaffUser | None = None) -> tuple[ImportPreview, ImportResult]:
    """Validate and apply in one go (scripts and tests; actor None is logged as a command)."""
    preview = preview_import(survey, data)
    return preview, apply_import(survey, preview, actor=actor)

