"""Respondent pages: personal link /s/<token>, open link /survey/<slug>, resume link /r/<token>."""
from __future__ import annotations

import math

from flask import Blueprint, abort, g, redirect, render_template, request, url_for

from forms.respond import SectionAnswers

from ..extensions import csrf
from ..i18n import current_language
from ..models import Survey, SurveyState
from ..security import public
from ..services import responses as response_service
from ..services import surveys as survey_service
from ..services.structure import SectionView, SurveyRef, SurveyStructure, survey_structure
from . import csrf as link_csrf
from . import preview, throttle

bp = Blueprint("respond", __name__)
# Respondent forms check CSRF themselves (link-bound tokens, or FlaskForm on the open-link start),
# so a failed check re-shows the page with everything the fellow typed instead of an error page
# that loses a long answer.
csrf.exempt(bp)

LINK_KINDS = "any(s, r)"


def _load(kind: str, token: str, with_answers: bool = False) -> response_service.RespondentLink:
    """Resolve a secret link or answer 404; unknown links count towards the guessing limit (429)."""
    throttle.refuse_when_exhausted()
    link = response_service.find_link(kind, token, with_answers)
    if link is None:
        throttle.count_unknown_link()
        abort(404)
    if link.invitation is not None:
        g.invitation_language = link.invitation.language  # for the locale when nothing else decides
    preview.admit(link)  # a staff test: staff only
    return link


def _structure(link: response_service.RespondentLink) -> SurveyStructure:
    return survey_structure(link.survey)


def _unavailable(link: response_service.RespondentLink):
    """Return the page to show instead of the form, or None when the fellow may answer."""
    if link.submitted:
        return render_template("respond/already_answered.html", link=link, survey=link.survey)
    state = link.survey.state()
    if state is not SurveyState.OPEN and not link.is_test:  # staff preview a survey in any state
        return _state_page(link.survey, state)
    return None


def _state_page(survey: Survey | SurveyRef, state: SurveyState):
    template = "respond/not_yet_open.html" if state is SurveyState.NOT_YET_OPEN else "respond/closed.html"
    return render_template(template, survey=survey), 200


def _next_page(link: response_service.RespondentLink, structure: SurveyStructure) -> str:
    last = link.response.last_section if link.response else 0
    if last >= len(structure.sections):
        return url_for("respond.check", kind=link.kind, token=link.token)
    return url_for("respond.section", kind=link.kind, token=link.token, number=last + 1)


@bp.route("/s/<token>")
@public
def personal_link(token: str):
    link = _load("s", token)
    response_service.mark_opened(link.invitation, anonymous=link.survey.anonymous)
    blocked = _unavailable(link)
    if blocked is not None:
        return blocked
    if link.response is not None:
        return redirect(_next_page(link, _structure(link)))
    return render_template("respond/start.html", survey=link.survey, link=link,
                           structure=_structure(link),
                           start_url=url_for("respond.section", kind="s", token=token, number=1))


@bp.route("/survey/<slug>", methods=["GET", "POST"])
@public
def open_link(slug: str):
    survey = survey_service.get_survey(slug)
    if survey is None or not survey.open_link:
        abort(404)
    state = survey.state()
    if state is not SurveyState.OPEN:
        return _state_page(survey, state)
    from flask_wtf import FlaskForm

    form = FlaskForm()
    if form.validate_on_submit():
        wait = throttle.take_open_link_start()
        if wait is not None:
            return (render_template("respond/too_many_starts.html", survey=survey, minutes=math.ceil(wait / 60)),
                    429, {"Retry-After": str(wait)})
        _response, token = response_service.start_open_response(survey, current_language(), request.remote_addr)
        return redirect(url_for("respond.section", kind="r", token=token, number=1))
    return render_template("respond/start.html", survey=survey, link=None, form=form,
                           structure=survey_structure(survey))


