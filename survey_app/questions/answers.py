"""Answer values as stored and read back: codes, never labels (shared by forms, services and types)."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import NamedTuple, Protocol


@dataclass(frozen=True)
class AnswerRow:
    """One answer value to store: a chosen option, a matrix cell, a rank, a number or a text.

    item_code is the matrix row or the ranked option ('' otherwise); option_code is the chosen
    option ('' for text and number answers); number holds numbers and ranks.
    """

    question_id: int
    item_code: str = ""
    option_code: str = ""
    number: int | None = None
    text: str | None = None


class StoredAnswer(NamedTuple):
    """One stored answer as pages, exports and summaries read it."""

    question_id: int
    item_code: str
    option_code: str
    number: int | None
    text: str | None


class Posted(Protocol):
    """What a question reads its answer from: a request's form (a werkzeug MultiDict)."""

    def get(self, key: str) -> str | None: ...

    def getlist(self, key: str) -> list[str]: ...


_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def storable_text(text: str | None) -> str | None:
    """Drop control characters (NUL above all, which PostgreSQL refuses) but keep tabs and line breaks."""
    return None if text is None else _CONTROL_CHARS.sub("", text)


def clean_text(value: str | None) -> str:
    """Normalise typed text exactly as it will be stored, so validation judges the stored value."""
    return (storable_text((value or "").replace("\r\n", "\n")) or "").strip()
