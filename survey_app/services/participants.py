"""Import fellows from CSV and keep one participant per survey and address."""
from __future__ import annotations

import codecs
import csv
import io
import os
import re
import secrets
import time
import unicodedata
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from email_validator import EmailNotValidError, validate_email
from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from ..countries import country_codes, country_names
from ..extensions import db
from ..models import Delivery, Invitation, Participant, StaffUser, Survey
from ..models.base import utcnow
from . import audit, tokens
from .mail import outbox
from .statements import rows_changed

COLUMNS = ("name", "email", "country", "cohort", "language")
HEADER_ALIASES = {
    "e-mail": "email", "email address": "email", "e-mail address": "email", "mail": "email",
    "full name": "name", "fellow": "name", "year": "cohort", "lang": "language",
}
IMPORT_ID_RE = re.compile(r"^[0-9a-f]{32}$")
MAX_NAME = 200
MAX_ATTRIBUTE = 500
MAX_COLUMNS = 200
MAX_ROWS = 100_000
COHORT_MIN, COHORT_MAX = 1950, 2100
# A pending upload (checked, not yet confirmed or cancelled) is deleted once this old.
UPLOAD_MAX_AGE_SECONDS = 24 * 60 * 60
_UPLOAD_NAME_RE = re.compile(r"^s(\d+)-u(\d+)-([0-9a-f]{32})\.csv$")
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f\u0085\u2028\u2029]")
# Characters no text file holds (tab, line feed and carriage return aside).
_BINARY_CHARS_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class CsvFileError(Exception):
    """The file as a whole cannot be read (not text, damaged, no e-mail column); nothing is imported.

    The message is a translatable sentence that names the problem, for staff to act on.
    """


