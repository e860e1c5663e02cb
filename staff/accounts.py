"""Staff accounts, sessions and login limits.

Passwords are hashed with Argon2id (``argon2-cffi``). A session is a random token kept
by the browser in an HttpOnly cookie (or sent as ``Authorization: Bearer`` by scripts);
the database holds only its SHA-256, with an absolute and an idle expiry, so several
console replicas share sessions. Each session has its own CSRF token, required on every
state-changing request made with the cookie. Passwords follow :mod:`staff.passwords`.

User names are compared in one form, :func:`normalise_username` (NFKC, stripped,
case-folded), by account creation, authentication and the login limit alike, so
``" Lan\u00a0"`` or ``"ＬＡＮ"`` is the same name everywhere. :class:`LoginLimiter` counts
failed logins with the shared SQL limiter (:mod:`infra.ratelimit`) per user name and
address and per address, and slows down (never refuses) a name failing from many
addresses: nobody can lock a staff member out from their own desk.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import re
import secrets
import time
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from infra.db import Database, as_database
from infra.ratelimit import SqlLookupLimiter
from staff.passwords import MAX_PASSWORD, MIN_PASSWORD, check_password
from staff.tables import StaffStore, sessions_table, users_table

__all__ = ["MAX_PASSWORD", "MIN_PASSWORD", "check_password"]  # re-exported for the API

ROLES = ("viewer", "editor", "admin")
"""Viewers read; editors also correct, edit procedures and handle hand-offs; admins also
manage accounts and read the audit log."""
RANK = {role: n for n, role in enumerate(ROLES)}
USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
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


def normalise_username(username: str | None) -> str:
    """The one form of a user name that accounts, logins and the login limit compare.

    Unicode compatibility forms folded (NFKC: full-width letters, no-break spaces), white
    space stripped, case folded: ``" ＬＡＮ\u00a0"`` -> ``"lan"``.
    """
    return unicodedata.normalize("NFKC", username or "").strip().casefold()


def check_username(username: str) -> str:
    """Returns the normalised user name, or raises ``ValueError``."""
    name = normalise_username(username)
    if not USERNAME.fullmatch(name):
        raise ValueError(
            "a user name has 2-64 characters: lower-case letters, digits, '.', '_' or '-'"
        )
    return name


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
            ValueError: For a malformed name, a password the policy refuses (the message
                says why), an unknown role, or a name that is taken.
        """
        name = check_username(username)
        check_role(role)
        hashed = self._hasher.hash(check_password(password, name))
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
        name = normalise_username(username)
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
        name = normalise_username(username)
        values: dict[str, Any] = {"updated_at": _utcnow()}
        if role is not None:
            values["role"] = check_role(role)
        if active is not None:
            values["active"] = bool(active)
        if password is not None:
            values["password_hash"] = self._hasher.hash(check_password(password, name))

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
        A password that no longer meets the policy still logs in (the policy applies when
        a password is set).
        """
        name = normalise_username(username)
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
            self._rehash(row.id, str(password))
        user = _user(row)
        return user if user.active else None

    def _rehash(self, user_id: int, password: str) -> None:
        """Stores a fresh hash of a checked password (no policy check, sessions kept)."""
        hashed = self._hasher.hash(password)
        self._run(
            lambda c: c.execute(
                users_table.update().where(users_table.c.id == user_id).values(password_hash=hashed)
            ),
            write=True,
        )

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


@dataclass(frozen=True)
class LoginDecision:
    """Whether a login attempt may go ahead, and how.

    Attributes:
        allowed: Whether the password may be checked (the attempt is recorded if so).
        retry_after_s: Seconds until this name may be tried again from this address.
        remaining: Failures left before this name and address (or this address) is locked.
        scope: What a refusal, or the last failure left, is about: ``user+address`` or
            ``address``.
        delay_s: Seconds to wait before checking the password (the name failed often
            from many addresses).
        at: When the attempt was recorded (epoch seconds; to withdraw it on success).
    """

    allowed: bool
    retry_after_s: int
    remaining: int
    scope: str = "user+address"
    delay_s: float = 0.0
    at: float = 0.0


class LoginLimiter:
    """Limits failed logins without letting anyone lock a staff member out.

    Three counters in the shared SQL table, each over ``window_s`` seconds:

    * per user name *and* address: ``limit`` failures, then that address is refused for
      that name (a guesser locks out only itself);
    * per address: five times ``limit`` failures over any names, then that address is
      refused (one address cannot spray many names);
    * per user name from every address: after ``limit`` failures each attempt waits
      :attr:`step_s` seconds more, at most :attr:`max_delay_s`; it is never refused, so
      many addresses guessing one name slow it down but cannot keep its owner out.

    An attempt is recorded before the password is checked (so concurrent guesses count)
    and withdrawn again when the password was right: only failures use up the budget.

    Args:
        db: The database (or its URL).
        limit: Failures per user name and address per window (an address gets five times
            that over all names).
        window_s: Window length in seconds.
        step_s: Slowdown per failure of a name over ``limit``.
        max_delay_s: The longest slowdown.
    """

    def __init__(
        self,
        db: Database | str,
        limit: int = 10,
        window_s: float = 900,
        step_s: float = 0.5,
        max_delay_s: float = 5.0,
    ) -> None:
        db = as_database(db)
        self.limit = limit
        self.step_s = step_s
        self.max_delay_s = max_delay_s
        self._per_pair = SqlLookupLimiter(db, limit, window_s)
        self._per_client = SqlLookupLimiter(db, limit * 5, window_s)
        self._per_name = SqlLookupLimiter(db, max(1000, limit * 100), window_s)

    @staticmethod
    def _keys(username: str, client: str) -> tuple[str, str, str]:
        name = normalise_username(username)[:64]
        return f"staff-login:{name}@{client}", f"staff-login-ip:{client}", f"staff-login:{name}"

    def check(self, username: str, client: str, now: float | None = None) -> LoginDecision:
        """Records an attempt; the decision says whether it may go ahead, and how slowly."""
        at = time.time() if now is None else now
        pair, address, name = self._keys(username, client)
        by_client = self._per_client.check_and_record(address, at)
        if not by_client.allowed:
            return LoginDecision(False, by_client.retry_after_s, 0, "address", at=at)
        by_pair = self._per_pair.check_and_record(pair, at)
        if not by_pair.allowed:
            self._per_client.withdraw(address, at)
            return LoginDecision(False, by_pair.retry_after_s, 0, "user+address", at=at)
        failures = self._per_name.count(name, at)
        over = failures - self.limit + 1
        delay = min(self.max_delay_s, self.step_s * over) if over > 0 else 0.0
        scope = "address" if by_client.remaining < by_pair.remaining else "user+address"
        remaining = min(by_client.remaining, by_pair.remaining)
        return LoginDecision(True, 0, remaining, scope, delay, at)

    def failed(self, username: str, client: str, decision: LoginDecision) -> None:
        """Counts a wrong password against the name from every address (the slowdown)."""
        self._per_name.check_and_record(self._keys(username, client)[2], decision.at)

    def succeeded(self, username: str, client: str, decision: LoginDecision) -> None:
        """Withdraws a successful attempt: only failures count."""
        pair, address, _ = self._keys(username, client)
        self._per_pair.withdraw(pair, decision.at)
        self._per_client.withdraw(address, decision.at)

    def dispose(self) -> None:
        """Closes the connection pools."""
        self._per_pair.dispose()
        self._per_client.dispose()
        self._per_name.dispose()
