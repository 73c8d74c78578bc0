"""Choice questions: one answer (radios or a list), an agreement scale, or several answers (check boxes)."""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from flask_babel import gettext as _
from flask_babel import ngettext

from ..countries import country_codes, country_names, country_order
from ..figures import Bar, Bars, Cell, Figure, Segment, Stacked, StackRow, Table, percent_text
from .answers import AnswerRow, Posted, StoredAnswer, clean_text
from .base import (
    DefinitionError,
    ExportColumn,
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
    Texts,
    first_text,
    flag_setting,
    integer_setting,
    percent,
    skewed_weights,
    word_setting,
)
from .registry import register
from .snapshot import OptionView, QuestionView

OTHER_TEXT_MAX = 200
OTHER_SUFFIX = "__other"
# More choices than this are shown as a drop-down list instead of radios.
LIST_FROM = 16
CHART_BARS = 20


def other_field_name(q: QuestionView) -> str:
    """The text box of the "Other – please specify" choice."""
    return q.code + OTHER_SUFFIX


class ChoiceType(QuestionType):
    """What every choice question shares: options, an "Other" box, and answers stored as option codes."""

    takes_options = True

    def check_definition(self, question: Mapping[str, Any], where: str) -> None:
        if len(question["options"]) < 2:
            raise DefinitionError(f"{where}: a {self.name} question needs at least two options")

    def _other_errors(self, q: QuestionView, posted: Posted, chosen: set[str], subject: Subject) -> list[str]:
        other = q.other_option
        if other is None or other.code not in chosen:
            return []
        texts = posted.getlist(other_field_name(q))
        if len(texts) > 1:
            return [_("Enter only one other answer to “%(question)s”", question=subject.question)]
        text = clean_text(texts[0] if texts else None)
        if not text:
            return [_("Say what your other answer to “%(question)s” is", question=subject.question)]
        if len(text) > OTHER_TEXT_MAX:
            return [_("Your other answer to “%(question)s” must be %(max)d characters or fewer (it is %(len)d)",
                      question=subject.question, max=OTHER_TEXT_MAX, len=len(text))]
        return []

    def _rows(self, q: QuestionView, posted: Posted, chosen: Sequence[str]) -> list[AnswerRow]:
        other = q.other_option
        rows = []
        for code in chosen:
            text = clean_text(posted.get(other_field_name(q))) if other is not None and code == other.code else None
            rows.append(AnswerRow(q.id, option_code=code, text=text))
        return rows

    def field_names(self, q: QuestionView) -> list[str]:
        return [q.code, other_field_name(q)] if q.other_option is not None else [q.code]

    def first_field_id(self, q: QuestionView) -> str:
        return f"{q.code}-{q.choices[0].code}"

    def formdata(self, q: QuestionView, stored: Sequence[StoredAnswer]) -> list[tuple[str, str]]:
        data = []
        other = q.other_option
        for answer in stored:
            data.append((q.code, answer.option_code))
            if answer.text and other is not None and answer.option_code == other.code:
                data.append((other_field_name(q), answer.text))
        return data

    def describe(self, q: QuestionView, stored: Sequence[StoredAnswer], text: TextPicker) -> list[str]:
        lines = []
        for answer in stored:
            option = q.choice(answer.option_code)
            label = text(option.label) if option is not None else answer.option_code
            lines.append(f"{label}: {answer.text}" if answer.text else label)
        return lines

    def _other_columns(self, q: QuestionView, label: str) -> list[ExportColumn]:
        if q.other_option is None:
            return []
        return [ExportColumn(f"{q.code}_other", f"{label} (other, please specify)")]

    def _other_values(self, q: QuestionView, stored: Sequence[StoredAnswer]) -> list[Any]:
        if q.other_option is None:
            return []
        return ["; ".join(a.text for a in stored if a.option_code and a.text)]

    # -- results --

    def _option_counts(self, q: QuestionView, tally: QuestionTally, base: int,
                       ctx: SummaryContext) -> list[OptionCount]:
        """Count each choice; show an "Other" option as its staff-made categories and the answers not yet coded."""
        counts: dict[str, int] = {}
        categories: dict[str, dict[str, int]] = {}
        for (_item, code, _number, category), cell in tally.cells.items():
            if not code or not cell.answers:
                continue
            counts[code] = counts.get(code, 0) + cell.answers
            if category:
                found = categories.setdefault(code, {})
                found[category] = found.get(category, 0) + cell.answers
        options = []
        for option in q.choices:
            count = counts.get(option.code, 0)
            coded = categories.get(option.code) if option.is_other else None
            for category, n in sorted((coded or {}).items()):
                options.append(OptionCount(option.code, _("Other: %(category)s", category=category), n,
                                           percent(n, base), is_other=True, category=category))
                count -= n
            if count or not coded:
                # "Other – please specify" is a prompt, not a result: what is left of it is uncoded.
                label = _("Other, not coded") if option.is_other else ctx.text(option.label)
                options.append(OptionCount(option.code, label, count, percent(count, base), is_other=option.is_other))
        return options

    def _base(self, tally: QuestionTally) -> int:
        return tally.respondents

    def is_ordinal(self, q: QuestionView) -> bool:
        """Whether the options are a scale whose order results keep (years, agreement, frequency)."""
        return False

    def _sorted(self, options: list[OptionCount]) -> list[OptionCount]:
        """Most frequent first."""
        return sorted(options, key=lambda o: (-o.count, o.label.casefold()))

    def summarise(self, q: QuestionView, tally: QuestionTally, ctx: SummaryContext) -> QuestionResult:
        base = self._base(tally)
        result = QuestionResult(code=q.code, type=q.type, label=ctx.text(q.label), base=base,
                                other_texts=sum(cell.texts for key, cell in tally.cells.items() if key[1]),
                                ordinal=self.is_ordinal(q))
        options = self._option_counts(q, tally, base, ctx)
        result.options = options if result.ordinal else self._sorted(options)
        if _is_country_list(q):
            _withhold_small_countries(result, ctx)
        return result

    def base_text(self, result: QuestionResult) -> str:
        """The chart's n and who it counts."""
        return ngettext("n = %(num)d respondent who answered this question",
                        "n = %(num)d respondents who answered this question", result.base)

    def figures(self, result: QuestionResult, ctx: SummaryContext) -> list[Figure]:
        if not result.options:
            return []
        # A scale shows every step; answers sorted by frequency show the largest CHART_BARS.
        shown = result.options if result.ordinal else result.options[:CHART_BARS]
        bars = Bars(result.label, tuple(Bar(o.label, o.count, o.percent, o.is_other) for o in shown),
                    base=result.base, base_text=self.base_text(result), ordered=result.ordinal, rtl=ctx.rtl)
        return [bars, self._table(result)]

    def _table(self, result: QuestionResult) -> Table:
        rows = tuple((Cell(o.label), Cell(str(o.count), key=f"{result.code}:{o.category or o.code}"),
                      Cell(percent_text(o.percent))) for o in result.options)
        return Table(f"{result.label} ({_('n = %(n)s', n=result.base)})", (_("Answer"), _("Number"), _("Per cent")),
                     rows)

    def reviewable(self, q: QuestionView) -> bool:
        return q.other_option is not None


