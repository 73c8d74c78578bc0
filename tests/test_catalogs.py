"""The interface catalogues: complete, never fuzzy, placeholders intact, and actually used."""
from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from markupsafe import escape

from config import BASE_DIR, LANGUAGES

TRANSLATIONS = BASE_DIR / "survey_app" / "translations"
TRANSLATED = [lang for lang in LANGUAGES if lang != "en"]
# The same keywords as `make extract-messages`: babel's defaults plus the lazy forms.
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None}
PLACEHOLDER = re.compile(r"%\(\w+\)[sdrif]|%[sdrif]|\{\w+\}")


def read_catalog(lang: str) -> Catalog:
    with open(TRANSLATIONS / lang / "LC_MESSAGES" / "messages.po", "rb") as handle:
        return read_po(handle, locale=lang)


def messages(catalog: Catalog) -> Iterator:
    """Yield every real entry: not the header, not an obsolete one."""
    return (message for message in catalog if message.id)


def describe(message) -> str:
    where = ", ".join(f"{path}:{line}" for path, line in message.locations) or "no location"
    msgid = message.id[0] if isinstance(message.id, tuple) else message.id
    return f"{msgid!r} ({where})"


def placeholders(text: str) -> set[str]:
    return set(PLACEHOLDER.findall(text))


@pytest.fixture(scope="module")
def extracted() -> dict:
    """Extract the messages from the source now, as `make extract-messages` would."""
    with open(BASE_DIR / "babel.cfg", encoding="utf-8") as handle:
        method_map, options_map = parse_mapping_cfg(handle, str(BASE_DIR / "babel.cfg"))
    found: dict = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(
        str(BASE_DIR), method_map, options_map, keywords=KEYWORDS,
    ):
        key = message[0] if isinstance(message, tuple) else message
        found.setdefault(key, []).append(f"{filename}:{lineno}")
    return found


@pytest.mark.parametrize("lang", TRANSLATED)
def test_catalogue_exists_for_every_configured_language(lang):
    assert (TRANSLATIONS / lang / "LC_MESSAGES" / "messages.po").is_file(), f"no catalogue for {lang}"


@pytest.mark.parametrize("lang", TRANSLATED)
def test_every_entry_is_translated(lang):
    catalog = read_catalog(lang)
    untranslated = []
    for message in messages(catalog):
        if message.pluralizable:
            forms = message.string if isinstance(message.string, tuple) else (message.string,)
            if len(forms) != catalog.num_plurals or not all(forms):
                untranslated.append(describe(message))
        elif not message.string:
            untranslated.append(describe(message))
    assert not untranslated, f"{lang}: {len(untranslated)} untranslated:\n" + "\n".join(untranslated)


@pytest.mark.parametrize("lang", TRANSLATED)
def test_no_entry_is_fuzzy(lang):
    fuzzy = [describe(message) for message in messages(read_catalog(lang)) if message.fuzzy]
    assert not fuzzy, f"{lang}: fuzzy entries must be checked and the flag removed:\n" + "\n".join(fuzzy)


@pytest.mark.parametrize("lang", TRANSLATED)
def test_placeholders_match_the_source(lang):
    wrong = []
    for message in messages(read_catalog(lang)):
        if message.pluralizable:
            wanted = placeholders(message.id[1]) | placeholders(message.id[0])
            forms = message.string if isinstance(message.string, tuple) else (message.string,)
        else:
            wanted = placeholders(message.id)
            forms = (message.string,)
        for form in forms:
            if form and placeholders(form) != wanted:
                wrong.append(f"{describe(message)}: {sorted(wanted)} != {sorted(placeholders(form))} in {form!r}")
    assert not wrong, f"{lang}: placeholders differ from the source:\n" + "\n".join(wrong)


class _AnyValue(dict):
    def __missing__(self, key):
        return 1


@pytest.mark.parametrize("lang", TRANSLATED)
def test_translations_survive_formatting(lang):
    """Jinja's newstyle gettext %-formats every template string, so a lone % must be written %%."""
    broken = []
    for message in messages(read_catalog(lang)):
        in_template = any(path.startswith("templates/") for path, _line in message.locations)
        if not (in_template or message.python_format):
            continue
        forms = message.string if isinstance(message.string, tuple) else (message.string,)
        for form in forms:
            try:
                form % _AnyValue()
            except (ValueError, TypeError, KeyError) as exc:
                broken.append(f"{describe(message)}: {exc} in {form!r}")
    assert not broken, f"{lang}: translations that cannot be formatted:\n" + "\n".join(broken)


@pytest.mark.parametrize("lang", TRANSLATED)
def test_catalogue_covers_the_current_source(lang, extracted):
    catalog = read_catalog(lang)
    known = {message.id[0] if isinstance(message.id, tuple) else message.id for message in messages(catalog)}
    missing = [f"{msgid!r} ({', '.join(where)})" for msgid, where in extracted.items() if msgid not in known]
    assert not missing, (
        f"{lang}: {len(missing)} strings in the source are not in the catalogue; run `make update-messages` "
        "and translate them (see docs/translations.md):\n" + "\n".join(missing)
    )


@pytest.mark.parametrize("lang", TRANSLATED)
def test_catalogue_compiles(lang, tmp_path):
    target = tmp_path / "messages.mo"
    with open(target, "wb") as handle:
        write_mo(handle, read_catalog(lang))
    assert target.stat().st_size > 0


@pytest.fixture(scope="module")
def compiled_translations(tmp_path_factory) -> Path:
    """Compile every catalogue into a temporary directory, as `make translations` does in place."""
    root = tmp_path_factory.mktemp("translations")
    for lang in TRANSLATED:
        folder = root / lang / "LC_MESSAGES"
        folder.mkdir(parents=True)
        with open(folder / "messages.mo", "wb") as handle:
            write_mo(handle, read_catalog(lang))
    return root


@pytest.fixture
def app_overrides(compiled_translations) -> dict:
    return {"BABEL_TRANSLATION_DIRECTORIES": str(compiled_translations)}


@pytest.fixture
def fresh_translations(app) -> Iterator[None]:
    """Forget translations cached by earlier tests: Flask-Babel keeps them per process, by locale."""
    from flask_babel import get_babel

    with app.app_context():
        cache = get_babel(app).instance.domain_instance.cache
    cache.clear()
    yield
    cache.clear()


@pytest.mark.parametrize("lang", TRANSLATED)
def test_respondent_page_is_served_in_the_chosen_language(lang, client, fresh_translations):
    catalog = read_catalog(lang)
    response = client.get(f"/accessibility?lang={lang}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert f'lang="{lang}"' in html
    for source in ("Skip to main content", "Accessibility statement", "What you can do"):
        translated = catalog[source].string
        assert translated and translated != source
        assert str(escape(translated)) in html, f"{lang}: {source!r} is not shown translated"
        assert source not in html, f"{lang}: {source!r} is still in English"


def test_arabic_pages_are_right_to_left(client, fresh_translations):
    html = client.get("/accessibility?lang=ar").get_data(as_text=True)
    assert 'dir="rtl"' in html
