"""CSV and XLSX exports of every response, streamed in pages so memory stays flat at any size.

One row per response and one column per answer value (see docs/results.md for the layout),
optionally only the responses of one channel (personal links or the open link).  No names,
e-mail addresses, invitation ids, tokens or address hashes leave through an export.  Every text
cell a spreadsheet could run as a formula is neutralised with a leading apostrophe.
"""
from __future__ import annotations

import csv
import io
import os
import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from flask_babel import force_locale
from sqlalchemy import bindparam, select

from ..countries import country_name
from ..extensions import db
from ..models import Answer, Response, ResponseChannel, StaffUser, Survey
from ..questions import QuestionView, StoredAnswer
from ..regions import region_name, region_of
from . import audit
from .structure import survey_structure

if TYPE_CHECKING:
    from openpyxl.cell import Cell

PAGE_SIZE = 1000
FORMATS = ("csv", "xlsx")
CHANNELS = (ResponseChannel.PERSONAL.value, ResponseChannel.OPEN.value)
# Characters that make Excel, LibreOffice or Google Sheets read a cell as a formula or DDE call,
# including their full-width forms, which some spreadsheets also accept.
_FORMULA_START = frozenset("=+-@\t\r\n\uff1d\uff0b\uff0d\uff20")
_XLSX_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def neutralise(value: Any) -> Any:
    """Prefix an apostrophe to text a spreadsheet would run as a formula, even after spaces."""
    if not isinstance(value, str) or not value:
        return value
    if value[0] in _FORMULA_START or value.lstrip()[:1] in _FORMULA_START:
        return "'" + value
    return value


@dataclass(frozen=True)
class Column:
    header: str
    label: str


_FIXED_COLUMNS = (
    Column("response_id", "Response"), Column("status", "Status"), Column("submitted_on", "Submitted on"),
    Column("language", "Language"), Column("respondent_country", "Country code"),
    Column("respondent_country_name", "Country"), Column("respondent_region", "World region"),
    Column("respondent_cohort", "Cohort year"), Column("channel", "Channel (personal link, open link)"),
)


def _questions(survey: Survey) -> list[QuestionView]:
    return list(survey_structure(survey).questions.values())


def columns(survey: Survey, lang: str = "en") -> list[Column]:
    """The export's columns in question order: response facts, then each question's own columns."""
    def text(texts: dict[str, str]) -> str:
        return survey.text(texts, lang)

    cols = list(_FIXED_COLUMNS)
    for question in _questions(survey):
        cols += [Column(c.header, c.label) for c in question.kind.export_columns(question, text)]
    seen: set[str] = set()
    unique = []
    for column in cols:
        header = column.header
        while header in seen:  # a question code may equal a fixed column's name
            header += "_"
        seen.add(header)
        unique.append(Column(header, column.label))
    return unique


def channel_or_none(value: str | None) -> str | None:
    """A channel to export, from an untrusted argument: one of CHANNELS, or None for every response."""
    return value if value in CHANNELS else None


def iter_rows(survey: Survey, lang: str = "en", label_headers: bool = False,
              channel: str | None = None) -> Iterator[list[Any]]:
    """Return rows: the header, then one per response (of `channel` when given), a page of responses at a time.

    The survey's structure is read now, so the rows can be streamed after the request's commit.
    """
    questions = _questions(survey)
    labels = {q.id: {o.code: survey.text(o.label, lang) for o in q.choices} for q in questions}
    return _rows(survey.id, columns(survey, lang), questions, labels, lang, label_headers, channel)


_responses, _answers = Response.__table__.c, Answer.__table__.c
# Plain Core statements on the tables: rows, not ORM objects, so the session's identity map does
# not grow page by page.
_RESPONSE_PAGE = (
    select(_responses.id, _responses.status, _responses.submitted_at, _responses.language, _responses.country,
           _responses.cohort, _responses.channel)
    .where(_responses.survey_id == bindparam("survey_id"), _responses.id > bindparam("after"),
           _responses.is_test.is_(False))
    .order_by(_responses.id).limit(PAGE_SIZE)
)
_CHANNEL_PAGE = _RESPONSE_PAGE.where(_responses.channel == bindparam("channel"))
# Answers of the page's id range (an index range scan); rows of other surveys' responses in the range
# are dropped by the caller.
_ANSWER_RANGE = select(_answers.response_id, _answers.question_id, _answers.item_code, _answers.option_code,
                       _answers.number, _answers.text).where(
    _answers.response_id.between(bindparam("first"), bindparam("last"))).order_by(_answers.id)


