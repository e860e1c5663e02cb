"""Staff accounts, sessions and login limits.

Passwords are hashed with Argon2id (``argon2-cffi``). A session is a random token kept
by the browser in an HttpOnly cookie (or sent as ``Authorization: Bearer`` by scripts);
the database holds only its SHA-256, with an absolute and an idle expiry, so several
console replicas share sessions. Each session has its own CSRF token, required on every
state-changing request made with the cookie. Login attempts are limited per user name
and per client address with the shared SQL limiter (:mod:`infra.ratelimit`).
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from infra.db import Database, as_database
from infra.ratelimit import Decision, SqlLookupLimiter
from staff.tables import StaffStore, sessions_table, users_table

ROLES = ("viewer", "editor", "admin")
"""Viewers read; editors also correct, edit procedures and handle hand-offs; admins also
manage accounts and read the audit log."""
RANK = {role: n for n, role in enumerate(ROLES)}
USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
MIN_PASSWORD = 8
MAX_PASSWORD = 1024
TOUCH_EVERY = timedelta(minutes=1)


def _utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def token_hash(token: str) -> str:
    """Returns the SHA-256 a session token is stored under."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def csrf_matches(expected: str, given: str | None) -> bool:
    """Compares CSRF tokens in constant time."""
    return bool(given) and hmac.compare_digest(expected.encode(), str(given).encode())


