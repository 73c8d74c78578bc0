"""Which language a page is shown in: ?lang=, then the invitation, then Accept-Language, then English."""
from __future__ import annotations

import re

import pytest


def html_lang(response) -> tuple[str, str]:
    match = re.search(rb'<html lang="([^"]+)" dir="([^"]+)">', response.data)
    assert match, response.data[:200]
    return match.group(1).decode(), match.group(2).decode()


def test_lang_parameter_wins_and_is_remembered(client):
    assert html_lang(client.get("/privacy?lang=ar", headers={"Accept-Language": "fr-FR"})) == ("ar", "rtl")
    assert html_lang(client.get("/accessibility", headers={"Accept-Language": "fr-FR"})) == ("ar", "rtl")
    assert html_lang(client.get("/?lang=zh")) == ("zh", "ltr")
    assert html_lang(client.get("/")) == ("zh", "ltr")


def test_lang_parameter_beats_the_invitation_language(client, make_survey, make_invitation):
    token = make_invitation(make_survey(), language="ar")
    assert html_lang(client.get(f"/s/{token}?lang=ru")) == ("ru", "ltr")


def test_invitation_language_comes_next(client, make_survey, make_invitation):
    token = make_invitation(make_survey(), language="ar")
    response = client.get(f"/s/{token}", headers={"Accept-Language": "en-GB,en;q=0.9"})
    assert html_lang(response) == ("ar", "rtl")
    assert "استبيان ITP".encode() in response.data  # the survey's own Arabic title


def test_invitation_language_applies_on_section_pages(client, make_survey, make_invitation):
    token = make_invitation(make_survey(), language="zh")
    response = client.get(f"/s/{token}/1", headers={"Accept-Language": "en"})
    assert html_lang(response) == ("zh", "ltr")
    assert "您是哪一年参加 ITP 夏季项目的？".encode() in response.data  # a question, not only the title


@pytest.mark.parametrize("header,expected", [
    ("fr-FR,fr;q=0.9,en;q=0.5", "fr"),
    ("zh-CN,zh;q=0.9", "zh"),
    ("zh-Hans-CN", "zh"),
    ("es-419", "es"),
    ("ru", "ru"),
    ("ar-EG,ar;q=0.8", "ar"),
    ("de-DE,ja;q=0.8", "en"),
    ("de-DE,ru;q=0.5", "ru"),
    ("", "en"),
])
def test_accept_language_matched_by_primary_subtag(client, header, expected):
    assert html_lang(client.get("/", headers={"Accept-Language": header}))[0] == expected


def test_unsupported_lang_parameter_is_ignored(client):
    response = client.get("/?lang=xx", headers={"Accept-Language": "fr-FR"})
    assert html_lang(response) == ("fr", "ltr")
    assert html_lang(client.get("/", headers={"Accept-Language": "es"})) == ("es", "ltr")


def test_language_switcher_names_each_language_in_itself(client):
    html = client.get("/privacy?lang=ar").data.decode()
    for code, name in [("en", "English"), ("fr", "Français"), ("es", "Español"), ("zh", "中文（简体）"),
                       ("ru", "Русский")]:
        assert f'<a href="/privacy?lang={code}" lang="{code}" hreflang="{code}">{name}</a>' in html
    assert '<span lang="ar" aria-current="true">العربية</span>' in html
