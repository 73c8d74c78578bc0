"""Staff home: every survey with its invited / started / completed counts and open link; its translations.

A survey's overview also opens and closes it, now or at a moment, after a confirmation page.
"""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from forms.surveys import CloseForm, OpenForm

from ..i18n import LANGUAGE_NAMES
from ..lookups import survey_or_404
from ..models import Survey, SurveyState
from ..models.base import utcnow
from ..services import schedule
from ..services import surveys as survey_service
from ..services.translations import missing_translations

bp = Blueprint("staff", __name__, url_prefix="/staff")


@bp.route("/")
def home():
    return render_template("staff/home.html", rows=survey_service.list_surveys())


@bp.context_processor
def _schedule_helpers() -> dict:
    return {"moment_text": schedule.moment_text, "SurveyState": SurveyState}


def _overview(survey: Survey, open_form: OpenForm | None = None, close_form: CloseForm | None = None):
    return render_template("staff/survey.html", survey=survey, counts=survey_service.survey_counts(survey.id),
                           state=survey.state(), now=utcnow(), open_form=open_form or OpenForm(formdata=None),
                           close_form=close_form or CloseForm(formdata=None))


@bp.route("/surveys/<slug>")
def survey(slug: str):
    return _overview(survey_or_404(slug))


# Each action: its form, the check that says what would change, and the service that makes the change.
_SCHEDULE_ACTIONS = {
    "open": (OpenForm, schedule.opening, schedule.open_survey),
    "close": (CloseForm, schedule.closing, schedule.close_survey),
}


@bp.route("/surveys/<slug>/<any(open, close):action>", methods=["POST"])
def change_schedule(slug: str, action: str):
    """Open or close now or at a moment: first a page saying what fellows will see, then the change."""
    survey = survey_or_404(slug)
    form_class, check, make = _SCHEDULE_ACTIONS[action]
    form = form_class()
    if form.validate_on_submit():
        try:
            if form.confirmed.data:
                flash(_done(action, make(survey, form.moment(), current_user)), "success")
                return redirect(url_for(".survey", slug=slug))
            change = check(survey, form.moment())
        except schedule.ScheduleError as exc:
            form[exc.field].errors.append(str(exc))
        else:
            counts = survey_service.survey_counts(survey.id)
            return render_template("staff/schedule_confirm.html", survey=survey, form=form, change=change,
                                   action=action, unfinished=counts.started - counts.completed)
    return _overview(survey, **{f"{action}_form": form}), 400


def _done(action: str, change: schedule.Schedule) -> str:
    when = schedule.moment_text(change.at)
    if action == "open":
        return _("The survey is open.") if change.now else _("The survey will open on %(when)s.", when=when)
    return _("The survey is closed.") if change.now else _("The survey will close on %(when)s.", when=when)


@bp.route("/surveys/<slug>/translations")
def translations(slug: str):
    """Per language, the survey texts that still need a translation."""
    survey = survey_or_404(slug)
    return render_template("staff/translations.html", survey=survey, missing=missing_translations(survey),
                           language_labels=LANGUAGE_NAMES)
