"""Zoom webhook signatures, as pure functions over bytes (no I/O, no Flask).

Zoom signs `v0:{timestamp}:{raw body}` with HMAC-SHA256 under the app's secret token and sends
`v0=<hex>` in `x-zm-signature`. The URL-validation challenge is answered with the HMAC of the plain
token. The comparison is constant-time and over the raw bytes, never re-serialised JSON.
"""

from __future__ import annotations

import hashlib
import hmac


class InvalidSignature(Exception):
    """The request is not provably from Zoom; `reason` is safe to log and count."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def sign(secret: str, timestamp: str, body: bytes) -> str:
    message = b"v0:" + timestamp.encode("utf-8") + b":" + body
    return "v0=" + hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def verify(
    body: bytes, *, signature: str | None, timestamp: str | None, secret: str, now: float, tolerance_seconds: int
) -> None:
    """Raise InvalidSignature unless `signature` is Zoom's over `body` at a timestamp near `now`."""
    if not secret:
        raise InvalidSignature("no_secret_configured")
    if not signature or not timestamp:
        raise InvalidSignature("missing_headers")
    try:
        sent_at = int(timestamp.strip())
    except ValueError:
        raise InvalidSignature("bad_timestamp") from None
    if sent_at > 10_000_000_000:  # tolerate a millisecond timestamp
        sent_at //= 1000
    if abs(int(now) - sent_at) > tolerance_seconds:  # in integers: a 400-digit timestamp overflows a float
        raise InvalidSignature("stale_timestamp")
    expected = sign(secret, timestamp.strip(), body)
    if not hmac.compare_digest(expected.encode("ascii"), signature.strip().encode("utf-8", "replace")):
        raise InvalidSignature("bad_signature")


def url_validation_answer(secret: str, plain_token: str) -> dict[str, str]:
    encrypted = hmac.new(secret.encode("utf-8"), plain_token.encode("utf-8"), hashlib.sha256).hexdigest()
    return {"plainToken": plain_token, "encryptedToken": encrypted}
