"""The contract every question type fulfils; code elsewhere asks the type instead of branching on its name.

A type is one class (in the spirit of Indico's survey fields) that owns its part of every concern:
reading its definition from the survey file, reading and checking its posted answer, storing it as
rows and reading it back, its template (input and check-your-answers macros), its export columns,
and its summary with the figures the dashboard and the PDF draw. docs/question-types.md shows how
to add one.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from flask_babel import get_locale
from flask_babel import gettext as _

from ..figures import Figure
from .answers import AnswerRow, Posted, StoredAnswer

if TYPE_CHECKING:
    from .snapshot import QuestionView

Texts = dict[str, str]
TextPicker = Callable[[Texts], str]


class DefinitionError(ValueError):
    """A question in a survey file is malformed; the message says where and why."""


def first_text(texts: Texts) -> str:
    """English, else the first text given: the picker used when no page language is at hand."""
    return texts.get("en") or next(iter(texts.values()), "")


class Subject:
    """How the messages of one question name it, in the page's language (GOV.UK style).

    `name` fits after a verb ("Select the year you took part in the ITP summer programme"): the
    survey file's `error_name`, or else built from the label ("an answer to “Which year…”").
    `question` is the label itself, for messages that refer to the question ("… to “Which year…”").
    Both are worked out only when a message needs them: most posted answers are valid.
    """

    def __init__(self, q: QuestionView, text: TextPicker | None = None) -> None:
        self.q = q
        self.pick = text or first_text

    @cached_property
    def question(self) -> str:
        return self.pick(self.q.label)

    @cached_property
    def name(self) -> str:
        named = self.q.settings.get("error_name")
        locale = get_locale()
        lang = locale.language if locale is not None else None
        # A name missing in the message's language would be a foreign phrase inside it: quote the
        # label instead when the label has that language.
        if isinstance(named, dict) and named and (lang is None or lang in named or lang not in self.q.label):
            return self.pick(named) or _("an answer to “%(question)s”", question=self.question)
        return _("an answer to “%(question)s”", question=self.question)


@dataclass
class Reading:
    """A question's posted answer: the rows to store when it is valid, else the messages for the fellow."""

    rows: list[AnswerRow] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return not self.errors


@dataclass(frozen=True)
class ExportColumn:
    """One export column of a question: its stable header and its human label."""

    header: str
    label: str


# --- synthetic answers ---------------------------------------------------------------------------

class RandomSource(Protocol):
    """What samplers draw with (random.Random in the generator; never used for anything secret)."""

    def random(self) -> float: ...

    def randint(self, a: int, b: int) -> int: ...

    def choices(self, population: Sequence[Any], weights: Sequence[float] | None = None) -> list[Any]: ...

    def shuffle(self, x: list[Any]) -> None: ...

    def choice(self, seq: Sequence[Any]) -> Any: ...


# One synthetic answer as stored: (item_code, option_code, number, text).
Sampled = tuple[str, str, int | None, str | None]
# Called per response with the random source and the respondent's language.
Sampler = Callable[[RandomSource, str], list[Sampled]]


# How much likelier (above 1) or less likely (below 1) a respondent is to pick an option: given the
# item (a grid's row or a ranked item, else "") and the option code ("" for a ranked item).
Leaning = Callable[[str, str], float]


@dataclass(frozen=True)
class SampleTexts:
    """What synthetic answers draw on beyond the question itself.

    Write-ins for "Other" boxes, free text in a language and, when given, the current respondent's
    leaning towards each option (the generator sets these per question and per respondent, so a
    fellow in China picks WeChat far more often than one in Kenya). Without a leaning every
    option keeps the type's own weights.
    """

    other: Callable[[RandomSource], str]
    free: Callable[[RandomSource, str], str]
    leaning: Leaning | None = None

    def weigh(self, weights: Sequence[float], codes: Sequence[str], item: str = "") -> Sequence[float]:
        """The type's weights for these option codes, times the respondent's leaning towards each."""
        if self.leaning is None:
            return weights
        lean = self.leaning
        return [w * lean(item, code) for w, code in zip(weights, codes, strict=True)]

    def answer_count(self, codes: Sequence[str], drawn: int, least: int) -> int:
        """How many of these options to tick: the type's draw, raised to every option the respondent is keen
        on (a leaning above 1: each platform they use) and capped at those they would tick at all (1 or more)."""
        if self.leaning is None:
            return drawn
        leanings = [self.leaning("", code) for code in codes]
        keen = sum(1 for value in leanings if value > 1)
        willing = sum(1 for value in leanings if value >= 1)
        return max(least, min(max(drawn, keen), willing))


