"""Invitations and reminders against a real SMTP server: each fellow gets each message once."""
from __future__ import annotations

import threading
from collections import Counter

import pytest
from sqlalchemy import func, select

from survey_app.extensions import db
from survey_app.models import Delivery, Invitation, Participant, Survey
from survey_app.models.base import utcnow
from survey_app.services import invitations as invitation_service
from survey_app.services import mail, tokens

from .conftest import links_in


def _send_all(app, survey_id: int, kind: str = "invitation") -> int | None:
    """Queue a batch and send it in-process, as `flask invitations send --wait` does; return its size."""
    with app.app_context():
        survey = db.session.get(Survey, survey_id)
        if kind == "invitation":
            batch = invitation_service.send_invitations(survey, actor=None)
        else:
            batch = invitation_service.send_reminders(survey, actor=None)
        invitation_service.send_pending(survey)
        return batch.total if batch is not None else None


def _states(app, survey_id: int) -> dict[str, str]:
    with app.app_context():
        rows = db.session.execute(
            select(Participant.email, Delivery.state).join(Delivery, Delivery.participant_id == Participant.id)
            .where(Participant.survey_id == survey_id)
        ).all()
        return {email: state for email, state in rows}


def test_300_invitations_arrive_once_each_with_working_personal_links(app, smtp, survey_id, import_fellows):
    assert import_fellows(300) == 300
    assert _send_all(app, survey_id) == 300

    received = smtp.handler.per_recipient()
    assert len(received) == 300 and set(received.values()) == {1}
    has_respond_route = any(rule.rule == "/s/<token>" for rule in app.url_map.iter_rules())
    with app.app_context():
        hashes = dict(db.session.execute(
            select(Participant.email, Invitation.token_hash).join(Invitation)
            .where(Participant.survey_id == survey_id)).all())
        message_ids = dict(db.session.execute(
            select(Participant.email, Delivery.message_id).join(Delivery, Delivery.participant_id == Participant.id)
        ).all())
    client = app.test_client()
    for item in smtp.handler.received[:300]:
        message = item.message
        recipient = item.recipients[0]
        link, optout = links_in(message)
        assert link.startswith("http://127.0.0.1:5000/s/")
        assert tokens.hash_token(link.rsplit("/", 1)[1]) == hashes[recipient]
        assert message["Message-ID"] == message_ids[recipient]
        assert str(message["List-Unsubscribe"]).strip() == f"<{optout}/one-click>"
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert message["From"] == "ITP Surveys <itp-surveys@museum.example>"
        assert message.get_body(preferencelist=("html",)) is not None
    if has_respond_route:
        first_link, _ = links_in(smtp.handler.received[0].message)
        assert client.get(first_link.replace("http://127.0.0.1:5000", "")).status_code == 200
    assert set(_states(app, survey_id).values()) == {"sent"}


def test_temporary_failures_are_retried_then_delivered(app, smtp, survey_id, import_fellows):
    import_fellows(5)
    smtp.handler.temporary = {"fellow1@example.org": 2, "fellow3@example.org": 1}
    _send_all(app, survey_id)

    assert smtp.handler.per_recipient() == Counter({f"fellow{i}@example.org": 1 for i in range(5)})
    assert smtp.handler.attempts["fellow1@example.org"] == 3
    with app.app_context():
        attempts = db.session.execute(select(Delivery.attempts).join(Participant)
                                      .where(Participant.email == "fellow1@example.org")).scalar_one()
    assert attempts == 3
    assert set(_states(app, survey_id).values()) == {"sent"}


def test_temporary_failures_give_up_after_the_attempt_limit(app, smtp, survey_id, import_fellows):
    import_fellows(2)
    smtp.handler.temporary = {"fellow0@example.org": 99}
    _send_all(app, survey_id)
    states = _states(app, survey_id)
    assert states == {"fellow0@example.org": "failed", "fellow1@example.org": "sent"}
    assert smtp.handler.attempts["fellow0@example.org"] == 4  # MAIL_MAX_ATTEMPTS
    with app.app_context():
        error = db.session.execute(select(Delivery.last_error).join(Participant)
                                   .where(Participant.email == "fellow0@example.org")).scalar_one()
    assert "gave up after 4 attempts" in error and "451" in error


def test_rejected_recipients_end_failed_with_the_servers_answer(app, smtp, survey_id, import_fellows):
    import_fellows(4)
    smtp.handler.reject = {"fellow2@example.org"}
    _send_all(app, survey_id)
    states = _states(app, survey_id)
    assert states["fellow2@example.org"] == "failed"
    assert [s for e, s in states.items() if e != "fellow2@example.org"] == ["sent"] * 3
    assert smtp.handler.attempts["fellow2@example.org"] == 1
    with app.app_context():
        error = db.session.execute(select(Delivery.last_error).join(Participant)
                                   .where(Participant.email == "fellow2@example.org")).scalar_one()
    assert "550" in error and "User unknown" in error