@register
class SingleChoice(ChoiceType):
    """One answer from a list: radios, or a drop-down list for long lists such as countries."""

    name = "single"
    template = "single"
    one_choice = True
    settings = {"display": word_setting("select", "radios"), "autocomplete": word_setting(),
                "quote_consent": flag_setting, "crosstab": flag_setting,
                "profile": word_setting("country", "cohort"), "ordinal": flag_setting}

    def is_ordinal(self, q: QuestionView) -> bool:
        """As the survey file says (ordinal: true), else when the options are a range of numbers such as years."""
        flag = q.settings.get("ordinal")
        return bool(flag) if flag is not None else _numbered(q)

    def shows_list(self, q: QuestionView) -> bool:
        """Show a drop-down list instead of radios for long lists such as countries."""
        return len(q.choices) >= LIST_FROM or q.settings.get("display") == "select"

    def read(self, q: QuestionView, posted: Posted, text: TextPicker | None = None) -> Reading:
        subject = Subject(q, text)
        values = posted.getlist(q.code)
        value = values[0] if values else ""
        errors = []
        if len(values) > 1:
            errors.append(_("Select only one answer to “%(question)s”", question=subject.question))
        elif not value:
            if q.required:
                errors.append(_("Select %(name)s", name=subject.name))
        elif value not in q.choice_codes:
            errors.append(_("Select one of the options shown for “%(question)s”", question=subject.question))
        errors += self._other_errors(q, posted, {value} if value else set(), subject)
        if errors:
            return Reading(errors=errors)
        return Reading(rows=self._rows(q, posted, [value] if value else []))

    def first_field_id(self, q: QuestionView) -> str:
        return q.code if self.shows_list(q) else super().first_field_id(q)

    def shown_choices(self, q: QuestionView, lang: str, text: Callable[[Texts, str], str]) -> list[tuple[str, str]]:
        """The choices as (code, label) in the order shown: a country list by its CLDR names in this language."""
        if not q.country_list:
            return [(o.code, text(o.label, lang)) for o in q.choices]
        names, order = country_names(lang), country_order(lang)
        countries = sorted((o for o in q.choices if o.code.upper() in order), key=lambda o: order[o.code.upper()])
        return [*((o.code, names[o.code.upper()]) for o in countries),
                *((o.code, text(o.label, lang)) for o in q.choices if o.code.upper() not in order)]

    def sampler(self, q: QuestionView, rng: RandomSource, texts: SampleTexts) -> Sampler:
        options = [o for o in q.choices]
        codes = [o.code for o in options]
        weights = skewed_weights(len(options), rng)

        def answer(rng: RandomSource, lang: str) -> list[Sampled]:
            option = rng.choices(options, texts.weigh(weights, codes))[0]
            return [("", option.code, None, texts.other(rng) if option.is_other else None)]

        return answer

    def export_columns(self, q: QuestionView, text: TextPicker) -> list[ExportColumn]:
        label = text(q.label)
        return [ExportColumn(q.code, label), ExportColumn(f"{q.code}_label", f"{label} (answer)"),
                *self._other_columns(q, label)]

    def export_values(self, q: QuestionView, stored: Sequence[StoredAnswer], labels: Mapping[str, str]) -> list[Any]:
        code = stored[0].option_code if stored else ""
        return [code, labels.get(code, code), *self._other_values(q, stored)]