def skewed_weights(n: int, rng: RandomSource) -> list[float]:
    """Skewed weights so that charts have a clear order, shuffled per question."""
    weights = [1.0 / (i + 1) ** 0.8 for i in range(n)]
    rng.shuffle(weights)
    return weights


# --- summaries ---------------------------------------------------------------------------------

# A cell of a question's answers, as the running totals keep it: (item, option, number, category).
CellKey = tuple[str, str, int, str]


@dataclass
class CellCount:
    answers: int = 0
    numbers: int = 0
    texts: int = 0


@dataclass
class QuestionTally:
    """A question's answers of the counted responses, cell by cell, and how many responses answered it.

    Read from the running totals or counted from the answers (survey_app/services/tallies.py);
    both give the same tally, so each type summarises it the same way whatever its source.
    """

    cells: dict[CellKey, CellCount] = field(default_factory=dict)
    respondents: int = 0

    def add(self, key: CellKey, answers: int, numbers: int, texts: int) -> None:
        cell = self.cells.get(key)
        if cell is None:
            cell = self.cells[key] = CellCount()
        cell.answers += answers
        cell.numbers += numbers
        cell.texts += texts


class PublishableGroups(Protocol):
    """What a summary needs of the disclosure rules: the countries that may be shown, and the minimum."""

    @property
    def minimum(self) -> int: ...

    @property
    def countries(self) -> frozenset[str]: ...


@dataclass(frozen=True)
class SummaryContext:
    """What a type needs to summarise: the language, how to pick texts in it, and the disclosure rules."""

    lang: str
    text: TextPicker
    rules: PublishableGroups

    @property
    def rtl(self) -> bool:
        """Whether the language runs right to left, so that charts are drawn mirrored."""
        from ..i18n import RTL_LANGUAGES

        return self.lang in RTL_LANGUAGES


@dataclass
class OptionCount:
    code: str
    label: str
    count: int
    percent: float | None
    is_other: bool = False
    category: str | None = None


@dataclass
class MatrixRow:
    code: str
    label: str
    base: int
    counts: list[OptionCount]


@dataclass
class RankItem:
    code: str
    label: str
    ranked_by: int
    mean_rank: float | None
    first_count: int
    first_share: float | None


@dataclass
class NumberSummary:
    count: int
    mean: float | None
    minimum: int | None
    maximum: int | None


@dataclass
class QuestionResult:
    """One question's figures for the counted group; each type fills the parts that apply to it."""

    code: str
    type: str
    label: str
    base: int
    options: list[OptionCount] = field(default_factory=list)
    scale: list[tuple[str, str]] = field(default_factory=list)
    rows: list[MatrixRow] = field(default_factory=list)
    ranks: list[RankItem] = field(default_factory=list)
    number: NumberSummary | None = None
    ordinal: bool = False  # the options are a scale (years, agreement, frequency): keep their order
    diverging: bool = False  # the scale runs from one pole to its opposite through a middle
    other_texts: int = 0
    texts: int = 0
    note: str = ""
    withheld_note: str = ""
    figures: list[Figure] = field(default_factory=list)

    @property
    def notes(self) -> list[str]:
        return [note for note in (self.note, self.withheld_note) if note]


def percent(part: int, whole: int) -> float | None:
    return round(100.0 * part / whole, 1) if whole else None


def mean(total: int, count: int) -> float | None:
    """Mean to two decimals, computed the same way whichever source the sums came from."""
    return round(total / count, 2) if count else None


# --- the contract ------------------------------------------------------------------------------

