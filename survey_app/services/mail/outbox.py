"""Without MAIL_SERVER, every message is an .eml file in the outbox folder, which staff can read."""
from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Collection
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.parser import BytesHeaderParser, BytesParser
from email.utils import getaddresses
from pathlib import Path

from flask import current_app
from flask_mail import Message

from .. import paging
from .messages import TEST_HEADER
from .transport import Outcome, SendResult

# s<survey>-d<delivery>-a<attempt>.eml for a ledger row's message, s<survey>-t<staff>-<ns>.eml for a test.
OUTBOX_NAME_RE = re.compile(r"^s(\d+)-(?:d(\d+)-a\d+|t\d+-\d+)\.eml$")
_REFERENCE_RE = re.compile(r"^[A-Za-z0-9-]+$")


def invitation_reference(survey_id: int, delivery_id: int, attempt: int) -> str:
    """The outbox name of one attempt at a ledger row's message (what OUTBOX_NAME_RE reads back)."""
    return f"s{survey_id}-d{delivery_id}-a{attempt}"


def staff_test_reference(survey_id: int, user_id: int, stamp: int) -> str:
    """The outbox name of a staff member's test message (no ledger row: no delivery id)."""
    return f"s{survey_id}-t{user_id}-{stamp}"


def _outbox_path() -> Path:
    return Path(current_app.config["MAIL_OUTBOX_DIR"])


def outbox_dir() -> Path:
    """The outbox folder, created if missing (for writing; reading never creates it)."""
    path = _outbox_path()
    path.mkdir(parents=True, exist_ok=True)
    return path


class OutboxTransport:
    """Write each message as <reference>.eml: a temporary file, flushed to disk, then renamed into place."""

    def __init__(self) -> None:
        self.directory = outbox_dir()

    def send(self, message: Message, recipient: str, reference: str) -> SendResult:
        if not _REFERENCE_RE.match(reference):
            raise ValueError(f"not an outbox reference: {reference!r}")
        data = message.as_bytes()
        target = self.directory / f"{reference}.eml"
        fd, temp = tempfile.mkstemp(dir=self.directory, suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temp, target)
        except OSError as exc:
            Path(temp).unlink(missing_ok=True)
            return SendResult(Outcome.RETRY, f"could not write {target.name}: {exc}")
        return SendResult(Outcome.SENT, f"written to {target.name}")

    def close(self) -> None:
        pass


@dataclass(frozen=True)
class OutboxFile:
    name: str
    delivery_id: int | None  # None for a staff member's test message
    size: int
    modified: float


def list_outbox(survey_id: int) -> list[OutboxFile]:
    """The .eml files written for one survey, newest first."""
    directory = _outbox_path()
    if not directory.is_dir():
        return []
    files = []
    for entry in os.scandir(directory):
        match = OUTBOX_NAME_RE.match(entry.name)
        if match and int(match.group(1)) == survey_id:
            try:
                stat = entry.stat()
            except FileNotFoundError:  # deleted meanwhile (an erasure in another request)
                continue
            delivery = int(match.group(2)) if match.group(2) else None
            files.append(OutboxFile(entry.name, delivery, stat.st_size, stat.st_mtime))
    files.sort(key=lambda f: (f.modified, f.name), reverse=True)
    return files


@dataclass(frozen=True)
class OutboxEntry:
    """One listed outbox file with the headers staff look for: who it went to and what it said."""

    file: OutboxFile
    to: str
    subject: str
    date: str = ""

    @property
    def test(self) -> bool:
        return self.file.delivery_id is None


@dataclass(frozen=True)
class OutboxPage:
    entries: list[OutboxEntry]
    total: int
    page: int
    pages: int


def outbox_page(survey_id: int, page: int = 1, per_page: int = 50) -> OutboxPage:
    """One page of the outbox, newest first; only the files shown have their headers read."""
    files = list_outbox(survey_id)
    page, pages, offset = paging.window(len(files), page, per_page)
    shown = files[offset:offset + per_page]
    directory = _outbox_path()
    parser = BytesHeaderParser(policy=policy.default)  # decodes =?utf-8?...?= subjects
    entries = []
    for entry in shown:
        try:
            with (directory / entry.name).open("rb") as handle:
                headers = parser.parse(handle)
            to, subject, date = (str(headers.get(name, "")) for name in ("To", "Subject", "Date"))
        except (OSError, ValueError):  # removed meanwhile (erasure), or not a readable message
            to, subject, date = "", "", ""
        entries.append(OutboxEntry(entry, to, subject, date))
    return OutboxPage(entries, len(files), page, pages)


def read_outbox(survey_id: int, name: str) -> bytes | None:
    """Return one outbox file of this survey; the name must match our own pattern exactly."""
    match = OUTBOX_NAME_RE.match(name or "")
    if not match or int(match.group(1)) != survey_id:
        return None
    path = _outbox_path() / name
    return path.read_bytes() if path.is_file() else None


@dataclass(frozen=True)
class OutboxMessage:
    """One outbox message as its reader sees it: headers decoded, both parts as text."""

    name: str
    subject: str
    sender: str
    to: str
    date: str
    language: str
    text: str
    html: str
    test: bool


def _part(message: EmailMessage, subtype: str) -> str:
    part = message.get_body(preferencelist=(subtype,))
    if part is None or part.get_content_subtype() != subtype:
        return ""
    try:
        return str(part.get_content())
    except (LookupError, ValueError):  # an unknown charset: show what can be read
        payload = part.get_payload(decode=True)
        return payload.decode("utf-8", "replace") if isinstance(payload, bytes) else ""


def read_message(survey_id: int, name: str) -> OutboxMessage | None:
    """Read one outbox file of this survey for display; None when it is not one of ours."""
    data = read_outbox(survey_id, name)
    if data is None:
        return None
    message = BytesParser(policy=policy.default).parsebytes(data)
    assert isinstance(message, EmailMessage)  # policy.default builds EmailMessage objects
    subject, sender, to, date, language = (str(message.get(key, "")) for key in
                                           ("Subject", "From", "To", "Date", "Content-Language"))
    return OutboxMessage(name=name, subject=subject, sender=sender, to=to, date=date, language=language,
                         text=_part(message, "plain"), html=_part(message, "html"), test=bool(message.get(TEST_HEADER)))


def _recipients(path: Path) -> set[str]:
    """The lower-cased addresses a written message went to (empty if it cannot be read)."""
    try:
        with path.open("rb") as handle:
            headers = BytesHeaderParser(policy=policy.default).parse(handle)
    except (OSError, ValueError):
        return set()
    return {addr.lower() for _name, addr in getaddresses([str(value) for value in headers.get_all("To", [])])}


def remove_outbox_files(survey_id: int, delivery_ids: Collection[int] = (), addresses: Collection[str] = (),
                        everything: bool = False) -> int:
    """Delete a survey's outbox messages: those of these deliveries, those to these addresses, or all.

    Matching by address too finds copies whose ledger row is already gone (a person removed before
    and added again). Return how many files were deleted; OSError if one cannot be.
    """
    wanted_ids, wanted_addresses = set(delivery_ids), {a.lower() for a in addresses}
    directory, count = _outbox_path(), 0
    for entry in list_outbox(survey_id):
        path = directory / entry.name
        if everything or entry.delivery_id in wanted_ids or (wanted_addresses and _recipients(path) & wanted_addresses):
            path.unlink(missing_ok=True)
            count += 1
    return count