def test_connection_dropped_after_data_is_uncertain_and_not_resent(app, smtp, survey_id, import_fellows):
    import_fellows(4)
    smtp.handler.drop_after_data = {"fellow1@example.org"}
    _send_all(app, survey_id)
    states = _states(app, survey_id)
    assert states["fellow1@example.org"] == "uncertain"
    assert sum(1 for s in states.values() if s == "sent") == 3

    _send_all(app, survey_id)  # pressing Send again, and any later sweep, must not resend it
    with app.app_context():
        invitation_service.sweep()
        invitation_service.send_pending()
    assert smtp.handler.per_recipient() == Counter({f"fellow{i}@example.org": 1 for i in range(4)})


def test_double_send_gives_one_message_per_person(app, smtp, survey_id, import_fellows):
    import_fellows(20)
    with app.app_context():
        survey = db.session.get(Survey, survey_id)
        first = invitation_service.send_invitations(survey, actor=None)
        second = invitation_service.send_invitations(survey, actor=None)
        assert first is not None and second is None
        invitation_service.send_pending()
        assert db.session.execute(select(func.count(Delivery.id))).scalar_one() == 20
    assert set(smtp.handler.per_recipient().values()) == {1}
    assert len(smtp.handler.per_recipient()) == 20


def test_two_concurrent_senders_on_one_batch_send_each_message_once(app, smtp, survey_id, import_fellows):
    import_fellows(120)
    with app.app_context():
        batch = invitation_service.create_batch(db.session.get(Survey, survey_id), "invitation")
        batch_id = batch.id
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            with app.app_context():
                invitation_service.process_batch(batch_id)
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    received = smtp.handler.per_recipient()
    assert len(received) == 120 and set(received.values()) == {1}
    assert set(_states(app, survey_id).values()) == {"sent"}


def test_header_injection_through_a_name_is_impossible(app, smtp, survey_id, make_invitation):
    make_invitation(survey_id, name="Eve\r\nBcc: victim@example.org\r\nSubject: pwned", email="eve@example.org")
    _send_all(app, survey_id)
    assert len(smtp.handler.received) == 1
    item = smtp.handler.received[0]
    assert item.recipients == ["eve@example.org"]
    message = item.message
    assert message["Bcc"] is None
    assert len(message.get_all("Subject")) == 1 and "pwned" not in message["Subject"]
    assert b"\r\nBcc:" not in item.data and b"\nBcc:" not in item.data
    assert message["To"].addresses[0].addr_spec == "eve@example.org"
    assert "victim@example.org" not in [a.addr_spec for a in message["To"].addresses]


def _complete(app, email: str) -> None:
    with app.app_context():
        invitation = db.session.execute(select(Invitation).join(Participant)
                                        .where(Participant.email == email)).scalar_one()
        invitation.status = "completed"
        invitation.completed_at = utcnow()
        db.session.commit()


def test_reminders_go_only_to_invited_non_respondents(app, smtp, survey_id, import_fellows):
    import_fellows(6)
    smtp.handler.reject = {"fellow5@example.org"}
    _send_all(app, survey_id)
    import_fellows(1, start=6)  # added after the invitations went out: not invited, not reminded
    _complete(app, "fellow0@example.org")
    with app.app_context():
        invitation = db.session.execute(select(Invitation).join(Participant)
                                        .where(Participant.email == "fellow1@example.org")).scalar_one()
        invitation.status = "opened"
        invitation_service.opt_out(db.session.execute(
            select(Invitation).join(Participant).where(Participant.email == "fellow2@example.org")).scalar_one())
        survey = db.session.get(Survey, survey_id)
        db.session.commit()
        assert invitation_service.count_recipients(survey, "reminder") == 3
    smtp.handler.received.clear()
    assert _send_all(app, survey_id, kind="reminder") == 3
    assert sorted(smtp.handler.per_recipient()) == ["fellow1@example.org", "fellow3@example.org",
                                                   "fellow4@example.org"]
    assert set(smtp.handler.per_recipient().values()) == {1}


def test_a_fellow_who_completes_before_the_reminder_goes_out_gets_none(app, smtp, survey_id, import_fellows):
    import_fellows(3)
    _send_all(app, survey_id)
    smtp.handler.received.clear()
    with app.app_context():
        batch = invitation_service.create_batch(db.session.get(Survey, survey_id), "reminder")
        assert batch.total == 3
        batch_id = batch.id
    _complete(app, "fellow1@example.org")
    with app.app_context():
        invitation_service.process_batch(batch_id)
    assert sorted(smtp.handler.per_recipient()) == ["fellow0@example.org", "fellow2@example.org"]
    with app.app_context():
        state = db.session.execute(select(Delivery.state).join(Participant).where(
            Participant.email == "fellow1@example.org", Delivery.kind == "reminder")).scalar_one()
    assert state == "cancelled"