class QuestionType:
    """Base of every question type: the defaults, and the methods each type must provide."""

    name: ClassVar[str]
    # templates/questions/<template>.html: macros `input(q, page, state, errors)` and `answer(q, page, stored)`.
    template: ClassVar[str]
    # Settings the survey file may give this type, each with the check its value must pass.
    settings: ClassVar[Mapping[str, Callable[[Any, str], Any]]] = {}
    # Whether the type takes `options` (its choices) and `rows` (a matrix's statements).
    takes_options: ClassVar[bool] = False
    takes_rows: ClassVar[bool] = False
    # What a stored answer's item_code names: a row (matrix) or a choice (ranking).
    item_role: ClassVar[str] = "choice"
    # Whether results may be cross-tabulated by this question (one choice per respondent).
    one_choice: ClassVar[bool] = False

    @property
    def template_path(self) -> str:
        return f"questions/{self.template}.html"

    # -- the survey file --

    def check_definition(self, question: Mapping[str, Any], where: str) -> None:
        """Refuse a definition this type cannot work with (too few options, missing rows)."""

    # -- the form --

    def read(self, q: QuestionView, posted: Posted, text: TextPicker | None = None) -> Reading:
        """Check the posted answer; messages name the question (text picks its texts in the page's language)."""
        raise NotImplementedError

    def field_names(self, q: QuestionView) -> list[str]:
        """The names of the form fields this question posts, for keeping what a fellow typed."""
        return [q.code]

    def first_field_id(self, q: QuestionView) -> str:
        """The id the error summary links to: the question's first input."""
        return q.code

    def formdata(self, q: QuestionView, stored: Sequence[StoredAnswer]) -> list[tuple[str, str]]:
        """The posted form that would store these answers, so a revisited page shows them."""
        raise NotImplementedError

    def is_complete(self, q: QuestionView, stored: Sequence[StoredAnswer]) -> bool:
        """Whether the stored answers answer the question fully (a required one may be sent)."""
        return bool(stored)

    def sampler(self, q: QuestionView, rng: RandomSource, texts: SampleTexts) -> Sampler:
        """A maker of plausible answers, for synthetic data: set up once, then called per response."""
        raise NotImplementedError

    # -- displays and exports --

    def describe(self, q: QuestionView, stored: Sequence[StoredAnswer], text: TextPicker) -> list[str]:
        """The answers as plain text, one line each (a person's data export, check pages)."""
        raise NotImplementedError

    def export_columns(self, q: QuestionView, text: TextPicker) -> list[ExportColumn]:
        raise NotImplementedError

    def export_values(self, q: QuestionView, stored: Sequence[StoredAnswer], labels: Mapping[str, str]) -> list[Any]:
        """One value per export column for one response's answers ('' where unanswered).

        labels maps choice codes to their labels in the export's language.
        """
        raise NotImplementedError

    # -- results --

    def summarise(self, q: QuestionView, tally: QuestionTally, ctx: SummaryContext) -> QuestionResult:
        raise NotImplementedError

    def figures(self, result: QuestionResult, ctx: SummaryContext) -> list[Figure]:
        """The charts, tables and notes that show this question's result."""
        raise NotImplementedError

    def reviewable(self, q: QuestionView) -> bool:
        """Whether staff review this question's free text (quotable text, or an "Other" box)."""
        return q.other_option is not None


def integer_setting(minimum: int | None = None) -> Callable[[Any, str], int]:
    """A check for a whole-number setting, at least `minimum`."""

    def check(value: Any, where: str) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or (minimum is not None and value < minimum):
            bound = f" of at least {minimum}" if minimum is not None else ""
            raise DefinitionError(f"{where}: expected a whole number{bound}, not {value!r}")
        return value

    return check


def flag_setting(value: Any, where: str) -> bool:
    if not isinstance(value, bool):
        raise DefinitionError(f"{where}: expected true or false, not {value!r}")
    return value


def word_setting(*allowed: str) -> Callable[[Any, str], str]:
    """A check for a setting that is one of a few words (any short word when none are listed)."""

    def check(value: Any, where: str) -> str:
        if not isinstance(value, str) or (allowed and value not in allowed) or not value or len(value) > 64:
            choices = f"one of {', '.join(allowed)}" if allowed else "a short word"
            raise DefinitionError(f"{where}: expected {choices}, not {value!r}")
        return value

    return check


def group_by_question(answers: Iterable[StoredAnswer]) -> dict[int, list[StoredAnswer]]:
    """Answers grouped by question id, in the order they were stored."""
    grouped: dict[int, list[StoredAnswer]] = {}
    for answer in answers:
        grouped.setdefault(answer.question_id, []).append(answer)
    return grouped
