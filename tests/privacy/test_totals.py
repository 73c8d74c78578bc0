"""A submit through the respondent pages moves the dashboard figures at once; erasure takes them back."""
from __future__ import annotations

from sqlalchemy import select

from survey_app.extensions import db
from survey_app.models import Response, Survey
from survey_app.services import privacy
from survey_app.services import results as rs


def _figures(survey_id: int) -> tuple[int, int, dict[str, int]]:
    survey = db.session.get(Survey, survey_id)
    results = rs.summarise(survey)
    platform = next((q for q in results.questions if q.code == "preferred_platform"), None)
    db.session.rollback()
    # The pages set the response's country from the country question (the first one listed).
    country = db.session.execute(select(Response.country).where(Response.survey_id == survey_id)).scalars().first()
    return results.completed_all, rs.group_counts(survey_id).countries.get(country, 0) if country else 0, {
        o.code: o.count for o in (platform.options if platform else []) if o.count}


def test_submitting_through_the_pages_counts_and_erasing_uncounts(app, make_survey, make_invitation, answer_survey,
                                                                   participant_id):
    survey_id = make_survey(min_group_size=1)
    tokens = [make_invitation(survey_id, email=f"fellow{n}@example.org", country="NG") for n in range(2)]
    with app.app_context():
        assert _figures(survey_id) == (0, 0, {})
    answer_survey(tokens[0], survey_id, submit=False)
    with app.app_context():
        assert _figures(survey_id) == (0, 0, {})  # saved but not submitted: not counted
    answer_survey(tokens[0], survey_id)
    with app.app_context():
        completed, nigeria, platforms = _figures(survey_id)
        assert (completed, nigeria, sum(platforms.values())) == (1, 1, 1)
    answer_survey(tokens[1], survey_id)
    with app.app_context():
        completed, nigeria, platforms = _figures(survey_id)
        assert (completed, nigeria, sum(platforms.values())) == (2, 2, 2)
        privacy.erase_participant(participant_id("fellow0@example.org"), None)
        completed, nigeria, platforms = _figures(survey_id)
        assert (completed, nigeria, sum(platforms.values())) == (1, 1, 1)
        privacy.erase_participant(participant_id("fellow1@example.org"), None)
        assert _figures(survey_id) == (0, 0, {})
