"""Status events from the one-stop system: their shape, and applying one exactly once.

An event is a JSON object::

    {"event_id": "mc-2026-000123", "code": "000.00.20.H26-251103-0042",
     "status": "done", "at": "2026-12-07T09:30:00+07:00", "urgent": false, "note": ""}

``event_id`` (1-64 printable characters) is unique per change; ``status`` is one of the
stored statuses; ``at`` is when the change happened (ISO 8601, with an offset; without
one it is read as Vietnam time); ``urgent`` notices are sent even in quiet hours;
``note`` stays with staff (it is never sent to citizens). Pushed events
(:mod:`notify.server`) and polled ones (:mod:`notify.polling`) both go through
:meth:`EventIntake.apply`, which changes the status through the dossier store (whose
hook writes the notice outbox in the same transaction) and records the ``event_id`` in
that transaction too: a replay is refused, a change is never half applied.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from desk.codes import EXAMPLE_CODE, normalize_code
from desk.dossiers import STORED_STATUSES, DossierStore, StatusChange
from desk.outbox import fan_out, utcnow
from infra.db import Database, SqlStore

VIETNAM = timezone(timedelta(hours=7))
_EVENT_ID = re.compile(r"^[\x21-\x7e]{1,64}$")
MAX_NOTE = 500

events_table = sa.Table(
    "dossier_events",
    sa.MetaData(),
    sa.Column("event_id", sa.String(64), primary_key=True),
    sa.Column("received_at", sa.DateTime, nullable=False),
    sa.Column("dossier_code", sa.String(40), nullable=False),
    sa.Column("status", sa.String(32), nullable=False),
    sa.Column("source", sa.String(16), nullable=False),
    sa.Column("outcome", sa.String(16), nullable=False),
)


class EventError(ValueError):
    """An event that cannot be applied; ``status`` is the HTTP status to answer."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


@dataclass(frozen=True)
class StatusEvent:
    """A checked status event.

    Attributes:
        event_id: Unique id given by the sender.
        code: The canonical dossier code.
        status: The new stored status.
        at: When it happened (naive UTC).
        urgent: Deliver even in quiet hours.
        note: For staff only.
    """

    event_id: str
    code: str
    status: str
    at: datetime
    urgent: bool = False
    note: str = ""

    def to_json(self) -> dict[str, Any]:
        """The event as the one-stop system sends it."""
        return {
            "event_id": self.event_id,
            "code": self.code,
            "status": self.status,
            "at": self.at.replace(tzinfo=timezone.utc).isoformat(timespec="seconds"),
            "urgent": self.urgent,
            "note": self.note,
        }


def _parse_at(raw: Any) -> datetime:
    if not isinstance(raw, str):
        raise EventError(400, "'at' must be an ISO 8601 date-time string")
    try:
        at = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        reason = "'at' must be an ISO 8601 date-time, e.g. 2026-12-07T09:30:00+07:00"
        raise EventError(400, reason) from None
    if at.tzinfo is None:
        at = at.replace(tzinfo=VIETNAM)
    return at.astimezone(timezone.utc).replace(tzinfo=None)


