"""Webhook signatures: `X-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`.

The relay signs with `signature_header`; receivers (and our tests) check with `verify_signature`.
This module depends on the standard library only, so integrators can copy it as it is.
"""

from __future__ import annotations

import hashlib
import hmac
import time

SCHEME = "v1"
DEFAULT_TOLERANCE = 300


def _as_bytes(value: bytes | str) -> bytes:
    return value.encode() if isinstance(value, str) else value


def compute_signature(secret: str, timestamp: int, body: bytes | str) -> str:
    """Hex HMAC-SHA256 of `"<timestamp>.<body>"` keyed with the subscription's secret."""
    message = f"{timestamp}.".encode() + _as_bytes(body)
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signature_header(secret: str, body: bytes | str, timestamp: int | None = None) -> str:
    """The X-Signature value for one request; the timestamp is now unless given."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    return f"t={timestamp},{SCHEME}={compute_signature(secret, timestamp, body)}"


def parse_signature_header(header: str) -> tuple[int | None, list[str]]:
    """The timestamp and every v1 signature in a header (None and [] when malformed)."""
    timestamp = None
    signatures: list[str] = []
    for item in (header or "").split(","):
        key, sep, value = item.strip().partition("=")
        if not sep:
            continue
        if key == "t" and value.isdigit():
            timestamp = int(value)
        elif key == SCHEME:
            signatures.append(value)
    return timestamp, signatures


def verify_signature(
    secret: str,
    header: str,
    body: bytes | str,
    tolerance: int = DEFAULT_TOLERANCE,
    *,
    now: float | None = None,
) -> bool:
    """Whether `header` signs exactly `body` with `secret`, made within `tolerance` seconds.

    Pass the raw request body as received, before any JSON parsing. The comparison takes constant
    time; an old (or far-future) timestamp fails, which stops a captured request being replayed.
    """
    timestamp, signatures = parse_signature_header(header)
    if timestamp is None or not signatures:
        return False
    now = time.time() if now is None else now
    if abs(now - timestamp) > tolerance:
        return False
    expected = compute_signature(secret, timestamp, body)
    # Check every candidate so the time taken does not depend on which one matched.
    matched = False
    for candidate in signatures:
        matched |= hmac.compare_digest(expected.encode(), candidate.encode(errors="replace"))
    return matched
