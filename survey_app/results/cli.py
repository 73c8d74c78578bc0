"""flask results export / pdf: the same files staff download, written from the command line."""
from __future__ import annotations

import click
from flask.cli import AppGroup

from ..models import Survey
from ..services import exports, report, totals
from ..services import surveys as survey_service

cli = AppGroup("results", help="Export responses, build the results summary PDF, repair the running totals.")


def _survey(slug: str) -> Survey:
    survey = survey_service.get_survey(slug)
    if survey is None:
        raise click.ClickException(f"no survey {slug!r}")
    return survey


@cli.command("export")
@click.argument("slug")
@click.option("--format", "fmt", type=click.Choice(exports.FORMATS), default="csv", show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True), required=True)
@click.option("--lang", default=None, help="Language of labels (default: the survey's base language).")
@click.option("--channel", type=click.Choice(exports.CHANNELS), default=None,
              help="Only responses that came through personal links, or through the open link.")
def export_command(slug: str, fmt: str, output: str, lang: str | None, channel: str | None) -> None:
    """Export every response of SLUG, one row per response."""
    survey = _survey(slug)
    exports.export_to_file(survey, fmt, output, lang or survey.base_language, channel=channel, actor=None)
    click.echo(f"{slug}: wrote {fmt} export to {output}")


@cli.command("pdf")
@click.argument("slug")
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True), required=True)
@click.option("--language", "--lang", "lang", default=None,
              help="The report's language, one of the survey's (default: its base language).")
def pdf_command(slug: str, output: str, lang: str | None) -> None:
    """Build the results summary PDF of SLUG in one of its languages."""
    survey = _survey(slug)
    languages = report.report_languages(survey)
    if lang is not None and lang not in languages:
        raise click.BadParameter(f"{lang!r} is not one of this survey's languages: {', '.join(languages)}",
                                 param_hint="--language")
    with open(output, "wb") as handle:
        report.write_pdf(survey, handle, lang or survey.base_language)
    click.echo(f"{slug}: wrote results summary ({lang or survey.base_language}) to {output}")


@cli.command("rebuild-totals")
@click.argument("slug", required=False)
def rebuild_totals_command(slug: str | None) -> None:
    """Recount the running totals of SLUG (every survey when omitted) from its complete responses."""
    survey_ids = [_survey(slug).id] if slug else None
    for done in totals.repair(survey_ids):
        click.echo(f"{done}: running totals rebuilt")
