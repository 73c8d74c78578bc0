"""Free-text questions: one line, or a longer text box; quotable ones are reviewed by staff."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from flask_babel import gettext as _
from flask_babel import ngettext

from ..figures import Figure, Note
from .answers import AnswerRow, Posted, StoredAnswer, clean_text
from .base import (
    ExportColumn,
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
    flag_setting,
    integer_setting,
    word_setting,
)
from .registry import register
from .snapshot import QuestionView


class TextType(QuestionType):
    """What both text types share: a length limit, answers stored as text, counted but not charted."""

    default_limit: int

    def limit(self, q: QuestionView) -> int:
        return int(q.settings.get("max_length", self.default_limit))

    def read(self, q: QuestionView, posted: Posted, text: TextPicker | None = None) -> Reading:
        subject = Subject(q, text)
        values = posted.getlist(q.code)
        if len(values) > 1:
            return Reading(errors=[_("Enter only one answer to “%(question)s”", question=subject.question)])
        value = clean_text(values[0] if values else None)
        if not value:
            return Reading(errors=[_("Enter %(name)s", name=subject.name)] if q.required else [])
        if len(value) > self.limit(q):
            return Reading(errors=[_("Enter %(name)s in %(max)d characters or fewer (it is %(len)d)",
                                     name=subject.name, max=self.limit(q), len=len(value))])
        return Reading(rows=[AnswerRow(q.id, text=value)])

    def formdata(self, q: QuestionView, stored: Sequence[StoredAnswer]) -> list[tuple[str, str]]:
        return [(q.code, a.text or "") for a in stored]

    def sampler(self, q: QuestionView, rng: RandomSource, texts: SampleTexts) -> Sampler:
        limit = self.limit(q)

        answered = 1.0 if q.required else 0.4

        def answer(rng: RandomSource, lang: str) -> list[Sampled]:
            # Most fellows leave optional free text empty.
            if rng.random() >= answered:
                return []
            return [("", "", None, texts.free(rng, lang)[:limit])]

        return answer

    def describe(self, q: QuestionView, stored: Sequence[StoredAnswer], text: TextPicker) -> list[str]:
        return [a.text for a in stored if a.text]

    def export_columns(self, q: QuestionView, text: TextPicker) -> list[ExportColumn]:
        return [ExportColumn(q.code, text(q.label))]

    def export_values(self, q: QuestionView, stored: Sequence[StoredAnswer], labels: Mapping[str, str]) -> list[Any]:
        return [(stored[0].text or "") if stored else ""]

    def summarise(self, q: QuestionView, tally: QuestionTally, ctx: SummaryContext) -> QuestionResult:
        return QuestionResult(code=q.code, type=q.type, label=ctx.text(q.label), base=tally.respondents,
                              texts=sum(cell.texts for cell in tally.cells.values()))

    def figures(self, result: QuestionResult, ctx: SummaryContext) -> list[Figure]:
        return [Note(ngettext("%(num)d free-text answer.", "%(num)d free-text answers.", result.texts))]

    def reviewable(self, q: QuestionView) -> bool:
        return bool(q.settings.get("quotable"))


@register
class ShortText(TextType):
    """One line of text (500 characters unless the survey file says otherwise)."""

    name = "text"
    template = "text"
    default_limit = 500
    settings = {"max_length": integer_setting(1), "autocomplete": word_setting(), "quotable": flag_setting}


@register
class LongText(TextType):
    """A longer text in a text box (5,000 characters unless the survey file says otherwise)."""

    name = "textarea"
    template = "textarea"
    default_limit = 5000
    settings = {"max_length": integer_setting(1), "quotable": flag_setting}
