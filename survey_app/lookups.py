"""Look-ups shared by the staff blueprints that work on one survey: the survey or person a URL names, or 404."""
from __future__ import annotations

from flask import abort, request

from .models import Participant, Survey
from .services import participants as participant_service
from .services import surveys as survey_service


def survey_or_404(slug: str) -> Survey:
    """Return the survey named in the URL, or answer 404."""
    survey = survey_service.get_survey(slug)
    if survey is None:
        abort(404)
    return survey


def participant_or_404(survey: Survey, participant_id: int) -> Participant:
    """Return the participant named in the URL if they belong to this survey, or answer 404."""
    participant = participant_service.get_participant(survey.id, participant_id)
    if participant is None:
        abort(404)
    return participant


def participant_or_gone(survey: Survey, participant_id: int) -> Participant | None:
    """Like participant_or_404, but a POST about someone who no longer exists gets None, so the view
    can say they were removed or erased meanwhile (a double-submitted Remove, two staff at once).
    Someone in another survey is still a 404."""
    participant = participant_service.get_participant(survey.id, participant_id)
    if participant is None and (request.method != "POST"
                                or participant_service.participant_survey_id(participant_id) is not None):
        abort(404)
    return participant
