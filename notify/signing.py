"""Signed status events: HMAC-SHA256 over the timestamp and the raw body.

The one-stop system sends ``X-Motcua-Timestamp: <unix seconds>`` and
``X-Motcua-Signature: sha256=<hex>``, the hex being
``HMAC-SHA256(key, "<timestamp>." + body)``. The timestamp is signed with the body, so
an old event cannot be given a fresh time; events further than the allowed skew from
now are refused, and each ``event_id`` is accepted once (:mod:`notify.events`).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

TIMESTAMP_HEADER = "X-Motcua-Timestamp"
SIGNATURE_HEADER = "X-Motcua-Signature"
PREFIX = "sha256="


def signature(key: bytes, timestamp: int | str, body: bytes) -> str:
    """The ``X-Motcua-Signature`` value of ``body`` sent at ``timestamp``."""
    mac = hmac.new(key, f"{timestamp}.".encode("ascii") + body, hashlib.sha256)
    return PREFIX + mac.hexdigest()


def signed_headers(key: bytes, body: bytes, timestamp: int) -> dict[str, str]:
    """The headers of a signed event (JSON content type, timestamp, signature)."""
    return {
        "Content-Type": "application/json",
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: signature(key, timestamp, body),
    }


def check(
    key: bytes,
    timestamp: str | None,
    given: str | None,
    body: bytes,
    *,
    now: float,
    max_skew_s: float,
) -> str | None:
    """Checks a request's signature and timestamp.

    Returns:
        ``None`` when both are good, else the reason to refuse it.
    """
    if not timestamp or not given:
        return f"missing {TIMESTAMP_HEADER} or {SIGNATURE_HEADER} header"
    if not timestamp.isdigit() or len(timestamp) > 12:
        return f"{TIMESTAMP_HEADER} must be unix seconds"
    if not hmac.compare_digest(signature(key, timestamp, body), given.strip()):
        return "bad signature"
    if abs(now - int(timestamp)) > max_skew_s:
        return f"stale timestamp (more than {int(max_skew_s)} s from the server's clock)"
    return None


def event_key(secret: str, home: str | Path) -> bytes:
    """The signing key: ``MOTCUA_NOTIFY_SECRET``, else one generated in ``home/events.key``."""
    if secret:
        return secret.encode("utf-8")
    folder = Path(home)
    path = folder / "events.key"
    try:
        return path.read_bytes().strip()
    except FileNotFoundError:
        folder.mkdir(parents=True, exist_ok=True)
        key = secrets.token_hex(32).encode("ascii")
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process made it first
            return path.read_bytes().strip()
        with os.fdopen(fd, "wb") as out:
            out.write(key)
        return key