def parse_event(payload: Any, *, now: datetime | None = None) -> StatusEvent:
    """Checks an event's fields.

    Raises:
        EventError: 400 with the reason for a malformed event.
    """
    if not isinstance(payload, dict):
        raise EventError(400, "the body must be a JSON object")
    unknown = set(payload) - {"event_id", "code", "status", "at", "urgent", "note"}
    if unknown:
        raise EventError(400, f"unknown fields: {', '.join(sorted(unknown))}")
    event_id = payload.get("event_id")
    if not isinstance(event_id, str) or not _EVENT_ID.match(event_id):
        raise EventError(400, "'event_id' must be 1-64 printable ASCII characters")
    raw_code = payload.get("code")
    code = normalize_code(raw_code) if isinstance(raw_code, str) else None
    if code is None:
        raise EventError(400, f"'code' must be a dossier code like {EXAMPLE_CODE}")
    status = payload.get("status")
    if status not in STORED_STATUSES:
        raise EventError(400, f"'status' must be one of {', '.join(STORED_STATUSES)}")
    at = _parse_at(payload["at"]) if "at" in payload else (now or utcnow())
    if at > (now or utcnow()) + timedelta(days=1):
        raise EventError(400, "'at' is in the future")
    urgent = payload.get("urgent", False)
    if not isinstance(urgent, bool):
        raise EventError(400, "'urgent' must be true or false")
    note = payload.get("note", "")
    if not isinstance(note, str) or len(note) > MAX_NOTE:
        raise EventError(400, f"'note' must be a string of at most {MAX_NOTE} characters")
    return StatusEvent(event_id, code, status, at, urgent, note)


class EventIntake(SqlStore):
    """Applies status events through the dossier store, each ``event_id`` once.

    Args:
        db: The database.
        dossiers: The dossier store (the seam to the one-stop system); the outbox hook
            (:func:`desk.outbox.fan_out`) is added to it when missing.
    """

    what = "dossier event"

    def __init__(self, db: Database | str, dossiers: DossierStore | None = None) -> None:
        super().__init__(db)
        self.dossiers = dossiers or DossierStore(self.db)
        if fan_out not in self.dossiers.hooks:
            self.dossiers.hooks.append(fan_out)

    def _record(self, event: StatusEvent, source: str, outcome: str):
        def record(conn: sa.engine.Connection, change: StatusChange | None = None) -> None:
            if change is not None and change.old_status == change.status:
                result = "unchanged"
            else:
                result = outcome
            conn.execute(
                events_table.insert().values(
                    event_id=event.event_id,
                    received_at=utcnow(),
                    dossier_code=event.code,
                    status=event.status,
                    source=source,
                    outcome=result,
                )
            )

        return record

    def apply(self, event: StatusEvent, *, source: str = "push") -> dict[str, Any]:
        """Applies ``event`` once.

        An event older than the dossier's last change is recorded but changes nothing
        (events may arrive out of order); one that repeats the current status changes
        nothing either.

        Returns:
            ``{"event_id", "code", "status", "outcome"}``, outcome ``changed``,
            ``unchanged`` or ``stale``.

        Raises:
            EventError: 404 for an unknown dossier, 409 for an ``event_id`` seen before.
        """
        dossier = self.dossiers.get(event.code)
        if dossier is None:
            raise EventError(404, f"no dossier with code {event.code}")
        answer = {"event_id": event.event_id, "code": event.code, "status": event.status}
        try:
            if dossier.updated_at is not None and event.at < dossier.updated_at:
                record = self._record(event, source, "stale")
                self._run(lambda c: record(c), write=True)
                return {**answer, "outcome": "stale"}
            self.dossiers.set_status(
                event.code,
                event.status,
                event.note,
                at=event.at,
                extra={"urgent": event.urgent, "event_id": event.event_id},
                also=self._record(event, source, "changed"),
            )
        except IntegrityError:
            reason = f"event {event.event_id} was already received (replay)"
            raise EventError(409, reason) from None
        changed = dossier.status != event.status
        return {**answer, "outcome": "changed" if changed else "unchanged"}

    def seen(self, event_id: str) -> bool:
        """Whether ``event_id`` was received before."""
        query = sa.select(events_table.c.event_id).where(events_table.c.event_id == event_id)
        return self._run(lambda c: c.execute(query).first()) is not None

    def recent(self, limit: int = 100) -> list[dict[str, Any]]:
        """The latest events received, newest first (for staff)."""
        t = events_table
        query = sa.select(t).order_by(t.c.received_at.desc()).limit(limit)
        return [
            {**r._mapping, "received_at": r.received_at.isoformat(timespec="seconds")}
            for r in self._run(lambda c: c.execute(query).all())
        ]