def check_role(role: str) -> str:
    """Returns ``role`` when it is one of :data:`ROLES`, else raises ``ValueError``."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; use one of {', '.join(ROLES)}")
    return role


def check_username(username: str) -> str:
    """Returns the normalised user name, or raises ``ValueError``."""
    name = (username or "").strip().lower()
    if not USERNAME.match(name):
        raise ValueError(
            "a user name has 2-64 characters: lower-case letters, digits, '.', '_' or '-'"
        )
    return name


def check_password(password: str) -> str:
    """Returns ``password`` when long enough, else raises ``ValueError``."""
    if not isinstance(password, str) or not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise ValueError(f"a password has at least {MIN_PASSWORD} characters")
    return password


@dataclass
class User:
    """A staff account.

    Attributes:
        id: Number given by the database.
        username: Login name (lower case).
        role: One of :data:`ROLES`.
        active: Whether it may log in.
        created_at: When it was created (naive UTC).
    """

    id: int
    username: str
    role: str
    active: bool
    created_at: datetime

    def can(self, role: str) -> bool:
        """Whether this user has ``role`` or a higher one."""
        return self.active and RANK.get(self.role, -1) >= RANK[role]

    def to_dict(self) -> dict[str, Any]:
        """Returns a JSON-ready dict (no password hash)."""
        return {
            "username": self.username,
            "role": self.role,
            "active": self.active,
            "created_at": self.created_at.isoformat(timespec="seconds"),
        }


@dataclass
class Session:
    """A logged-in session.

    Attributes:
        id: SHA-256 of the token.
        user: Whose it is.
        csrf_token: The token state-changing requests must carry.
        expires_at: Absolute expiry (naive UTC).
    """

    id: str
    user: User
    csrf_token: str
    expires_at: datetime


def _user(row: Any) -> User:
    m = row._mapping
    return User(
        id=m["id"],
        username=m["username"],
        role=m["role"],
        active=bool(m["active"]),
        created_at=m["created_at"],
    )


class AccountStore(StaffStore):
    """Staff accounts and sessions in the shared database.

    Args:
        db: The database (or its URL).
        session_hours: Absolute session lifetime.
        idle_minutes: Idle session lifetime.
    """

    what = "staff accounts"

    def __init__(self, db: Database | str, session_hours: int = 8, idle_minutes: int = 60) -> None:
        super().__init__(db)
        self.session_life = timedelta(hours=session_hours)
        self.idle_life = timedelta(minutes=idle_minutes)
        self._hasher = PasswordHasher()
        self._dummy_hash: str | None = None

    # ------------------------------------------------------------------ accounts

    def create_user(self, username: str, password: str, role: str = "viewer") -> User:
        """Creates an account.

        Raises:
            ValueError: For a malformed name, a short password, an unknown role, or a name
                that is taken.
        """
        name = check_username(username)
        check_role(role)
        hashed = self._hasher.hash(check_password(password))
        now = _utcnow()
        values = {
            "username": name,
            "password_hash": hashed,
            "role": role,
            "active": True,
            "created_at": now,
            "updated_at": now,
        }
        try:
            new_id = self._run(
                lambda c: c.execute(users_table.insert().values(**values)).inserted_primary_key[0],
                write=True,
            )
        except sa.exc.IntegrityError as exc:
            raise ValueError(f"user {name!r} exists already") from exc
        return User(id=int(new_id), username=name, role=role, active=True, created_at=now)

    def get_user(self, username: str) -> User | None:
        """Returns the account called ``username``, or ``None``."""
        name = (username or "").strip().lower()
        row = self._run(
            lambda c: c.execute(
                sa.select(users_table).where(users_table.c.username == name)
            ).first()
        )
        return _user(row) if row else None

    def list_users(self) -> list[User]:
        """Returns every account, by name."""
        rows = self._run(
            lambda c: c.execute(sa.select(users_table).order_by(users_table.c.username)).all()
        )
        return [_user(r) for r in rows]

    def update_user(
        self,
        username: str,
        *,
        role: str | None = None,
        active: bool | None = None,
        password: str | None = None,
        keep_session: str | None = None,
    ) -> User | None:
        """Changes an account's role, active flag or password; ``None`` when there is none.

        Deactivating an account or changing its password ends its sessions (but
        ``keep_session``, the id of the session making the change, survives a new password).
        """
        values: dict[str, Any] = {"updated_at": _utcnow()}
        if role is not None:
            values["role"] = check_role(role)
        if active is not None:
            values["active"] = bool(active)
        if password is not None:
            values["password_hash"] = self._hasher.hash(check_password(password))
        name = (username or "").strip().lower()

        def work(conn: sa.engine.Connection) -> User | None:
            row = conn.execute(sa.select(users_table).where(users_table.c.username == name)).first()
            if row is None:
                return None
            conn.execute(users_table.update().where(users_table.c.id == row.id).values(**values))
            if active is False or password is not None:
                ended = sessions_table.c.user_id == row.id
                if keep_session and active is not False:
                    ended = sa.and_(ended, sessions_table.c.id != keep_session)
                conn.execute(sessions_table.delete().where(ended))
            return _user(
                conn.execute(sa.select(users_table).where(users_table.c.id == row.id)).first()
            )

        return self._run(work, write=True)

    def authenticate(self, username: str, password: str) -> User | None:
        """Returns the active account when the password matches, else ``None``.

        A missing account costs the same hash check, so timing does not tell names apart.
        """
        name = (username or "").strip().lower()
        row = self._run(
            lambda c: c.execute(
                sa.select(users_table).where(users_table.c.username == name)
            ).first()
        )
        if row is None:
            if self._dummy_hash is None:
                self._dummy_hash = self._hasher.hash(secrets.token_hex(8))
            with contextlib.suppress(VerificationError):
                self._hasher.verify(self._dummy_hash, str(password))
            return None
        try:
            self._hasher.verify(row.password_hash, str(password))
        except (VerificationError, InvalidHashError):
            return None
        if self._hasher.check_needs_rehash(row.password_hash):
            self.update_user(name, password=str(password))
        user = _user(row)
        return user if user.active else None

    # ------------------------------------------------------------------ sessions

    def create_session(self, user: User, now: datetime | None = None) -> tuple[str, Session]:
        """Starts a session for ``user``; returns the token (for the cookie) and the session."""
        now = now or _utcnow()
        token = secrets.token_urlsafe(32)
        session = Session(
            id=token_hash(token),
            user=user,
            csrf_token=secrets.token_urlsafe(32),
            expires_at=now + self.session_life,
        )
        values = {
            "id": session.id,
            "user_id": user.id,
            "csrf_token": session.csrf_token,
            "created_at": now,
            "expires_at": session.expires_at,
            "last_seen_at": now,
        }

        def work(conn: sa.engine.Connection) -> None:
            conn.execute(sessions_table.delete().where(sessions_table.c.expires_at <= now))
            conn.execute(sessions_table.insert().values(**values))

        self._run(work, write=True)
        return token, session

    def get_session(self, token: str | None, now: datetime | None = None) -> Session | None:
        """Returns the live session of ``token``, or ``None`` (unknown, expired, idle, inactive).

        A session in use has its idle clock reset (at most once a minute).
        """
        if not token or len(token) > 256:
            return None
        now = now or _utcnow()
        key = token_hash(token)
        query = (
            sa.select(sessions_table, users_table)
            .join(users_table, users_table.c.id == sessions_table.c.user_id)
            .where(sessions_table.c.id == key)
        )
        row = self._run(lambda c: c.execute(query).first())
        if row is None:
            return None
        m = row._mapping
        expired = m["expires_at"] <= now or m["last_seen_at"] + self.idle_life <= now
        if expired or not m["active"]:
            self.end_session(token)
            return None
        if now - m["last_seen_at"] >= TOUCH_EVERY:
            self._run(
                lambda c: c.execute(
                    sessions_table.update()
                    .where(sessions_table.c.id == key)
                    .values(last_seen_at=now)
                ),
                write=True,
            )
        user = User(
            id=m["user_id"],
            username=m["username"],
            role=m["role"],
            active=bool(m["active"]),
            created_at=m["created_at"],
        )
        return Session(id=key, user=user, csrf_token=m["csrf_token"], expires_at=m["expires_at"])

    def end_session(self, token: str) -> None:
        """Logs a session out."""
        key = token_hash(token)
        self._run(
            lambda c: c.execute(sessions_table.delete().where(sessions_table.c.id == key)),
            write=True,
        )


class LoginLimiter:
    """Limits login attempts per user name and per client address (shared SQL table).

    Args:
        db: The database (or its URL).
        limit: Attempts per user name per window (a client address gets five times that).
        window_s: Window length in seconds.
    """

    def __init__(self, db: Database | str, limit: int = 10, window_s: float = 900) -> None:
        db = as_database(db)
        self._per_user = SqlLookupLimiter(db, limit, window_s)
        self._per_client = SqlLookupLimiter(db, limit * 5, window_s)

    def check(self, username: str, client: str) -> Decision:
        """Records an attempt; the decision says whether it may go ahead."""
        by_client = self._per_client.check_and_record(f"staff-login-ip:{client}")
        if not by_client.allowed:
            return by_client
        return self._per_user.check_and_record(f"staff-login:{(username or '').lower()}")

    def dispose(self) -> None:
        """Closes the connection pools."""
        self._per_user.dispose()
        self._per_client.dispose()
