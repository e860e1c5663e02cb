"""Staff console settings, built from the settings registry (:mod:`infra.settings`).

``MOTCUA_STAFF_*`` variables (port, interface, session lifetimes, login limits, secure
cookie) and ``MOTCUA_TRUSTED_PROXIES``; their defaults and meanings are in the registry
and the README's table. The database is everyone's (``MOTCUA_DATABASE_URL``).
"""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass
from functools import lru_cache

from infra.settings import read

LOCALHOST = (ipaddress.ip_network("127.0.0.1/32"), ipaddress.ip_network("::1/128"))


@dataclass(frozen=True)
class StaffSettings:
    """Settings of the staff console.

    Attributes:
        database_url: SQLAlchemy URL (the catalogue's database).
        host: Interface to listen on.
        port: Port to listen on.
        session_hours: Absolute session lifetime.
        idle_minutes: Idle session lifetime.
        login_limit: Failed logins per user name and address per window (five times
            that per address; see :class:`staff.accounts.LoginLimiter`).
        login_window_s: The window of the login limit, in seconds.
        secure_cookie: Whether the session cookie is ``Secure``.
        trusted_proxies: Networks whose ``X-Forwarded-For`` is believed.
    """

    database_url: str
    host: str = "127.0.0.1"
    port: int = 5080
    session_hours: int = 8
    idle_minutes: int = 60
    login_limit: int = 10
    login_window_s: int = 900
    secure_cookie: bool = False
    trusted_proxies: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = LOCALHOST

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> StaffSettings:
        """Builds settings from ``env`` (default: the process environment).

        Raises:
            ValueError: For a malformed number.
        """
        v = read(os.environ if env is None else env)
        return cls(
            database_url=v["MOTCUA_DATABASE_URL"],
            host=v["MOTCUA_STAFF_HOST"],
            port=v["MOTCUA_STAFF_PORT"],
            session_hours=v["MOTCUA_STAFF_SESSION_HOURS"],
            idle_minutes=v["MOTCUA_STAFF_IDLE_MINUTES"],
            login_limit=v["MOTCUA_STAFF_LOGIN_LIMIT"],
            login_window_s=v["MOTCUA_STAFF_LOGIN_WINDOW_S"],
            secure_cookie=v["MOTCUA_STAFF_SECURE_COOKIE"],
            trusted_proxies=v["MOTCUA_TRUSTED_PROXIES"],
        )


@lru_cache(maxsize=1)
def get_staff_settings() -> StaffSettings:
    """Returns the process-wide staff settings, read from the environment on first use."""
    return StaffSettings.from_env()
