"""Huey consumer entry point: `huey_consumer survey_app.worker.huey`."""
import os

from survey_app import create_app
from survey_app.extensions import huey

# Operators (and the crash-recovery tests) may shorten how long a claim is trusted.
_overrides = {}
if os.environ.get("MAIL_CLAIM_LEASE_SECONDS"):
    _overrides["MAIL_CLAIM_LEASE_SECONDS"] = float(os.environ["MAIL_CLAIM_LEASE_SECONDS"])
if os.environ.get("MAIL_RETRY_BASE_SECONDS"):
    _overrides["MAIL_RETRY_BASE_SECONDS"] = float(os.environ["MAIL_RETRY_BASE_SECONDS"])

app = create_app(_overrides or None)

from survey_app import tasks  # noqa: E402,F401  (register the tasks with this huey)

__all__ = ["app", "huey"]
