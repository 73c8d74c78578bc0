"""flask dev generate: synthetic responses for demonstrations and benchmarks."""
from __future__ import annotations

import time

import click
from flask.cli import AppGroup

from ..services import surveys as survey_service
from .generate import generate

cli = AppGroup("dev", help="Developer tools (synthetic data).")


@cli.command("generate")
@click.argument("slug")
@click.option("--responses", type=click.IntRange(min=0), required=True, help="Complete responses to add.")
@click.option("--invitations/--no-invitations", default=True, show_default=True,
              help="Also create invited participants (some never answer).")
@click.option("--partial", type=click.FloatRange(0, 1), default=0.05, show_default=True,
              help="Partial responses, as a share of complete ones.")
@click.option("--seed", type=int, default=None, help="Random seed, for repeatable data.")
@click.option("--country", default=None, help="Put every response in this country (ISO alpha-2).")
def generate_command(slug: str, responses: int, invitations: bool, partial: float, seed: int | None,
                     country: str | None) -> None:
    """Add N synthetic complete responses to the survey SLUG."""
    survey = survey_service.get_survey(slug)
    if survey is None:
        raise click.ClickException(f"no survey {slug!r}")
    began = time.perf_counter()
    result = generate(survey, responses, invitations=invitations, partial=partial, seed=seed,
                      country=country.upper() if country else None)
    click.echo(f"{slug}: added {result.responses} complete and {result.partial} partial responses, "
               f"{result.participants} invited participants in {time.perf_counter() - began:.1f} s")
