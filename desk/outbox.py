"""The notice outbox: one row per (follower, dossier status), written with the status change.

:func:`fan_out` is a :data:`desk.dossiers.StatusHook`: it runs in the transaction that
changes a dossier's status and adds a ``pending`` row for every active follower, so a
change is never stored without its notices, nor a notice without its change. A row is
unique per (follow, status): each status of a dossier reaches each follower at most
once, however often the one-stop system repeats it.

A sender (:mod:`notify.sender`) claims due rows with a lease (``sending``), delivers
them and records the outcome; a sender that dies mid-send leaves rows whose lease runs
out, and the next claim takes them again. Widget notices wait (``waiting``) until the
widget asks for them (:meth:`Outbox.pull`). States:

``pending`` → ``sending`` → ``sent`` | ``pending`` (retry later) | ``refused`` (the
platform will not take it: blocked bot, Zalo's interaction window) | ``failed`` (gave up)
| ``cancelled`` (unfollowed first); ``held`` (quiet hours) → ``sending``; ``waiting`` →
``sent`` (widget). Staff may put any finished row back to ``pending`` (resend).

No Rasa imports.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from desk.dossiers import StatusChange
from desk.follows import follows_table
from infra.db import SqlStore

PENDING = "pending"
HELD = "held"
SENDING = "sending"
SENT = "sent"
WAITING = "waiting"
REFUSED = "refused"
FAILED = "failed"
CANCELLED = "cancelled"
STATES = (PENDING, HELD, SENDING, SENT, WAITING, REFUSED, FAILED, CANCELLED)
PULLED_CHANNELS = ("webchat",)
"""Channels that fetch their notices (the widget, when its page is next opened)."""

outbox_table = sa.Table(
    "notice_outbox",
    sa.MetaData(),
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("follow_id", sa.Integer, nullable=False),
    sa.Column("dossier_code", sa.String(40), nullable=False),
    sa.Column("status", sa.String(32), nullable=False),
    sa.Column("channel", sa.String(16), nullable=False),
    sa.Column("urgent", sa.Boolean, nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("next_attempt_at", sa.DateTime, nullable=False),
    sa.Column("lease_until", sa.DateTime, nullable=True),
    sa.Column("claim", sa.String(32), nullable=True),
    sa.Column("sent_at", sa.DateTime, nullable=True),
    sa.Column("last_error", sa.String(200), nullable=False),
    sa.UniqueConstraint("follow_id", "status"),
)


def utcnow() -> datetime:
    """Now, naive UTC (as every stored time)."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


def _insert_ignoring_repeats(conn: sa.engine.Connection) -> Any:
    dialect = conn.dialect.name
    if dialect == "postgresql":
        return postgresql.insert(outbox_table).on_conflict_do_nothing()
    if dialect == "sqlite":
        return sqlite.insert(outbox_table).on_conflict_do_nothing()
    raise NotImplementedError(f"the outbox needs SQLite or PostgreSQL, not {dialect}")


def fan_out(conn: sa.engine.Connection, change: StatusChange) -> int:
    """Adds a notice for every active follower of the changed dossier (a status hook).

    Returns:
        How many rows were offered (repeats of a (follow, status) are ignored).
    """
    f = follows_table
    followers = conn.execute(
        sa.select(f.c.id, f.c.channel).where(f.c.dossier_code == change.code, f.c.active.is_(True))
    ).all()
    if not followers:
        return 0
    now = utcnow()
    urgent = bool(change.extra.get("urgent"))
    rows = [
        {
            "follow_id": follow_id,
            "dossier_code": change.code,
            "status": change.status,
            "channel": channel,
            "urgent": urgent,
            "state": WAITING if channel in PULLED_CHANNELS else PENDING,
            "attempts": 0,
            "created_at": now,
            "next_attempt_at": now,
            "last_error": "",
        }
        for follow_id, channel in followers
    ]
    conn.execute(_insert_ignoring_repeats(conn), rows)
    return len(rows)


