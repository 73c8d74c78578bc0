"""Anonymous surveys keep no link between a response and the person, through the real respondent pages."""
from __future__ import annotations

from sqlalchemy import select

from survey_app.extensions import db
from survey_app.models import Answer, Invitation, Response
from survey_app.services import privacy
from tests.privacy.conftest import FREE_TEXT, invitation_of


def _at_midnight(moment) -> bool:
    return (moment.hour, moment.minute, moment.second, moment.microsecond) == (0, 0, 0, 0)


def test_submitted_anonymous_response_is_cut_from_the_invitation(app, make_survey, make_invitation,
                                                                 answer_survey, participant_id):
    survey_id = make_survey(anonymous=True)
    token = make_invitation(survey_id, name="Amina Okafor", email="amina@example.org", country="ZW")
    answer_survey(token, survey_id)
    person_id = participant_id("amina@example.org")
    with app.app_context():
        response = db.session.execute(select(Response).where(Response.survey_id == survey_id)).scalar_one()
        assert response.status == "complete"
        assert response.invitation_id is None
        assert response.country != "ZW"  # only what the fellow answered, nothing copied from the person
        for moment in (response.started_at, response.updated_at, response.submitted_at):
            assert _at_midnight(moment)
        assert db.session.execute(select(Answer).where(Answer.response_id == response.id)).first() is not None
        invitation = invitation_of(person_id)
        # Still marked completed, which is what the reminder query skips on.
        assert invitation.status == "completed"
        assert invitation.completed_at is not None and _at_midnight(invitation.completed_at)
        data = privacy.participant_data(person_id)
        assert data["response"] is None
        assert data["survey"]["anonymous"] is True
        assert "cannot be linked" in data["anonymous_notice"]
        assert FREE_TEXT not in str(data)


def test_unfinished_anonymous_response_is_linked_until_submit_but_never_shown(app, make_survey, make_invitation,
                                                                              answer_survey, participant_id):
    survey_id = make_survey(anonymous=True)
    token = make_invitation(survey_id, email="sami@example.org")
    answer_survey(token, survey_id, submit=False)
    person_id = participant_id("sami@example.org")
    with app.app_context():
        data = privacy.participant_data(person_id)
        assert data["response"]["answers_withheld"] is True
        assert "answers" not in data["response"]
        assert FREE_TEXT not in str(data)


def test_erasing_an_anonymous_respondent_keeps_their_unlinked_response(app, make_survey, make_invitation,
                                                                       answer_survey, participant_id):
    survey_id = make_survey(anonymous=True)
    token = make_invitation(survey_id, email="lin@example.org")
    answer_survey(token, survey_id)
    person_id = participant_id("lin@example.org")
    with app.app_context():
        report = privacy.erase_participant(person_id, None)
        assert (report.responses, report.invitations, report.participants) == (0, 1, 1)
        assert db.session.execute(select(Response).where(Response.survey_id == survey_id)).scalar_one()
        assert db.session.execute(select(Invitation)).first() is None


def test_non_anonymous_response_stays_linked(app, make_survey, make_invitation, answer_survey, participant_id):
    survey_id = make_survey()
    token = make_invitation(survey_id, email="named@example.org")
    answer_survey(token, survey_id)
    with app.app_context():
        response = db.session.execute(select(Response)).scalar_one()
        assert response.invitation_id == invitation_of(participant_id("named@example.org")).id
