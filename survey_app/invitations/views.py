"""Staff invitations pages (placeholder blueprint, filled in by its issue)."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("invitations", __name__, url_prefix="/staff/surveys/<slug>/invitations")
