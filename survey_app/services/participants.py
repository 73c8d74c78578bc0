"""Import fellows from CSV and keep one participant per survey and address."""
from __future__ import annotations

import csv
import io
import re
import secrets
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from email_validator import EmailNotValidError, validate_email
from flask import current_app
from sqlalchemy import bindparam, delete, func, insert, select

from ..countries import country_codes, country_names
from ..extensions import db
from ..models import Delivery, Invitation, Participant, Survey
from ..models.base import utcnow
from . import audit, tokens

COLUMNS = ("name", "email", "country", "cohort", "language")
HEADER_ALIASES = {
    "e-mail": "email", "email address": "email", "e-mail address": "email", "mail": "email",
    "full name": "name", "fellow": "name", "year": "cohort", "lang": "language",
}
IMPORT_ID_RE = re.compile(r"^[0-9a-f]{32}$")
MAX_NAME = 200
MAX_ATTRIBUTE = 500
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f\u0085\u2028\u2029]")


class CsvFileError(Exception):
    """The file as a whole cannot be read (encoding, no e-mail column); nothing is imported."""


class ParticipantError(ValueError):
    """A single participant's details are invalid; the message says which and why."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(errors.values()))
        self.errors = errors


@dataclass
class ParticipantData:
    name: str
    email: str
    country: str | None
    cohort: int | None
    language: str | None
    attributes: dict[str, str] = field(default_factory=dict)

    def values(self) -> dict[str, Any]:
        return {"name": self.name, "country": self.country, "cohort": self.cohort,
                "language": self.language, "attributes": self.attributes}


@dataclass
class SkippedRow:
    row: int
    reason: str


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


@dataclass(frozen=True)
class ImportResult:
    added: int
    updated: int
    unchanged: int
    skipped: int


def decode_csv(data: bytes) -> tuple[str, str]:
    """Decode bytes from Excel and friends: BOM first, then UTF-16 by NULs, UTF-8, else Windows-1252."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data.decode("utf-8-sig"), "utf-8-sig"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16"), "utf-16"
    head = data[:200]
    if head and head.count(b"\x00") > len(head) // 4:
        encoding = "utf-16-le" if head[1:2] == b"\x00" else "utf-16-be"
        return data.decode(encoding), encoding
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace"), "cp1252"