class ParticipantError(ValueError):
    """A single participant's details are invalid; the message says which and why."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(errors.values()))
        self.errors = errors


class ParticipantGone(LookupError):
    """The participant was removed or erased by someone else meanwhile; nothing was changed."""


class ImportConflict(RuntimeError):
    """The participants changed while an import was being applied; it was rolled back whole."""


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


# --- reading the bytes ----------------------------------------------------------------------------

SAVE_AS_CSV = _l("Save it as CSV (UTF-8) and upload it again.")
_IMAGE = _l("an image")
# Files staff upload by mistake, told apart by their first bytes.
_SIGNATURES = (
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", _l("an older Excel workbook (.xls) or another Microsoft Office file")),
    (b"%PDF-", _l("a PDF document")),
    (b"{\\rtf", _l("a rich-text (RTF) document")),
    (b"\x1f\x8b", _l("a compressed (gzip) file")),
    (b"\x89PNG\r\n\x1a\n", _IMAGE),
    (b"\xff\xd8\xff", _IMAGE),
    (b"GIF87a", _IMAGE),
    (b"GIF89a", _IMAGE),
)
_ZIP_CONTENTS = (
    (b"xl/workbook", _l("an Excel workbook (.xlsx)")),
    (b"opendocument.spreadsheet", _l("an OpenDocument spreadsheet (.ods)")),
    (b"word/document", _l("a Word document")),
    (b"ppt/presentation", _l("a PowerPoint presentation")),
    (b"Index/Document.iwa", _l("an Apple Numbers spreadsheet")),
)


def _known_binary(data: bytes) -> Any | None:
    """Name the kind of a file that is plainly not text (a workbook, an image), or None."""
    if data.startswith((b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")):
        for marker, kind in _ZIP_CONTENTS:
            if marker in data:
                return kind
        return _l("a ZIP archive")
    if data[4:12] in (b"ftypheic", b"ftypheix", b"ftypmif1") or (data[:4] == b"RIFF" and data[8:12] == b"WEBP"):
        return _IMAGE
    for signature, kind in _SIGNATURES:
        if data.startswith(signature):
            return kind
    return None


def _utf16_without_bom(head: bytes) -> str | None:
    """Recognise UTF-16 saved without a byte-order mark by where the NULs of its ASCII fall."""
    pairs = len(head) // 2
    if pairs < 4:
        return None
    even = sum(1 for i in range(0, 2 * pairs, 2) if head[i] == 0)
    odd = sum(1 for i in range(1, 2 * pairs, 2) if head[i] == 0)
    if odd >= pairs * 0.3 and even <= pairs * 0.05:
        return "utf-16-le"
    if even >= pairs * 0.3 and odd <= pairs * 0.05:
        return "utf-16-be"
    return None


def decode_csv(data: bytes) -> tuple[str, str]:
    """Decode bytes from Excel and friends, or raise CsvFileError naming what is wrong with them.

    A byte-order mark first, then UTF-16 by where its NULs fall, UTF-8, else Windows-1252. Files
    that are not text at all (a workbook, an image, NUL bytes) are refused, never guessed at.
    """
    kind = _known_binary(data)
    if kind is not None:
        raise CsvFileError(_l("the file is not text: it looks like %(kind)s. %(advice)s", kind=kind,
                              advice=SAVE_AS_CSV))
    if data.startswith(codecs.BOM_UTF8):
        encoding = "utf-8-sig"
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding = "utf-16"
    else:
        encoding = _utf16_without_bom(data[:400]) or "utf-8"
    if encoding.startswith("utf-16") and len(data) % 2:
        raise CsvFileError(_l("the file is UTF-16 text with an odd number of bytes, so its last character is cut "
                              "in half: the file is damaged or incomplete. %(advice)s", advice=SAVE_AS_CSV))
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        if encoding != "utf-8":
            raise CsvFileError(_l("the file is %(encoding)s text, but the character at byte %(position)s is "
                                  "broken (for example half of a surrogate pair). %(advice)s",
                                  encoding="UTF-16" if encoding.startswith("utf-16") else "UTF-8",
                                  position=exc.start + 1, advice=SAVE_AS_CSV)) from None
        # Not UTF-8: Excel's plain "CSV" on Windows, whose every byte decodes.
        text, encoding = data.decode("cp1252", errors="replace"), "cp1252"
    # A stray control character or two is a bad row (reported as such); many are another format.
    sample = text[:65536]
    if len(_BINARY_CHARS_RE.findall(sample)) > max(8, len(sample) // 100):
        raise CsvFileError(_l("the file is not text: it holds bytes that never appear in a CSV file (such as "
                              "NUL), so it is probably a spreadsheet or another program's own format. %(advice)s",
                              advice=SAVE_AS_CSV))
    if not text.strip():
        raise CsvFileError(_l("the file is empty."))
    return text, encoding


def _sniff_delimiter(text: str) -> str:
    first_line = text.split("\n", 1)[0]
    counts = {d: first_line.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _clean(value: str | None) -> str:
    return (value or "").strip()


def _shown(value: str, limit: int = 40) -> str:
    """A typed value quoted in a message, cut short so a 5,000-character paste stays readable."""
    return repr(value if len(value) <= limit else value[:limit] + "…")


def parse_cohort(text: str) -> int | None:
    """Read a cohort year: four decimal digits from COHORT_MIN to COHORT_MAX, else None.

    Digits of any script (Arabic-Indic ٢٠١٥, Persian ۲۰۱۵, full-width ２０１５) are read as the ASCII
    digits they stand for; superscripts, fractions, signs and separators are not digits here.
    The length is checked first, so a 5,000-digit paste never reaches int().
    """
    if len(text) != 4 or not all(ch.isdecimal() for ch in text):
        return None
    year = int("".join(str(unicodedata.decimal(ch)) for ch in text))
    return year if COHORT_MIN <= year <= COHORT_MAX else None


def _plain_text(value: str) -> str:
    """Attribute text without control characters (each becomes a space), trimmed."""
    return " ".join(_CONTROL_RE.sub(" ", value).split()) if _CONTROL_RE.search(value) else value.strip()


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
        # NFC first: the length limit applies to what is stored (NFC can lengthen a few scripts).
        name = unicodedata.normalize("NFC", _clean(raw.get("name")))
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
                errors["email"] = f"the e-mail address {_shown(email_raw)} is not valid ({exc})"
        country = _clean(raw.get("country"))
        country_code: str | None = None
        if country:
            if country.upper() in self.codes:
                country_code = country.upper()
            elif country.casefold() in self.country_by_name:
                country_code = self.country_by_name[country.casefold()]
            else:
                errors["country"] = f"the country {_shown(country)} is not an ISO country code or name"
        cohort_raw = _clean(raw.get("cohort"))
        cohort: int | None = None
        if cohort_raw:
            cohort = parse_cohort(cohort_raw)
            if cohort is None:
                errors["cohort"] = (f"the cohort {_shown(cohort_raw)} is not a year from {COHORT_MIN} to "
                                    f"{COHORT_MAX} written in digits, such as 2015")
        language_raw = _clean(raw.get("language")).replace("_", "-").split("-", 1)[0].lower()
        language: str | None = None
        if language_raw:
            # A preference outside the survey's languages is kept (e-mails fall back to the base
            # language, and a later translation applies); only malformed codes are refused.
            if re.fullmatch(r"[a-z]{2,3}", language_raw):
                language = language_raw
            else:
                errors["language"] = (f"the language {_shown(raw.get('language') or '')} is not a language code "
                                      "such as en or fr")
        if errors:
            return None, errors
        return ParticipantData(name=name, email=email, country=country_code,
                               cohort=cohort, language=language, attributes=attributes), {}


def _normalise_header(header: str) -> str:
    key = " ".join(header.replace("\ufeff", "").strip().lower().split())
    return HEADER_ALIASES.get(key, key)


def _open_csv(data: bytes) -> tuple[list[str], list[str], Iterator[list[str]], str, str]:
    """Decode, find the delimiter and read the header row: (header, keys, rows, delimiter, encoding)."""
    text, encoding = decode_csv(data)
    delimiter = _sniff_delimiter(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = next(reader)
    except StopIteration:
        raise CsvFileError(_l("the file is empty.")) from None
    except csv.Error as exc:
        raise _unreadable_row(1, exc) from None
    if len(header) > MAX_COLUMNS:
        raise CsvFileError(_l("the first row has %(count)s columns; a list of people has a few (at most %(limit)s). "
                              "Check that you chose the right file.", count=len(header), limit=MAX_COLUMNS))
    keys = [_normalise_header(h) for h in header]
    if "email" not in keys:
        raise CsvFileError(_l("the file has no “email” column; the first row must name the columns "
                              "name, email, country, cohort, language."))
    if "name" not in keys:
        raise CsvFileError(_l("the file has no “name” column; the first row must name the columns "
                              "name, email, country, cohort, language."))
    dupes = sorted(k for k, n in Counter(keys).items() if n > 1 and k)
    if dupes:
        raise CsvFileError(_l("these columns appear more than once: %(columns)s.", columns=", ".join(dupes)))
    return header, keys, reader, delimiter, encoding


def _unreadable_row(row: int, exc: csv.Error) -> CsvFileError:
    if "field larger than field limit" in str(exc):
        return CsvFileError(_l("row %(row)s has a value longer than %(limit)s characters, which no list of people "
                               "holds. Check that you chose the right file.", row=row, limit=csv.field_size_limit()))
    return CsvFileError(_l("row %(row)s cannot be read as CSV (%(detail)s).", row=row, detail=str(exc)))


def preview_import(survey: Survey, data: bytes) -> ImportPreview:
    """Read and validate a whole file against the survey's current participants; change nothing."""
    header, keys, reader, delimiter, encoding = _open_csv(data)
    validator = _Validator.for_survey(survey)
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
                    name, text = _plain_text(original.replace("\ufeff", ""))[:100], _plain_text(value)
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
        raise _unreadable_row(row_number, exc) from None

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


