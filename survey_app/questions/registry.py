"""The registry of question types by the name survey files give them."""
from __future__ import annotations

from .base import QuestionType

_TYPES: dict[str, QuestionType] = {}


def register(cls: type[QuestionType]) -> type[QuestionType]:
    """Class decorator: make a type available to survey files under its name."""
    if cls.name in _TYPES:
        raise ValueError(f"question type {cls.name!r} is registered twice")
    _TYPES[cls.name] = cls()
    return cls


def get_type(name: str) -> QuestionType:
    """The type of this name; KeyError for a name no module registered."""
    return _TYPES[name]


def type_names() -> list[str]:
    """Every registered type's name, in the order the modules define them."""
    return list(_TYPES)
