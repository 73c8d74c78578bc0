"""Staff previews: the survey as a fellow sees it, in any of its languages, at phone width, counted nowhere.

The staff page /staff/surveys/<slug>/preview frames the respondent pages at 375 px (a real phone
viewport, so the pages' own media queries apply) and links to the same pages at full width. Starting
a preview creates a test response (services/test_responses.py); from there the staff member walks
the ordinary respondent pages through its resume link, /r/<token>/<n>, where respond/views.py asks
this module three things: may this visitor see a test response (staff only), which questions to
check (none is required in a preview), and it marks the page as a preview for the banner and for
framing by our own pages. Test responses are never counted, and staff delete them here.
"""
from __future__ import annotations

from dataclasses import replace

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import ngettext
from flask_login import current_user
from flask_wtf import FlaskForm

from forms.participants import ConfirmForm

from ..i18n import LANGUAGE_NAMES, supported_languages
from ..lookups import survey_or_404
from ..models import Survey
from ..questions import QuestionView
from ..security import CONTENT_SECURITY_POLICY
from ..services import test_responses
from ..services.responses import RespondentLink
from ..services.structure import SectionView, survey_structure

bp = Blueprint("preview", __name__, url_prefix="/staff/surveys/<slug>")

# The width of the phone frame: a common phone's viewport in CSS pixels.
PHONE_WIDTH = 375
# Preview pages may be framed by our own staff page, and by nothing else.
_FRAMED_POLICY = CONTENT_SECURITY_POLICY.replace("frame-ancestors 'none'", "frame-ancestors 'self'")


def admit(link: RespondentLink) -> None:
    """Show a test response only to signed-in staff (anyone else: 404), and mark the page a preview.

    A preview's pages are in the test response's language: the page's language switcher changes
    it, and the staff member's own language (the session's) is never touched.
    """
    if not link.is_test or link.response is None:
        return
    if not current_user.is_authenticated:
        abort(404)
    g.preview = True
    asked = request.args.get("lang")
    if asked in supported_languages() and asked != link.response.language:
        test_responses.set_language(link.response.id, asked)
        link.response.language = asked
    g.page_language = link.response.language


def questions_to_check(link: RespondentLink, section: SectionView) -> tuple[QuestionView, ...]:
    """The section's questions, none of them required in a preview, so staff may skip any.

    Only what is checked changes: the page still shows each question as fellows see it.
    """
    if not link.is_test:
        return section.questions
    return tuple(replace(q, required=False) for q in section.questions)


@bp.after_app_request
def allow_framing_by_our_pages(response):
    """Let the staff preview page frame preview pages (same origin only); every other page stays unframeable."""
    if g.get("preview"):
        response.headers["Content-Security-Policy"] = _FRAMED_POLICY
        response.headers["X-Frame-Options"] = "SAMEORIGIN"
    return response


@bp.app_template_global()
def test_response_count(survey_id: int) -> int:
    """Test responses of a survey, for the survey overview's preview block."""
    return test_responses.count_test_responses(survey_id)


def preview_languages(survey: Survey) -> list[str]:
    """The survey's languages this service offers, the survey's own language first."""
    offered = supported_languages()
    return [code for code in survey.language_codes if code in offered]


def _chosen_language(survey: Survey, *params: str) -> str:
    """The language the first of these query parameters asks for, else the survey's own."""
    languages = preview_languages(survey)
    for asked in (request.args.get(param) for param in params):
        if asked in supported_languages():
            return asked
    return languages[0] if languages else survey.base_language


@bp.route("/preview")
def page(slug: str):
    """The preview page: a language choice, the survey framed at phone width, and the test responses."""
    survey = survey_or_404(slug)
    language = _chosen_language(survey, "language")
    return render_template(
        "preview/page.html", survey=survey, language=language,
        languages=[(code, LANGUAGE_NAMES.get(code, code)) for code in preview_languages(survey)],
        phone_width=PHONE_WIDTH, test_count=test_responses.count_test_responses(survey.id),
        start_url=url_for("preview.start", slug=slug, language=language))


@bp.route("/preview/start", methods=["GET", "POST"])
def start(slug: str):
    """The survey's start page in preview; starting creates a test response and opens its first page."""
    survey = survey_or_404(slug)
    g.preview = True
    g.page_language = _chosen_language(survey, "lang", "language")  # "lang": the page's language switcher
    form = FlaskForm()
    if form.validate_on_submit():
        token = test_responses.start_test_response(survey, g.page_language, current_user)
        return redirect(url_for("respond.section", kind="r", token=token, number=1))
    return render_template("respond/start.html", survey=survey, link=None, form=form,
                           structure=survey_structure(survey))


@bp.route("/test-responses/delete", methods=["GET", "POST"])
def delete_tests(slug: str):
    """Ask, then delete every test response of the survey; real responses are never touched."""
    survey = survey_or_404(slug)
    form = ConfirmForm()
    if form.validate_on_submit():
        deleted = test_responses.delete_test_responses(survey, current_user)
        flash(ngettext("%(num)d test response deleted.", "%(num)d test responses deleted.", deleted), "success")
        return redirect(url_for("preview.page", slug=slug))
    count = test_responses.count_test_responses(survey.id)
    return render_template("preview/delete_tests.html", survey=survey, form=form, count=count)
