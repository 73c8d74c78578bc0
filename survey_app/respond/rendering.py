"""Section pages: rendered once per survey revision and language, the fellow's own parts filled in per request.

A section page is the same for every fellow but for a few parts: what each has chosen or typed,
their link's token (in the language switcher and resume links) and their CSRF token. So the page
is rendered once with those parts left as slots, and each request fills the slots in: a page costs
a list join instead of several hundred macro calls and a dozen translations. Pages with errors or
messages are rendered directly (rare, and they carry text of their own). Both go through the same
templates (templates/respond/section.html, _questions.html), so they give the same markup; a test
compares them.
"""
from __future__ import annotations

from dataclasses import dataclass

from flask import current_app, render_template, request, session
from markupsafe import Markup, escape
from werkzeug.datastructures import MultiDict

from ..services.responses import RespondentLink
from ..services.structure import SectionView, SurveyStructure
from . import csrf as link_csrf

_SLOT = "\x00"  # a survey text holding one fails the count check in _compile and is rendered directly
_SEP = "\x1f"


def _trusted(html: str) -> Markup:
    """Mark as safe what only our own autoescaping templates produced (the fellow's values escaped by fill)."""
    return Markup(html)  # nosec B704 - rendered by autoescaping Jinja templates, or codes from the survey file


_CHECKED = Markup(" checked")
_SELECTED = Markup(" selected")
_NOTHING = Markup("")


class AnswerState:
    """What a fellow chose or typed, as the question macros ask for it."""

    def __init__(self, values: MultiDict, errors: dict[str, list[str]] | None = None) -> None:
        self._values = values
        self._errors = errors or {}

    def checked(self, name: str, code: str) -> Markup:
        return _CHECKED if code in self._values.getlist(name) else _NOTHING

    def selected(self, name: str, code: str) -> Markup:
        return _SELECTED if code in self._values.getlist(name) else _NOTHING

    def value(self, name: str) -> str:
        return self._values.get(name) or ""

    def errors(self, question_code: str) -> list[str]:
        return self._errors.get(question_code, [])


class _SlotState:
    """Stands in for the answers while the shared markup is rendered: each answer becomes a slot."""

    def __init__(self) -> None:
        self.slots = 0

    def _slot(self, kind: str, name: str, code: str = "") -> Markup:
        self.slots += 1
        return _trusted(f"{_SLOT}{kind}{_SEP}{name}{_SEP}{code}{_SLOT}")

    def checked(self, name: str, code: str) -> Markup:
        return self._slot("c", name, code)

    def selected(self, name: str, code: str) -> Markup:
        return self._slot("s", name, code)

    def value(self, name: str) -> Markup:
        return self._slot("v", name)

    def errors(self, question_code: str) -> list[str]:
        return []


@dataclass(frozen=True)
class _Compiled:
    """Shared markup split at its slots: literals[i] comes before slots[i]; one literal more than slots."""

    literals: tuple[str, ...]
    slots: tuple[tuple[str, str, str], ...]

    def fill(self, values: MultiDict, token: str = "", csrf: str = "") -> Markup:
        chosen: dict[str, list[str]] = {}
        out = [self.literals[0]]
        for (kind, name, code), literal in zip(self.slots, self.literals[1:]):
            if kind == "t":
                out.append(token)
            elif kind == "k":
                out.append(csrf)
            elif kind == "v":
                out.append(str(escape(values.get(name) or "")))
            else:
                picked = chosen.get(name)
                if picked is None:
                    picked = chosen[name] = values.getlist(name)
                if code in picked:
                    out.append(" checked" if kind == "c" else " selected")
            out.append(literal)
        return _trusted("".join(out))


def _render(structure: SurveyStructure, section: SectionView, state: object) -> str:
    return render_template("respond/_section_questions.html", structure=structure, section=section, state=state)


