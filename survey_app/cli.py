"""Operator commands: flask surveys / staff / demo, plus the groups other modules add."""
from __future__ import annotations

import os
import secrets
import sys

import click
from flask import Flask
from flask.cli import AppGroup

from .models import Role
from .services import staff as staff_service
from .services import surveys as survey_service

surveys_cli = AppGroup("surveys", help="Load and list surveys.")
staff_cli = AppGroup("staff", help="Manage staff accounts.")
demo_cli = AppGroup("demo", help="Set up the demonstration instance.")


@surveys_cli.command("load")
@click.argument("path", type=click.Path(dir_okay=False))
def load_survey(path: str) -> None:
    """Create or update a survey from a definition file."""
    try:
        result = survey_service.load_survey_file(path)
    except survey_service.SurveyFileError as exc:
        raise click.ClickException(str(exc)) from exc
    verb = "created" if result.created else "updated"
    click.echo(f"{result.survey.slug}: {verb}" + ("" if result.created else f" ({len(result.changes)} changes)"))
    for change in result.changes:
        click.echo(f"  - {change}")


@surveys_cli.command("list")
def list_surveys() -> None:
    """Print slug, title, status and response count of every survey."""
    rows = survey_service.list_surveys()
    if not rows:
        click.echo("no surveys")
        return
    click.echo(f"{'slug':<24} {'status':<13} {'responses':>9}  title")
    for survey, counts in rows:
        title = survey.text(survey.title, survey.base_language)
        click.echo(f"{survey.slug:<24} {survey.state().value:<13} {counts.completed:>9}  {title}")


@staff_cli.command("create")
@click.argument("email")
@click.option("--name", required=True)
@click.option("--role", type=click.Choice([r.value for r in Role]), default=Role.STAFF.value, show_default=True)
def create_staff(email: str, name: str, role: str) -> None:
    """Create a staff account; the password comes from SURVEY_STAFF_PASSWORD or a prompt."""
    password = os.environ.get("SURVEY_STAFF_PASSWORD")
    if not password:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        user = staff_service.create_staff(email, name, password, role)
    except staff_service.StaffError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"created {user.role} account {user.email}")


@staff_cli.command("set-password")
@click.argument("email")
@click.option("--generate", is_flag=True, help="Make a new strong random password and print it once.")
def set_password(email: str, generate: bool) -> None:
    """Set a new password for the staff account EMAIL (a forgotten demo login) and end all its sessions.

    The password is typed twice at a prompt, or made with --generate; the web's rules apply.
    """
    user = staff_service.find_account(email)
    if user is None:
        raise click.ClickException(f"there is no staff account for {staff_service.normalise_email(email)!r}; "
                                   "`flask staff create` makes one")
    if generate:
        password = secrets.token_urlsafe(18)
    else:
        password = click.prompt("New password", hide_input=True, confirmation_prompt=True)
    try:
        staff_service.reset_password(None, user, password)
    except staff_service.StaffError as exc:
        raise click.ClickException(f"password not changed: {exc}") from exc
    click.echo(f"password set for {user.email}; every session of the account has been signed out")
    if generate:
        click.secho("\n  New password (shown once; keep it):", bold=True)
        click.echo(f"    {password}\n")
    if not user.active:
        click.echo("note: this account is deactivated; an admin must reactivate it before it can sign in")


@demo_cli.command("setup")
def demo_setup() -> None:
    """Load the bundled legacy-projects survey and make a demo admin if there is no staff yet."""
    result = survey_service.load_survey_file(survey_service.bundled_survey_path("legacy-projects"))
    click.echo(f"survey legacy-projects {'loaded' if result.created else 'up to date'}")
    if staff_service.staff_count() == 0:
        email = "demo@itp.example"
        password = secrets.token_urlsafe(12)
        staff_service.create_staff(email, "Demo staff", password, Role.ADMIN.value)
        click.secho("\n  Demo staff login (shown once; keep it):", bold=True)
        click.echo(f"    e-mail:   {email}\n    password: {password}\n")
    else:
        click.echo("staff accounts exist; no demo login created")
    sys.stdout.flush()


def init_cli(app: Flask) -> None:
    app.cli.add_command(surveys_cli)
    app.cli.add_command(staff_cli)
    app.cli.add_command(demo_cli)
    for module_name in ("invitations", "results", "participants", "dev", "privacy"):
        _add_optional_group(app, module_name)


def _add_optional_group(app: Flask, module_name: str) -> None:
    """Register the command group a feature module exposes as `cli` in survey_app/<name>/cli.py."""
    import importlib

    try:
        module = importlib.import_module(f"survey_app.{module_name}.cli")
    except ModuleNotFoundError as exc:
        if exc.name and exc.name.startswith(f"survey_app.{module_name}"):
            return
        raise
    app.cli.add_command(module.cli)
