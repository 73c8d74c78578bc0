"""Huey consumer entry point: `huey_consumer survey_app.worker.huey`."""
from survey_app import create_app
from survey_app.extensions import huey

app = create_app()

from survey_app import tasks  # noqa: E402,F401  (register the tasks with this huey)

__all__ = ["app", "huey"]
