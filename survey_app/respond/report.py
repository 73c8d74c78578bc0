"""The public web version of the results summary: the PDF's approved content as an accessible page."""
from __future__ import annotations

from flask import Blueprint, abort, render_template
from flask_babel import force_locale

from ..i18n import LANGUAGE_NAMES, current_language
from ..security import public
from ..services import report, report_settings
from . import throttle

bp = Blueprint("public_report", __name__)


@bp.route("/reports/<token>")
@public
def report_page(token: str):
    """Show a published report; an unknown or withdrawn address is a 404 that counts as a link guess."""
    throttle.refuse_when_exhausted()
    survey = report_settings.find_published(token)
    if survey is None:
        throttle.count_unknown_link()
        abort(404)
    languages = report.report_languages(survey)
    lang = current_language() if current_language() in languages else survey.base_language
    content = report.build_content(survey, lang)
    with force_locale(lang):
        page = render_template("respond/report.html", content=content, survey=survey,
                               languages=[(code, LANGUAGE_NAMES.get(code, code)) for code in languages])
    # Cache-Control: no-store is added to every page (survey_app/security.py); search engines keep out.
    return page, 200, {"X-Robots-Tag": "noindex, nofollow"}
