"""Language choice for every request.

Respondent pages: ?lang= (remembered in the session), then the invitation's language, then the browser.
Staff pages: the language the staff account chose, then the browser. A ?lang= on a staff page names the
language of the texts being edited (the e-mail editor's tabs), never the interface's.
"""
from __future__ import annotations

from functools import cache

from babel import Locale
from flask import Flask, current_app, g, request, session

# Each language named in itself, for the switcher; "dir" drives <html dir>.
LANGUAGE_NAMES: dict[str, str] = {
    "en": "English",
    "fr": "Français",
    "es": "Español",
    "ar": "العربية",
    "zh": "中文（简体）",
    "ru": "Русский",
}
RTL_LANGUAGES = frozenset({"ar", "fa", "he", "ur"})


def supported_languages() -> list[str]:
    return list(current_app.config["LANGUAGES"])


def _match_accept_language() -> str | None:
    """Match Accept-Language by primary subtag: fr-FR -> fr, zh-CN / zh-Hans -> zh."""
    supported = supported_languages()
    for value, _quality in request.accept_languages:
        primary = value.replace("_", "-").split("-", 1)[0].lower()
        if primary in supported:
            return primary
    return None


@cache
def _locale(code: str) -> Locale:
    """Parsed once per language: Babel's parse reads the disk on each call, and runs on every request."""
    return Locale.parse(code)


def select_locale() -> Locale:
    """Flask-Babel's locale selector: the chosen language as a (shared, immutable) Locale."""
    return _locale(choose_language())


def use_staff_language(account_language: str | None) -> None:
    """Mark this request as a staff page, in the account's chosen language (None: the browser's).

    security.py calls it before each staff request, since only it may read the signed-in member.
    """
    g.staff_language = account_language or ""


def choose_language() -> str:
    """Choose the interface language for this request (remembered when picked with ?lang=)."""
    supported = supported_languages()
    pinned = getattr(g, "page_language", None)  # a page in one set language (a staff preview): never remembered
    if pinned in supported:
        return pinned
    staff_language = g.get("staff_language")
    if staff_language is not None:
        if staff_language in supported:
            return staff_language
        return _match_accept_language() or current_app.config["BABEL_DEFAULT_LOCALE"]
    asked = request.args.get("lang")
    if asked in supported:
        session["lang"] = asked
        return asked
    remembered = session.get("lang")
    if remembered in supported:
        return remembered
    invited = getattr(g, "invitation_language", None)
    if invited in supported:
        return invited
    return _match_accept_language() or current_app.config["BABEL_DEFAULT_LOCALE"]


def current_language() -> str:
    from flask_babel import get_locale

    locale = get_locale()
    return locale.language if locale else "en"


def text_direction(lang: str) -> str:
    return "rtl" if lang in RTL_LANGUAGES else "ltr"


def init_i18n(app: Flask) -> None:
    # For fields whose text is in another language than the page: lang="xx" dir="{{ text_direction('xx') }}".
    app.add_template_global(text_direction)

    @app.context_processor
    def _language_context() -> dict:
        lang = current_language()
        return {
            "current_lang": lang,
            "text_dir": text_direction(lang),
            "language_names": {code: LANGUAGE_NAMES.get(code, code) for code in supported_languages()},
        }
