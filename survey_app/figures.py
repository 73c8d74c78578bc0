"""What results show, independent of the medium: bars, tables and notes, drawn as SVG on pages and in the PDF.

A question type turns its figures into these (survey_app/questions); the dashboard
(templates/results/_figures.html) and the PDF (survey_app/pdf/figures.py) each draw every kind,
so no page or report needs to know which type of question a figure came from.
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Bar:
    """One bar: its label, count and percentage of the chart's base; muted for an "Other" share."""

    label: str
    count: int
    percent: float | None
    muted: bool = False


@dataclass(frozen=True)
class Bars:
    """A horizontal bar chart, bars in the order given, each with its value printed beside it."""

    title: str
    bars: tuple[Bar, ...]
    heading: str = ""  # shown above the chart (a matrix row), with its base when given
    base: int | None = None
    kind: str = field(default="bars", init=False)


@dataclass(frozen=True)
class Cell:
    """A table cell: its text, and a key pages may use to find the figure (data-count)."""

    text: str
    key: str = ""


@dataclass(frozen=True)
class Table:
    """A data table with a caption, column headings and rows led by a row heading."""

    caption: str
    columns: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]
    numeric_from: int = 1  # columns from this one on hold numbers (right-aligned)
    kind: str = field(default="table", init=False)


@dataclass(frozen=True)
class Note:
    """A sentence of text in place of, or introducing, a chart."""

    text: str
    kind: str = field(default="note", init=False)


Figure = Bars | Table | Note


def percent_text(value: float | None) -> str:
    """A percentage as the pages and the PDF print it ("–" when there is no base)."""
    return "–" if value is None else f"{value:.1f} %"
