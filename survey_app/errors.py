"""Error pages in the site's own layout, never with a trace."""
from __future__ import annotations

from flask import Flask, render_template
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError


def init_errors(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def _csrf_error(error: CSRFError):
        return render_template("errors/csrf.html"), 400

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException):
        code = error.code or 500
        template = f"errors/{code}.html" if code in {400, 401, 403, 404, 405, 413, 429} else "errors/generic.html"
        return render_template(template, error=error, code=code), code

    @app.errorhandler(Exception)
    def _unexpected(error: Exception):
        app.logger.exception("unhandled error")
        from .extensions import db

        db.session.rollback()
        return render_template("errors/500.html", code=500), InternalServerError.code
