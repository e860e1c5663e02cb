"""The Zalo channel's settings, from the environment through the settings registry."""

from __future__ import annotations

from collections.abc import Mapping

from connectors.common.settings import channel_credentials
from infra.settings import read

CREDENTIAL_ENV = {
    "app_id": "MOTCUA_ZALO_APP_ID",
    "app_secret": "MOTCUA_ZALO_APP_SECRET",
    "oa_secret_key": "MOTCUA_ZALO_OA_SECRET",
    "access_token": "MOTCUA_ZALO_ACCESS_TOKEN",
    "refresh_token": "MOTCUA_ZALO_REFRESH_TOKEN",
    "api_base_url": "MOTCUA_ZALO_API_URL",
    "oauth_base_url": "MOTCUA_ZALO_OAUTH_URL",
    "token_store": "MOTCUA_DATABASE_URL",
}
"""Credentials key → environment variable (see :func:`credentials_from_env`)."""
REQUIRED_CREDENTIALS = ("app_id", "app_secret", "oa_secret_key", "access_token", "refresh_token")


def credentials_from_env(env: Mapping[str, str]) -> dict[str, str] | None:
    """Builds the ``zalo`` credentials from ``MOTCUA_ZALO_*`` variables.

    Args:
        env: The environment (usually ``os.environ``).

    Returns:
        The credentials dict, or ``None`` when ``MOTCUA_ZALO_APP_ID`` is not set (the
        channel is not configured). Unset optional keys are left out.
    """
    return channel_credentials(env, CREDENTIAL_ENV, "app_id")


def default_token_store() -> str:
    """Where rotated tokens go when the credentials name no store: the project's database."""
    return str(read()["MOTCUA_DATABASE_URL"])
