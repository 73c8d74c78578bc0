"""Look-ups shared by every staff blueprint that works on one survey."""
from __future__ import annotations

from flask import abort

from ..models import Survey
from ..services import surveys as survey_service


def survey_or_404(slug: str) -> Survey:
    """Return the survey named in the URL, or answer 404."""
    survey = survey_service.get_survey(slug)
    if survey is None:
        abort(404)
    return survey
