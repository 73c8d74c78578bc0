"""Subject access export, erasure of one person, and the retention run."""
from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from survey_app.extensions import db
from survey_app.models import Answer, AuditEvent, Delivery, Invitation, Participant, Question, Response, Survey
from survey_app.models.base import utcnow
from survey_app.services import privacy
from tests.privacy.conftest import FREE_TEXT, invitation_of


def counts(survey_id: int | None = None) -> dict[str, int]:
    def n(model) -> int:
        stmt = select(func.count(model.id))
        if survey_id is not None and hasattr(model, "survey_id"):
            stmt = stmt.where(model.survey_id == survey_id)
        return db.session.execute(stmt).scalar_one()

    return {m.__name__: n(m) for m in (Participant, Invitation, Delivery, Response)} | {
        "Answer": db.session.execute(select(func.count(Answer.id))).scalar_one()}


@pytest.fixture
def two_fellows(app, make_survey, make_invitation, answer_survey, participant_id, add_delivery):
    """A named survey where Ada and Ben both answered and got an invitation and a reminder."""
    survey_id = make_survey()
    for name, email in (("Ada Lovelace", "ada@example.org"), ("Ben Okri", "ben@example.org")):
        token = make_invitation(survey_id, name=name, email=email, country="NG", cohort=2012)
        person = participant_id(email)
        add_delivery(person, "invitation", 0)
        add_delivery(person, "reminder", 1)
        answer_survey(token, survey_id)
    with app.app_context():
        db.session.get(Participant, participant_id("ada@example.org")).attributes = {"museum": "National Museum"}
        db.session.commit()
    return survey_id, participant_id("ada@example.org"), participant_id("ben@example.org")


def test_export_holds_everything_about_the_person_and_no_secrets(app, two_fellows):
    survey_id, ada, _ben = two_fellows
    with app.app_context():
        data = privacy.participant_data(ada)
        invitation = invitation_of(ada)
        secrets = [invitation.token_hash, invitation.token_seed.hex(), invitation.optout_token_hash]
        response = db.session.execute(select(Response).where(Response.invitation_id == invitation.id)).scalar_one()
        stored_answers = db.session.execute(select(func.count(Answer.id)).where(Answer.response_id == response.id)
                                            ).scalar_one()
    assert data["participant"]["name"] == "Ada Lovelace"
    assert data["participant"]["email"] == "ada@example.org"
    assert data["participant"]["country"] == "NG" and data["participant"]["cohort"] == 2012
    assert data["participant"]["attributes"] == {"museum": "National Museum"}
    assert data["invitation"]["status"] == "completed"
    assert data["invitation"]["completed_at"] and data["invitation"]["started_at"]
    assert [(d["kind"], d["round"], d["state"]) for d in data["deliveries"]] == [
        ("invitation", 0, "sent"), ("reminder", 1, "sent")]
    assert data["deliveries"][0]["message_id"] == f"<invitation-0-{ada}@itp.example>"
    assert data["response"]["status"] == "complete"
    answers = data["response"]["answers"]
    assert len(answers) == stored_answers > 5
    assert any(a["text"] == FREE_TEXT for a in answers)
    labelled = next(a for a in answers if a["option_code"] and not a["item_code"])
    assert labelled["question"] and labelled["option"] and labelled["question_code"]
    matrix = [a for a in answers if a["item_code"] and a["option_code"]]
    assert matrix and all(a["item"] and a["option"] for a in matrix)
    flat = json.dumps(data)
    for secret in secrets:
        if secret:
            assert secret not in flat
    assert "token" not in flat and "seed" not in flat and "hash" not in flat
    assert "ben@example.org" not in flat


def test_erase_removes_exactly_that_person_and_logs_no_personal_data(app, two_fellows):
    survey_id, ada, ben = two_fellows
    with app.app_context():
        before = counts()
        ben_before = privacy.participant_data(ben)
        ada_answers = len(privacy.participant_data(ada)["response"]["answers"])
        report = privacy.erase_participant(ada, None)
        assert (report.participants, report.invitations, report.deliveries, report.responses) == (1, 1, 2, 1)
        assert report.answers == ada_answers
        after = counts()
        assert after == {"Participant": before["Participant"] - 1, "Invitation": before["Invitation"] - 1,
                         "Delivery": before["Delivery"] - 2, "Response": before["Response"] - 1,
                         "Answer": before["Answer"] - ada_answers}
        assert db.session.get(Participant, ada) is None
        ben_after = privacy.participant_data(ben)
        assert {k: v for k, v in ben_after.items() if k != "generated_at"} == {
            k: v for k, v in ben_before.items() if k != "generated_at"}
        event = db.session.execute(select(AuditEvent).where(AuditEvent.action == "participant.erased")).scalar_one()
        assert event.survey_id == survey_id and event.actor_email == "cli"
        assert event.detail == {"participant_id": ada, "responses": 1, "answers": ada_answers, "deliveries": 2,
                                "invitations": 1}
        every_detail = json.dumps([e.detail for e in db.session.execute(select(AuditEvent)).scalars()])
        assert "Ada" not in every_detail and "ada@example.org" not in every_detail


def _close(app, survey_id: int, days_ago: int, retention: int | None) -> None:
    with app.app_context():
        survey = db.session.get(Survey, survey_id)
        survey.closes_at = utcnow() - timedelta(days=days_ago)
        survey.retention_days = retention
        db.session.commit()