def invitation_rows(survey_id: int, participant_ids: list[int]) -> list[dict[str, Any]]:
    """Rows for fresh personal invitations (a new random seed each), ready for a bulk insert."""
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


# --- uploads kept between checking and confirming -------------------------------------------------
# Each pending upload is instance/imports/s<survey>-u<staff>-<random id>.csv. It is deleted when the
# import is confirmed or cancelled, when the same person uploads another file for the same survey,
# when the person in it is erased, and once UPLOAD_MAX_AGE_SECONDS old.

def _imports_dir() -> Path:
    path = Path(current_app.instance_path) / "imports"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _upload_path(survey_id: int, import_id: str) -> Path | None:
    if not IMPORT_ID_RE.match(import_id or ""):
        return None
    return next(_imports_dir().glob(f"s{int(survey_id)}-u*-{import_id}.csv"), None)


def _expired(path: Path, now: float) -> bool:
    try:
        return now - path.stat().st_mtime >= UPLOAD_MAX_AGE_SECONDS
    except FileNotFoundError:
        return False


def stash_upload(survey_id: int, uploader_id: int, data: bytes) -> str:
    """Keep an uploaded file between preview and confirm, replacing this person's pending one; return its id."""
    directory = _imports_dir()
    for previous in directory.glob(f"s{int(survey_id)}-u{int(uploader_id)}-*.csv"):
        previous.unlink(missing_ok=True)
    expire_uploads()
    import_id = secrets.token_hex(16)
    target = directory / f"s{int(survey_id)}-u{int(uploader_id)}-{import_id}.csv"
    temp = target.with_suffix(".tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    temp.replace(target)
    return import_id


def load_upload(survey_id: int, import_id: str) -> bytes | None:
    """Return a pending upload of this survey, or None when the id is malformed, the file gone or expired."""
    path = _upload_path(survey_id, import_id)
    if path is None:
        return None
    if _expired(path, time.time()):
        path.unlink(missing_ok=True)
        return None
    try:
        return path.read_bytes()
    except FileNotFoundError:  # confirmed or cancelled by another request meanwhile
        return None


def discard_upload(survey_id: int, import_id: str) -> bool:
    """Delete a pending upload (confirmed, cancelled or unreadable); say whether there was one."""
    path = _upload_path(survey_id, import_id)
    if path is None:
        return False
    path.unlink(missing_ok=True)
    return True


def expire_uploads(dry_run: bool = False) -> int:
    """Delete every upload older than UPLOAD_MAX_AGE_SECONDS (and leftovers of interrupted writes)."""
    directory = Path(current_app.instance_path) / "imports"
    if not directory.is_dir():
        return 0
    now, count = time.time(), 0
    for path in directory.iterdir():
        if path.suffix in {".csv", ".tmp"} and path.is_file() and _expired(path, now):
            count += 1
            if not dry_run:
                path.unlink(missing_ok=True)
    return count


def emails_in_upload(data: bytes) -> set[str]:
    """Every valid e-mail address in a file, normalised as the import stores it."""
    _header, keys, reader, _delimiter, _encoding = _open_csv(data)
    column = keys.index("email")
    found = set()
    try:
        for record in reader:
            if len(record) > column and record[column].strip():
                try:
                    found.add(_normalise_email(record[column].strip()))
                except EmailNotValidError:
                    continue
    except csv.Error as exc:
        raise _unreadable_row(0, exc) from None
    return found


def discard_uploads_holding(email: str) -> int:
    """Delete every pending upload that lists this address (or that cannot be read); return how many."""
    directory = Path(current_app.instance_path) / "imports"
    if not directory.is_dir():
        return 0
    count = 0
    for path in directory.iterdir():
        if path.suffix not in {".csv", ".tmp"} or not path.is_file():
            continue
        try:
            holds = email in emails_in_upload(path.read_bytes())
        except CsvFileError:
            holds = True  # it could never be imported, and may hold anyone
        except FileNotFoundError:
            continue
        if holds:
            path.unlink(missing_ok=True)
            count += 1
    return count


# --- one participant ---------------------------------------------------------------------------------

def validate_participant(survey: Survey, name: str, email: str, country: str = "", cohort: str = "",
                         language: str = "") -> ParticipantData:
    """Check one participant typed in the staff UI with the same rules as the import."""
    person, errors = _Validator.for_survey(survey).validate(
        {"name": name, "email": email, "country": country, "cohort": cohort, "language": language}, {})
    if person is None:
        raise ParticipantError(errors)
    return person


def lock_participant(participant_id: int) -> bool:
    """Hold this person's row until the commit, and say whether they still exist.

    Every staff action on one person (edit, remove, resend, delete invitation data, erase) starts
    here, so two of them on the same person run one after the other and the second sees what the
    first did. A no-op UPDATE rather than SELECT ... FOR UPDATE: it locks the row on PostgreSQL
    and takes the write lock on SQLite, which has no row locks.
    """
    return rows_changed(
        update(Participant).where(Participant.id == participant_id)
        .values(updated_at=Participant.updated_at).execution_options(synchronize_session=False)) == 1


def lock_participant_or_raise(participant: Participant) -> None:
    """Lock the participant and reload what others may have changed, or roll back and raise ParticipantGone."""
    participant_id = participant.id
    if not lock_participant(participant_id):
        db.session.rollback()
        raise ParticipantGone(participant_id)
    db.session.refresh(participant)


EMAIL_TAKEN = "someone with this e-mail address is already a participant"


def _email_taken(survey_id: int, email: str, except_id: int | None = None) -> bool:
    query = select(func.count(Participant.id)).where(Participant.survey_id == survey_id,
                                                     Participant.email == email)
    if except_id is not None:
        query = query.where(Participant.id != except_id)
    return db.session.execute(query).scalar_one() > 0


def add_participant(survey: Survey, person: ParticipantData, *, actor: StaffUser | None) -> Participant:
    """Add one fellow with a personal invitation. Commit."""
    if _email_taken(survey.id, person.email):
        raise ParticipantError({"email": EMAIL_TAKEN})
    participant = Participant(survey_id=survey.id, email=person.email, **person.values())
    try:
        db.session.add(participant)
        db.session.flush()
        db.session.execute(insert(Invitation), invitation_rows(survey.id, [participant.id]))
        audit.record("participants.add", survey.id, actor, participant_id=participant.id)
        db.session.commit()
    except IntegrityError:  # the same address added by someone else at the same moment
        db.session.rollback()
        raise ParticipantError({"email": EMAIL_TAKEN}) from None
    return participant


def update_participant(participant: Participant, person: ParticipantData, *, actor: StaffUser | None) -> Participant:
    """Change one fellow's details; attributes from imports are kept. Commit. ParticipantGone if removed meanwhile."""
    lock_participant_or_raise(participant)
    if _email_taken(participant.survey_id, person.email, except_id=participant.id):
        db.session.rollback()
        raise ParticipantError({"email": EMAIL_TAKEN})
    participant.name = person.name
    participant.email = person.email
    participant.country = person.country
    participant.cohort = person.cohort
    participant.language = person.language
    audit.record("participants.edit", participant.survey_id, actor, participant_id=participant.id)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise ParticipantError({"email": EMAIL_TAKEN}) from None
    return participant


def remove_participant(participant: Participant, *, actor: StaffUser | None) -> None:
    """Remove a fellow with their invitation, ledger rows and outbox copies (their response, if any, stays). Commit.

    ParticipantGone if someone removed or erased them meanwhile.
    """
    survey_id, participant_id = participant.survey_id, participant.id
    if not lock_participant(participant_id):
        db.session.rollback()
        raise ParticipantGone(participant_id)
    delivery_ids = set(db.session.execute(
        select(Delivery.id).where(Delivery.participant_id == participant_id)).scalars())
    db.session.execute(delete(Delivery).where(Delivery.participant_id == participant_id)
                       .execution_options(synchronize_session=False))
    db.session.execute(delete(Invitation).where(Invitation.participant_id == participant_id)
                       .execution_options(synchronize_session=False))
    db.session.expunge(participant)
    db.session.execute(delete(Participant).where(Participant.id == participant_id)
                       .execution_options(synchronize_session=False))
    audit.record("participants.remove", survey_id, actor, participant_id=participant_id)
    outbox.remove_outbox_files(survey_id, delivery_ids)
    db.session.commit()


def get_participant(survey_id: int, participant_id: int) -> Participant | None:
    return db.session.execute(
        select(Participant).where(Participant.survey_id == survey_id, Participant.id == participant_id)
    ).scalar_one_or_none()


def participant_survey_id(participant_id: int) -> int | None:
    """The survey a participant belongs to, or None if there is no such participant (any more)."""
    return db.session.execute(
        select(Participant.survey_id).where(Participant.id == participant_id)).scalar_one_or_none()
