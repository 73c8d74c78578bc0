"""A real SMTP server on 127.0.0.1 for the tests, able to inject the failures real servers produce."""
from __future__ import annotations

import asyncio
import email
import email.policy
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from aiosmtpd.controller import Controller


@dataclass
class Received:
    envelope_from: str
    recipients: list[str]
    data: bytes

    @property
    def message(self) -> email.message.EmailMessage:
        return email.message_from_bytes(self.data, policy=email.policy.default)


@dataclass
class FaultyHandler:
    """Accept mail, or answer 4xx / 5xx / drop the connection for chosen recipients.

    temporary: recipient -> number of first attempts answered "451" at RCPT.
    reject: recipients answered "550" at RCPT.
    drop_after_data: recipients whose connection is closed after the message data arrives,
    before any reply (the message is recorded as received: the server did get it).
    on_data: called (in the server's thread) with each message as it arrives, before the reply.
    hold_from: from this many messages received on, the reply waits until `release` is set, as a
    server that got the data and has not answered yet (the message counts as received).
    """

    temporary: dict[str, int] = field(default_factory=dict)
    reject: set[str] = field(default_factory=set)
    drop_after_data: set[str] = field(default_factory=set)
    on_data: Callable[[Received], None] | None = None
    hold_from: int | None = None
    release: threading.Event = field(default_factory=threading.Event)
    received: list[Received] = field(default_factory=list)
    attempts: Counter = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        with self.lock:
            self.attempts[address] += 1
            attempt = self.attempts[address]
        if address in self.reject:
            return f"550 5.1.1 <{address}>: Recipient address rejected: User unknown"
        if attempt <= self.temporary.get(address, 0):
            return "451 4.7.1 Greylisted, please try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        item = Received(envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content)
        with self.lock:
            self.received.append(item)
            count = len(self.received)
        if self.on_data is not None:
            self.on_data(item)
        if self.hold_from is not None and count >= self.hold_from:
            await asyncio.get_running_loop().run_in_executor(None, self.release.wait)
        if set(envelope.rcpt_tos) & self.drop_after_data:
            server.transport.close()
            return "250 never seen"
        return "250 Message accepted for delivery"

    def per_recipient(self) -> Counter:
        with self.lock:
            return Counter(r for item in self.received for r in item.recipients)


class _EphemeralController(Controller):
    """A Controller bound to port 0 that learns its real port before its self-check connects."""

    def _trigger_server(self):
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


class SmtpServer:
    """Start and stop an aiosmtpd controller on a free port of 127.0.0.1."""

    def __init__(self, handler: FaultyHandler | None = None):
        self.handler = handler or FaultyHandler()
        self.controller = _EphemeralController(self.handler, hostname="127.0.0.1", port=0)

    def __enter__(self) -> SmtpServer:
        self.controller.start()
        return self

    def __exit__(self, *exc) -> None:
        self.controller.stop()

    @property
    def port(self) -> int:
        return self.controller.port

    def config(self) -> dict:
        return {"MAIL_SERVER": "127.0.0.1", "MAIL_PORT": self.port}
