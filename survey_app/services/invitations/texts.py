"""The invitation and reminder texts: staff-edited subject and opening per language, rendered once per batch."""
from __future__ import annotations

from collections.abc import Callable

from flask import current_app

from ...extensions import db
from ...models import DeliveryKind, StaffUser, Survey
from .. import audit
from ..mail.messages import RenderedTemplate, header_safe, render_template_for

TEXT_KEYS = ("subject", "opening", "reminder_subject", "reminder_opening")

Renderer = Callable[[str | None], RenderedTemplate]


def texts_for(survey: Survey, language: str, kind: str) -> dict[str, str]:
    """Staff-edited subject and opening in this language, else English, else the built-in text."""
    prefix = "reminder_" if kind == DeliveryKind.REMINDER.value else ""
    chosen: dict[str, str] = {}
    for lang in (language, "en"):
        entry = (survey.invitation_texts or {}).get(lang) or {}
        for key in ("subject", "opening"):
            if not chosen.get(key) and entry.get(prefix + key):
                chosen[key] = entry[prefix + key]
    return chosen


def save_texts(survey: Survey, language: str, values: dict[str, str], *, actor: StaffUser | None) -> None:
    """Store the staff-edited texts of one language (empty means the built-in default). Commit."""
    texts = dict(survey.invitation_texts or {})
    texts[language] = {key: header_safe(values[key]) if key.endswith("subject") else values[key].strip()
                       for key in TEXT_KEYS if (values.get(key) or "").strip()}
    survey.invitation_texts = texts
    audit.record("invitations.texts", survey.id, actor, language=language)
    db.session.commit()


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


def preview(survey: Survey, kind: str, language: str, name: str = "Ada Example") -> tuple[str, str, str]:
    """Subject, text and HTML of a message as a fellow would get it (with a sample link)."""
    rendered = renderer(survey, kind)(language)
    base = current_app.config["BASE_URL"]
    return rendered.personalise(name, f"{base}/s/EXAMPLE-PERSONAL-LINK", f"{base}/optout/EXAMPLE")