@register
class Likert(SingleChoice):
    """One answer on an agreement or frequency scale, whose options keep their order in results."""

    name = "likert"
    template = "single"
    settings = {"diverging": flag_setting}

    def shows_list(self, q: QuestionView) -> bool:
        return False

    def is_ordinal(self, q: QuestionView) -> bool:
        return True

    def summarise(self, q: QuestionView, tally: QuestionTally, ctx: SummaryContext) -> QuestionResult:
        result = super().summarise(q, tally, ctx)
        # An agreement scale diverges from its middle; a frequency scale (diverging: false) does not.
        result.diverging = bool(q.settings.get("diverging", True))
        return result

    def figures(self, result: QuestionResult, ctx: SummaryContext) -> list[Figure]:
        """One stacked bar of the whole distribution, centred on the scale's middle when it diverges."""
        if not result.options:
            return []
        row = StackRow("", result.base, tuple(Segment(o.count, o.percent) for o in result.options))
        chart = Stacked(result.label, tuple(o.label for o in result.options), (row,), base=result.base,
                        base_text=self.base_text(result), diverging=result.diverging, rtl=ctx.rtl)
        return [chart, self._table(result)]


@register
class MultipleChoice(ChoiceType):
    """Any number of answers (check boxes), with an exclusive "None of these" where the survey has one."""

    name = "multiple"
    template = "multiple"
    settings = {"min_choices": integer_setting(0), "max_choices": integer_setting(1)}

    def read(self, q: QuestionView, posted: Posted, text: TextPicker | None = None) -> Reading:
        subject = Subject(q, text)
        pick = text or first_text
        values = posted.getlist(q.code)
        chosen = set(values)
        exclusive = [o for o in q.choices if o.is_exclusive]
        errors = []
        if chosen - q.choice_codes:
            errors.append(_("Select only the options shown for “%(question)s”", question=subject.question))
        elif len(values) != len(chosen):
            errors.append(_("Select each answer to “%(question)s” only once", question=subject.question))
        elif not chosen and q.required:
            errors.append(_("Select %(name)s, or “%(none)s”", name=subject.name, none=pick(exclusive[0].label))
                          if exclusive else _("Select %(name)s", name=subject.name))
        for option in exclusive:
            if option.code in chosen and len(chosen) > 1:
                errors.append(_("“%(none)s” cannot be selected with another answer to “%(question)s”",
                                none=pick(option.label), question=subject.question))
        minimum, maximum = q.settings.get("min_choices"), q.settings.get("max_choices")
        if chosen and minimum and len(chosen) < int(minimum):
            errors.append(ngettext("Select at least %(num)d answer to “%(question)s”",
                                   "Select at least %(num)d answers to “%(question)s”", int(minimum),
                                   question=subject.question))
        if maximum and len(chosen) > int(maximum):
            errors.append(ngettext("Select at most %(num)d answer to “%(question)s”",
                                   "Select at most %(num)d answers to “%(question)s”", int(maximum),
                                   question=subject.question))
        errors += self._other_errors(q, posted, chosen, subject)
        if errors:
            return Reading(errors=errors)
        return Reading(rows=self._rows(q, posted, [code for code in values if code]))

    def sampler(self, q: QuestionView, rng: RandomSource, texts: SampleTexts) -> Sampler:
        pool = [o for o in q.choices if not o.is_exclusive]
        codes = [o.code for o in pool]
        weights = skewed_weights(len(pool), rng)
        exclusive = next((o for o in q.choices if o.is_exclusive), None)
        limit = min(len(pool), int(q.settings.get("max_choices") or len(pool)))
        most = min(limit, 4)
        least = min(most, max(1, int(q.settings.get("min_choices") or 1)))

        def answer(rng: RandomSource, lang: str) -> list[Sampled]:
            # "None of these" for one in twenty, or as often as the respondent leans towards it.
            if exclusive is not None and rng.random() < texts.weigh([0.05], [exclusive.code])[0]:
                return [("", exclusive.code, None, None)]
            picked: dict[str, OptionView] = {}
            # As many answers as the respondent has a mind to give: a fellow who uses two platforms ticks two.
            target = min(limit, texts.answer_count(codes, rng.randint(least, most), least))
            leaned = texts.weigh(weights, codes)
            while len(picked) < target:
                option = rng.choices(pool, leaned)[0]
                picked[option.code] = option
            return [("", o.code, None, texts.other(rng) if o.is_other else None) for o in picked.values()]

        return answer

    def export_columns(self, q: QuestionView, text: TextPicker) -> list[ExportColumn]:
        label = text(q.label)
        return [*(ExportColumn(f"{q.code}.{o.code}", f"{label}: {text(o.label)}") for o in q.choices),
                *self._other_columns(q, label)]

    def export_values(self, q: QuestionView, stored: Sequence[StoredAnswer], labels: Mapping[str, str]) -> list[Any]:
        chosen = {a.option_code for a in stored}
        flags: list[Any] = [("" if not stored else 1 if o.code in chosen else 0) for o in q.choices]
        return [*flags, *self._other_values(q, stored)]

    def summarise(self, q: QuestionView, tally: QuestionTally, ctx: SummaryContext) -> QuestionResult:
        result = super().summarise(q, tally, ctx)
        result.note = _("Percentages do not add up to 100 % because respondents could choose more than one answer.")
        return result

    def base_text(self, result: QuestionResult) -> str:
        return ngettext("n = %(num)d respondent who answered this question (more than one answer allowed)",
                        "n = %(num)d respondents who answered this question (more than one answer allowed)",
                        result.base)


