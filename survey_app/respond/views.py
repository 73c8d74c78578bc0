"""Respondent pages (filled in below)."""
from __future__ import annotations

from flask import Blueprint, render_template

from ..security import public

bp = Blueprint("respond", __name__)


@bp.route("/survey/<slug>")
@public
def open_link(slug: str):
    return render_template("respond/start.html")


@bp.route("/accessibility")
@public
def accessibility():
    return render_template("respond/accessibility.html")


@bp.route("/privacy")
@public
def privacy():
    return render_template("respond/privacy.html")
