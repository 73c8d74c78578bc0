"""Send through an SMTP server, knowing for each message whether it was, may have been, or was not sent."""
from __future__ import annotations

import re
import smtplib
import socket

from flask_mail import Message

from ...extensions import mail
from .messages import sender_address
from .transport import Outcome, SendResult

SMTP_TIMEOUT = 60


def _dot_stuff(data: bytes) -> bytes:
    data = re.sub(rb"(?:\r\n|\n|\r(?!\n))", b"\r\n", data)
    data = re.sub(rb"(?m)^\.", b"..", data)
    if not data.endswith(b"\r\n"):
        data += b"\r\n"
    return data + b".\r\n"


def _reply_text(code: int, reply: bytes | str) -> str:
    if isinstance(reply, bytes):
        reply = reply.decode("utf-8", "replace")
    return f"{code} {reply}".strip()[:1000]


def _classify(code: int, reply: bytes | str, step: str) -> SendResult:
    detail = f"{step}: {_reply_text(code, reply)}"
    if 400 <= code < 500 or code == -1:
        return SendResult(Outcome.RETRY, detail)
    return SendResult(Outcome.FAILED, detail)


class SmtpTransport:
    """One reused SMTP connection that reports, per message, whether it was sent.

    We drive MAIL, RCPT and DATA ourselves on Flask-Mail's connection (instead of sendmail) to
    know the phase of a failure: before the final "." nothing can have been delivered (retry);
    after it, a dropped connection leaves the outcome unknown (uncertain, never resent).
    """

    def __init__(self) -> None:
        self._smtp: smtplib.SMTP | None = None
        self.sender = sender_address()

    def _connection(self) -> smtplib.SMTP:
        if self._smtp is None:
            smtp = mail.connect().configure_host()
            if smtp.sock is not None:
                smtp.sock.settimeout(SMTP_TIMEOUT)
                # Commands are small writes each awaiting a reply: do not let Nagle hold them back.
                smtp.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            smtp.ehlo_or_helo_if_needed()
            self._smtp = smtp
        return self._smtp

    def _drop(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is not None:
            try:
                smtp.close()
            except OSError:
                pass

    def _reset(self) -> None:
        try:
            if self._smtp is not None:
                self._smtp.rset()
        except (smtplib.SMTPException, OSError):
            self._drop()

    def send(self, message: Message, recipient: str, reference: str) -> SendResult:
        """Send one message on the open connection (the server knows it by its Message-ID, not by reference)."""
        try:
            payload = _dot_stuff(message.as_bytes())
        except (ValueError, UnicodeError) as exc:
            return SendResult(Outcome.FAILED, f"message could not be built: {exc}")
        try:
            smtp = self._connection()
            code, reply = smtp.mail(self.sender)
            if code != 250:
                self._reset()
                return _classify(code, reply, "MAIL FROM")
            code, reply = smtp.rcpt(recipient)
            if code not in (250, 251):
                self._reset()
                return _classify(code, reply, "RCPT TO")
            code, reply = smtp.docmd("DATA")
            if code != 354:
                self._reset()
                return _classify(code, reply, "DATA")
            smtp.send(payload)
        except UnicodeEncodeError as exc:
            self._reset()
            return SendResult(Outcome.FAILED, f"address not supported by the mail server: {exc}")
        except (smtplib.SMTPException, OSError) as exc:
            self._drop()
            return SendResult(Outcome.RETRY, f"connection problem before the message was sent: {exc!r}"[:1000])
        try:
            code, reply = smtp.getreply()
        except (smtplib.SMTPException, OSError) as exc:
            self._drop()
            return SendResult(Outcome.UNCERTAIN, "the connection was lost after the message was sent, "
                                                 f"before the server confirmed it: {exc!r}"[:1000])
        if code == 250:
            return SendResult(Outcome.SENT, _reply_text(code, reply))
        self._reset()
        return _classify(code, reply, "end of DATA")

    def close(self) -> None:
        if self._smtp is not None:
            try:
                self._smtp.quit()
            except (smtplib.SMTPException, OSError):
                pass
            self._drop()
