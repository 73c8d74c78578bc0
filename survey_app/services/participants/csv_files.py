"""Reading a participant CSV file: decoding the bytes Excel and friends write, and its header row.

A file that cannot be read as a list of people raises CsvFileError with a sentence naming the problem.
"""
from __future__ import annotations

import codecs
import csv
import io
import re
from collections import Counter
from collections.abc import Iterator
from typing import Any

from flask_babel import lazy_gettext as _l

COLUMNS = ("name", "email", "country", "cohort", "language")
HEADER_ALIASES = {
    "e-mail": "email", "email address": "email", "e-mail address": "email", "mail": "email",
    "full name": "name", "fellow": "name", "year": "cohort", "lang": "language",
}
MAX_COLUMNS = 200
# Characters no text file holds (tab, line feed and carriage return aside).
_BINARY_CHARS_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class CsvFileError(Exception):
    """The file as a whole cannot be read (not text, damaged, no e-mail column); nothing is imported.

    The message is a translatable sentence that names the problem, for staff to act on.
    """


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


def sniff_delimiter(text: str) -> str:
    first_line = text.split("\n", 1)[0]
    counts = {d: first_line.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def normalise_header(header: str) -> str:
    key = " ".join(header.replace("\ufeff", "").strip().lower().split())
    return HEADER_ALIASES.get(key, key)


def open_csv(data: bytes) -> tuple[list[str], list[str], Iterator[list[str]], str, str]:
    """Decode, find the delimiter and read the header row: (header, keys, rows, delimiter, encoding)."""
    text, encoding = decode_csv(data)
    delimiter = sniff_delimiter(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = next(reader)
    except StopIteration:
        raise CsvFileError(_l("the file is empty.")) from None
    except csv.Error as exc:
        raise unreadable_row(1, exc) from None
    if len(header) > MAX_COLUMNS:
        raise CsvFileError(_l("the first row has %(count)s columns; a list of people has a few (at most %(limit)s). "
                              "Check that you chose the right file.", count=len(header), limit=MAX_COLUMNS))
    keys = [normalise_header(h) for h in header]
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


def unreadable_row(row: int, exc: csv.Error) -> CsvFileError:
    if "field larger than field limit" in str(exc):
        return CsvFileError(_l("row %(row)s has a value longer than %(limit)s characters, which no list of people "
                               "holds. Check that you chose the right file.", row=row, limit=csv.field_size_limit()))
    return CsvFileError(_l("row %(row)s cannot be read as CSV (%(detail)s).", row=row, detail=str(exc)))

