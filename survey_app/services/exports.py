"""CSV and XLSX exports of every response, streamed in pages so memory stays flat at any size.

One row per response and one column per answer value (see docs/results.md for the layout).
No names, e-mail addresses, invitation ids or tokens leave through an export.  Every text
cell a spreadsheet could run as a formula is neutralised with a leading apostrophe.
"""
from __future__ import annotations

import csv
import io
import os
import re
import tempfile
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from ..countries import country_name
from ..extensions import db
from ..models import Answer, QuestionType, Response, Survey
from ..regions import region_name, region_of
from . import audit

PAGE_SIZE = 1000
FORMATS = ("csv", "xlsx")
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


@dataclass
class Column:
    header: str
    label: str
    question_id: int | None = None
    kind: str = ""  # code, label, other, flag, rank, text, number
    item: str = ""
    option: str = ""


def columns(survey: Survey, lang: str = "en") -> list[Column]:
    """The export's columns in question order: response facts, then answers."""
    cols = [
        Column("response_id", "Response"), Column("status", "Status"),
        Column("submitted_on", "Submitted on"), Column("language", "Language"),
        Column("respondent_country", "Country code"), Column("respondent_country_name", "Country"),
        Column("respondent_region", "World region"), Column("respondent_cohort", "Cohort year"),
    ]
    for question in survey.questions:
        label = survey.text(question.label, lang)
        qid, code = question.id, question.code
        has_other = any(o.is_other for o in question.choices)
        if question.type in (QuestionType.SINGLE.value, QuestionType.LIKERT.value):
            cols.append(Column(code, label, qid, "code"))
            cols.append(Column(f"{code}_label", f"{label} (answer)", qid, "label"))
        elif question.type == QuestionType.MULTIPLE.value:
            for option in question.choices:
                cols.append(Column(f"{code}.{option.code}", f"{label}: {survey.text(option.label, lang)}",
                                   qid, "flag", option=option.code))
        elif question.type == QuestionType.MATRIX.value:
            for row in question.rows:
                row_label = f"{label}: {survey.text(row.label, lang)}"
                cols.append(Column(f"{code}.{row.code}", row_label, qid, "code", item=row.code))
                cols.append(Column(f"{code}.{row.code}_label", f"{row_label} (answer)", qid, "label",
                                   item=row.code))
        elif question.type == QuestionType.RANKING.value:
            for option in question.choices:
                cols.append(Column(f"{code}.{option.code}", f"{label}: {survey.text(option.label, lang)} (rank)",
                                   qid, "rank", item=option.code))
        elif question.type == QuestionType.NUMBER.value:
            cols.append(Column(code, label, qid, "number"))
        else:
            cols.append(Column(code, label, qid, "text"))
        if has_other:
            cols.append(Column(f"{code}_other", f"{label} (other, please specify)", qid, "other"))
    seen: set[str] = set()
    for column in cols:
        while column.header in seen:  # a question code may equal a fixed column's name
            column.header += "_"
        seen.add(column.header)
    return cols


def _labels(survey: Survey, lang: str) -> dict[int, dict[str, str]]:
    return {q.id: {o.code: survey.text(o.label, lang) for o in q.choices} for q in survey.questions}


def _cell(column: Column, answers: dict[tuple[int, str], list[Any]], labels: dict[int, dict[str, str]],
          answered: set[int]) -> Any:
    found = answers.get((column.question_id, column.item), [])
    if column.kind == "flag":
        if column.question_id not in answered:
            return ""
        return 1 if any(a.option_code == column.option for a in found) else 0
    if column.kind == "other":
        texts = [a.text for values in (v for (qid, _i), v in answers.items() if qid == column.question_id)
                 for a in values if a.option_code and a.text]
        return "; ".join(texts)
    if not found:
        return ""
    first = found[0]
    if column.kind == "code":
        return first.option_code
    if column.kind == "label":
        return labels[column.question_id].get(first.option_code, first.option_code)
    if column.kind in ("rank", "number"):
        return first.number if first.number is not None else ""
    return first.text or ""


