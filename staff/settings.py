"""Staff console settings, read once from the environment.

* ``MOTCUA_STAFF_PORT`` (``5080``): where ``python -m staff.server`` listens.
* ``MOTCUA_STAFF_HOST`` (``127.0.0.1``): the interface (``0.0.0.0`` behind a proxy).
* ``MOTCUA_STAFF_SESSION_HOURS`` (``8``): a login lasts at most this long.
* ``MOTCUA_STAFF_IDLE_MINUTES`` (``60``): a session unused this long expires.
* ``MOTCUA_STAFF_LOGIN_LIMIT`` (``10``): login attempts per user name, and five times
  that per client address, in ``MOTCUA_STAFF_LOGIN_WINDOW_S`` (``900``) seconds.
* ``MOTCUA_STAFF_SECURE_COOKIE`` (``0``): ``1`` marks the session cookie ``Secure``
  (set it when the console is served over HTTPS).

The database is the catalogue's (``MOTCUA_DATABASE_URL``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache


def _int(env: dict[str, str], name: str, default: int) -> int:
    raw = (env.get(name) or str(default)).strip()
    if not raw.isdigit() or int(raw) < 1:
        raise ValueError(f"{name} must be a positive integer, got {raw!r}")
    return int(raw)


@dataclass(frozen=True)
class StaffSettings:
    """Settings of the staff console.

    Attributes:
        database_url: SQLAlchemy URL (the catalogue's database).
        host: Interface to listen on.
        port: Port to listen on.
        session_hours: Absolute session lifetime.
        idle_minutes: Idle session lifetime.
        login_limit: Login attempts per user name per window.
        login_window_s: The window of the login limit, in seconds.
        secure_cookie: Whether the session cookie is ``Secure``.
    """

    database_url: str
    host: str = "127.0.0.1"
    port: int = 5080
    session_hours: int = 8
    idle_minutes: int = 60
    login_limit: int = 10
    login_window_s: int = 900
    secure_cookie: bool = False

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> StaffSettings:
        """Builds settings from ``env`` (default: the process environment).

        Raises:
            ValueError: For a malformed number.
        """
        from knowledge.settings import Settings

        env = dict(os.environ if env is None else env)
        return cls(
            database_url=Settings.from_env(env).database_url,
            host=env.get("MOTCUA_STAFF_HOST") or "127.0.0.1",
            port=_int(env, "MOTCUA_STAFF_PORT", 5080),
            session_hours=_int(env, "MOTCUA_STAFF_SESSION_HOURS", 8),
            idle_minutes=_int(env, "MOTCUA_STAFF_IDLE_MINUTES", 60),
            login_limit=_int(env, "MOTCUA_STAFF_LOGIN_LIMIT", 10),
            login_window_s=_int(env, "MOTCUA_STAFF_LOGIN_WINDOW_S", 900),
            secure_cookie=(env.get("MOTCUA_STAFF_SECURE_COOKIE") or "0") in ("1", "true", "yes"),
        )


@lru_cache(maxsize=1)
def get_staff_settings() -> StaffSettings:
    """Returns the process-wide staff settings, read from the environment on first use."""
    return StaffSettings.from_env()
