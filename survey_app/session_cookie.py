"""Flask's signed-cookie session, with its serializer built once per key and no work for an empty session."""
from __future__ import annotations

from flask import Flask, Response
from flask.sessions import SecureCookieSessionInterface, SessionMixin
from itsdangerous import URLSafeTimedSerializer


class SessionInterface(SecureCookieSessionInterface):
    """The same cookies, signatures and key rotation as Flask's; the serializer is reused, an empty session skipped.

    Flask builds a new serializer (and its key list) for every request, a twentieth of a respondent
    page's cost. It holds only settings, so one per (key, fallbacks) serves every request.
    """

    def __init__(self) -> None:
        self._serializers: dict[tuple, URLSafeTimedSerializer | None] = {}

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        keys = (app.secret_key, tuple(app.config["SECRET_KEY_FALLBACKS"] or ()))
        serializer = self._serializers.get(keys)
        if serializer is None:
            self._serializers.clear()  # a changed key replaces the old serializer, never piles up
            serializer = self._serializers[keys] = super().get_signing_serializer(app)
        return serializer

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        """Flask's save, without reading seven cookie settings for a session that stays empty.

        A fellow's pages never put anything in the session (their CSRF token is bound to the
        link), so this is every respondent request: only the Vary header Flask would add remains.
        """
        if not session and not session.modified:
            if session.accessed:
                response.vary.add("Cookie")
            return
        super().save_session(app, session, response)
