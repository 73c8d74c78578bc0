"""Build invitation e-mails and hand them to SMTP (or to .eml files), classifying every outcome."""
from __future__ import annotations

import enum
import os
import re
import smtplib
import socket
import tempfile
import unicodedata
from collections.abc import Collection
from dataclasses import dataclass
from email import policy
from email.parser import BytesHeaderParser
from email.utils import getaddresses, make_msgid, parseaddr
from pathlib import Path

from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_mail import Message
from markupsafe import escape

from ..extensions import mail
from ..i18n import text_direction
from . import paging

SMTP_TIMEOUT = 60
OUTBOX_NAME_RE = re.compile(r"^s(\d+)-d(\d+)-a(\d+)\.eml$")
# Substituted after rendering, so each template is rendered once per language and batch.
_NAME = "QQnameQQ"
_LINK = "QQlinkQQ"
_OPTOUT = "QQoptoutQQ"
_ADDRESS_SPECIALS = re.compile(r'[<>@:;,"\\()\[\]]')
_UNSAFE_HEADER_CHARS = re.compile(r"[\x00-\x1f\x7f\u0085\u2028\u2029]+")


class Outcome(str, enum.Enum):
    SENT = "sent"
    RETRY = "retry"
    FAILED = "failed"
    UNCERTAIN = "uncertain"


@dataclass(frozen=True)
class SendResult:
    outcome: Outcome
    detail: str = ""


def header_safe(text: str) -> str:
    """Remove CR, LF and other control characters so text cannot start a new header line."""
    text = _UNSAFE_HEADER_CHARS.sub(" ", text or "")
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Cc")
    return " ".join(text.split())


def display_name(name: str) -> str:
    """Clean a name for an address header: no line breaks, and none of the characters that
    make mail programs read part of a name as another address (Flask-Mail then encodes it)."""
    return " ".join(_ADDRESS_SPECIALS.sub(" ", header_safe(name)).split())


def address(name: str, email: str) -> tuple[str, str]:
    return display_name(name), email


def message_domain() -> str:
    sender = current_app.config.get("MAIL_DEFAULT_SENDER") or ""
    if isinstance(sender, (tuple, list)):
        sender = sender[1]
    domain = parseaddr(sender)[1].rpartition("@")[2]
    return domain or "localhost"


def new_message_id() -> str:
    return make_msgid(domain=message_domain())


def default_texts(kind: str) -> dict[str, str]:
    """Built-in subject and opening paragraph, translated into the active locale."""
    if kind == "reminder":
        return {"subject": _("Reminder: %(title)s", title="{survey_title}"),
                "opening": _("Dear {name}, a few weeks ago we invited you to take part in "
                             "“{survey_title}”. We have not yet received your answers and would "
                             "still very much like to hear from you.")}
    return {"subject": _("Your invitation: %(title)s", title="{survey_title}"),
            "opening": _("Dear {name}, as an alumnus or alumna of the British Museum's International "
                         "Training Programme, you are invited to take part in “{survey_title}”.")}


def fill(text: str, name: str, survey_title: str) -> str:
    """Substitute the two placeholders with plain replacement; staff text is never a template."""
    return text.replace("{survey_title}", survey_title).replace("{name}", name)


@dataclass(frozen=True)
class RenderedTemplate:
    """A message body rendered once per language with placeholders for the personal parts."""

    subject: str
    text: str
    html: str

    def personalise(self, name: str, link: str, optout_link: str) -> tuple[str, str, str]:
        clean = header_safe(name)
        subject = header_safe(self.subject.replace(_NAME, clean))
        text = self.text.replace(_NAME, clean).replace(_LINK, link).replace(_OPTOUT, optout_link)
        html_name = str(escape(clean))
        html = (self.html.replace(_NAME, html_name).replace(_LINK, str(escape(link)))
                .replace(_OPTOUT, str(escape(optout_link))))
        return subject, text, html


def render_template_for(kind: str, language: str, survey_title: str, texts: dict[str, str],
                        closes_at_text: str = "") -> RenderedTemplate:
    """Render the .txt and .html pair of one kind in one language, with placeholders left in."""
    with force_locale(language):
        defaults = default_texts(kind)
        subject = texts.get("subject") or defaults["subject"]
        opening = texts.get("opening") or defaults["opening"]
        context = {
            "name": _NAME, "link": _LINK, "optout_link": _OPTOUT, "survey_title": survey_title,
            "opening": fill(opening, _NAME, survey_title), "lang": language,
            "dir": text_direction(language), "closes_at": closes_at_text, "kind": kind,
        }
        text = render_template(f"email/{kind}.txt", **context)
        html = render_template(f"email/{kind}.html", **context)
    return RenderedTemplate(subject=fill(subject, _NAME, survey_title), text=text, html=html)


