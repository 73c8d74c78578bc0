"""Build e-mails from the .txt and .html templates, with headers a name or subject cannot break."""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from email.utils import make_msgid, parseaddr

from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_mail import Message
from markupsafe import escape

from ...i18n import text_direction

# Substituted after rendering, so each template is rendered once per language and batch.
_NAME = "QQnameQQ"
_LINK = "QQlinkQQ"
_OPTOUT = "QQoptoutQQ"
_ADDRESS_SPECIALS = re.compile(r'[<>@:;,"\\()\[\]]')
# Unicode bidi controls: an isolate keeps a name or title typed in another script from reordering
# the sentence around it, and a right-to-left mark starts a plain-text paragraph right to left
# whatever its first word is (mail programs pick each paragraph's direction from its first letter).
FIRST_STRONG_ISOLATE = "\u2068"
POP_DIRECTIONAL_ISOLATE = "\u2069"
RIGHT_TO_LEFT_MARK = "\u200f"
TEST_HEADER = "X-ITP-Test"
_UNSAFE_HEADER_CHARS = re.compile(r"[\x00-\x1f\x7f\u0085\u2028\u2029]+")


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


def sender_address() -> str:
    """The bare address of MAIL_DEFAULT_SENDER (a "Name <address>" string or a (name, address) pair)."""
    sender = current_app.config.get("MAIL_DEFAULT_SENDER") or ""
    if isinstance(sender, (tuple, list)):  # Flask-Mail takes either form
        return str(sender[1])
    return parseaddr(sender)[1]


def sender_display() -> str:
    """MAIL_DEFAULT_SENDER as a From line reads: "Name <address>"."""
    sender = current_app.config.get("MAIL_DEFAULT_SENDER") or ""
    if isinstance(sender, (tuple, list)):
        return f"{sender[0]} <{sender[1]}>"
    return str(sender)


def new_message_id() -> str:
    """A Message-ID in the sender's domain (ours, so the ledger can store it before sending)."""
    return make_msgid(domain=sender_address().rpartition("@")[2] or "localhost")


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


def isolate(text: str, direction: str) -> str:
    """Wrap text inserted into a right-to-left sentence in a bidi isolate (unchanged left to right)."""
    return f"{FIRST_STRONG_ISOLATE}{text}{POP_DIRECTIONAL_ISOLATE}" if direction == "rtl" else text


def right_to_left_paragraphs(text: str) -> str:
    """Start each line of a right-to-left plain-text part with a right-to-left mark, links excepted.

    Plain text carries no dir attribute: a mail program sets each paragraph's direction from its
    first strong letter, so a line opening with a Latin name or word would run left to right and
    put its closing punctuation at the wrong end. Links stay as they are, left to right.
    """
    lines = []
    for line in text.split("\n"):
        bare = line.strip()
        if bare and bare != "--" and bare not in (_LINK, _OPTOUT) and not bare.startswith(("http://", "https://")):
            line = RIGHT_TO_LEFT_MARK + line
        lines.append(line)
    return "\n".join(lines)


@dataclass(frozen=True)
class RenderedTemplate:
    """A message body rendered once per language with placeholders for the personal parts."""

    subject: str
    text: str
    html: str
    language: str = "en"

    @property
    def direction(self) -> str:
        return text_direction(self.language)

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
    direction = text_direction(language)
    name, title = isolate(_NAME, direction), isolate(survey_title, direction)
    with force_locale(language):
        defaults = default_texts(kind)
        subject = texts.get("subject") or defaults["subject"]
        opening = texts.get("opening") or defaults["opening"]
        context = {
            "name": name, "link": _LINK, "optout_link": _OPTOUT, "survey_title": title,
            "opening": fill(opening, name, title), "lang": language,
            "dir": direction, "closes_at": closes_at_text, "kind": kind,
        }
        text = render_template(f"email/{kind}.txt", **context)
        html = render_template(f"email/{kind}.html", **context)
    if direction == "rtl":
        text = right_to_left_paragraphs(text)
    return RenderedTemplate(subject=fill(subject, name, title), text=text, html=html, language=language)


def build_message(rendered: RenderedTemplate, name: str, email: str, link: str, optout_link: str,
                  message_id: str, test: bool = False) -> Message:
    """Make the multipart message with our Message-ID and RFC 8058 one-click unsubscribe headers.

    test: a staff member's test of the message, sent to themselves: the subject says so in the
    message's language, a header marks it, and it offers no one-click opt-out (there is no fellow).
    """
    subject, text, html = rendered.personalise(name, link, optout_link)
    headers = {"Auto-Submitted": "auto-generated", "Content-Language": rendered.language}
    if test:
        with force_locale(rendered.language):
            subject = _("[Test] %(subject)s", subject=subject)
        headers[TEST_HEADER] = "yes"
    else:
        headers.update({"List-Unsubscribe": f"<{optout_link}/one-click>",
                        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"})
    message = Message(
        subject=subject,
        recipients=[address(name, email)],
        body=text,
        html=html,
        sender=current_app.config["MAIL_DEFAULT_SENDER"],
        extra_headers=headers,
    )
    message.msgId = message_id
    return message
