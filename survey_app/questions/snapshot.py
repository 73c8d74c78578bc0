"""Immutable snapshots of a question and its options, as every part of the service reads them."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..countries import is_country_list
from .base import QuestionType, Texts
from .registry import get_type


@dataclass(frozen=True)
class OptionView:
    code: str
    label: Texts
    is_other: bool = False
    is_exclusive: bool = False


@dataclass(frozen=True)
class QuestionView:
    id: int
    code: str
    type: str
    required: bool
    label: Texts
    hint: Texts
    settings: dict[str, Any]
    choices: tuple[OptionView, ...]
    rows: tuple[OptionView, ...]
    # Worked out once, when the snapshot is built, not for every posted answer.
    kind: QuestionType = field(init=False, compare=False, repr=False)
    other_option: OptionView | None = field(init=False, compare=False, repr=False)
    choice_codes: frozenset[str] = field(init=False, compare=False, repr=False)
    row_codes: frozenset[str] = field(init=False, compare=False, repr=False)
    # Options made by `{from: countries}`: shown with CLDR names, sorted in the page's language.
    country_list: bool = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", get_type(self.type))
        object.__setattr__(self, "other_option", next((o for o in self.choices if o.is_other), None))
        object.__setattr__(self, "choice_codes", frozenset(o.code for o in self.choices))
        object.__setattr__(self, "row_codes", frozenset(o.code for o in self.rows))
        object.__setattr__(self, "country_list", is_country_list([o.code for o in self.choices]))

    def choice(self, code: str) -> OptionView | None:
        return next((o for o in self.choices if o.code == code), None)

    def row(self, code: str) -> OptionView | None:
        return next((o for o in self.rows if o.code == code), None)
