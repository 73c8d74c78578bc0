"""Ranking questions: the options put in order of preference, 1 the most preferred."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from flask_babel import gettext as _
from flask_babel import ngettext

from ..figures import Bar, Bars, Cell, Figure, Table, percent_text
from .answers import AnswerRow, Posted, StoredAnswer
from .base import (
    DefinitionError,
    ExportColumn,
    QuestionResult,
    QuestionTally,
    QuestionType,
    RandomSource,
    RankItem,
    Reading,
    Sampled,
    Sampler,
    SampleTexts,
    Subject,
    SummaryContext,
    TextPicker,
    mean,
    percent,
    skewed_weights,
)
from .registry import register
from .snapshot import QuestionView

ASCII_DIGITS = frozenset("0123456789")


def rank_field_name(q: QuestionView, code: str) -> str:
    """The list that gives one item its rank."""
    return f"{q.code}__{code}"


def parse_rank(raw: str, count: int) -> int | None:
    """A rank from 1 to count written in ASCII digits, else None ("²".isdigit() is true, int() refuses it)."""
    if not raw or len(raw) > 4 or not set(raw) <= ASCII_DIGITS:
        return None
    rank = int(raw)
    return rank if 1 <= rank <= count else None


@register
class Ranking(QuestionType):
    """Each option given a distinct rank; ranks run from 1 without gaps, and may stop early unless required."""

    name = "ranking"
    template = "ranking"
    takes_options = True

    def check_definition(self, question: Mapping[str, Any], where: str) -> None:
        if len(question["options"]) < 2:
            raise DefinitionError(f"{where}: a ranking question needs at least two options")

    def read(self, q: QuestionView, posted: Posted, text: TextPicker | None = None) -> Reading:
        subject = Subject(q, text)
        ranks: dict[str, int] = {}
        for item in q.choices:
            values = posted.getlist(rank_field_name(q, item.code))
            if len(values) > 1:
                return Reading(errors=[_("Give each item in “%(question)s” only one rank", question=subject.question)])
            raw = values[0] if values else ""
            if not raw:
                continue
            rank = parse_rank(raw, len(q.choices))
            if rank is None:
                return Reading(errors=[_("Choose each rank for “%(question)s” from the list",
                                         question=subject.question)])
            ranks[item.code] = rank
        given = sorted(ranks.values())
        if len(given) != len(set(given)):
            return Reading(errors=[_("Give each rank in “%(question)s” to only one item", question=subject.question)])
        if given != list(range(1, len(given) + 1)):
            return Reading(errors=[_("Rank the items in “%(question)s” in order, starting from 1, without gaps",
                                     question=subject.question)])
        if q.required and len(given) < len(q.choices):
            return Reading(errors=[_("Rank every item in “%(question)s”", question=subject.question)])
        return Reading(rows=[AnswerRow(q.id, item_code=code, number=rank) for code, rank in ranks.items()])

    def field_names(self, q: QuestionView) -> list[str]:
        return [rank_field_name(q, item.code) for item in q.choices]

    def first_field_id(self, q: QuestionView) -> str:
        return rank_field_name(q, q.choices[0].code)

    def formdata(self, q: QuestionView, stored: Sequence[StoredAnswer]) -> list[tuple[str, str]]:
        return [(rank_field_name(q, a.item_code), str(a.number)) for a in stored]

    def sampler(self, q: QuestionView, rng: RandomSource, texts: SampleTexts) -> Sampler:
        codes = [o.code for o in q.choices]
        weights = skewed_weights(len(codes), rng)
        least = len(codes) if q.required else min(3, len(codes))

        def answer(rng: RandomSource, lang: str) -> list[Sampled]:
            # A ranked item's leaning is asked with the item as the "item" and no option.
            leaned = [texts.weigh([w], [""], code)[0] for w, code in zip(weights, codes, strict=True)]
            items = list(zip(codes, leaned, strict=True))
            order = sorted(items, key=lambda item: rng.random() / item[1])
            chosen = order[:rng.randint(least, len(order))]
            return [(code, "", rank, None) for rank, (code, _weight) in enumerate(chosen, 1)]

        return answer

    def describe(self, q: QuestionView, stored: Sequence[StoredAnswer], text: TextPicker) -> list[str]:
        lines = []
        for answer in sorted(stored, key=lambda a: a.number or 0):
            item = q.choice(answer.item_code)
            lines.append(f"{answer.number}. {text(item.label) if item else answer.item_code}")
        return lines

    def export_columns(self, q: QuestionView, text: TextPicker) -> list[ExportColumn]:
        label = text(q.label)
        return [ExportColumn(f"{q.code}.{o.code}", f"{label}: {text(o.label)} (rank)") for o in q.choices]

    def export_values(self, q: QuestionView, stored: Sequence[StoredAnswer], labels: Mapping[str, str]) -> list[Any]:
        ranks: dict[str, int | None] = {}
        for answer in stored:
            ranks.setdefault(answer.item_code, answer.number)
        return [ranks.get(o.code) if ranks.get(o.code) is not None else "" for o in q.choices]

    def summarise(self, q: QuestionView, tally: QuestionTally, ctx: SummaryContext) -> QuestionResult:
        base = tally.respondents
        sums: dict[str, tuple[int, int, int]] = {}  # item -> (ranked by, sum of ranks, ranked first)
        for (item, _option, number, _category), cell in tally.cells.items():
            if not cell.numbers:
                continue
            ranked, total, firsts = sums.get(item, (0, 0, 0))
            sums[item] = (ranked + cell.numbers, total + number * cell.numbers,
                          firsts + (cell.numbers if number == 1 else 0))
        result = QuestionResult(code=q.code, type=q.type, label=ctx.text(q.label), base=base)
        for option in q.choices:
            count, total, firsts = sums.get(option.code, (0, 0, 0))
            result.ranks.append(RankItem(option.code, ctx.text(option.label), count, mean(total, count), firsts,
                                         percent(firsts, base)))
        result.ranks.sort(key=lambda r: (r.mean_rank is None, r.mean_rank or 0, r.label.casefold()))
        result.note = _("Mean rank: 1 is the most preferred. First choice: share of respondents who ranked the "
                        "item first.")
        return result

    def figures(self, result: QuestionResult, ctx: SummaryContext) -> list[Figure]:
        """Items in order of mean rank, each bar the share who ranked it first, its mean rank beside it."""
        if not result.ranks:
            return []
        bars = tuple(Bar(r.label, r.first_count, r.first_share,
                         detail="" if r.mean_rank is None else _("mean rank %(rank)s", rank=f"{r.mean_rank:.1f}"))
                     for r in result.ranks)
        base_text = ngettext("n = %(num)d respondent who ranked at least one item; each bar is the share who "
                             "ranked it first",
                             "n = %(num)d respondents who ranked at least one item; each bar is the share who "
                             "ranked it first", result.base)
        rows = tuple((Cell(r.label), Cell("–" if r.mean_rank is None else f"{r.mean_rank:.2f}"),
                      Cell(f"{r.first_count} ({percent_text(r.first_share)})"), Cell(str(r.ranked_by)))
                     for r in result.ranks)
        return [
            Bars(result.label, bars, base=result.base, base_text=base_text, ordered=True, rtl=ctx.rtl),
            Table(result.label, (_("Item"), _("Mean rank"), _("Ranked first"), _("Ranked by")), rows),
        ]