def test_double_click_on_remind_sends_one_reminder_round(app, smtp, survey_id, import_fellows):
    import_fellows(3)
    _send_all(app, survey_id)
    smtp.handler.received.clear()
    with app.app_context():
        survey = db.session.get(Survey, survey_id)
        round_ = invitation_service.next_reminder_round(survey)
        assert invitation_service.send_reminders(survey, round_, actor=None) is not None
        assert invitation_service.send_reminders(survey, round_, actor=None) is None
        invitation_service.send_pending()
    assert set(smtp.handler.per_recipient().values()) == {1}


def test_scheduled_reminders_respect_the_gap_and_the_maximum(app, smtp, survey_id, import_fellows):
    import_fellows(2)
    _send_all(app, survey_id)
    smtp.handler.received.clear()
    with app.app_context():
        survey = db.session.get(Survey, survey_id)
        invitation_service.save_schedule(survey, True, min_days=7, max_count=1, actor=None)
        assert invitation_service.run_scheduled_reminders() == []  # invited today: too soon
        db.session.execute(Delivery.__table__.update().values(sent_at=utcnow().replace(year=2000)))
        db.session.commit()
        assert len(invitation_service.run_scheduled_reminders()) == 1
        invitation_service.send_pending()
        db.session.execute(Delivery.__table__.update().values(sent_at=utcnow().replace(year=2000)))
        db.session.commit()
        assert invitation_service.run_scheduled_reminders() == []  # maximum of one reached
    assert len(smtp.handler.received) == 2


def test_non_ascii_names_reach_the_recipient_intact(app, smtp, survey_id, make_invitation):
    make_invitation(survey_id, name="Zoë Ñandú-Öztürk, 李娜", email="zoe@example.org")
    _send_all(app, survey_id)
    message = smtp.handler.received[0].message
    # The comma is dropped from the address header only: it could make a name read as a second address.
    assert message["To"].addresses[0].display_name == "Zoë Ñandú-Öztürk 李娜"
    assert message["To"].addresses[0].addr_spec == "zoe@example.org"
    assert "Dear Zoë Ñandú-Öztürk, 李娜," in message.get_body(preferencelist=("plain",)).get_content()


def test_cli_sends_with_wait_and_status_counts_match_what_the_server_received(app, runner, smtp, import_fellows):
    import_fellows(12)
    smtp.handler.reject = {"fellow4@example.org"}
    smtp.handler.drop_after_data = {"fellow7@example.org"}
    result = runner.invoke(args=["invitations", "send", "legacy-projects", "--wait"])
    assert result.exit_code == 0, result.output
    assert "queued 12 invitations" in result.output and "10 of 12 sent, 1 failed, 1 uncertain" in result.output
    status = runner.invoke(args=["invitations", "status", "legacy-projects"]).output
    lines = {" ".join(line.split()[:-1]): int(line.split()[-1]) for line in status.splitlines()[1:]
             if line.startswith("  ")}
    assert lines["sent"] == 10 == len(smtp.handler.per_recipient()) - 1  # the uncertain one did arrive
    assert lines["failed"] == 1 and lines["uncertain"] == 1
    smtp.handler.received.clear()
    remind = runner.invoke(args=["invitations", "remind", "legacy-projects", "--wait", "--yes"])
    assert remind.exit_code == 0, remind.output
    # Everyone but the failed address, the uncertain one included: a reminder may be their only link.
    assert len(smtp.handler.per_recipient()) == 11 and "fellow7@example.org" in smtp.handler.per_recipient()


# --- groups: several messages marked in flight, and their outcomes recorded, per transaction -------

def _ledger(app) -> list[tuple[int, str, str | None]]:
    """Every ledger row (id, state, Message-ID) in claim order, read on a connection of its own."""
    with app.app_context():
        return [tuple(row) for row in db.session.execute(
            select(Delivery.id, Delivery.state, Delivery.message_id).order_by(Delivery.id)).all()]


