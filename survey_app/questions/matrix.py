"""Matrix questions: one answer on a shared scale for each of several rows."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from flask_babel import gettext as _
from flask_babel import ngettext

from ..figures import Cell, Figure, Segment, Stacked, StackRow, Table, percent_text
from .answers import AnswerRow, Posted, StoredAnswer
from .base import (
    DefinitionError,
    ExportColumn,
    MatrixRow,
    OptionCount,
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
    percent,
    skewed_weights,
)
from .registry import register
from .snapshot import QuestionView


def cell_field_name(q: QuestionView, code: str) -> str:
    """The radios of one row."""
    return f"{q.code}__{code}"


@register
class Matrix(QuestionType):
    """Rows (statements or platforms) each answered on the same scale of options."""

    name = "matrix"
    template = "matrix"
    takes_options = True
    takes_rows = True
    item_role = "row"
    # Its options are one scale shared by every row: ordered unless `ordinal: false`, and drawn from a
    # centre line when `diverging: true` (an agree-disagree grid).
    settings = {"ordinal": flag_setting, "diverging": flag_setting}

    def check_definition(self, question: Mapping[str, Any], where: str) -> None:
        if len(question["options"]) < 2:
            raise DefinitionError(f"{where}: a matrix question needs at least two options")
        if not question["rows"]:
            raise DefinitionError(f"{where}: a matrix question needs rows")

    def read(self, q: QuestionView, posted: Posted, text: TextPicker | None = None) -> Reading:
        subject = Subject(q, text)
        errors: list[str] = []
        rows: list[AnswerRow] = []
        unanswered = 0
        for row in q.rows:
            values = posted.getlist(cell_field_name(q, row.code))
            if not values or not values[0]:
                unanswered += 1
            elif len(values) > 1:
                errors.append(_("Select only one answer in each row of “%(question)s”", question=subject.question))
                break
            elif values[0] not in q.choice_codes:
                errors.append(_("Select one of the options shown for “%(question)s”", question=subject.question))
                break
            else:
                rows.append(AnswerRow(q.id, item_code=row.code, option_code=values[0]))
        if q.required and unanswered and not errors:
            errors.append(_("Select %(name)s in each row", name=subject.name))
        return Reading(errors=errors) if errors else Reading(rows=rows)

    def field_names(self, q: QuestionView) -> list[str]:
        return [cell_field_name(q, row.code) for row in q.rows]

    def first_field_id(self, q: QuestionView) -> str:
        return f"{cell_field_name(q, q.rows[0].code)}-{q.choices[0].code}"

    def formdata(self, q: QuestionView, stored: Sequence[StoredAnswer]) -> list[tuple[str, str]]:
        return [(cell_field_name(q, a.item_code), a.option_code) for a in stored]

    def is_complete(self, q: QuestionView, stored: Sequence[StoredAnswer]) -> bool:
        answered = {a.item_code for a in stored}
        return all(row.code in answered for row in q.rows)

    def sampler(self, q: QuestionView, rng: RandomSource, texts: SampleTexts) -> Sampler:
        codes = [o.code for o in q.choices]
        weights = skewed_weights(len(codes), rng)
        rows = [row.code for row in q.rows]

        skip = 0.0 if q.required else 0.1

        def answer(rng: RandomSource, lang: str) -> list[Sampled]:
            # Rows of an optional matrix are sometimes left out, as fellows skip platforms they do not know.
            return [(row, rng.choices(codes, texts.weigh(weights, codes, row))[0], None, None)
                    for row in rows if rng.random() >= skip]

        return answer

    def describe(self, q: QuestionView, stored: Sequence[StoredAnswer], text: TextPicker) -> list[str]:
        lines = []
        for row in q.rows:
            for answer in stored:
                if answer.item_code == row.code:
                    option = q.choice(answer.option_code)
                    lines.append(f"{text(row.label)}: {text(option.label) if option else answer.option_code}")
        return lines

    def export_columns(self, q: QuestionView, text: TextPicker) -> list[ExportColumn]:
        label = text(q.label)
        columns = []
        for row in q.rows:
            row_label = f"{label}: {text(row.label)}"
            columns += [ExportColumn(f"{q.code}.{row.code}", row_label),
                        ExportColumn(f"{q.code}.{row.code}_label", f"{row_label} (answer)")]
        return columns

    def export_values(self, q: QuestionView, stored: Sequence[StoredAnswer], labels: Mapping[str, str]) -> list[Any]:
        chosen: dict[str, str] = {}
        for answer in stored:
            chosen.setdefault(answer.item_code, answer.option_code)
        values: list[Any] = []
        for row in q.rows:
            code = chosen.get(row.code, "")
            values += [code, labels.get(code, code)]
        return values

    def summarise(self, q: QuestionView, tally: QuestionTally, ctx: SummaryContext) -> QuestionResult:
        counts: dict[tuple[str, str], int] = {}
        for (item, option, _number, _category), cell in tally.cells.items():
            if option and cell.answers:
                counts[(item, option)] = counts.get((item, option), 0) + cell.answers
        row_bases: dict[str, int] = {}
        for (item, _option), count in counts.items():
            row_bases[item] = row_bases.get(item, 0) + count
        result = QuestionResult(code=q.code, type=q.type, label=ctx.text(q.label),
                                base=max(row_bases.values(), default=0),
                                scale=[(o.code, ctx.text(o.label)) for o in q.choices],
                                ordinal=bool(q.settings.get("ordinal", True)),
                                diverging=bool(q.settings.get("diverging", False)))
        for row in q.rows:
            base = row_bases.get(row.code, 0)
            result.rows.append(MatrixRow(row.code, ctx.text(row.label), base, [
                OptionCount(o.code, ctx.text(o.label), counts.get((row.code, o.code), 0),
                            percent(counts.get((row.code, o.code), 0), base))
                for o in q.choices
            ]))
        result.note = _("Each row's percentages are of the respondents who answered that row.")
        return result

    def figures(self, result: QuestionResult, ctx: SummaryContext) -> list[Figure]:
        """One chart: a stacked bar per row, every row on the same scale, its n beside its label."""
        if not result.rows:
            return []
        rows = tuple(StackRow(_("%(label)s (n = %(n)s)", label=row.label, n=row.base), row.base,
                              tuple(Segment(c.count, c.percent) for c in row.counts)) for row in result.rows)
        chart = Stacked(result.label, tuple(label for _code, label in result.scale), rows, base=result.base,
                        base_text=ngettext("n = %(num)d respondent who answered at least one row",
                                           "n = %(num)d respondents who answered at least one row", result.base),
                        diverging=result.diverging, ordinal=result.ordinal, rtl=ctx.rtl)
        table_rows = tuple((Cell(row.label), *(Cell(f"{c.count} ({percent_text(c.percent)})") for c in row.counts),
                            Cell(str(row.base))) for row in result.rows)
        return [chart, Table(result.label, (_("Row"), *(label for _code, label in result.scale), "n"), table_rows)]
