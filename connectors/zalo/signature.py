"""Zalo's webhook signature: ``X-ZEvent-Signature: mac=<hex>`` over the raw body."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping

SIGNATURE_HEADER = "X-ZEvent-Signature"


def signature(app_id: str, raw_body: bytes, timestamp: str, secret: str) -> str:
    """Computes Zalo's webhook signature.

    Args:
        app_id: The ``app_id`` of the event body.
        raw_body: The body exactly as received.
        timestamp: The ``timestamp`` of the event body (milliseconds, as a string).
        secret: The OA secret key.

    Returns:
        The hex SHA-256 of ``app_id + raw_body + timestamp + secret`` (not an HMAC).
    """
    digest = hashlib.sha256()
    digest.update(str(app_id).encode("utf-8"))
    digest.update(raw_body)
    digest.update(str(timestamp).encode("utf-8"))
    digest.update(secret.encode("utf-8"))
    return digest.hexdigest()


def header(headers: Mapping[str, str], name: str) -> str | None:
    """Returns the header ``name`` looked up case-insensitively (``None`` when absent)."""
    value = headers.get(name)
    if value is None:
        lowered = name.lower()
        for key, candidate in headers.items():
            if key.lower() == lowered:
                return candidate
    return value


def as_id(value: object) -> str:
    """Returns an id as a string (64-bit ids must never pass through a float)."""
    if value is None or isinstance(value, bool | float | dict | list):
        return ""
    return str(value).strip()


def verify(headers: Mapping[str, str], raw_body: bytes, secret: str) -> bool:
    """Tells whether a webhook request carries a valid ``X-ZEvent-Signature``.

    Args:
        headers: The request headers (looked up case-insensitively).
        raw_body: The body exactly as received; ``app_id`` and ``timestamp`` are read from it.
        secret: The OA secret key.

    Returns:
        ``True`` only for a well-formed header whose MAC matches (compared in constant time).
    """
    mac = (header(headers, SIGNATURE_HEADER) or "").strip()
    if not mac.lower().startswith("mac="):
        return False
    given = mac[4:].strip().lower()
    try:
        body = json.loads(raw_body)
    except (ValueError, UnicodeDecodeError):
        return False
    if not isinstance(body, dict):
        return False
    app_id, timestamp = as_id(body.get("app_id")), as_id(body.get("timestamp"))
    if not app_id or not timestamp or not secret:
        return False
    expected = signature(app_id, raw_body, timestamp, secret)
    return hmac.compare_digest(given.encode("ascii", "replace"), expected.encode("ascii"))
