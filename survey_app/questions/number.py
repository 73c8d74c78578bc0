"""Number questions: a whole number, such as a year, within the range the survey file gives."""
from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from flask_babel import gettext as _

from ..figures import Figure, Note
from .answers import AnswerRow, Posted, StoredAnswer, clean_text
from .base import (
    ExportColumn,
    NumberSummary,
    QuestionResult,
    QuestionTally,
    QuestionType,
    RandomSource,
    Reading,
    Sampled,
    Sampler,
    SampleTexts,
    Subject,
    SummaryContext,
    TextPicker,
    integer_setting,
    mean,
    word_setting,
)
from .registry import register
from .snapshot import QuestionView

# No number answer may go beyond this, whatever its question says: the column is a 32-bit integer,
# and sums of many answers must stay exact.
NUMBER_LIMIT = 1_000_000_000
# Whole numbers as typed on a keyboard: ASCII digits with an optional minus. int() alone would also
# take "٣", "1_950" and " +7", and "²".isdigit() is true though int("²") fails.
_WHOLE_NUMBER = re.compile(r"-?[0-9]+", re.ASCII)


def parse_whole_number(raw: str) -> int | None:
    """The integer a fellow typed, or None unless it is ASCII digits within ±NUMBER_LIMIT."""
    if not _WHOLE_NUMBER.fullmatch(raw) or len(raw.lstrip("-")) > len(str(NUMBER_LIMIT)):
        return None
    number = int(raw)
    return number if -NUMBER_LIMIT <= number <= NUMBER_LIMIT else None


def number_bounds(q: QuestionView) -> tuple[int, int]:
    """The range a number question accepts: its own min_value and max_value, within ±NUMBER_LIMIT."""
    low, high = q.settings.get("min_value"), q.settings.get("max_value")
    return (max(int(low), -NUMBER_LIMIT) if low is not None else -NUMBER_LIMIT,
            min(int(high), NUMBER_LIMIT) if high is not None else NUMBER_LIMIT)


@register
class Number(QuestionType):
    """A whole number typed in a short box (numeric keyboard on phones)."""

    name = "number"
    template = "number"
    settings = {"min_value": integer_setting(), "max_value": integer_setting(), "autocomplete": word_setting()}

    def read(self, q: QuestionView, posted: Posted, text: TextPicker | None = None) -> Reading:
        subject = Subject(q, text)
        values = posted.getlist(q.code)
        if len(values) > 1:
            return Reading(errors=[_("Enter only one number for “%(question)s”", question=subject.question)])
        raw = clean_text(values[0] if values else None)
        if not raw:
            return Reading(errors=[_("Enter %(name)s", name=subject.name)] if q.required else [])
        number = parse_whole_number(raw)
        low, high = number_bounds(q)
        if number is None and any(ch.isdigit() and not ch.isascii() for ch in raw):
            return Reading(errors=[_("Enter %(name)s using the digits 0 to 9", name=subject.name)])
        if number is None and not _WHOLE_NUMBER.fullmatch(raw):
            return Reading(errors=[_("Enter %(name)s as a whole number, like 2015", name=subject.name)])
        if number is None or not low <= number <= high:
            return Reading(errors=[_("Enter %(name)s as a number between %(low)s and %(high)s", name=subject.name,
                                     low=low, high=high)])
        return Reading(rows=[AnswerRow(q.id, number=number)])

    def formdata(self, q: QuestionView, stored: Sequence[StoredAnswer]) -> list[tuple[str, str]]:
        return [(q.code, "" if a.number is None else str(a.number)) for a in stored]

    def sampler(self, q: QuestionView, rng: RandomSource, texts: SampleTexts) -> Sampler:
        low = int(q.settings.get("min_value", 0))
        high = int(q.settings.get("max_value", low + 100))

        def answer(rng: RandomSource, lang: str) -> list[Sampled]:
            return [("", "", rng.randint(low, high), None)]

        return answer

    def describe(self, q: QuestionView, stored: Sequence[StoredAnswer], text: TextPicker) -> list[str]:
        return [str(a.number) for a in stored if a.number is not None]

    def export_columns(self, q: QuestionView, text: TextPicker) -> list[ExportColumn]:
        return [ExportColumn(q.code, text(q.label))]

    def export_values(self, q: QuestionView, stored: Sequence[StoredAnswer], labels: Mapping[str, str]) -> list[Any]:
        return [stored[0].number if stored and stored[0].number is not None else ""]

    def summarise(self, q: QuestionView, tally: QuestionTally, ctx: SummaryContext) -> QuestionResult:
        count = total = 0
        low: int | None = None
        high: int | None = None
        for (_item, _option, number, _category), cell in tally.cells.items():
            if not cell.numbers:
                continue
            count += cell.numbers
            total += number * cell.numbers
            low = number if low is None else min(low, number)
            high = number if high is None else max(high, number)
        return QuestionResult(code=q.code, type=q.type, label=ctx.text(q.label), base=count,
                              number=NumberSummary(count, mean(total, count), low, high))

    def figures(self, result: QuestionResult, ctx: SummaryContext) -> list[Figure]:
        number = result.number
        if number is None or not number.count:
            return []
        return [Note(_("Mean %(mean)s, lowest %(low)s, highest %(high)s.", mean=number.mean, low=number.minimum,
                       high=number.maximum))]

    def reviewable(self, q: QuestionView) -> bool:
        return False
