"""Question types as one registry: each type owns its definition, form input, storage, display, export and summary.

See docs/question-types.md for the contract and how to add a type.
"""
from .answers import AnswerRow, Posted, StoredAnswer, clean_text, storable_text
from .base import (
    DefinitionError,
    ExportColumn,
    MatrixRow,
    NumberSummary,
    OptionCount,
    QuestionResult,
    QuestionTally,
    QuestionType,
    RankItem,
    Reading,
    Subject,
    SummaryContext,
    TextPicker,
    Texts,
    group_by_question,
    percent,
)
from .registry import get_type, register, type_names
from .snapshot import OptionView, QuestionView

# The built-in types: each module registers its classes when imported. A new type is one more module here.
from . import choice, matrix, number, ranking, text  # noqa: E402,F401  isort: skip

__all__ = [
    "AnswerRow", "DefinitionError", "ExportColumn", "MatrixRow", "NumberSummary", "OptionCount", "OptionView",
    "Posted", "QuestionResult", "QuestionTally", "QuestionType", "QuestionView", "RankItem", "Reading",
    "StoredAnswer", "Subject", "SummaryContext", "TextPicker", "Texts",
    "clean_text", "get_type", "group_by_question", "percent", "register",
    "storable_text", "type_names",
]