def build_message(rendered: RenderedTemplate, name: str, email: str, link: str, optout_link: str,
                  message_id: str) -> Message:
    """Make the multipart message with our Message-ID and RFC 8058 one-click unsubscribe headers."""
    subject, text, html = rendered.personalise(name, link, optout_link)
    message = Message(
        subject=subject,
        recipients=[address(name, email)],
        body=text,
        html=html,
        sender=current_app.config["MAIL_DEFAULT_SENDER"],
        extra_headers={
            "List-Unsubscribe": f"<{optout_link}/one-click>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "Auto-Submitted": "auto-generated",
        },
    )
    message.msgId = message_id
    return message


def _sender_address() -> str:
    sender = current_app.config["MAIL_DEFAULT_SENDER"]
    if isinstance(sender, (tuple, list)):
        return sender[1]
    return parseaddr(sender)[1]


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


class SmtpTransport:
    """One reused SMTP connection that reports, per message, whether it was sent.

    We drive MAIL, RCPT and DATA ourselves on Flask-Mail's connection (instead of sendmail) to
    know the phase of a failure: before the final "." nothing can have been delivered (retry);
    after it, a dropped connection leaves the outcome unknown (uncertain, never resent).
    """

    def __init__(self) -> None:
        self._smtp: smtplib.SMTP | None = None
        self.sender = _sender_address()

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

    @staticmethod
    def _classify(code: int, reply: bytes | str, step: str) -> SendResult:
        detail = f"{step}: {_reply_text(code, reply)}"
        if 400 <= code < 500 or code == -1:
            return SendResult(Outcome.RETRY, detail)
        return SendResult(Outcome.FAILED, detail)

    def send(self, message: Message, recipient: str) -> SendResult:
        try:
            payload = _dot_stuff(message.as_bytes())
        except (ValueError, UnicodeError) as exc:
            return SendResult(Outcome.FAILED, f"message could not be built: {exc}")
        try:
            smtp = self._connection()
            code, reply = smtp.mail(self.sender)
            if code != 250:
                self._reset()
                return self._classify(code, reply, "MAIL FROM")
            code, reply = smtp.rcpt(recipient)
            if code not in (250, 251):
                self._reset()
                return self._classify(code, reply, "RCPT TO")
            code, reply = smtp.docmd("DATA")
            if code != 354:
                self._reset()
                return self._classify(code, reply, "DATA")
            smtp.send(payload)
        except UnicodeEncodeError as exc:
            self._reset()
            return SendResult(Outcome.FAILED, f"address not supported by the mail server: {exc}")
        except (smtplib.SMTPException, OSError, socket.timeout) as exc:
            self._drop()
            return SendResult(Outcome.RETRY, f"connection problem before the message was sent: {exc!r}"[:1000])
        try:
            code, reply = smtp.getreply()
        except (smtplib.SMTPException, OSError, socket.timeout) as exc:
            self._drop()
            return SendResult(Outcome.UNCERTAIN, "the connection was lost after the message was sent, "
                                                 f"before the server confirmed it: {exc!r}"[:1000])
        if code == 250:
            return SendResult(Outcome.SENT, _reply_text(code, reply))
        self._reset()
        return self._classify(code, reply, "end of DATA")

    def close(self) -> None:
        if self._smtp is not None:
            try:
                self._smtp.quit()
            except (smtplib.SMTPException, OSError):
                pass
            self._drop()


def _outbox_path() -> Path:
    return Path(current_app.config["MAIL_OUTBOX_DIR"])


def outbox_dir() -> Path:
    """The outbox folder, created if missing (for writing; reading never creates it)."""
    path = _outbox_path()
    path.mkdir(parents=True, exist_ok=True)
    return path


