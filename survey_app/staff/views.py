"""Staff home: every survey with its invited / started / completed counts and open link; its translations."""
from __future__ import annotations

from flask import Blueprint, abort, render_template

from ..i18n import LANGUAGE_NAMES
from ..services import surveys as survey_service
from ..services.translations import missing_translations

bp = Blueprint("staff", __name__, url_prefix="/staff")


@bp.route("/")
def home():
    return render_template("staff/home.html", rows=survey_service.list_surveys())


@bp.route("/surveys/<slug>")
def survey(slug: str):
    survey = survey_service.get_survey(slug)
    if survey is None:
        abort(404)
    return render_template("staff/survey.html", survey=survey, counts=survey_service.survey_counts(survey.id))


@bp.route("/surveys/<slug>/translations")
def translations(slug: str):
    """Per language, the survey texts that still need a translation."""
    survey = survey_service.get_survey(slug)
    if survey is None:
        abort(404)
    return render_template("staff/translations.html", survey=survey, missing=missing_translations(survey),
                           language_labels=LANGUAGE_NAMES)