def test_a_group_is_in_flight_before_it_reaches_smtp_and_its_outcomes_are_recorded_together(
        app, smtp, survey_id, import_fellows):
    import_fellows(12)
    app.config["MAIL_SEND_GROUP"] = 5
    seen: list[tuple[str, list]] = []  # (Message-ID received, the ledger at that moment)
    smtp.handler.on_data = lambda item: seen.append((item.message["Message-ID"], _ledger(app)))
    _send_all(app, survey_id)

    assert len(seen) == 12
    for index, (message_id, ledger) in enumerate(seen):
        start = index - index % 5
        earlier, group, later = ledger[:start], ledger[start:start + 5], ledger[start + 5:]
        # Earlier groups were recorded in the transaction that marked this one in flight.
        assert [state for _, state, _ in earlier] == ["sent"] * start
        # The whole group carried its Message-IDs before its first message reached the server;
        # none of its outcomes is recorded yet, not even those the server already accepted.
        assert all(state == "sending" and mid for _, state, mid in group)
        assert group[index % 5][2] == message_id
        assert all(state == "sending" and mid is None for _, state, mid in later)
    assert {state for _, state, _ in _ledger(app)} == {"sent"}
    assert set(smtp.handler.per_recipient().values()) == {1}


def test_with_a_rate_cap_one_message_at_a_time_is_in_flight(app, smtp, survey_id, import_fellows):
    import_fellows(6)
    app.config["MAIL_MAX_PER_MINUTE"] = 6000  # paced every 10 ms: ledger writes cost nothing extra
    in_flight: list[int] = []
    smtp.handler.on_data = lambda item: in_flight.append(
        sum(1 for _, state, mid in _ledger(app) if state == "sending" and mid))
    _send_all(app, survey_id)
    assert in_flight == [1] * 6
    assert set(_states(app, survey_id).values()) == {"sent"}


def test_an_error_after_the_server_accepted_a_message_leaves_it_uncertain_and_never_resent(
        app, smtp, survey_id, import_fellows):
    import_fellows(8)
    app.config["MAIL_SEND_GROUP"] = 5

    class StopsAfterThirdAcceptance:
        """The real SMTP transport, with the worker dying once the server accepted message 3."""

        def __init__(self) -> None:
            self.inner, self.sent = mail.make_transport(), 0

        def send(self, message, recipient, reference):
            result = self.inner.send(message, recipient, reference)
            self.sent += 1
            if self.sent == 3:
                raise RuntimeError("stopped between the server's 250 and the ledger")
            return result

        def close(self) -> None:
            self.inner.close()

    with app.app_context():
        batch = invitation_service.create_batch(db.session.get(Survey, survey_id), "invitation")
        with pytest.raises(RuntimeError):
            invitation_service.process_batch(batch.id, transport=StopsAfterThirdAcceptance())
    accepted = [item.recipients[0] for item in smtp.handler.received]
    assert len(accepted) == 3
    states = _states(app, survey_id)
    # Outcomes the server gave are recorded; the unknown one stays in flight; rows never handed
    # to SMTP (the rest of the group and of the claim) are queued again at once.
    assert [states[email] for email in accepted] == ["sent", "sent", "sending"]
    assert sorted(states.values()) == ["queued"] * 5 + ["sending"] + ["sent"] * 2

    with app.app_context():
        invitation_service.recover_stale(lease_seconds=0)
        invitation_service.send_pending()
        attempts = set(db.session.execute(select(Delivery.attempts)).scalars())
    states = _states(app, survey_id)
    assert states[accepted[2]] == "uncertain"
    assert sorted(states.values()) == ["sent"] * 7 + ["uncertain"]
    assert smtp.handler.per_recipient() == Counter({f"fellow{i}@example.org": 1 for i in range(8)})
    assert attempts == {1}  # a requeued row that never reached SMTP did not use up an attempt


def test_a_fellow_who_opts_out_after_the_claim_gets_nothing(app, smtp, survey_id, import_fellows):
    import_fellows(10)
    app.config["MAIL_SEND_GROUP"] = 5
    opted_out: list[str] = []

    def opt_out_a_claimed_fellow(item) -> None:
        """At the first message, opt out someone claimed by the worker but not yet in flight."""
        if opted_out:
            return
        with app.app_context():
            participant_id = db.session.execute(
                select(Delivery.participant_id).where(Delivery.state == "sending", Delivery.message_id.is_(None))
                .order_by(Delivery.id.desc()).limit(1)).scalar_one()
            invitation = db.session.execute(
                select(Invitation).where(Invitation.participant_id == participant_id)).scalar_one()
            opted_out.append(invitation.participant.email)
            invitation_service.opt_out(invitation)

    smtp.handler.on_data = opt_out_a_claimed_fellow
    _send_all(app, survey_id)
    assert len(opted_out) == 1
    received = smtp.handler.per_recipient()
    assert opted_out[0] not in received and len(received) == 9 and set(received.values()) == {1}
    with app.app_context():
        state, error = db.session.execute(
            select(Delivery.state, Delivery.last_error).join(Participant)
            .where(Participant.email == opted_out[0])).one()
    assert (state, error) == ("cancelled", "opted out")