def iter_rows(survey: Survey, lang: str = "en", label_headers: bool = False) -> Iterator[list[Any]]:
    """Return rows: the header, then one per response, reading a page of responses at a time.

    The survey's structure is read now, so the rows can be streamed after the request's commit.
    """
    return _rows(survey.id, columns(survey, lang), _labels(survey, lang), lang, label_headers)


def _rows(survey_id: int, cols: list[Column], labels: dict[int, dict[str, str]], lang: str,
          label_headers: bool) -> Iterator[list[Any]]:
    yield [neutralise(c.label if label_headers else c.header) for c in cols]
    last_id = 0
    while True:
        page = db.session.execute(
            select(Response.id, Response.status, Response.submitted_at, Response.language, Response.country,
                   Response.cohort)
            .where(Response.survey_id == survey_id, Response.id > last_id)
            .order_by(Response.id).limit(PAGE_SIZE)
        ).all()
        if not page:
            return
        last_id = page[-1].id
        by_response: dict[int, dict[tuple[int, str], list[Any]]] = defaultdict(lambda: defaultdict(list))
        # Plain rows, not ORM objects, so the session's identity map does not grow page by page.
        for answer in db.session.execute(
            select(Answer.response_id, Answer.question_id, Answer.item_code, Answer.option_code,
                   Answer.number, Answer.text)
            .where(Answer.response_id.in_([r.id for r in page]))
        ):
            by_response[answer.response_id][(answer.question_id, answer.item_code)].append(answer)
        for response in page:
            answers = by_response.get(response.id, {})
            answered = {qid for qid, _item in answers}
            row: list[Any] = [
                response.id, response.status,
                response.submitted_at.date().isoformat() if response.submitted_at else "",
                response.language, response.country or "", country_name(response.country, lang),
                region_name(region_of(response.country)), response.cohort if response.cohort is not None else "",
            ]
            row.extend(_cell(c, answers, labels, answered) for c in cols[8:])
            yield [neutralise(value) for value in row]


def iter_csv(survey: Survey, lang: str = "en", label_headers: bool = False) -> Iterator[str]:
    """Return CSV text in chunks, with a byte-order mark so that Excel reads it as UTF-8."""
    return _csv_chunks(iter_rows(survey, lang, label_headers))


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


def write_xlsx(survey: Survey, path: str, lang: str = "en") -> None:
    """Write the workbook in openpyxl's write-only mode: rows go to disk as they are made."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Responses")
    for row in iter_rows(survey, lang):
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


def _string_cell(sheet, value: str):
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


def xlsx_tempfile(survey: Survey, lang: str = "en") -> str:
    fd, path = tempfile.mkstemp(suffix=".xlsx", prefix="survey-export-")
    os.close(fd)
    try:
        write_xlsx(survey, path, lang)
    except BaseException:
        os.unlink(path)
        raise
    return path


def record_export(survey: Survey, fmt: str) -> None:
    """Log who exported which survey in which format. Commit."""
    audit.record("results.export", survey.id, format=fmt)
    db.session.commit()


def export_to_file(survey: Survey, fmt: str, path: str, lang: str = "en") -> None:
    """Write an export to a file (for the CLI) and log it. Commit."""
    if fmt == "csv":
        with open(path, "w", encoding="utf-8", newline="") as handle:
            for chunk in iter_csv(survey, lang):
                handle.write(chunk)
    elif fmt == "xlsx":
        write_xlsx(survey, path, lang)
    else:
        raise ValueError(f"unknown format {fmt!r}")
    record_export(survey, fmt)


def filename(survey: Survey, fmt: str, when: str) -> str:
    return f"{survey.slug}-responses-{when}.{fmt}"


__all__ = ["FORMATS", "columns", "export_to_file", "iter_csv", "iter_file", "iter_rows", "neutralise",
           "record_export", "write_xlsx", "xlsx_tempfile"]