@bp.route(f"/<{LINK_KINDS}:kind>/<token>/<int:number>", methods=["GET", "POST"])
@public
def section(kind: str, token: str, number: int):
    link = _load(kind, token, with_answers=request.method == "GET")
    blocked = _unavailable(link)
    if blocked is not None:
        return blocked
    structure = _structure(link)
    current = structure.section(number)
    if current is None:
        abort(404)
    returning_to_check = request.values.get("return") == "check"
    new_resume = request.method == "GET" and request.args.get("new") == "1"  # in full once, not on a retry
    language = current_language()
    if request.method == "GET":
        stored = SectionAnswers.from_answers(current.questions, link.answers or {},
                                             link.response.draft if link.response else None)
        return _section_page(link, structure, current, stored, returning_to_check=returning_to_check,
                             new_resume=new_resume)
    form = SectionAnswers(preview.questions_to_check(link, current), request.form,
                          lambda texts: structure.text(texts, language))
    csrf_ok = link_csrf.is_valid(kind, token, request.form.get("csrf_token"))
    going_back = request.form.get("action") == "back" and number > 1
    valid = form.validate()
    # Going back never stops at a message: valid answers are saved, the rest kept as typed (a draft).
    if csrf_ok and (valid or going_back):
        # An open-link fellow sees the resume link in full once: on the page after their first save.
        first_save = kind == "r" and link.response is not None and link.response.last_section == 0 and valid
        try:
            response_service.save_section(link, current, form.answer_rows(), language,
                                          kept=form.kept_as_typed(), completed=valid)
        except response_service.AlreadySubmitted:
            return redirect(url_for("respond.done", kind=kind, token=token))
        if going_back:
            target = url_for("respond.section", kind=kind, token=token, number=number - 1)
        elif returning_to_check or number == len(structure.sections):
            target = url_for("respond.check", kind=kind, token=token)
        else:
            target = url_for("respond.section", kind=kind, token=token, number=number + 1,
                             new=1 if first_save else None)  # None: left out of the URL
        return redirect(target)
    if going_back:  # only the expired session stopped it: no judgement of the answers on the way back
        form.question_errors = {}
    # Show everything exactly as typed, with the messages beside the questions.
    return _section_page(link, structure, current, form, csrf_expired=not csrf_ok,
                         returning_to_check=returning_to_check, new_resume=new_resume)


def _section_page(link: response_service.RespondentLink, structure: SurveyStructure, section: SectionView,
                  form: SectionAnswers, **context: object) -> str:
    return render_template("respond/section.html", structure=structure, section=section, survey=link.survey,
                           link=link, link_csrf=link_csrf.issue(link.kind, link.token), form=form, **context)


@bp.route(f"/<{LINK_KINDS}:kind>/<token>/check")
@public
def check(kind: str, token: str):
    link = _load(kind, token, with_answers=True)
    blocked = _unavailable(link)
    if blocked is not None:
        return blocked
    structure = _structure(link)
    if link.response is None:
        return redirect(url_for("respond.section", kind=kind, token=token, number=1))
    answers = link.answers or {}
    return render_template(
        "respond/check.html", survey=link.survey, link=link, structure=structure, answers=answers,
        missing=response_service.unanswered_required(structure, answers),
        unsaved=response_service.unsaved_answers(structure, link.response.draft),
        link_csrf=link_csrf.issue(kind, token),
    )


@bp.route(f"/<{LINK_KINDS}:kind>/<token>/submit", methods=["POST"])
@public
def submit(kind: str, token: str):
    link = _load(kind, token, with_answers=True)
    if link.submitted:
        return redirect(url_for("respond.done", kind=kind, token=token))
    blocked = _unavailable(link)
    if blocked is not None:
        return blocked
    if not link_csrf.is_valid(kind, token, request.form.get("csrf_token")):
        # A stale or missing token: nothing is lost, the answers are saved; ask to press Submit again.
        return redirect(url_for("respond.check", kind=kind, token=token, resubmit=1))
    structure = _structure(link)
    if link.response is None:
        return redirect(url_for("respond.section", kind=kind, token=token, number=1))
    missing = response_service.unanswered_required(structure, link.answers or {})
    if (missing and not link.is_test) or response_service.unsaved_answers(structure, link.response.draft):
        return redirect(url_for("respond.check", kind=kind, token=token))
    response_service.submit_response(link)
    return redirect(url_for("respond.done", kind=kind, token=token))


@bp.route(f"/<{LINK_KINDS}:kind>/<token>/done")
@public
def done(kind: str, token: str):
    link = _load(kind, token)
    if not link.submitted:
        return redirect(_next_page(link, _structure(link)))
    return render_template("respond/done.html", survey=link.survey, link=link)


@bp.route("/accessibility")
@public
def accessibility():
    return render_template("respond/accessibility.html")


@bp.route("/privacy")
@public
def privacy():
    return render_template("respond/privacy.html")


@bp.route("/")
@public
def index():
    return render_template("respond/index.html")


@bp.route("/health")
@public
def health():
    from ..services.health import check_health

    report = check_health()
    return report.as_dict(), 200 if report.ok else 503