def _sniff_delimiter(text: str) -> str:
    first_line = text.split("\n", 1)[0]
    counts = {d: first_line.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _clean(value: str | None) -> str:
    return (value or "").strip()


_SIMPLE_LOCAL = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*")


@lru_cache(maxsize=8192)
def _normalise_domain(domain: str) -> str:
    return validate_email(f"x@{domain}", check_deliverability=False).domain.lower()


def _normalise_email(address: str) -> str:
    """Validate with email-validator, checking each distinct domain once (60,000 rows share few)."""
    local, at, domain = address.rpartition("@")
    if at and len(local) <= 64 and _SIMPLE_LOCAL.fullmatch(local) and domain.isascii():
        return f"{local.lower()}@{_normalise_domain(domain)}"
    return validate_email(address, check_deliverability=False).normalized.lower()


@dataclass
class _Validator:
    languages: list[str]
    country_by_name: dict[str, str]
    codes: frozenset[str]

    @classmethod
    def for_survey(cls, survey: Survey) -> _Validator:
        names = {name.casefold(): code for code, name in country_names("en").items()}
        return cls(languages=list(survey.languages or [survey.base_language]), country_by_name=names,
                   codes=frozenset(country_codes()))

    def validate(self, raw: dict[str, str], attributes: dict[str, str]) -> tuple[ParticipantData | None, dict]:
        errors: dict[str, str] = {}
        name = _clean(raw.get("name"))
        if "\r" in name or "\n" in name:
            errors["name"] = "the name contains a line break"
        elif not name:
            errors["name"] = "the name is missing"
        elif len(name) > MAX_NAME:
            errors["name"] = f"the name is longer than {MAX_NAME} characters"
        elif _CONTROL_RE.search(name):
            errors["name"] = "the name contains control characters"
        email_raw = _clean(raw.get("email"))
        email = ""
        if "\r" in email_raw or "\n" in email_raw:
            errors["email"] = "the e-mail address contains a line break"
        elif not email_raw:
            errors["email"] = "the e-mail address is missing"
        else:
            try:
                email = _normalise_email(email_raw)
            except EmailNotValidError as exc:
                errors["email"] = f"the e-mail address {email_raw!r} is not valid ({exc})"
        country = _clean(raw.get("country"))
        country_code: str | None = None
        if country:
            if country.upper() in self.codes:
                country_code = country.upper()
            elif country.casefold() in self.country_by_name:
                country_code = self.country_by_name[country.casefold()]
            else:
                errors["country"] = f"the country {country!r} is not an ISO country code or name"
        cohort_raw = _clean(raw.get("cohort"))
        cohort: int | None = None
        if cohort_raw:
            if cohort_raw.isdigit() and 1950 <= int(cohort_raw) <= 2100:
                cohort = int(cohort_raw)
            else:
                errors["cohort"] = f"the cohort {cohort_raw!r} is not a year between 1950 and 2100"
        language_raw = _clean(raw.get("language")).replace("_", "-").split("-", 1)[0].lower()
        language: str | None = None
        if language_raw:
            # A preference outside the survey's languages is kept (e-mails fall back to the base
            # language, and a later translation applies); only malformed codes are refused.
            if re.fullmatch(r"[a-z]{2,3}", language_raw):
                language = language_raw
            else:
                errors["language"] = f"the language {raw.get('language')!r} is not a language code such as en or fr"
        if errors:
            return None, errors
        return ParticipantData(name=unicodedata.normalize("NFC", name), email=email, country=country_code,
                               cohort=cohort, language=language, attributes=attributes), {}


def _normalise_header(header: str) -> str:
    key = " ".join(header.replace("\ufeff", "").strip().lower().split())
    return HEADER_ALIASES.get(key, key)


def preview_import(survey: Survey, data: bytes) -> ImportPreview:
    """Read and validate a whole file against the survey's current participants; change nothing."""
    text, encoding = decode_csv(data)
    delimiter = _sniff_delimiter(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = next(reader)
    except StopIteration:
        raise CsvFileError("the file is empty") from None
    except csv.Error as exc:
        raise CsvFileError(f"the file is not a readable CSV file ({exc})") from None
    keys = [_normalise_header(h) for h in header]
    if "email" not in keys:
        raise CsvFileError("the file has no 'email' column; the first row must name the columns "
                           "name, email, country, cohort, language")
    if "name" not in keys:
        raise CsvFileError("the file has no 'name' column")
    dupes = {k for k in keys if keys.count(k) > 1 and k}
    if dupes:
        raise CsvFileError(f"the column(s) {', '.join(sorted(dupes))} appear more than once")
    validator = _Validator.for_survey(survey)
    by_email: dict[str, tuple[int, ParticipantData]] = {}
    skipped: list[SkippedRow] = []
    merged: list[SkippedRow] = []
    row_number = 1
    try:
        for record in reader:
            row_number += 1
            if not any(cell.strip() for cell in record):
                continue
            if len(record) > len(keys):
                skipped.append(SkippedRow(row_number, f"the row has {len(record)} fields but the header "
                                                      f"names {len(keys)}"))
                continue
            raw: dict[str, str] = {}
            attributes: dict[str, str] = {}
            for key, original, value in zip(keys, header, record):
                if key in COLUMNS:
                    raw[key] = value
                elif key and value.strip():
                    attributes[original.replace("\ufeff", "").strip()[:100]] = value.strip()[:MAX_ATTRIBUTE]
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
        raise CsvFileError(f"row {row_number} cannot be read ({exc}); nothing was imported") from None

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
    for _row, person in sorted(by_email.values(), key=lambda item: item[0]):
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
                         merged=merged, total_rows=row_number - 1, delimiter=delimiter, encoding=encoding)


def _invitation_rows(survey_id: int, participant_ids: list[int]) -> list[dict[str, Any]]:
    rows = []
    for participant_id in participant_ids:
        seed = tokens.new_seed()
        rows.append({
            "survey_id": survey_id, "participant_id": participant_id, "token_seed": seed,
            "token_hash": tokens.hash_token(tokens.token_from_seed(seed)),
            "optout_token_hash": tokens.hash_token(tokens.token_from_seed(seed, purpose="optout")),
            "status": "created",
        })
    return rows


def apply_import(survey: Survey, preview: ImportPreview) -> ImportResult:
    """Add and update everyone in one transaction with bulk statements (no per-row flushes)."""
    now = utcnow()
    if preview.to_add:
        db.session.execute(Participant.__table__.insert(), [
            {"survey_id": survey.id, "email": p.email, "created_at": now, "updated_at": now, **p.values()}
            for p in preview.to_add
        ])
        new_emails = {p.email for p in preview.to_add}
        ids = [pid for pid, email in db.session.execute(
            select(Participant.id, Participant.email).where(Participant.survey_id == survey.id)
        ) if email in new_emails]
        db.session.execute(Invitation.__table__.insert(), _invitation_rows(survey.id, ids))
    if preview.to_update:
        table = Participant.__table__
        db.session.execute(
            table.update().where(table.c.id == bindparam("pid")).values(
                name=bindparam("name"), country=bindparam("country"), cohort=bindparam("cohort"),
                language=bindparam("language"), attributes=bindparam("attributes"), updated_at=bindparam("now")),
            [{"pid": pid, "now": now, **person.values()} for pid, person in preview.to_update])
    result = ImportResult(added=len(preview.to_add), updated=len(preview.to_update),
                          unchanged=preview.unchanged, skipped=len(preview.skipped))
    audit.record("participants.import", survey.id, added=result.added, updated=result.updated,
                 unchanged=result.unchanged, skipped=result.skipped)
    db.session.commit()
    return result


def import_file(survey: Survey, data: bytes) -> tuple[ImportPreview, ImportResult]:
    """Validate and apply in one go (the CLI path)."""
    preview = preview_import(survey, data)
    return preview, apply_import(survey, preview)


def _imports_dir() -> Path:
    path = Path(current_app.instance_path) / "imports"
    path.mkdir(parents=True, exist_ok=True)
    return path


def stash_upload(data: bytes) -> str:
    """Keep an uploaded file on the server between preview and confirm; return its random id."""
    import_id = secrets.token_hex(16)
    target = _imports_dir() / f"{import_id}.csv"
    temp = target.with_suffix(".tmp")
    temp.write_bytes(data)
    temp.replace(target)
    return import_id


def load_upload(import_id: str) -> bytes | None:
    """Return a stashed upload, or None when the id is malformed or the file is gone."""
    if not IMPORT_ID_RE.match(import_id or ""):
        return None
    path = _imports_dir() / f"{import_id}.csv"
    return path.read_bytes() if path.is_file() else None


def discard_upload(import_id: str) -> None:
    if IMPORT_ID_RE.match(import_id or ""):
        (_imports_dir() / f"{import_id}.csv").unlink(missing_ok=True)


def validate_participant(survey: Survey, name: str, email: str, country: str = "", cohort: str = "",
                         language: str = "") -> ParticipantData:
    """Check one participant typed in the staff UI with the same rules as the import."""
    person, errors = _Validator.for_survey(survey).validate(
        {"name": name, "email": email, "country": country, "cohort": cohort, "language": language}, {})
    if person is None:
        raise ParticipantError(errors)
    return person


def _email_taken(survey_id: int, email: str, except_id: int | None = None) -> bool:
    query = select(func.count(Participant.id)).where(Participant.survey_id == survey_id,
                                                     Participant.email == email)
    if except_id is not None:
        query = query.where(Participant.id != except_id)
    return db.session.execute(query).scalar_one() > 0


def add_participant(survey: Survey, person: ParticipantData) -> Participant:
    """Add one fellow with a personal invitation."""
    if _email_taken(survey.id, person.email):
        raise ParticipantError({"email": "someone with this e-mail address is already a participant"})
    participant = Participant(survey_id=survey.id, email=person.email, **person.values())
    db.session.add(participant)
    db.session.flush()
    db.session.execute(insert(Invitation), _invitation_rows(survey.id, [participant.id]))
    audit.record("participants.add", survey.id, participant_id=participant.id)
    db.session.commit()
    return participant


def update_participant(participant: Participant, person: ParticipantData) -> Participant:
    """Change one fellow's details; attributes from imports are kept."""
    if _email_taken(participant.survey_id, person.email, except_id=participant.id):
        raise ParticipantError({"email": "someone with this e-mail address is already a participant"})
    participant.name = person.name
    participant.email = person.email
    participant.country = person.country
    participant.cohort = person.cohort
    participant.language = person.language
    audit.record("participants.edit", participant.survey_id, participant_id=participant.id)
    db.session.commit()
    return participant


def remove_participant(participant: Participant) -> None:
    """Remove a fellow with their invitation and ledger rows (their response, if any, stays)."""
    survey_id, participant_id = participant.survey_id, participant.id
    db.session.execute(delete(Delivery).where(Delivery.participant_id == participant_id))
    db.session.delete(participant)
    audit.record("participants.remove", survey_id, participant_id=participant_id)
    db.session.commit()


def get_participant(survey_id: int, participant_id: int) -> Participant | None:
    return db.session.execute(
        select(Participant).where(Participant.survey_id == survey_id, Participant.id == participant_id)
    ).scalar_one_or_none()

