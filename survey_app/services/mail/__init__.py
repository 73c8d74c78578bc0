"""E-mail: messages built from the templates, and the transport that delivers them.

messages.py builds a message; transport.py states what a transport does (`Transport`) and what
became of a message (`SendResult`); smtp.py and outbox.py are the two transports. Callers ask
`make_transport()` for the configured one and never check which it is.
"""
from __future__ import annotations

from flask import current_app

from .outbox import OutboxTransport
from .smtp import SmtpTransport
from .transport import Outcome, SendResult, Transport


def make_transport() -> Transport:
    """SMTP when MAIL_SERVER is set, else .eml files in the outbox folder."""
    if current_app.config.get("MAIL_SERVER"):
        return SmtpTransport()
    return OutboxTransport()


__all__ = ["Outcome", "SendResult", "Transport", "make_transport"]