def _rows(survey_id: int, cols: list[Column], questions: list[QuestionView], labels: dict[int, dict[str, str]],
          lang: str, label_headers: bool, channel: str | None = None) -> Iterator[list[Any]]:
    yield [neutralise(c.label if label_headers else c.header) for c in cols]
    places: dict[str | None, tuple[str, str]] = {}  # country code -> (name, region name)
    nothing: tuple[StoredAnswer, ...] = ()
    statement = _RESPONSE_PAGE if channel is None else _CHANNEL_PAGE
    last_id = 0
    while True:
        page = db.session.execute(statement, {"survey_id": survey_id, "after": last_id, "channel": channel}).all()
        if not page:
            return
        last_id = page[-1].id
        # Per response, its answers grouped by question, in the order they were stored.
        stored: dict[int, dict[int, list[StoredAnswer]]] = {r.id: {} for r in page}
        for response_id, qid, item, option, number, text in db.session.execute(
            _ANSWER_RANGE, {"first": page[0].id, "last": last_id}
        ):
            found = stored.get(response_id)
            if found is not None:
                found.setdefault(qid, []).append(StoredAnswer(qid, item, option, number, text))
        for response in page:
            place = places.get(response.country)
            if place is None:
                with force_locale(lang):  # region names are translated; the export may be streamed or a CLI's
                    region = region_name(region_of(response.country))
                place = places[response.country] = (country_name(response.country, lang), region)
            row: list[Any] = [
                response.id, response.status,
                response.submitted_at.date().isoformat() if response.submitted_at else "",
                response.language, response.country or "", place[0], place[1],
                response.cohort if response.cohort is not None else "", response.channel,
            ]
            answers = stored[response.id]
            for question in questions:
                row += question.kind.export_values(question, answers.get(question.id, nothing), labels[question.id])
            yield [neutralise(value) for value in row]


def iter_csv(survey: Survey, lang: str = "en", label_headers: bool = False,
             channel: str | None = None) -> Iterator[str]:
    """Return CSV text in chunks, with a byte-order mark so that Excel reads it as UTF-8."""
    return _csv_chunks(iter_rows(survey, lang, label_headers, channel))


def _csv_chunks(rows: Iterator[list[Any]]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    yield "\ufeff"
    for index, row in enumerate(rows, 1):
        writer.writerow(row)
        if index % 200 == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def write_xlsx(survey: Survey, path: str, lang: str = "en", channel: str | None = None) -> None:
    """Write the workbook in openpyxl's write-only mode: rows go to disk as they are made."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Responses")
    for row in iter_rows(survey, lang, channel=channel):
        cells = []
        for value in row:
            if isinstance(value, str):
                cell = WriteOnlyCell(sheet, value=_XLSX_ILLEGAL.sub("", value))
                cell.data_type = "s"  # never a formula, whatever the text looks like
                cells.append(cell)
            else:
                cells.append(value)
        sheet.append(cells)
    legend = workbook.create_sheet("Columns")
    legend.append(["column", "meaning"])
    for column in columns(survey, lang):
        legend.append([_string_cell(legend, neutralise(column.header)), _string_cell(legend, neutralise(column.label))])
    workbook.save(path)


def _string_cell(sheet: Any, value: str) -> Cell:
    """A text cell that is never a formula (sheet: a write-only worksheet, a class openpyxl keeps private)."""
    from openpyxl.cell import WriteOnlyCell

    cell = WriteOnlyCell(sheet, value=_XLSX_ILLEGAL.sub("", value))
    cell.data_type = "s"
    return cell


def iter_file(path: str, block: int = 64 * 1024) -> Iterator[bytes]:
    """Stream a temporary file and delete it once sent (or abandoned)."""
    try:
        with open(path, "rb") as handle:
            while chunk := handle.read(block):
                yield chunk
    finally:
        os.unlink(path)


def xlsx_tempfile(survey: Survey, lang: str = "en", channel: str | None = None) -> str:
    fd, path = tempfile.mkstemp(suffix=".xlsx", prefix="survey-export-")
    os.close(fd)
    try:
        write_xlsx(survey, path, lang, channel)
    except BaseException:
        os.unlink(path)
        raise
    return path


def record_export(survey: Survey, fmt: str, channel: str | None = None, *, actor: StaffUser | None) -> None:
    """Log who exported which survey in which format (and channel, when only one). Commit."""
    detail: dict[str, str] = {"format": fmt}
    if channel is not None:
        detail["channel"] = channel
    audit.record("results.export", survey.id, actor, **detail)
    db.session.commit()


def export_to_file(survey: Survey, fmt: str, path: str, lang: str = "en", channel: str | None = None, *,
                   actor: StaffUser | None) -> None:
    """Write an export to a file (for the CLI) and log it. Commit."""
    if fmt == "csv":
        with open(path, "w", encoding="utf-8", newline="") as handle:
            for chunk in iter_csv(survey, lang, channel=channel):
                handle.write(chunk)
    elif fmt == "xlsx":
        write_xlsx(survey, path, lang, channel)
    else:
        raise ValueError(f"unknown format {fmt!r}")
    record_export(survey, fmt, channel, actor=actor)


def filename(survey: Survey, fmt: str, when: str, channel: str | None = None) -> str:
    return f"{survey.slug}-responses-{when}{'-' + channel if channel else ''}.{fmt}"


__all__ = ["FORMATS", "columns", "export_to_file", "iter_csv", "iter_file", "iter_rows", "neutralise",
           "record_export", "write_xlsx", "xlsx_tempfile"]
