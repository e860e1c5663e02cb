"""The Telegram channel's settings: from the environment, and checked in ``credentials.yml``."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from rasa.shared.exceptions import RasaException

from connectors.common.settings import channel_credentials

CREDENTIAL_ENV = {
    "token": "MOTCUA_TELEGRAM_TOKEN",
    "secret_token": "MOTCUA_TELEGRAM_SECRET",
    "webhook_url": "MOTCUA_TELEGRAM_WEBHOOK_URL",
    "api_base_url": "MOTCUA_TELEGRAM_API_URL",
}
"""Credentials key → environment variable (see :func:`credentials_from_env`)."""

_SECRET_RE = re.compile(r"^[A-Za-z0-9_-]{1,256}$")


def credentials_from_env(env: Mapping[str, str]) -> dict[str, str] | None:
    """Returns the channel's credentials from ``MOTCUA_TELEGRAM_*`` variables.

    Args:
        env: The environment (usually ``os.environ``).

    Returns:
        ``None`` when ``MOTCUA_TELEGRAM_TOKEN`` is unset or empty (the channel is off),
        otherwise a dict for :meth:`TelegramInput.from_credentials` holding the set keys
        (a missing secret is left for ``from_credentials`` to report).
    """
    return channel_credentials(env, CREDENTIAL_ENV, "token")


def setting(credentials: Mapping[str, Any], key: str, *, required: bool) -> str | None:
    """Returns one credentials value, stripped; ``None`` for an absent optional one.

    Raises:
        RasaException: Naming the key (and its variable) when it is missing, not text,
            or an unexpanded ``${VAR}``.
    """
    value = credentials.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            variable = CREDENTIAL_ENV.get(key, key)
            raise RasaException(f"telegram channel: credentials need '{key}' ({variable})")
        return None
    if not isinstance(value, str):
        raise RasaException(f"telegram channel: '{key}' must be a string")
    value = value.strip()
    if value.startswith("${"):
        raise RasaException(f"telegram channel: '{key}' is an unexpanded variable: {value}")
    return value


def secret_setting(credentials: Mapping[str, Any]) -> str:
    """Returns the webhook secret, which Telegram accepts only as 1-256 of A-Z a-z 0-9 _ -.

    Raises:
        RasaException: When it is missing or has other characters.
    """
    secret = setting(credentials, "secret_token", required=True) or ""
    if not _SECRET_RE.match(secret):
        raise RasaException(
            "telegram channel: 'secret_token' must be 1-256 characters of A-Z, a-z, 0-9, _ -"
        )
    return secret
