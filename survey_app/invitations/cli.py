"""`flask invitations send|remind|status|recover SLUG`: run a whole campaign from the shell."""
from __future__ import annotations

import click
from flask.cli import AppGroup

from ..models import DeliveryKind, MailBatch, Survey
from ..services import invitations as invitation_service
from ..services import surveys as survey_service

cli = AppGroup("invitations", help="Send invitations and reminders and follow their delivery.")


def _survey(slug: str) -> Survey:
    survey = survey_service.get_survey(slug)
    if survey is None:
        raise click.ClickException(f"no survey {slug!r}")
    return survey


def _wait(survey: Survey, batch: MailBatch | None) -> None:
    """Send alongside any workers (claims are atomic) with a progress bar until nothing is due."""
    from ..extensions import db

    if batch is None:
        pending = invitation_service.pending_batch_ids(due_only=False)
        if not pending:
            return
        batch = db.session.get_one(MailBatch, pending[0])
    total = invitation_service.batch_progress(batch).pending
    with click.progressbar(length=max(total, 1), label="sending") as bar:
        done = {"n": 0}

        def progress(handled: int) -> None:
            bar.update(handled - done["n"])
            done["n"] = handled

        invitation_service.send_pending(survey, on_progress=progress)
    progress_now = invitation_service.batch_progress(db.session.get_one(MailBatch, batch.id))
    click.echo(f"batch {batch.id}: {progress_now.sent} of {progress_now.total} sent, "
               f"{progress_now.failed} failed, {progress_now.uncertain} uncertain, "
               f"{progress_now.pending} waiting to retry")


@cli.command("send")
@click.argument("slug")
@click.option("--wait", is_flag=True, help="Show progress and send in this process until done.")
def send(slug: str, wait: bool) -> None:
    """Invite every participant who has not been invited yet."""
    survey = _survey(slug)
    batch = invitation_service.send_invitations(survey, actor=None)
    click.echo(f"queued {batch.total} invitations (batch {batch.id})" if batch else "nobody left to invite")
    if wait:
        _wait(survey, batch)


@cli.command("remind")
@click.argument("slug")
@click.option("--wait", is_flag=True, help="Show progress and send in this process until done.")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def remind(slug: str, wait: bool, yes: bool) -> None:
    """Remind everyone invited who has not completed, opted out or bounced."""
    survey = _survey(slug)
    round_ = invitation_service.next_reminder_round(survey)
    count = invitation_service.count_recipients(survey, DeliveryKind.REMINDER.value, round_)
    if not count:
        click.echo("nobody to remind")
        return
    if not yes:
        click.confirm(f"Send reminder round {round_} to {count} participants?", abort=True)
    batch = invitation_service.send_reminders(survey, round_, actor=None)
    click.echo(f"queued {batch.total} reminders (batch {batch.id}, round {round_})" if batch else "nobody to remind")
    if wait:
        _wait(survey, batch)


@cli.command("status")
@click.argument("slug")
def status(slug: str) -> None:
    """Print participants per status and ledger rows per kind and state."""
    survey = _survey(slug)
    click.echo("participants")
    for name, count in invitation_service.status_counts(survey.id).items():
        click.echo(f"  {name.replace('_', ' '):<14} {count:>7}")
    for kind, states in invitation_service.delivery_counts(survey.id).items():
        click.echo(f"{kind} messages")
        for state, count in states.items():
            click.echo(f"  {state:<14} {count:>7}")


@cli.command("recover")
@click.option("--lease", type=float, default=None,
              help="Seconds after which a claim counts as abandoned (default MAIL_CLAIM_LEASE_SECONDS).")
def recover(lease: float | None) -> None:
    """Release messages a stopped worker left half-done (requeue, or mark uncertain)."""
    requeued, uncertain = invitation_service.recover_stale(lease)
    click.echo(f"requeued {requeued}, marked uncertain {uncertain}")
