"""flask dev generate: synthetic participants and responses for demonstrations and benchmarks."""
from __future__ import annotations

import time

import click
from flask.cli import AppGroup

from ..services import surveys as survey_service
from .generate import SYNTHETIC_DOMAIN, GenerateResult, generate

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
    """Add N synthetic complete responses (and invited participants) to the survey SLUG."""
    survey = survey_service.get_survey(slug)
    if survey is None:
        raise click.ClickException(f"no survey {slug!r}")
    began = time.perf_counter()
    result = generate(survey, responses, invitations=invitations, partial=partial, seed=seed,
                      country=country.upper() if country else None)
    click.echo(describe(slug, result, time.perf_counter() - began))


def _count(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def describe(slug: str, result: GenerateResult, seconds: float) -> str:
    """Say what was added, in words staff can check against the participant and response counts."""
    responses = (f"{_count(result.responses + result.partial, 'synthetic response', 'synthetic responses')} "
                 f"({result.responses} complete, {result.partial} partial)")
    if not result.participants:
        return (f"{slug}: added no participants and {responses} through the open link, "
                f"in {seconds:.1f} s")
    return (f"{slug}: added {_count(result.participants, 'synthetic participant', 'synthetic participants')}, "
            f"each with a personal invitation ({result.not_answered} of them have not answered), and {responses}, "
            f"in {seconds:.1f} s. Their addresses are at {SYNTHETIC_DOMAIN}, a reserved domain that "
            "receives no mail.")
