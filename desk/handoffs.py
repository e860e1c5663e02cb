"""Hand-offs to staff: a citizen asked for a person, the bot records it for the office.

Each hand-off keeps who asked (sender and channel, so staff can answer), a short
summary, where the transcript is, the dossier or procedure being discussed and the
language. Staff claim it, then mark it done. :data:`OFFICE_INFO` holds the office
hours and hotline the bot gives meanwhile.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import sqlalchemy as sa

from infra.db import SqlStore
from infra.privacy import clean_text, mask_pii, pseudonym

OPEN = "open"
CLAIMED = "claimed"
DONE = "done"
HANDOFF_STATUSES = (OPEN, CLAIMED, DONE)

OFFICE_INFO: dict[str, dict[str, str]] = {
    "vi": {
        "hours": "Thứ Hai–Thứ Sáu 8:00–17:00, sáng thứ Bảy 8:00–12:00 (trừ ngày lễ)",
        "hotline": "Tổng đài 1022 của thành phố Hà Nội",
        "message": (
            "Dạ, yêu cầu của anh/chị đã được chuyển tới cán bộ Bộ phận Một cửa; cán bộ sẽ "
            "trả lời "
            "trong giờ làm việc: Thứ Hai–Thứ Sáu 8:00–17:00, sáng thứ Bảy 8:00–12:00. "
            "Cần hỗ trợ ngay, anh/chị vui lòng gọi tổng đài 1022."
        ),
    },
    "en": {
        "hours": "Monday–Friday 8:00–17:00, Saturday morning 8:00–12:00 (except public holidays)",
        "hotline": "Hanoi's 1022 hotline",
        "message": (
            "Your request has been passed to the one-stop-shop staff; they answer during "
            "office hours: Monday–Friday 8:00–17:00, Saturday 8:00–12:00. For help right "
            "away, call the 1022 hotline."
        ),
    },
}
"""Office hours, hotline and the hand-off confirmation, by language (``vi``, ``en``)."""


def office_info(language: str = "vi") -> dict[str, str]:
    """Returns :data:`OFFICE_INFO` in ``language`` (Vietnamese when unknown)."""
    return OFFICE_INFO.get(language, OFFICE_INFO["vi"])


def _utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


@dataclass
class Handoff:
    """A conversation handed to staff.

    Attributes:
        id: Number given by the database.
        sender: The channel's user id (to answer them).
        channel: ``rest``, ``telegram``, ``zalo`` ...
        created_at: When it was asked for (naive UTC).
        summary: What the citizen needs, in a line or two.
        transcript_ref: Where the conversation is (e.g. a tracker-store conversation id).
        dossier_code: The dossier discussed, if any.
        procedure_code: The procedure discussed, if any.
        language: ``vi`` or ``en``.
        status: ``open``, ``claimed`` or ``done``.
        claimed_by: The staff member who took it.
        updated_at: Last change (naive UTC).
    """

    id: int
    sender: str
    channel: str
    created_at: datetime
    summary: str
    transcript_ref: str | None
    dossier_code: str | None
    procedure_code: str | None
    language: str
    status: str
    claimed_by: str | None
    updated_at: datetime

    def to_dict(self) -> dict[str, Any]:
        """Returns a JSON-ready dict (ISO times)."""
        data = dict(self.__dict__)
        data["created_at"] = self.created_at.isoformat(timespec="seconds")
        data["updated_at"] = self.updated_at.isoformat(timespec="seconds")
        return data


_metadata = sa.MetaData()
handoffs_table = sa.Table(
    "handoffs",
    _metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("sender", sa.String(128), nullable=False),
    sa.Column("channel", sa.String(32), nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("summary", sa.Text, nullable=False, default=""),
    sa.Column("transcript_ref", sa.Text, nullable=True),
    sa.Column("dossier_code", sa.String(40), nullable=True),
    sa.Column("procedure_code", sa.String(32), nullable=True),
    sa.Column("language", sa.String(8), nullable=False, default="vi"),
    sa.Column("status", sa.String(16), nullable=False, index=True),
    sa.Column("claimed_by", sa.String(128), nullable=True),
    sa.Column("updated_at", sa.DateTime, nullable=False),
)


def _row_to_handoff(row: Any) -> Handoff:
    m = row._mapping
    return Handoff(**{c.name: m[c.name] for c in handoffs_table.columns})


def _pseudonymous_ref(ref: str | None) -> str | None:
    """``tracker:<sender id>`` with the sender id replaced by its pseudonym."""
    if not ref:
        return ref
    kind, _, sender = ref.partition(":")
    return f"{kind}:{pseudonym(sender)}" if sender else clean_text(ref)[:200]


class HandoffStore(SqlStore):
    """Hand-offs in a SQL database (the catalogue's URL).

    Args:
        db: The database (:class:`infra.db.Database`) or its URL.
    """

    what = "handoff"

    def create(
        self,
        sender: str,
        channel: str,
        summary: str = "",
        *,
        transcript_ref: str | None = None,
        dossier_code: str | None = None,
        procedure_code: str | None = None,
        language: str = "vi",
        now: datetime | None = None,
    ) -> Handoff:
        """Records a new open hand-off.

        The sender is stored as its :func:`~infra.privacy.pseudonym` (the conversation log
        keeps the same one, so staff can read the transcript); the summary is masked.

        Args:
            sender: The channel's user id.
            channel: The channel name.
            summary: What the citizen needs.
            transcript_ref: Where the conversation can be read.
            dossier_code: The dossier discussed, if any.
            procedure_code: The procedure discussed, if any.
            language: ``vi`` or ``en``.
            now: Creation time (naive UTC; default now).

        Returns:
            The stored hand-off, with its id.
        """
        if not sender:
            raise ValueError("a hand-off needs the sender id, so staff can answer")
        when = now or _utcnow()
        values = {
            "sender": pseudonym(sender),
            "channel": clean_text(channel)[:32],
            "created_at": when,
            "summary": mask_pii(summary),
            "transcript_ref": _pseudonymous_ref(transcript_ref),
            "dossier_code": dossier_code,
            "procedure_code": procedure_code,
            "language": language,
            "status": OPEN,
            "claimed_by": None,
            "updated_at": when,
        }
        new_id = self._run(
            lambda c: c.execute(handoffs_table.insert().values(**values)).inserted_primary_key[0],
            write=True,
        )
        return Handoff(id=int(new_id), **values)

    def get(self, handoff_id: int) -> Handoff | None:
        """Returns the hand-off with ``handoff_id``, or ``None``."""
        row = self._run(
            lambda c: c.execute(
                sa.select(handoffs_table).where(handoffs_table.c.id == handoff_id)
            ).first()
        )
        return _row_to_handoff(row) if row else None

    def list(self, status: str | None = None, *, limit: int | None = None) -> list[Handoff]:
        """Returns hand-offs, oldest first (the queue order).

        Args:
            status: ``open``, ``claimed`` or ``done``; all when ``None``.
            limit: At most this many.
        """
        query = sa.select(handoffs_table).order_by(handoffs_table.c.id).limit(limit)
        if status is not None:
            _check_status(status)
            query = query.where(handoffs_table.c.status == status)
        return [_row_to_handoff(r) for r in self._run(lambda c: c.execute(query).all())]

    def set_status(
        self,
        handoff_id: int,
        status: str,
        *,
        claimed_by: str | None = None,
        now: datetime | None = None,
    ) -> Handoff | None:
        """Moves a hand-off to ``status`` (``claimed`` with ``claimed_by``, or ``done``).

        Returns:
            The updated hand-off, or ``None`` when there is none with that id.
        """
        _check_status(status)
        values: dict[str, Any] = {"status": status, "updated_at": now or _utcnow()}
        if claimed_by is not None:
            values["claimed_by"] = claimed_by
        result = self._run(
            lambda c: c.execute(
                handoffs_table.update().where(handoffs_table.c.id == handoff_id).values(**values)
            ),
            write=True,
        )
        return self.get(handoff_id) if result.rowcount else None

    def count(self, status: str | None = None) -> int:
        """Returns how many hand-offs are stored (of ``status`` when given)."""
        query = sa.select(sa.func.count()).select_from(handoffs_table)
        if status is not None:
            _check_status(status)
            query = query.where(handoffs_table.c.status == status)
        return self._run(lambda c: c.execute(query).scalar()) or 0


def _check_status(status: str) -> None:
    if status not in HANDOFF_STATUSES:
        raise ValueError(
            f"unknown hand-off status {status!r}; use one of {', '.join(HANDOFF_STATUSES)}"
        )
