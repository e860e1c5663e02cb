"""The audit log: who changed what, when, with the value before and after.

Every change made through the console or the staff CLI (accounts, procedure edits,
corrections, review decisions, hand-offs) is one row, and so is every failed login
(``login.failed``), lockout (``login.lockout``) and refused hand-off change
(``handoff.denied``). Rows are only ever added.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import sqlalchemy as sa

from staff.tables import StaffStore, audit_table


def _utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


@dataclass
class AuditEntry:
    """One change.

    Attributes:
        id: Number given by the database (increasing).
        at: When (naive UTC).
        actor: The staff user name (``cli`` for the command line).
        action: What was done, e.g. ``procedure.edit``, ``correction.create``.
        target: What it was done to, e.g. ``procedure:1.001193``, ``user:lan``.
        before: The value before (``None`` when it was created).
        after: The value after (``None`` when it was deleted).
    """

    id: int
    at: datetime
    actor: str
    action: str
    target: str
    before: Any
    after: Any

    def to_dict(self) -> dict[str, Any]:
        """Returns a JSON-ready dict."""
        return {
            "id": self.id,
            "at": self.at.isoformat(timespec="seconds"),
            "actor": self.actor,
            "action": self.action,
            "target": self.target,
            "before": self.before,
            "after": self.after,
        }


def _dump(value: Any) -> str | None:
    return None if value is None else json.dumps(value, ensure_ascii=False, sort_keys=True)


def _load(text: str | None) -> Any:
    return None if text is None else json.loads(text)


class AuditLog(StaffStore):
    """The audit log in the shared database.

    Args:
        db: The database (:class:`infra.db.Database`) or its URL.
    """

    what = "staff audit"

    def record(
        self,
        actor: str,
        action: str,
        target: str,
        before: Any = None,
        after: Any = None,
        *,
        now: datetime | None = None,
    ) -> int:
        """Adds one entry; returns its id."""
        values = {
            "at": now or _utcnow(),
            "actor": actor,
            "action": action,
            "target": target[:128],
            "before": _dump(before),
            "after": _dump(after),
        }
        return int(
            self._run(
                lambda c: c.execute(audit_table.insert().values(**values)).inserted_primary_key[0],
                write=True,
            )
        )

    def entries(
        self,
        *,
        target: str | None = None,
        actor: str | None = None,
        action: str | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[AuditEntry]:
        """Returns entries, newest first, optionally for one target, actor or action."""
        query = sa.select(audit_table).order_by(audit_table.c.id.desc()).limit(limit).offset(offset)
        if target:
            query = query.where(audit_table.c.target == target)
        if actor:
            query = query.where(audit_table.c.actor == actor)
        if action:
            query = query.where(audit_table.c.action == action)
        rows = self._run(lambda c: c.execute(query).all())
        return [
            AuditEntry(
                id=r.id,
                at=r.at,
                actor=r.actor,
                action=r.action,
                target=r.target,
                before=_load(r.before),
                after=_load(r.after),
            )
            for r in rows
        ]

    def count(self) -> int:
        """Returns how many entries there are."""
        return self._run(
            lambda c: c.execute(sa.select(sa.func.count()).select_from(audit_table)).scalar()
        )