@dataclass(frozen=True)
class Notice:
    """A notice to deliver, with what delivery needs from its follow.

    Attributes:
        id: Outbox row id.
        follow_id: The follow.
        dossier_code: The dossier.
        status: The status to announce.
        channel: Where.
        address: The channel user id (blank when the follow ended).
        language: ``vi`` or ``en``.
        urgent: Sent even in quiet hours.
        attempts: Tries so far, this one included.
        created_at: When the change was stored (naive UTC).
        active: Whether the follow is still active.
    """

    id: int
    follow_id: int
    dossier_code: str
    status: str
    channel: str
    address: str
    language: str
    urgent: bool
    attempts: int
    created_at: datetime
    active: bool


def _notice_query() -> sa.Select:
    o, f = outbox_table, follows_table
    return sa.select(
        o.c.id,
        o.c.follow_id,
        o.c.dossier_code,
        o.c.status,
        o.c.channel,
        f.c.address,
        f.c.language,
        o.c.urgent,
        o.c.attempts,
        o.c.created_at,
        f.c.active,
    ).join(f, f.c.id == o.c.follow_id)


def _notice(row: Any) -> Notice:
    return Notice(*row)


class Outbox(SqlStore):
    """The notice outbox (in the project's database).

    Args:
        db: The database (:class:`infra.db.Database`) or its URL.
    """

    what = "notice outbox"

    def hold(self, until: datetime, now: datetime | None = None) -> int:
        """Holds every non-urgent pending notice until ``until`` (quiet hours).

        Returns:
            How many were held.
        """
        o = outbox_table
        query = (
            o.update()
            .where(
                o.c.state == PENDING,
                o.c.urgent.is_(False),
                o.c.next_attempt_at < until,
            )
            .values(state=HELD, next_attempt_at=until)
        )
        return self._run(lambda c: c.execute(query).rowcount, write=True)

    def claim(
        self, limit: int = 100, *, lease_s: float = 60.0, now: datetime | None = None
    ) -> list[Notice]:
        """Takes up to ``limit`` due notices for sending, with a lease.

        Due: ``pending`` or ``held`` whose time has come, or ``sending`` whose lease ran
        out (a sender died mid-send). One statement moves them to ``sending`` under a
        fresh claim token, so two senders never take the same row.
        """
        now = now or utcnow()
        o = outbox_table
        due = sa.or_(
            sa.and_(o.c.state.in_((PENDING, HELD)), o.c.next_attempt_at <= now),
            sa.and_(o.c.state == SENDING, o.c.lease_until < now),
        )
        token = secrets.token_hex(8)

        def work(conn: sa.engine.Connection) -> list[Any]:
            ids = [
                r[0]
                for r in conn.execute(
                    sa.select(o.c.id).where(due).order_by(o.c.next_attempt_at, o.c.id).limit(limit)
                )
            ]
            if not ids:
                return []
            conn.execute(
                o.update()
                .where(o.c.id.in_(ids), due)
                .values(
                    state=SENDING,
                    claim=token,
                    lease_until=now + timedelta(seconds=lease_s),
                    attempts=o.c.attempts + 1,
                )
            )
            return conn.execute(_notice_query().where(o.c.claim == token).order_by(o.c.id)).all()

        return [_notice(r) for r in self._run(work, write=True)]

    def _finish(self, notice_id: int, **values: Any) -> None:
        self.finish_many([(notice_id, values)])

    def finish_many(self, outcomes: list[tuple[int, dict[str, Any]]]) -> None:
        """Records several claimed notices' outcomes in one transaction.

        Args:
            outcomes: ``(notice id, column values)``, e.g. ``{"state": "sent", "sent_at": t}``;
                a row no longer ``sending`` (taken over after its lease ran out) is left alone.
        """
        if not outcomes:
            return
        o = outbox_table

        def work(conn: sa.engine.Connection) -> None:
            for notice_id, values in outcomes:
                conn.execute(
                    o.update()
                    .where(o.c.id == notice_id, o.c.state == SENDING)
                    .values(claim=None, lease_until=None, **values)
                )

        self._run(work, write=True)

    def delivered(self, notice_id: int, at: datetime | None = None) -> None:
        """Marks a claimed notice sent."""
        self._finish(notice_id, state=SENT, sent_at=at or utcnow(), last_error="")

    def retry(self, notice_id: int, at: datetime, error: str) -> None:
        """Puts a claimed notice back, due at ``at`` (naive UTC)."""
        self._finish(notice_id, state=PENDING, next_attempt_at=at, last_error=error[:200])

    def refuse(self, notice_id: int, reason: str) -> None:
        """Records that the platform refused it for good (not retried)."""
        self._finish(notice_id, state=REFUSED, last_error=reason[:200])

    def fail(self, notice_id: int, reason: str) -> None:
        """Gives up on a claimed notice (staff may resend it)."""
        self._finish(notice_id, state=FAILED, last_error=reason[:200])

    def cancel(self, notice_id: int) -> None:
        """Drops a claimed notice whose follow ended."""
        self._finish(notice_id, state=CANCELLED, last_error="unfollowed")

    def pull(self, channel: str, address: str, *, now: datetime | None = None) -> list[Notice]:
        """Hands over (and marks sent) the notices waiting for ``address`` on a pulled channel.

        Returns:
            The notices, oldest first.
        """
        o, f = outbox_table, follows_table
        now = now or utcnow()

        def work(conn: sa.engine.Connection) -> list[Any]:
            rows = conn.execute(
                _notice_query()
                .where(
                    o.c.channel == channel,
                    o.c.state == WAITING,
                    f.c.address == address,
                    f.c.active.is_(True),
                )
                .order_by(o.c.id)
            ).all()
            if rows:
                conn.execute(
                    o.update()
                    .where(o.c.id.in_([r[0] for r in rows]), o.c.state == WAITING)
                    .values(state=SENT, sent_at=now, attempts=o.c.attempts + 1)
                )
            return rows

        return [_notice(r) for r in self._run(work, write=True)]

    def resend(self, notice_id: int) -> bool:
        """Staff: sends a notice again (a finished row back to pending or waiting).

        Returns:
            Whether the row exists and was not already on its way.
        """
        o = outbox_table

        def work(conn: sa.engine.Connection) -> bool:
            row = conn.execute(sa.select(o.c.channel).where(o.c.id == notice_id)).first()
            if row is None:
                return False
            state = WAITING if row.channel in PULLED_CHANNELS else PENDING
            return bool(
                conn.execute(
                    o.update()
                    .where(o.c.id == notice_id, o.c.state.in_((SENT, REFUSED, FAILED, CANCELLED)))
                    .values(state=state, attempts=0, next_attempt_at=utcnow(), last_error="")
                ).rowcount
            )

        return self._run(work, write=True)

    def rows(
        self, *, state: str | None = None, code: str | None = None, limit: int = 200
    ) -> list[dict[str, Any]]:
        """Outbox rows for staff, newest first (no addresses)."""
        o, f = outbox_table, follows_table
        query = sa.select(o, f.c.who, f.c.language).join(f, f.c.id == o.c.follow_id)
        if state:
            query = query.where(o.c.state == state)
        if code:
            query = query.where(o.c.dossier_code == code)
        query = query.order_by(o.c.id.desc()).limit(limit)
        out = []
        for r in self._run(lambda c: c.execute(query).all()):
            m = r._mapping
            out.append(
                {
                    "id": m["id"],
                    "dossier_code": m["dossier_code"],
                    "status": m["status"],
                    "channel": m["channel"],
                    "who": m["who"],
                    "language": m["language"],
                    "urgent": m["urgent"],
                    "state": m["state"],
                    "attempts": m["attempts"],
                    "created_at": m["created_at"].isoformat(timespec="seconds"),
                    "sent_at": m["sent_at"].isoformat(timespec="seconds") if m["sent_at"] else None,
                    "last_error": m["last_error"],
                }
            )
        return out

    def counts(self) -> dict[str, int]:
        """How many rows are in each state."""
        o = outbox_table
        query = sa.select(o.c.state, sa.func.count()).group_by(o.c.state)
        found = dict(self._run(lambda c: c.execute(query).all()))
        return {state: int(found.get(state, 0)) for state in STATES}
