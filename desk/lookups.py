"""Dossier lookups that cannot be enumerated: limits, a second factor, a log of refusals.

Whoever holds a dossier code may learn its bare status. Anything more (procedure,
agency, applicant initials, dates) needs a second factor, as the one-stop desks ask on
the phone: the last four digits of the applicant's phone number on file. Lookups are
limited per sender and for the whole service (a client that changes its sender id on
every request still meets the global limit; nginx adds a per-address limit in
production), wrong digits are limited per dossier (four digits cannot be guessed
through the chat), and every refusal is logged where staff can see bursts.

No Rasa imports; :mod:`actions.dossiers` is the thin action over this.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa

from desk.codes import FACTOR_DIGITS, factor_in, looks_like_factor_only
from desk.dossiers import Dossier, PublicDossier
from infra.db import Database, SqlStore
from infra.privacy import clean_text, pseudonym
from infra.ratelimit import Decision, SqlLookupLimiter

__all__ = [
    "LookupGuard",
    "RefusalLog",
    "Verdict",
    "factor_in",
    "factor_matches",
    "looks_like_factor_only",
]

WRONG_FACTOR_LIMIT = 5
"""Wrong digits allowed per dossier per hour; then only the bare status is shown."""

refusals_table = sa.Table(
    "lookup_refusals",
    sa.MetaData(),
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("at", sa.DateTime, nullable=False),
    sa.Column("scope", sa.String(16), nullable=False),
    sa.Column("who", sa.String(32), nullable=False),
    sa.Column("detail", sa.String(200), nullable=False),
)


def factor_matches(dossier: Dossier, digits: str | None) -> bool:
    """Whether ``digits`` are the last four digits of the applicant's phone on file."""
    phone = "".join(ch for ch in dossier.applicant_phone or "" if ch.isdigit())
    if not digits or len(phone) < FACTOR_DIGITS:
        return False
    return hmac.compare_digest(phone[-FACTOR_DIGITS:], digits)


@dataclass(frozen=True)
class Verdict:
    """What a lookup may show.

    Attributes:
        allowed: Whether to look the code up at all (``False``: a limit was met).
        retry_after_s: When ``allowed`` is false, seconds until it may be tried again.
        scope: The limit met (``sender`` or ``global``), or empty.
    """

    allowed: bool
    retry_after_s: float = 0.0
    scope: str = ""


class LookupGuard(SqlStore):
    """Decides whether a sender may look a dossier up now, and what they may see.

    Args:
        db: The database (limits and the refusal log live there).
        per_sender: Lookups per sender per hour.
        per_minute: Lookups per minute for the whole service.
    """

    what = "dossier lookup"

    def __init__(self, db: Database | str, per_sender: int = 10, per_minute: int = 120) -> None:
        super().__init__(db)
        self.per_sender = SqlLookupLimiter(self.db, per_sender, 3600)
        self.service = SqlLookupLimiter(self.db, per_minute, 60)
        self.wrong_factor = SqlLookupLimiter(self.db, WRONG_FACTOR_LIMIT, 3600)
        self.log = RefusalLog(self.db)

    def admit(self, sender: str) -> Verdict:
        """Records a lookup by ``sender``; says whether it may go ahead."""
        who = pseudonym(sender)
        decision: Decision = self.service.check_and_record("dossier-lookups:all")
        if not decision.allowed:
            self._refuse("global", who, "service-wide lookup limit")
            return Verdict(False, decision.retry_after_s, "global")
        decision = self.per_sender.check_and_record(f"dossier-lookups:{who}")
        if not decision.allowed:
            self._refuse("sender", who, "lookup limit per sender")
            return Verdict(False, decision.retry_after_s, "sender")
        return Verdict(True)

    def view(
        self, dossier: Dossier, digits: str | None, sender: str, today
    ) -> tuple[PublicDossier, str]:
        """What to show of ``dossier``: everything with the right digits, else bare status.

        Args:
            dossier: The dossier found.
            digits: The second factor the citizen sent, if any.
            sender: Who asks (for the log).
            today: The date in Vietnam.

        Returns:
            The view and how it was decided: ``verified``, ``bare`` (no digits sent),
            ``wrong`` (digits did not match) or ``locked`` (too many wrong digits).
        """
        if digits is None:
            return dossier.public(today, verified=False), "bare"
        key = f"dossier-factor:{dossier.code}"
        if self.wrong_factor.count(key) >= WRONG_FACTOR_LIMIT:
            self._refuse("factor", pseudonym(sender), f"{dossier.code}: details locked")
            return dossier.public(today, verified=False), "locked"
        if factor_matches(dossier, digits):
            return dossier.public(today, verified=True), "verified"
        self.wrong_factor.check_and_record(key)
        self._refuse("factor", pseudonym(sender), f"{dossier.code}: wrong digits")
        return dossier.public(today, verified=False), "wrong"

    def _refuse(self, scope: str, who: str, detail: str) -> None:
        self.log.record(scope, who, detail)

    def refusals(self, *, hours: int = 24, limit: int = 200) -> list[dict]:
        """Recent refusals, newest first (see :meth:`RefusalLog.recent`)."""
        now = _utcnow()
        return self.log.recent(now - timedelta(hours=hours), now, limit=limit)


def _utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


class RefusalLog(SqlStore):
    """Refused dossier lookups, for staff to see bursts (who is a pseudonym).

    Args:
        db: The database, or its URL.
    """

    what = "lookup refusal"

    def record(self, scope: str, who: str, detail: str) -> None:
        """Records one refusal: ``scope`` is ``sender``, ``global`` or ``factor``."""
        row = {"at": _utcnow(), "scope": scope, "who": who, "detail": clean_text(detail)[:200]}
        self._run(lambda c: c.execute(refusals_table.insert(), [row]), write=True)

    def recent(self, since: datetime, until: datetime, *, limit: int = 200) -> list[dict]:
        """Refusals in ``[since, until)``, newest first (``at``, ``scope``, ``who``, ``detail``)."""
        window = sa.and_(refusals_table.c.at >= since, refusals_table.c.at < until)
        query = (
            sa.select(refusals_table)
            .where(window)
            .order_by(refusals_table.c.id.desc())
            .limit(limit)
        )
        rows = self._run(lambda c: c.execute(query).all())
        return [
            {
                "at": r.at.isoformat(timespec="seconds"),
                "scope": r.scope,
                "who": r.who,
                "detail": r.detail,
            }
            for r in rows
        ]

    def count(self, since: datetime, until: datetime) -> dict[str, int]:
        """How many refusals of each scope in ``[since, until)``."""
        window = sa.and_(refusals_table.c.at >= since, refusals_table.c.at < until)
        query = (
            sa.select(refusals_table.c.scope, sa.func.count())
            .where(window)
            .group_by(refusals_table.c.scope)
        )
        return {scope: int(n) for scope, n in self._run(lambda c: c.execute(query).all())}