def test_erase_expired_erases_only_expired_surveys_and_keeps_coded_answers(app, make_survey, two_fellows):
    expired, ada, _ben = two_fellows
    with app.app_context():
        db.session.execute(
            select(Answer).where(Answer.text == FREE_TEXT)).scalars().first().quote_approved = True
        db.session.commit()
        approved_texts = db.session.execute(select(func.count(Answer.id)).where(
            Answer.quote_approved.is_(True))).scalar_one()
    _close(app, expired, days_ago=40, retention=30)
    with app.app_context():
        kept = make_survey(slug="kept-survey")
        person = Participant(survey_id=kept, name="Kept Person", email="kept@example.org", attributes={})
        db.session.add(person)
        db.session.commit()
    _close(app, kept, days_ago=10, retention=30)
    with app.app_context():
        open_one = make_survey(slug="still-open", retention_days=1)
        db.session.add(Participant(survey_id=open_one, name="Open Person", email="open@example.org", attributes={}))
        db.session.commit()
        answers_before = db.session.execute(select(func.count(Answer.id)).where(
            Answer.text.is_(None))).scalar_one()

        dry = privacy.erase_expired(dry_run=True)
        assert [(r.slug, r.participants, r.invitations, r.deliveries, r.responses_unlinked, r.dry_run)
                for r in dry] == [("legacy-projects", 2, 2, 4, 2, True)]
        assert counts(expired)["Participant"] == 2
        assert db.session.execute(select(AuditEvent)).first() is None

        reports = privacy.erase_expired()
        assert [r.slug for r in reports] == ["legacy-projects"] and not reports[0].dry_run
        assert reports[0].texts_removed == dry[0].texts_removed > 0
        assert counts(expired) | {"Answer": 0} == {"Participant": 0, "Invitation": 0, "Delivery": 0,
                                                   "Response": 2, "Answer": 0}
        responses = db.session.execute(select(Response).where(Response.survey_id == expired)).scalars().all()
        assert all(r.invitation_id is None and r.submitted_at.hour == 0 for r in responses)
        # Coded answers stay for statistics; only free text not approved for quoting goes.
        assert db.session.execute(select(func.count(Answer.id)).where(
            Answer.text.is_(None))).scalar_one() >= answers_before
        remaining_texts = db.session.execute(select(Answer.text).where(Answer.text.is_not(None))).scalars().all()
        assert remaining_texts == [FREE_TEXT] * approved_texts
        assert counts(kept)["Participant"] == 1 and counts(open_one)["Participant"] == 1
        event = db.session.execute(select(AuditEvent)).scalar_one()
        assert event.action == "retention.erased" and event.survey_id == expired
        assert event.detail["participants"] == 2 and event.detail["retention_days"] == 30
        assert privacy.erase_expired() == []  # nothing left: no second event
        assert db.session.execute(select(func.count(AuditEvent.id))).scalar_one() == 1


def test_retention_counts_from_last_activity_when_closed_by_hand(app, make_survey, make_invitation):
    survey_id = make_survey(status="closed", retention_days=30)
    make_invitation(survey_id)
    with app.app_context():
        survey = db.session.get(Survey, survey_id)
        due = privacy.retention_due(survey)
        invitation_created = db.session.execute(select(Invitation.created_at)).scalar_one()
        assert due == invitation_created + timedelta(days=30)
        # The deadline is a date in the data, given explicitly: nothing here depends on the clock.
        just_before, just_after = due - timedelta(seconds=1), due + timedelta(seconds=1)
        assert privacy.erase_expired(now=just_before) == []
        assert [r.participants for r in privacy.erase_expired(now=just_after)] == [1]


def test_no_retention_means_kept_until_erased_by_hand(app, make_survey, make_invitation):
    survey_id = make_survey(status="closed")
    make_invitation(survey_id)
    with app.app_context():
        assert privacy.retention_due(db.session.get(Survey, survey_id)) is None
        assert privacy.erase_expired(now=utcnow() + timedelta(days=10000)) == []


def test_retention_setting_is_validated_and_audited(app, make_survey):
    survey_id = make_survey()
    with app.app_context():
        survey = db.session.get(Survey, survey_id)
        with pytest.raises(privacy.PrivacyError):
            privacy.set_retention(survey, 0, None)
        privacy.set_retention(survey, 365, None)
        privacy.set_retention(survey, 365, None)  # unchanged: no second event
        event = db.session.execute(select(AuditEvent)).scalar_one()
        assert (event.action, event.detail) == ("survey.retention_changed", {"previous_days": None, "days": 365})


def test_text_kept_as_typed_is_exported_and_goes_with_retention(app, make_survey, make_invitation):
    """A draft (typed, not valid yet, when the fellow went back) is personal data like an answer."""
    survey_id = make_survey()
    make_invitation(survey_id, name="Cy Twombly", email="cy@example.org")
    with app.app_context():
        person = db.session.execute(select(Participant).where(Participant.email == "cy@example.org")).scalar_one()
        question_id = db.session.execute(select(Question.id).where(
            Question.survey_id == survey_id, Question.code == "suggestions")).scalar_one()
        db.session.add(Response(survey_id=survey_id, invitation_id=invitation_of(person.id).id,
                                draft={str(question_id): [["suggestions", "Typed, not yet saved"]]}))
        db.session.commit()
        data = privacy.participant_data(person.id)
        assert data["response"]["unsaved_as_typed"] == {"suggestions": [["suggestions", "Typed, not yet saved"]]}
    _close(app, survey_id, days_ago=40, retention=30)
    with app.app_context():
        privacy.erase_expired()
        assert db.session.execute(select(Response.draft)).scalar_one() is None
