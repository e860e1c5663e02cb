"""Retention: conversations older than N days are deleted, wherever motcua keeps them.

``motcua conversations purge`` (safe to run from cron: idempotent, one transaction per
store, prints what it deleted) removes, for messages older than the cutoff:

* the conversation log's turns (staff review queue, dashboard);
* hand-offs that staff closed (open and claimed ones stay until they are done);
* the events of Rasa's SQL tracker store, when one is configured
  (``MOTCUA_TRACKER_STORE_URL``): Rasa's ``events`` table, by its ``timestamp``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa
from sqlalchemy.exc import SQLAlchemyError

from desk.conversations import ConversationLog
from desk.handoffs import DONE, HandoffStore, handoffs_table
from infra.db import Database, StoreUnavailable


@dataclass
class PurgeReport:
    """What one purge deleted.

    Attributes:
        cutoff: Messages before this (naive UTC) were deleted.
        turns: Conversation-log turns.
        handoffs: Closed hand-offs.
        tracker_events: Rasa tracker-store events (``None`` without a SQL tracker store).
    """

    cutoff: datetime
    turns: int = 0
    handoffs: int = 0
    tracker_events: int | None = None

    def to_dict(self) -> dict:
        """Returns the counts and cutoff, for printing."""
        return {
            "cutoff": self.cutoff.isoformat(timespec="seconds"),
            "turns": self.turns,
            "handoffs": self.handoffs,
            "tracker_events": self.tracker_events,
        }


def tracker_store_url(url: str) -> str:
    """Returns the SQLAlchemy URL of the tracker store from ``MOTCUA_TRACKER_STORE_URL``."""
    return url.replace("postgresql://", "postgresql+psycopg2://", 1) if url else url


def purge_tracker_events(url: str, cutoff: datetime) -> int:
    """Deletes Rasa SQL tracker-store events older than ``cutoff``; returns how many.

    Raises:
        StoreUnavailable: When the tracker database cannot be reached.
    """
    engine = sa.create_engine(tracker_store_url(url), future=True)
    try:
        with engine.begin() as conn:
            if not sa.inspect(conn).has_table("events"):
                return 0
            events = sa.table("events", sa.column("timestamp", sa.Float))
            cutoff_ts = cutoff.replace(tzinfo=timezone.utc).timestamp()
            result = conn.execute(events.delete().where(events.c.timestamp < cutoff_ts))
            return int(result.rowcount or 0)
    except SQLAlchemyError as exc:
        safe = sa.engine.make_url(tracker_store_url(url)).render_as_string(hide_password=True)
        raise StoreUnavailable(
            f"cannot purge the tracker store at {safe}: {exc.__class__.__name__}. "
            "Check MOTCUA_TRACKER_STORE_URL and that the server runs."
        ) from exc
    finally:
        engine.dispose()


def purge(
    database_url: str,
    days: int,
    *,
    tracker_url: str | None = None,
    now: datetime | None = None,
) -> PurgeReport:
    """Deletes conversations older than ``days`` days.

    Args:
        database_url: motcua's database (conversation log, hand-offs).
        days: How many days to keep (at least 1).
        tracker_url: Rasa's SQL tracker store (``postgresql://...``), if any.
        now: The current time (naive UTC; tests pass their own).

    Returns:
        What was deleted.

    Raises:
        ValueError: For ``days`` under 1.
        StoreUnavailable: When a database cannot be reached.
    """
    if days < 1:
        raise ValueError("retention must keep at least 1 day")
    now = now or datetime.now(timezone.utc).replace(tzinfo=None)
    report = PurgeReport(cutoff=now - timedelta(days=days))
    db = Database(database_url)
    report.turns = ConversationLog(db).purge(report.cutoff)
    handoffs = HandoffStore(db)

    def delete_closed(conn: sa.engine.Connection) -> int:
        result = conn.execute(
            handoffs_table.delete().where(
                handoffs_table.c.status == DONE, handoffs_table.c.updated_at < report.cutoff
            )
        )
        return int(result.rowcount or 0)

    try:
        report.handoffs = handoffs._run(delete_closed, write=True)
    finally:
        db.dispose()
    if tracker_url:
        report.tracker_events = purge_tracker_events(tracker_url, report.cutoff)
    return report
