"""Citizens following dossiers: who asked to be told when a dossier's status changes.

A follow records only what delivery needs and what consent requires: the dossier code,
the channel, a pseudonym of the channel user (:func:`infra.privacy.pseudonym`, for
lookups and staff), the raw channel user id (``address``: Telegram's chat id, Zalo's
user id, the widget's browser id; a message cannot be delivered without it), the
language of the notices, the consent given (what was agreed to, and when). Nothing else
about the citizen is stored. Unfollowing keeps the row inactive (staff see when it
ended) with the address blanked.

No Rasa imports; :mod:`actions.follows` is the thin action over this.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import sqlalchemy as sa

from desk.codes import normalize_code
from infra.db import SqlStore
from infra.privacy import pseudonym

CHANNELS = ("telegram", "zalo", "webchat")
"""Channels a notice can reach (REST clients have no way to receive one)."""
CONSENT = "notify-status-v1"
"""What the citizen agreed to: status notices for this dossier on this channel."""
MAX_FOLLOWS = 20
"""Dossiers one citizen may follow on one channel at a time."""

follows_table = sa.Table(
    "dossier_follows",
    sa.MetaData(),
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("dossier_code", sa.String(40), nullable=False),
    sa.Column("channel", sa.String(16), nullable=False),
    sa.Column("who", sa.String(32), nullable=False),
    sa.Column("address", sa.String(128), nullable=False),
    sa.Column("language", sa.String(8), nullable=False),
    sa.Column("consent", sa.String(64), nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("active", sa.Boolean, nullable=False),
    sa.Column("ended_at", sa.DateTime, nullable=True),
)


def _utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


class TooManyFollows(ValueError):
    """The citizen already follows :data:`MAX_FOLLOWS` dossiers on this channel."""


@dataclass(frozen=True)
class Follow:
    """One citizen following one dossier on one channel.

    Attributes:
        id: Row id.
        dossier_code: The dossier.
        channel: ``telegram``, ``zalo`` or ``webchat``.
        who: Pseudonym of the channel user.
        address: The channel user id notices go to (blank once unfollowed).
        language: ``vi`` or ``en``.
        consent: What was agreed to (:data:`CONSENT`).
        created_at: When (naive UTC).
        active: Still following.
    """

    id: int
    dossier_code: str
    channel: str
    who: str
    address: str
    language: str
    consent: str
    created_at: datetime
    active: bool

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready, without the address (for staff)."""
        return {
            "id": self.id,
            "dossier_code": self.dossier_code,
            "channel": self.channel,
            "who": self.who,
            "language": self.language,
            "consent": self.consent,
            "created_at": self.created_at.isoformat(timespec="seconds"),
            "active": self.active,
        }


def _follow(row: Any) -> Follow:
    m = row._mapping
    return Follow(**{f: m[f] for f in Follow.__dataclass_fields__})


class FollowStore(SqlStore):
    """Who follows which dossier (in the project's database).

    Args:
        db: The database (:class:`infra.db.Database`) or its URL.
    """

    what = "dossier follow"

    def follow(
        self, code: str, channel: str, address: str, language: str, *, consent: str = CONSENT
    ) -> tuple[Follow, bool]:
        """Records that ``address`` on ``channel`` wants notices about dossier ``code``.

        Args:
            code: The dossier code (any accepted spelling).
            channel: One of :data:`CHANNELS`.
            address: The channel user id.
            language: ``vi`` or ``en``: the notices' language (updated on a repeat).
            consent: What the citizen agreed to.

        Returns:
            The follow, and whether it is new (``False``: it was already active).

        Raises:
            ValueError: For an invalid code or a channel that cannot deliver.
            TooManyFollows: Past :data:`MAX_FOLLOWS` on this channel.
        """
        canonical = normalize_code(code)
        if canonical is None:
            raise ValueError(f"invalid dossier code {code!r}")
        if channel not in CHANNELS:
            raise ValueError(f"notices cannot reach the {channel!r} channel")
        who = pseudonym(address)
        now = _utcnow()
        values = {
            "address": address,
            "language": "en" if language == "en" else "vi",
            "consent": consent,
            "active": True,
            "ended_at": None,
        }
        t = follows_table

        def work(conn: sa.engine.Connection) -> tuple[Any, bool]:
            key = (t.c.dossier_code == canonical, t.c.channel == channel, t.c.who == who)
            row = conn.execute(sa.select(t).where(*key)).first()
            if row is not None and row.active:
                conn.execute(t.update().where(t.c.id == row.id).values(**values))
                return conn.execute(sa.select(t).where(t.c.id == row.id)).first(), False
            count = conn.execute(
                sa.select(sa.func.count())
                .select_from(t)
                .where(t.c.channel == channel, t.c.who == who, t.c.active.is_(True))
            ).scalar()
            if count >= MAX_FOLLOWS:
                raise TooManyFollows(f"already following {count} dossiers")
            if row is None:
                conn.execute(
                    t.insert().values(
                        dossier_code=canonical, channel=channel, who=who, created_at=now, **values
                    )
                )
            else:
                conn.execute(t.update().where(t.c.id == row.id).values(created_at=now, **values))
            return conn.execute(sa.select(t).where(*key)).first(), True

        row, new = self._run(work, write=True)
        return _follow(row), new

    def following(self, channel: str, address: str) -> list[Follow]:
        """The dossiers ``address`` follows on ``channel``, oldest first."""
        t = follows_table
        query = (
            sa.select(t)
            .where(t.c.channel == channel, t.c.who == pseudonym(address), t.c.active.is_(True))
            .order_by(t.c.created_at, t.c.id)
        )
        return [_follow(r) for r in self._run(lambda c: c.execute(query).all())]

    def unfollow(self, channel: str, address: str, code: str | None = None) -> list[str]:
        """Stops notices to ``address`` on ``channel``: about ``code``, or about every dossier.

        Notices not yet delivered are not sent (the sender checks the follow first).

        Returns:
            The codes no longer followed (empty when there was nothing to stop).
        """
        t = follows_table
        conditions = [t.c.channel == channel, t.c.who == pseudonym(address), t.c.active.is_(True)]
        if code is not None:
            canonical = normalize_code(code)
            if canonical is None:
                return []
            conditions.append(t.c.dossier_code == canonical)

        def work(conn: sa.engine.Connection) -> list[str]:
            codes = [r[0] for r in conn.execute(sa.select(t.c.dossier_code).where(*conditions))]
            if codes:
                ended = {"active": False, "address": "", "ended_at": _utcnow()}
                conn.execute(t.update().where(*conditions).values(**ended))
            return codes

        return self._run(work, write=True)

    def followers(self, code: str, *, active_only: bool = True) -> list[Follow]:
        """Who follows dossier ``code`` (for staff; addresses included, do not show them)."""
        t = follows_table
        canonical = normalize_code(code) or code
        conditions = [t.c.dossier_code == canonical]
        if active_only:
            conditions.append(t.c.active.is_(True))
        query = sa.select(t).where(*conditions).order_by(t.c.created_at, t.c.id)
        return [_follow(r) for r in self._run(lambda c: c.execute(query).all())]

    def counts(self, *, limit: int = 200) -> list[tuple[str, int]]:
        """``(dossier code, active followers)``, most followed first (for staff)."""
        t = follows_table
        n = sa.func.count().label("n")
        query = (
            sa.select(t.c.dossier_code, n)
            .where(t.c.active.is_(True))
            .group_by(t.c.dossier_code)
            .order_by(n.desc(), t.c.dossier_code)
            .limit(limit)
        )
        return [(code, int(count)) for code, count in self._run(lambda c: c.execute(query).all())]
