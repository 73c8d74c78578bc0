"""Uploads kept between checking an import and confirming it, and their deletion.

Each pending upload is instance/imports/s<survey>-u<staff>-<random id>.csv. It is deleted when the
import is confirmed or cancelled, when the same person uploads another file for the same survey,
when the person in it is erased, and once UPLOAD_MAX_AGE_SECONDS old.
"""
from __future__ import annotations

import csv
import os
import re
import secrets
import time
from pathlib import Path

from email_validator import EmailNotValidError
from flask import current_app

from .csv_files import CsvFileError, open_csv, unreadable_row
from .validation import normalise_email

IMPORT_ID_RE = re.compile(r"^[0-9a-f]{32}$")
# A pending upload (checked, not yet confirmed or cancelled) is deleted once this old.
UPLOAD_MAX_AGE_SECONDS = 24 * 60 * 60


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
    _header, keys, reader, _delimiter, _encoding = open_csv(data)
    column = keys.index("email")
    found = set()
    try:
        for record in reader:
            if len(record) > column and record[column].strip():
                try:
                    found.add(normalise_email(record[column].strip()))
                except EmailNotValidError:
                    continue
    except csv.Error as exc:
        raise unreadable_row(0, exc) from None
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
