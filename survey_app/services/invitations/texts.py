"""The invitation and reminder texts: each language's own subject and opening, rendered once per batch.

Every language starts from its own translated built-in text. Staff may customise any of the four
texts in any language; a customisation belongs to that language alone, so a fellow never gets
another language's text. A customisation in another language than the survey's base language
stores a fingerprint of the base-language text it was written against: when the base text changes
afterwards, the editor says the translation needs review.

Stored in `Survey.invitation_texts` as {language: {key: {"text": ..., "based_on": fingerprint}}};
an older plain string value reads as a customisation written against an unknown base text.
"""
from __future__ import annotations

import copy
import enum
import hashlib
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any

from flask_babel import force_locale

from ...extensions import db
from ...models import DeliveryKind, StaffUser, Survey
from .. import audit
from ..mail.messages import RenderedTemplate, default_texts, header_safe, render_template_for

TEXT_KEYS = ("subject", "opening", "reminder_subject", "reminder_opening")
MAX_LENGTHS = {"subject": 200, "opening": 4000, "reminder_subject": 200, "reminder_opening": 4000}

Renderer = Callable[[str | None], RenderedTemplate]


class TextState(enum.StrEnum):
    """Where one text of one language stands, as the editor shows it."""

    DEFAULT = "default"  # the built-in text, translated into this language
    CUSTOMISED = "customised"
    NEEDS_REVIEW = "needs_review"  # customised, and the base-language text changed since


@dataclass(frozen=True)
class EditableText:
    """One of the four texts in one language: what a fellow gets now, and its state."""

    key: str
    text: str  # the customised text, or else the language's built-in default (placeholders unfilled)
    default: str
    state: TextState
    base_text: str  # the base language's current text for this key, to compare a translation against


def _kind_and_field(key: str) -> tuple[str, str]:
    if key.startswith("reminder_"):
        return DeliveryKind.REMINDER.value, key.removeprefix("reminder_")
    return DeliveryKind.INVITATION.value, key


def default_text(language: str, key: str) -> str:
    """The built-in text for one key, translated into the language."""
    kind, field = _kind_and_field(key)
    with force_locale(language):
        return str(default_texts(kind)[field])


def fingerprint(text: str) -> str:
    """A short digest of a text, stored with a translation to notice later changes to its source."""
    return hashlib.sha256(_normalise(text).encode()).hexdigest()[:16]


def _normalise(text: str) -> str:
    return "\n".join(line.rstrip() for line in text.replace("\r\n", "\n").replace("\r", "\n").strip().split("\n"))


def _clean(key: str, value: str) -> str:
    """A subject becomes one header-safe line; an opening keeps its line breaks, trimmed."""
    return header_safe(value) if key.endswith("subject") else _normalise(value)


def _customised(survey: Survey, language: str) -> dict[str, dict[str, Any]]:
    """The stored customisations of one language, older plain strings read as of unknown base."""
    entry = (survey.invitation_texts or {}).get(language) or {}
    found: dict[str, dict[str, Any]] = {}
    for key in TEXT_KEYS:
        value = entry.get(key)
        if isinstance(value, str) and value.strip():
            found[key] = {"text": value, "based_on": None}
        elif isinstance(value, dict) and str(value.get("text") or "").strip():
            found[key] = {"text": str(value["text"]), "based_on": value.get("based_on")}
    return found


def survey_languages(survey: Survey) -> list[str]:
    """The languages the texts are edited in: the survey's, its base language first."""
    return survey.language_codes


def _current(survey: Survey, language: str, key: str) -> str:
    custom = _customised(survey, language).get(key)
    return custom["text"] if custom else default_text(language, key)


def editable_texts(survey: Survey, language: str) -> dict[str, EditableText]:
    """The four texts of one language as a fellow would get them now, each with its state."""
    base = survey.base_language
    custom = _customised(survey, language)
    result = {}
    for key in TEXT_KEYS:
        default = default_text(language, key)
        base_text = _current(survey, base, key) if language != base else ""
        entry = custom.get(key)
        if entry is None:
            state, text = TextState.DEFAULT, default
        else:
            text = entry["text"]
            stale = (language != base and entry["based_on"] is not None
                     and entry["based_on"] != fingerprint(base_text))
            state = TextState.NEEDS_REVIEW if stale else TextState.CUSTOMISED
        result[key] = EditableText(key, text, default, state, base_text)
    return result


def text_states(survey: Survey) -> dict[str, dict[str, TextState]]:
    """Each language's four states, for the editor's overview."""
    return {language: {key: item.state for key, item in editable_texts(survey, language).items()}
            for language in survey_languages(survey)}


def texts_for(survey: Survey, language: str, kind: str) -> dict[str, str]:
    """The customised subject and opening of one kind in this language only (none: the built-in text)."""
    prefix = "reminder_" if kind == DeliveryKind.REMINDER.value else ""
    custom = _customised(survey, language)
    return {field: custom[prefix + field]["text"] for field in ("subject", "opening") if prefix + field in custom}


def save_texts(survey: Survey, language: str, values: dict[str, str], *, reviewed: Collection[str] = (),
               actor: StaffUser | None) -> list[str]:
    """Store one language's texts; no other language changes. Commit. Return the keys that changed.

    A text equal to the language's built-in default, or empty, goes back to the default. A
    customisation outside the base language remembers the base text it was written against; a key
    in `reviewed` (staff confirmed the translation still fits a changed base text) is brought up
    to date without changing its text.
    """
    texts = copy.deepcopy(dict(survey.invitation_texts or {}))
    entry = {key: value for key, value in (texts.get(language) or {}).items() if key not in TEXT_KEYS}
    current = _customised(survey, language)
    base = survey.base_language
    changed = []
    for key in TEXT_KEYS:
        value = _clean(key, values.get(key) or "")[:MAX_LENGTHS[key]]
        old = current.get(key)
        if not value or value == _clean(key, default_text(language, key)):
            if old is not None:
                changed.append(key)
            continue
        based_on = fingerprint(_current(survey, base, key)) if language != base else None
        if old is not None and old["text"] == value:
            if key in reviewed and old["based_on"] != based_on:
                changed.append(key)
            else:
                based_on = old["based_on"]
        else:
            changed.append(key)
        entry[key] = {"text": value, "based_on": based_on}
    if entry:
        texts[language] = entry
    else:
        texts.pop(language, None)
    if changed:
        survey.invitation_texts = texts
        audit.record("invitations.texts", survey.id, actor, language=language, changed=changed)
    db.session.commit()
    return changed


def renderer(survey: Survey, kind: str) -> Renderer:
    """Render a kind of message at most once per language: the personal parts are filled in per fellow."""
    cache: dict[str, RenderedTemplate] = {}
    base = survey.base_language  # read once: the survey is expired by every commit while a batch is sent
    languages = set(survey.languages or [base])

    def get(language: str | None) -> RenderedTemplate:
        lang = language if language is not None and language in languages else base
        if lang not in cache:
            closes = survey.closes_at.strftime("%d %B %Y") if survey.closes_at else ""
            cache[lang] = render_template_for(kind, lang, survey.text(survey.title, lang),
                                              texts_for(survey, lang, kind), closes)
        return cache[lang]

    return get