def _numbered(q: QuestionView) -> bool:
    """Options that begin with a run of consecutive whole numbers (a `range`), any others after them."""
    numbers: list[int] = []
    for position, option in enumerate(q.choices):
        code = option.code
        if code.isascii() and code.lstrip("-").isdigit() and len(code) <= 9:
            if len(numbers) < position:
                return False  # a number after a word: not a range with extras after it
            numbers.append(int(code))
    return len(numbers) >= 2 and numbers == list(range(numbers[0], numbers[0] + len(numbers)))


def _is_country_list(q: QuestionView) -> bool:
    known = set(country_codes())
    return len(q.choices) > 50 and all(o.code.upper() in known for o in q.choices)


def _withhold_small_countries(result: QuestionResult, ctx: SummaryContext) -> None:
    """Show only publishable countries; pool the rest into one bar, itself withheld when small."""
    rules = ctx.rules
    kept = [o for o in result.options if o.code.upper() in rules.countries and o.count]
    pooled = sum(o.count for o in result.options if o.code.upper() not in rules.countries)
    if pooled:
        result.withheld_note = _("Countries with fewer than %(num)d respondents (and, where needed, one more so "
                                 "that none can be found by subtraction) are not shown on their own.",
                                 num=rules.minimum)
        if pooled >= rules.minimum:
            kept.append(OptionCount("", _("Other countries (each shown only in total)"), pooled,
                                    percent(pooled, result.base)))
    result.options = kept


__all__ = ["Likert", "MultipleChoice", "SingleChoice", "other_field_name"]
