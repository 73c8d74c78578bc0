"""`flask participants import SLUG FILE`: the same import as the staff UI, for operators."""
from __future__ import annotations

import click
from flask.cli import AppGroup
from flask_babel import force_locale

from ..services import participants as participant_service
from ..services import surveys as survey_service

cli = AppGroup("participants", help="Import and list the fellows invited to a survey.")


@cli.command("import")
@click.argument("slug")
@click.argument("file", type=click.File("rb"))
@click.option("--dry-run", is_flag=True, help="Validate and report without changing anything.")
def import_participants(slug: str, file, dry_run: bool) -> None:
    """Add and update participants from a CSV file (name, email, country, cohort, language)."""
    survey = survey_service.get_survey(slug)
    if survey is None:
        raise click.ClickException(f"no survey {slug!r}")
    data = file.read()
    try:
        preview = participant_service.preview_import(survey, data)
    except participant_service.CsvFileError as exc:
        with force_locale("en"):  # the reason is a translatable message; operators read English
            reason = str(exc)
        raise click.ClickException(f"nothing imported: {reason}") from exc
    for skipped in preview.skipped:
        click.echo(f"row {skipped.row}: skipped: {skipped.reason}", err=True)
    for merged in preview.merged:
        click.echo(f"row {merged.row}: merged: {merged.reason}", err=True)
    for item in preview.languages_not_offered:
        people = "1 fellow has" if item.count == 1 else f"{item.count} fellows have"
        click.echo(f"warning: {people} language {item.language!r}, which this survey does not offer: "
                   f"they will get {item.fallback!r} (the survey's base language)", err=True)
    if dry_run:
        click.echo(f"dry run: would add {len(preview.to_add)}, update {len(preview.to_update)}, "
                   f"leave {preview.unchanged} unchanged, skip {len(preview.skipped)}")
        return
    try:
        result = participant_service.apply_import(survey, preview, actor=None)
    except participant_service.ImportConflict as exc:
        raise click.ClickException("nothing imported: participants changed while the import ran; "
                                   "run it again") from exc
    click.echo(f"added {result.added}, updated {result.updated}, unchanged {result.unchanged}, "
               f"skipped {result.skipped}")
