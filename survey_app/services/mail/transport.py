"""What a mail transport does, and what became of each message it was handed."""
from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Protocol

from flask_mail import Message


class Outcome(enum.StrEnum):
    SENT = "sent"
    RETRY = "retry"  # nothing can have been delivered: try again later
    FAILED = "failed"  # the server refused it for good
    UNCERTAIN = "uncertain"  # it may or may not have been delivered: never resent automatically


@dataclass(frozen=True)
class SendResult:
    outcome: Outcome
    detail: str = ""


class Transport(Protocol):
    """Delivers messages one at a time: an SMTP server (smtp.py) or the .eml outbox (outbox.py)."""

    def send(self, message: Message, recipient: str, reference: str) -> SendResult:
        """Hand over one message and say what became of it.

        reference names this attempt (letters, digits and dashes): the outbox's file name.
        """
        ...

    def close(self) -> None:
        """Let go of the connection, if there is one."""
        ...
