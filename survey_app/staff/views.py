"""Staff home: every survey with its invited / started / completed counts and open link."""
from __future__ import annotations

from flask import Blueprint, abort, render_template

from ..services import surveys as survey_service

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


from . import translations  # noqa: E402,F401  (register the translations page)
