"""Staff page listing, per language, the survey texts that still need a translation."""
from __future__ import annotations

from flask import abort, render_template

from ..i18n import LANGUAGE_NAMES
from ..services import surveys as survey_service
from ..services.translations import missing_translations
from .views import bp


@bp.route("/surveys/<slug>/translations")
def translations(slug: str):
    survey = survey_service.get_survey(slug)
    if survey is None:
        abort(404)
    return render_template("staff/translations.html", survey=survey, missing=missing_translations(survey),
                           language_labels=LANGUAGE_NAMES)
