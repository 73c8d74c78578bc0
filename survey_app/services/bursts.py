"""Many open-link responses from one connection: a keyed hash of the address on each, and the rule that flags them.

The address itself is never stored. Each open-link response of a non-anonymous survey keeps an
HMAC of (survey, client address) under a key derived from SECRET_KEY for this purpose alone, cut
to 128 bits: equal for one address within one survey, different across surveys, and not
reversible without the key. services/privacy.py clears it HASH_KEPT_FOR after submission (or
start), or sooner when the survey's retention runs. Anonymous surveys store none: a hash of the
address would link responses more closely than what anonymity already removes.
"""
from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select
from sqlalchemy.sql.elements import ColumnElement

from ..extensions import db
from ..models import Response, ResponseChannel, ResponseStatus

HASH_KEPT_FOR = timedelta(days=30)
# The dashboard's rule: this many complete open-link responses started from one address within
# BURST_WINDOW are flagged.
BURST_MIN_RESPONSES = 5
BURST_WINDOW = timedelta(hours=1)
HASH_LENGTH = 32  # hex characters: 128 bits


@dataclass(frozen=True)
class Rule:
    """The burst rule as the dashboard states it."""

    responses: int = BURST_MIN_RESPONSES
    minutes: int = int(BURST_WINDOW.total_seconds() // 60)
    days: int = HASH_KEPT_FOR.days


RULE = Rule()


def _key() -> bytes:
    """A key of its own for address hashes, derived from SECRET_KEY."""
    return hmac.new(str(current_app.config["SECRET_KEY"]).encode(), b"survey_app open-link client address",
                    hashlib.sha256).digest()


def client_hash(survey_id: int, address: str) -> str:
    """The keyed hash stored for an open-link response from `address` to survey `survey_id`."""
    message = f"{survey_id}\n{address}".encode("utf-8", "surrogatepass")
    return hmac.new(_key(), message, hashlib.sha256).hexdigest()[:HASH_LENGTH]


@dataclass(frozen=True)
class Burst:
    """The most complete open-link responses one address started within one window (never the address)."""

    responses: int
    first_started: datetime
    last_started: datetime


def largest_window(times: list[datetime], window: timedelta = BURST_WINDOW) -> tuple[int, int]:
    """The (start, end) indexes, end exclusive, of the most sorted `times` that fit within `window`."""
    best = (0, 0)
    start = 0
    for end, moment in enumerate(times):
        while moment - times[start] > window:
            start += 1
        if end + 1 - start > best[1] - best[0]:
            best = (start, end + 1)
    return best


def find_bursts(survey_id: int, conditions: Iterable[ColumnElement[bool]] = ()) -> list[Burst]:
    """Addresses that started BURST_MIN_RESPONSES or more complete responses within BURST_WINDOW, largest first.

    `conditions` narrow the responses to the dashboard's filter. Reads only the rows holding a hash,
    through the partial index ix_responses_client_hash.
    """
    rows = db.session.execute(
        select(Response.client_hash, Response.started_at)
        .where(Response.survey_id == survey_id, Response.client_hash.is_not(None),
               Response.channel == ResponseChannel.OPEN.value, Response.status == ResponseStatus.COMPLETE.value,
               Response.is_test.is_(False),
               *conditions)
        .order_by(Response.client_hash, Response.started_at)
    ).all()
    by_address: dict[str, list[datetime]] = {}
    for hashed, started in rows:
        by_address.setdefault(hashed, []).append(started)
    bursts = []
    for times in by_address.values():
        if len(times) < BURST_MIN_RESPONSES:
            continue
        start, end = largest_window(times)
        if end - start >= BURST_MIN_RESPONSES:
            bursts.append(Burst(end - start, times[start], times[end - 1]))
    return sorted(bursts, key=lambda b: (-b.responses, b.first_started))
