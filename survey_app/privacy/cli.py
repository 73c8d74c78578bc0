"""flask privacy: retention runs, and access and erasure requests from the command line."""
from __future__ import annotations

import json

import click
from flask.cli import AppGroup
from sqlalchemy import select

from ..extensions import db
from ..models import Participant
from ..services import participants as participant_service
from ..services import privacy
from ..services import surveys as survey_service

cli = AppGroup("privacy", help="Erase expired personal data; export or erase one person.")


def _participant(slug: str, email: str) -> Participant:
    survey = survey_service.get_survey(slug)
    if survey is None:
        raise click.ClickException(f"no survey {slug!r}")
    person = db.session.execute(
        select(Participant).where(Participant.survey_id == survey.id, Participant.email == email.strip().lower())
    ).scalar_one_or_none()
    if person is None:
        raise click.ClickException(f"no participant with that e-mail address in {slug}")
    return person


@cli.command("erase-expired")
@click.option("--dry-run", is_flag=True, help="Only say what would be erased.")
def erase_expired(dry_run: bool) -> None:
    """Erase personal data past its retention: closed surveys, day-old uploads, open-link address hashes (hourly)."""
    reports = privacy.erase_expired(dry_run=dry_run)
    uploads = participant_service.expire_uploads(dry_run=dry_run)
    hashes = privacy.clear_address_hashes(dry_run=dry_run)
    if not reports and not uploads and not hashes:
        click.echo("nothing to erase")
        return
    verb = "would erase" if dry_run else "erased"
    for report in reports:
        counts = ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in report.counts().items())
        click.echo(f"{report.slug}: {verb} ({counts}); due since {report.expired_since:%Y-%m-%d}")
    if uploads:
        click.echo(f"import uploads older than {participant_service.UPLOAD_MAX_AGE_SECONDS // 3600} hours: "
                   f"{verb} {uploads}")
    if hashes:
        click.echo(f"open-link responses: {verb} the address hash of {hashes}")


@cli.command("export-participant")
@click.argument("slug")
@click.argument("email")
@click.option("-o", "--output", "output", required=True, type=click.Path(dir_okay=False, writable=True),
              help="File to write the JSON to.")
def export_participant(slug: str, email: str, output: str) -> None:
    """Write everything held about one person in a survey to a JSON file."""
    person = _participant(slug, email)
    data = privacy.participant_data(person.id)
    import os

    fd = os.open(output, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(data, handle, ensure_ascii=False, indent=2)
    privacy.record_export(person, None)
    click.echo(f"wrote {output}")


@cli.command("erase-participant")
@click.argument("slug")
@click.argument("email")
@click.option("--yes", is_flag=True, help="Confirm the erasure without a prompt.")
def erase_participant(slug: str, email: str, yes: bool) -> None:
    """Erase one person from a survey: their invitation, e-mail ledger and linked response."""
    person = _participant(slug, email)
    if not yes:
        click.confirm(f"Erase participant {person.id} from {slug}? This cannot be undone", abort=True)
    try:
        report = privacy.erase_participant(person.id, None)
    except privacy.PrivacyError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"erased participant {report.participant_id}: {report.responses} response(s), "
               f"{report.answers} answer(s), {report.deliveries} delivery row(s), "
               f"{report.invitations} invitation(s), {report.outbox_messages} outbox message(s), "
               f"{report.uploads} pending import upload(s)")
