"""Survey results: filters, disclosure control, tallies, the summary and the free-text review.

Shared by the dashboard, the exports and the PDF. Each module does one thing:
filters.py (which respondents count), disclosure.py (which groups may be shown),
tallies.py (each question's answers as cells), summary.py (the figures, question by question,
through each question's type) and review.py (quotes and "Other" categories).
"""
from ...questions import MatrixRow, NumberSummary, OptionCount, QuestionResult, RankItem, percent
from .disclosure import (
    Disclosure,
    Groups,
    complete_condition,
    disclosure_rules,
    group_counts,
    scan_group_counts,
    suppress_small_groups,
    withheld_groups,
)
from .filters import CHANNEL_NAMES, CHANNELS, ResultFilter
from .review import (
    ACTIONS,
    STATES,
    BulkOutcome,
    Quote,
    ResultsError,
    TextAnswer,
    TextPage,
    approved_quotes,
    bulk_review,
    consent_question,
    known_categories,
    list_free_text,
    quote_for_translation,
    reviewable_questions,
    save_translations,
    set_category,
    set_quote_approval,
    suggest,
)
from .summary import CrossTab, CrossTabColumn, StatusCounts, SurveyResults, filter_choices, status_counts, summarise

__all__ = [
    "ACTIONS", "CHANNELS", "CHANNEL_NAMES", "STATES", "BulkOutcome", "bulk_review", "quote_for_translation",
    "save_translations", "suggest",
    "CrossTab", "CrossTabColumn", "Disclosure", "Groups", "MatrixRow", "NumberSummary", "OptionCount",
    "QuestionResult", "Quote", "RankItem", "ResultFilter", "ResultsError", "StatusCounts", "SurveyResults",
    "TextAnswer", "TextPage", "approved_quotes", "complete_condition", "consent_question", "disclosure_rules",
    "filter_choices", "group_counts", "known_categories", "list_free_text", "percent", "reviewable_questions",
    "scan_group_counts", "set_category", "set_quote_approval", "status_counts", "summarise",
    "suppress_small_groups", "withheld_groups",
]
