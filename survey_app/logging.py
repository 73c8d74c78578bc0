"""Logging that never records tokens, query strings or personal data."""
from __future__ import annotations

import logging
import re

from flask import Flask

# Personal links and resume links carry secrets in the path; mask them wherever they appear.
_TOKEN_PATH = re.compile(r"(/(?:s|r|optout)/)[A-Za-z0-9_\-]{8,}")
_EMAIL = re.compile(r"[^\s@<>\"']+@[^\s@<>\"']+\.[A-Za-z]{2,}")


def redact(text: str) -> str:
    """Mask token-bearing paths and e-mail addresses in a log line."""
    return _EMAIL.sub("[email]", _TOKEN_PATH.sub(r"\1[token]", text))


_FORMATTER = logging.Formatter()


class RedactingFilter(logging.Filter):
    """Apply redact() to every record, including werkzeug's and gunicorn's access lines."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record must not break logging
            return True
        record.msg = redact(message)
        record.args = ()
        # Exception texts (a failed query's parameters, an error message) may carry secrets too:
        # format the trace now, masked, so handlers use this text instead of formatting their own.
        if record.exc_info and not record.exc_text:
            record.exc_text = _FORMATTER.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


def configure_logging(app: Flask) -> None:
    """Attach the redacting filter to the app, werkzeug, gunicorn and huey loggers."""
    redacting = RedactingFilter()
    for name in ("", app.logger.name, "werkzeug", "gunicorn.access", "gunicorn.error", "huey"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactingFilter) for f in logger.filters):
            logger.addFilter(redacting)
        for handler in logger.handlers:
            if not any(isinstance(f, RedactingFilter) for f in handler.filters):
                handler.addFilter(redacting)