def _split(markup: str, expected_slots: int) -> _Compiled | None:
    """Split rendered markup at its slots; None when a text could be mistaken for a slot."""
    parts = markup.split(_SLOT)
    if len(parts) != 2 * expected_slots + 1:
        return None
    return _Compiled(tuple(parts[0::2]), tuple(tuple(spec.split(_SEP)) for spec in parts[1::2]))


def _compile(structure: SurveyStructure, section: SectionView) -> _Compiled | None:
    """Render the section's questions once with slots."""
    state = _SlotState()
    return _split(_render(structure, section, state), state.slots)


def section_questions(structure: SurveyStructure, section: SectionView, language: str, values: MultiDict,
                      errors: dict[str, list[str]] | None = None, use_cache: bool = True) -> Markup:
    """The questions of a section showing `values`, with `errors` beside the questions they concern."""
    if errors or not use_cache:
        return _trusted(_render(structure, section, AnswerState(values, errors)))
    key = (section.number, language)
    compiled = structure.rendered.get(key)
    if compiled is None:
        compiled = _compile(structure, section)
        if compiled is None:
            return _trusted(_render(structure, section, AnswerState(values)))
        structure.rendered[key] = compiled
    return compiled.fill(values)


# Query arguments a section page understands, with the values it caches; a page asked for with
# anything else is rendered directly, so nobody can fill the cache with variants.
_PAGE_ARGUMENTS = {"return": ("check",), "new": ("1",)}


def _page_variant() -> tuple | None:
    """What besides the language makes this request's page differ: its query arguments, in order."""
    args = tuple(request.args.items(multi=True))
    for name, value in args:
        allowed = current_app.config["LANGUAGES"] if name == "lang" else _PAGE_ARGUMENTS.get(name, ())
        if value not in allowed:
            return None
    if len(args) > len(_PAGE_ARGUMENTS) + 1 or "_flashes" in session:
        return None
    return args


def render_section(structure: SurveyStructure, section: SectionView, link: RespondentLink, **context: object) -> str:
    """Render templates/respond/section.html directly."""
    return render_template("respond/section.html", structure=structure, section=section, survey=link.survey,
                           link=link, link_csrf=link_csrf.issue(link.kind, link.token), **context)


def section_page(structure: SurveyStructure, section: SectionView, language: str, link: RespondentLink,
                 values: MultiDict, use_cache: bool = True, **context: object) -> str:
    """The section page for a GET showing `values`: filled in from the cached page when it can be."""
    variant = _page_variant() if use_cache else None
    csrf = link_csrf.issue(link.kind, link.token)  # the same token render_section prints
    compiled = None
    if variant is not None:
        key = ("page", section.number, language, link.kind, variant)
        compiled = structure.rendered.get(key)
        if compiled is None:
            compiled = _compile_page(structure, section, link, csrf, context)
            if compiled is not None:
                structure.rendered[key] = compiled
    if compiled is None:
        return render_section(structure, section, link, form=None,
                              questions=section_questions(structure, section, language, values, use_cache=use_cache),
                              **context)
    return compiled.fill(values, link.token, csrf)


def _compile_page(structure: SurveyStructure, section: SectionView, link: RespondentLink, csrf: str,
                  context: dict) -> _Compiled | None:
    """Render the page once with answer slots, then make slots of this fellow's token and CSRF token.

    Both are long strings in URL-safe characters (the token random, the CSRF token an HMAC),
    printed unescaped wherever they appear, so replacing them cannot touch anything else on the page.
    """
    state = _SlotState()
    questions = _trusted(_render(structure, section, state))
    markup = render_section(structure, section, link, form=None, questions=questions, **context)
    token = link.token
    slots = state.slots + markup.count(token) + markup.count(csrf)
    markup = markup.replace(token, f"{_SLOT}t{_SEP}{_SEP}{_SLOT}").replace(csrf, f"{_SLOT}k{_SEP}{_SEP}{_SLOT}")
    return _split(markup, slots)
