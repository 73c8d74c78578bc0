"""Secret links: personal invitation tokens and open-link resume tokens, stored only as hashes."""
from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from flask import current_app

SEED_BYTES = 16  # 128 bits from secrets


def hash_token(token: str) -> str:
    """Hash a token for storage and lookup; the token itself is never stored."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def new_seed() -> bytes:
    return secrets.token_bytes(SEED_BYTES)


def token_from_seed(seed: bytes, purpose: str = "invitation") -> str:
    """Derive the link token from a stored random seed and the app's secret key.

    The database holds the seed and the token's hash; without SECRET_KEY neither gives the link,
    yet the worker can rebuild a fellow's link for a reminder without keeping it anywhere.
    """
    key = (current_app.config.get("TOKEN_KEY") or current_app.config["SECRET_KEY"]).encode()
    digest = hmac.new(key, purpose.encode() + b":" + seed, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:18]).decode().rstrip("=")


def new_resume_token() -> str:
    return secrets.token_urlsafe(SEED_BYTES + 2)


def tokens_equal(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


def looks_like_token(token: str) -> bool:
    """Cheap shape check before any database work: 16-64 URL-safe characters."""
    return 16 <= len(token) <= 64 and all(c.isalnum() or c in "-_" for c in token)