class OutboxTransport:
    """Without MAIL_SERVER, write each message as an .eml file (temp file, then atomic rename)."""

    def __init__(self) -> None:
        self.directory = outbox_dir()
        self.current_name = ""

    def send(self, message: Message, recipient: str) -> SendResult:
        data = message.as_bytes()
        target = self.directory / self.current_name
        fd, temp = tempfile.mkstemp(dir=self.directory, suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temp, target)
        except OSError as exc:
            Path(temp).unlink(missing_ok=True)
            return SendResult(Outcome.RETRY, f"could not write {target.name}: {exc}")
        return SendResult(Outcome.SENT, f"written to {target.name}")

    def close(self) -> None:
        pass


def outbox_filename(survey_id: int, delivery_id: int, attempt: int) -> str:
    return f"s{survey_id}-d{delivery_id}-a{attempt}.eml"


def make_transport() -> SmtpTransport | OutboxTransport:
    return SmtpTransport() if current_app.config.get("MAIL_SERVER") else OutboxTransport()


@dataclass(frozen=True)
class OutboxFile:
    name: str
    delivery_id: int
    size: int
    modified: float


def list_outbox(survey_id: int) -> list[OutboxFile]:
    """The .eml files written for one survey, newest first."""
    directory = _outbox_path()
    if not directory.is_dir():
        return []
    files = []
    for entry in os.scandir(directory):
        match = OUTBOX_NAME_RE.match(entry.name)
        if match and int(match.group(1)) == survey_id:
            try:
                stat = entry.stat()
            except FileNotFoundError:  # deleted meanwhile (an erasure in another request)
                continue
            files.append(OutboxFile(entry.name, int(match.group(2)), stat.st_size, stat.st_mtime))
    files.sort(key=lambda f: (f.modified, f.name), reverse=True)
    return files


@dataclass(frozen=True)
class OutboxEntry:
    """One listed outbox file with the headers staff look for: who it went to and what it said."""

    file: OutboxFile
    to: str
    subject: str


@dataclass(frozen=True)
class OutboxPage:
    entries: list[OutboxEntry]
    total: int
    page: int
    pages: int


def outbox_page(survey_id: int, page: int = 1, per_page: int = 50) -> OutboxPage:
    """One page of the outbox, newest first; only the files shown have their headers read."""
    files = list_outbox(survey_id)
    page, pages, offset = paging.window(len(files), page, per_page)
    shown = files[offset:offset + per_page]
    directory = _outbox_path()
    parser = BytesHeaderParser(policy=policy.default)  # decodes =?utf-8?...?= subjects
    entries = []
    for entry in shown:
        try:
            with (directory / entry.name).open("rb") as handle:
                headers = parser.parse(handle)
            to, subject = str(headers.get("To", "")), str(headers.get("Subject", ""))
        except (OSError, ValueError):  # removed meanwhile (erasure), or not a readable message
            to, subject = "", ""
        entries.append(OutboxEntry(entry, to, subject))
    return OutboxPage(entries, len(files), page, pages)


def read_outbox(survey_id: int, name: str) -> bytes | None:
    """Return one outbox file of this survey; the name must match our own pattern exactly."""
    match = OUTBOX_NAME_RE.match(name or "")
    if not match or int(match.group(1)) != survey_id:
        return None
    path = _outbox_path() / name
    return path.read_bytes() if path.is_file() else None


def _recipients(path: Path) -> set[str]:
    """The lower-cased addresses a written message went to (empty if it cannot be read)."""
    try:
        with path.open("rb") as handle:
            headers = BytesHeaderParser(policy=policy.default).parse(handle)
    except (OSError, ValueError):
        return set()
    return {addr.lower() for _name, addr in getaddresses([str(value) for value in headers.get_all("To", [])])}


def remove_outbox_files(survey_id: int, delivery_ids: Collection[int] = (), addresses: Collection[str] = (),
                        everything: bool = False) -> int:
    """Delete a survey's outbox messages: those of these deliveries, those to these addresses, or all.

    Matching by address too finds copies whose ledger row is already gone (a person removed before
    and added again). Return how many files were deleted; OSError if one cannot be.
    """
    wanted_ids, wanted_addresses = set(delivery_ids), {a.lower() for a in addresses}
    directory, count = _outbox_path(), 0
    for entry in list_outbox(survey_id):
        path = directory / entry.name
        if everything or entry.delivery_id in wanted_ids or (wanted_addresses and _recipients(path) & wanted_addresses):
            path.unlink(missing_ok=True)
            count += 1
    return count
