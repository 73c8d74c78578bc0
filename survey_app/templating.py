"""Template helpers: fingerprinted static URLs and a few filters."""
from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from flask import Flask, request

from .questions import QuestionView

ONE_YEAR = 365 * 24 * 3600


@lru_cache(maxsize=256)
def _file_fingerprint(path: str, mtime: float) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:12]


def init_templating(app: Flask) -> None:
    static_root = Path(app.static_folder or "")
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
    from flask_babel import format_date, format_datetime

    app.jinja_env.globals.update(format_date=format_date, format_datetime=format_datetime)

    @app.url_defaults
    def _fingerprint_static(endpoint: str, values: dict) -> None:
        """Add ?v=<content hash> to static URLs so they can be cached for a year."""
        if endpoint != "static" or "filename" not in values or "v" in values:
            return
        path = static_root / values["filename"]
        if path.is_file():
            values["v"] = _file_fingerprint(str(path), path.stat().st_mtime)

    app.config.setdefault("SEND_FILE_MAX_AGE_DEFAULT", ONE_YEAR)

    @app.after_request
    def _immutable_static(response):
        if request.endpoint == "static" and request.args.get("v") and response.status_code == 200:
            response.headers["Cache-Control"] = f"public, max-age={ONE_YEAR}, immutable"
        return response

    @app.template_global()
    def question_macros(question: QuestionView) -> Any:
        """The macros of a question's type (templates/questions/<type>.html), loaded once, not per question."""
        return app.jinja_env.get_template(question.kind.template_path).module

    @app.template_global()
    def url_with_lang(lang: str) -> str:
        """The current page in another language (for the language switcher)."""
        args = request.args.to_dict()
        args["lang"] = lang
        return f"{request.path}?{urlencode(args)}"
