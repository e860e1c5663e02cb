"""Dossiers received at one-stop shops: statuses, storage and a public view.

Codes are read by :mod:`desk.codes`; demo data lives in :mod:`desk.demo`. Whoever
holds the code may see where the dossier stands, so :meth:`Dossier.public` shows only
the procedure, the agency, the dates, the status and a masked applicant name, never the
phone number.

The store uses the same database URL as the catalogue: SQLite by default, PostgreSQL
by URL. Nothing connects until a method is called.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Any, TypeVar

import sqlalchemy as sa

from desk.codes import EXAMPLE_CODE, normalize_code
from infra.db import SqlStore

logger = logging.getLogger(__name__)

T = TypeVar("T")

# --- statuses ----------------------------------------------------------------------------

RECEIVED = "received"
IN_PROGRESS = "in_progress"
NEEDS_MORE_DOCUMENTS = "needs_more_documents"
DONE = "done"
RETURNED = "returned"
OVERDUE = "overdue"

STORED_STATUSES = (RECEIVED, IN_PROGRESS, NEEDS_MORE_DOCUMENTS, DONE, RETURNED)
"""Statuses a dossier can be given; ``overdue`` is computed, never stored."""
CLOSED_STATUSES = (DONE, RETURNED)
"""Statuses that end processing: such a dossier is never overdue."""
STATUSES = (*STORED_STATUSES, OVERDUE)

STATUS_LABELS: dict[str, dict[str, str]] = {
    RECEIVED: {"vi": "Đã tiếp nhận", "en": "Received"},
    IN_PROGRESS: {"vi": "Đang giải quyết", "en": "Being processed"},
    NEEDS_MORE_DOCUMENTS: {"vi": "Cần bổ sung hồ sơ", "en": "More documents needed"},
    DONE: {"vi": "Đã có kết quả", "en": "Completed, result ready"},
    RETURNED: {"vi": "Trả lại hồ sơ / từ chối", "en": "Returned to applicant / refused"},
    OVERDUE: {"vi": "Quá hạn giải quyết", "en": "Overdue"},
}
"""Label of each status, by language (``vi``, ``en``)."""


def status_label(status: str, language: str = "vi") -> str:
    """Returns the label of ``status`` in ``language`` (Vietnamese when unknown)."""
    labels = STATUS_LABELS.get(status, {})
    return labels.get(language) or labels.get("vi") or status


def effective_status(status: str, due_on: date | None, today: date) -> str:
    """Returns ``overdue`` for an open dossier past its due date, else ``status``.

    Args:
        status: The stored status.
        due_on: The promised date of the result; ``None`` means no deadline.
        today: The date to judge by; a dossier due today is not overdue yet.
    """
    if status not in CLOSED_STATUSES and due_on is not None and due_on < today:
        return OVERDUE
    return status


def mask_name(name: str | None) -> str:
    """Masks a person's name for the public view: each word's first letter and ``***``.

    ``"Nguyễn Văn An"`` becomes ``"N*** V*** A***"``; the number of stars does not reveal
    the length of the word.
    """
    return " ".join(f"{word[0].upper()}***" for word in (name or "").split())


# --- records -----------------------------------------------------------------------------


def _utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


VIETNAM_OFFSET = timedelta(hours=7)
"""Vietnam time (UTC+7, no daylight saving); stored times are naive UTC."""


@dataclass
class HistoryEntry:
    """One step of a dossier's processing.

    Attributes:
        at: When (naive UTC).
        status: The status the dossier moved to.
        note: What staff wrote, if anything.
    """

    at: datetime
    status: str
    note: str = ""


@dataclass
class PublicDossier:
    """What may be shown to whoever has the code: no phone, a masked name.

    Attributes:
        code: The dossier code.
        procedure_code: The procedure's catalogue code.
        procedure_name: The procedure's name.
        agency: The receiving agency.
        received_on: Date of receipt.
        due_on: Promised date of the result, if any.
        status: The effective status (``overdue`` when an open dossier is past due).
        recorded_status: The status staff recorded (tells an overdue dossier's stage).
        updated_at: Last change (naive UTC).
        applicant: The masked applicant name.
        days_left: Days until ``due_on`` (negative when late); ``None`` when closed or no date.
        verified: ``False`` for the bare status (no second factor): only the code and
            the status are filled in.
    """

    code: str
    procedure_code: str
    procedure_name: str
    agency: str
    received_on: date | None
    due_on: date | None
    status: str
    recorded_status: str
    updated_at: datetime | None
    applicant: str
    days_left: int | None
    verified: bool = True

    def to_dict(self) -> dict[str, Any]:
        """Returns a JSON-ready dict (ISO dates)."""
        return {
            "code": self.code,
            "procedure_code": self.procedure_code,
            "procedure_name": self.procedure_name,
            "agency": self.agency,
            "received_on": self.received_on.isoformat() if self.received_on else None,
            "due_on": self.due_on.isoformat() if self.due_on else None,
            "status": self.status,
            "recorded_status": self.recorded_status,
            "updated_at": self.updated_at.isoformat(timespec="seconds")
            if self.updated_at
            else None,
            "applicant": self.applicant,
            "days_left": self.days_left,
            "verified": self.verified,
        }

    def text(self, language: str = "vi") -> str:
        """Returns a short plain-text report in ``vi`` or ``en``."""
        en = language == "en"
        status = status_label(self.status, language)
        if self.status == OVERDUE:
            status += f" ({status_label(self.recorded_status, language)})"
        if not self.verified:
            rows = [(("Hồ sơ", "Dossier"), self.code), (("Trạng thái", "Status"), status)]
            return "\n".join(f"{label[1] if en else label[0]}: {value}" for label, value in rows)
        updated = (self.updated_at + VIETNAM_OFFSET).strftime("%d/%m/%Y %H:%M")
        due = self.due_on.strftime("%d/%m/%Y") if self.due_on else "—"
        rows = [
            (("Hồ sơ", "Dossier"), self.code),
            (("Thủ tục", "Procedure"), f"{self.procedure_name} ({self.procedure_code})"),
            (("Cơ quan tiếp nhận", "Receiving agency"), self.agency),
            (("Người nộp", "Applicant"), self.applicant),
            (("Ngày nhận", "Received on"), self.received_on.strftime("%d/%m/%Y")),
            (("Hẹn trả kết quả", "Result due on"), due),
            (("Trạng thái", "Status"), status),
            (("Cập nhật lần cuối", "Last updated"), updated),
        ]
        return "\n".join(f"{label[1] if en else label[0]}: {value}" for label, value in rows)


@dataclass
class Dossier:
    """A dossier as staff record it (holds personal data: show :meth:`public` instead).

    Attributes:
        code: Canonical dossier code.
        procedure_code: Catalogue code of the procedure, e.g. ``1.001193``.
        procedure_name: Its name.
        agency: The receiving agency.
        applicant_name: Full name of the applicant.
        applicant_phone: Phone number of the applicant.
        received_on: Date of receipt.
        due_on: Promised date of the result; ``None`` when there is none.
        status: One of :data:`STORED_STATUSES`.
        updated_at: Last change (naive UTC); set by the store when left ``None``.
    """

    code: str
    procedure_code: str
    procedure_name: str
    agency: str
    applicant_name: str
    applicant_phone: str
    received_on: date
    due_on: date | None
    status: str = RECEIVED
    updated_at: datetime | None = None

    def effective_status(self, today: date) -> str:
        """Returns the status to show on ``today`` (``overdue`` when open and past due)."""
        return effective_status(self.status, self.due_on, today)

    def is_overdue(self, today: date) -> bool:
        """Whether the dossier is open and its due date is before ``today``."""
        return self.effective_status(today) == OVERDUE

    def public(self, today: date, *, verified: bool = True) -> PublicDossier:
        """Returns only what may be shown to whoever has the code.

        Args:
            today: The date in Vietnam (for ``overdue`` and days left).
            verified: Whether the asker gave the second factor (see :mod:`desk.lookups`);
                without it only the bare status is shown (no procedure, agency, applicant
                or dates).
        """
        open_ = self.status not in CLOSED_STATUSES
        status = self.effective_status(today)
        if not verified:
            return PublicDossier(
                code=self.code,
                procedure_code="",
                procedure_name="",
                agency="",
                received_on=None,
                due_on=None,
                status=status,
                recorded_status=self.status,
                updated_at=None,
                applicant="",
                days_left=None,
                verified=False,
            )
        return PublicDossier(
            code=self.code,
            procedure_code=self.procedure_code,
            procedure_name=self.procedure_name,
            agency=self.agency,
            received_on=self.received_on,
            due_on=self.due_on,
            status=status,
            recorded_status=self.status,
            updated_at=self.updated_at or _utcnow(),
            applicant=mask_name(self.applicant_name),
            days_left=(self.due_on - today).days if open_ and self.due_on else None,
        )


def public_view(dossier: Dossier, today: date) -> PublicDossier:
    """Returns ``dossier.public(today)``."""
    return dossier.public(today)


# --- storage -----------------------------------------------------------------------------


class UnknownDossier(LookupError):
    """No dossier has that code."""


@dataclass(frozen=True)
class StatusChange:
    """A dossier moving to another status, seen inside the transaction that writes it.

    Attributes:
        code: The canonical dossier code.
        old_status: The status before (``None`` for a new dossier).
        status: The new status.
        at: When (naive UTC).
        extra: What the caller passed along (e.g. ``urgent`` from a status event).
    """

    code: str
    old_status: str | None
    status: str
    at: datetime
    extra: Mapping[str, Any] = field(default_factory=dict)


StatusHook = Callable[[sa.engine.Connection, StatusChange], None]
"""Runs in the transaction of a status change (e.g. writes the notice outbox); may raise
to roll the change back."""


_metadata = sa.MetaData()
dossiers_table = sa.Table(
    "dossiers",
    _metadata,
    sa.Column("code", sa.String(40), primary_key=True),
    sa.Column("procedure_code", sa.String(32), nullable=False),
    sa.Column("procedure_name", sa.Text, nullable=False),
    sa.Column("agency", sa.Text, nullable=False),
    sa.Column("applicant_name", sa.Text, nullable=False, default=""),
    sa.Column("applicant_phone", sa.String(32), nullable=False, default=""),
    sa.Column("received_on", sa.Date, nullable=False),
    sa.Column("due_on", sa.Date, nullable=True),
    sa.Column("status", sa.String(32), nullable=False, index=True),
    sa.Column("updated_at", sa.DateTime, nullable=False),
)
history_table = sa.Table(
    "dossier_history",
    _metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column(
        "dossier_code",
        sa.String(40),
        sa.ForeignKey("dossiers.code", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    sa.Column("at", sa.DateTime, nullable=False),
    sa.Column("status", sa.String(32), nullable=False),
    sa.Column("note", sa.Text, nullable=False, default=""),
)


def _check_status(status: str) -> None:
    if status not in STORED_STATUSES:
        raise ValueError(
            f"unknown dossier status {status!r}; use one of {', '.join(STORED_STATUSES)} "
            "(overdue is computed from the due date)"
        )


def _row_to_dossier(row: Any) -> Dossier:
    m = row._mapping
    return Dossier(**{c.name: m[c.name] for c in dossiers_table.columns})


class DossierStore(SqlStore):
    """Dossiers and their history in a SQL database.

    Args:
        db: The database (:class:`infra.db.Database`) or its URL.
    """

    what = "dossier"

    def __init__(self, db: Any, hooks: Sequence[StatusHook] = ()) -> None:
        super().__init__(db)
        self.hooks: list[StatusHook] = list(hooks)
        """Called in the same transaction whenever a stored dossier's status changes."""

    def _changed(self, conn: sa.engine.Connection, change: StatusChange) -> None:
        for hook in self.hooks:
            hook(conn, change)

    def add(
        self,
        dossier: Dossier,
        *,
        note: str = "",
        history: Sequence[HistoryEntry] | None = None,
    ) -> Dossier:
        """Adds a dossier or updates the stored one of the same code.

        A new dossier gets a history entry (or ``history`` when given); an update gets one
        when its status changes.

        Args:
            dossier: The dossier; its code is normalised and its status checked.
            note: Note of the history entry written.
            history: The history of a new dossier, oldest first (e.g. for imports and demos).

        Returns:
            The stored dossier.

        Raises:
            ValueError: For an invalid code or status.
        """
        return self.add_many([(dossier, note, history)])[0]

    def add_many(
        self,
        items: Iterable[Dossier | tuple[Dossier, str, Sequence[HistoryEntry] | None]],
    ) -> list[Dossier]:
        """Adds or updates several dossiers in one transaction (see :meth:`add`).

        Args:
            items: Dossiers, or ``(dossier, note, history)`` tuples.

        Returns:
            The stored dossiers, in order.
        """
        prepared: list[tuple[Dossier, str, Sequence[HistoryEntry] | None]] = []
        for item in items:
            dossier, note, history = item if isinstance(item, tuple) else (item, "", None)
            code = normalize_code(dossier.code)
            if code is None:
                raise ValueError(f"invalid dossier code {dossier.code!r} (e.g. {EXAMPLE_CODE})")
            _check_status(dossier.status)
            for entry in history or ():
                _check_status(entry.status)
            stored = Dossier(**{**dossier.__dict__, "code": code})
            stored.updated_at = dossier.updated_at or _utcnow()
            prepared.append((stored, note, history))

        def work(conn: sa.engine.Connection) -> None:
            for dossier, note, history in prepared:
                row = dict(dossier.__dict__)
                old = conn.execute(
                    sa.select(dossiers_table.c.status).where(dossiers_table.c.code == dossier.code)
                ).first()
                if old is None:
                    conn.execute(dossiers_table.insert().values(**row))
                    entries = history or [HistoryEntry(dossier.updated_at, dossier.status, note)]
                else:
                    conn.execute(
                        dossiers_table.update()
                        .where(dossiers_table.c.code == dossier.code)
                        .values(**row)
                    )
                    changed = old[0] != dossier.status
                    entries = (
                        [HistoryEntry(dossier.updated_at, dossier.status, note)] if changed else []
                    )
                    if changed:
                        change = StatusChange(
                            dossier.code, old[0], dossier.status, dossier.updated_at
                        )
                        self._changed(conn, change)
                if entries:
                    conn.execute(
                        history_table.insert(),
                        [
                            {
                                "dossier_code": dossier.code,
                                "at": e.at,
                                "status": e.status,
                                "note": e.note,
                            }
                            for e in entries
                        ],
                    )

        self._run(work, write=True)
        return [d for d, _, _ in prepared]

    upsert = add

    def get(self, code: str) -> Dossier | None:
        """Returns the dossier with ``code`` (any accepted spelling), or ``None``."""
        canonical = normalize_code(code)
        if canonical is None:
            return None
        row = self._run(
            lambda c: c.execute(
                sa.select(dossiers_table).where(dossiers_table.c.code == canonical)
            ).first()
        )
        return _row_to_dossier(row) if row else None

    def history(self, code: str) -> list[HistoryEntry]:
        """Returns a dossier's history, oldest first (empty for an unknown code)."""
        canonical = normalize_code(code) or code
        rows = self._run(
            lambda c: c.execute(
                sa.select(history_table.c.at, history_table.c.status, history_table.c.note)
                .where(history_table.c.dossier_code == canonical)
                .order_by(history_table.c.at, history_table.c.id)
            ).all()
        )
        return [HistoryEntry(at, status, note or "") for at, status, note in rows]

    def set_status(
        self,
        code: str,
        status: str,
        note: str = "",
        *,
        at: datetime | None = None,
        extra: Mapping[str, Any] | None = None,
        also: Callable[[sa.engine.Connection, StatusChange], None] | None = None,
    ) -> Dossier:
        """Moves a dossier to ``status`` and records it in the history.

        The store's :attr:`hooks` run in the same transaction when the status changes
        (a dossier already in ``status`` is left as it is: no history entry, no hook).

        Args:
            code: The dossier code.
            status: One of :data:`STORED_STATUSES`.
            note: What to record with it (e.g. which paper is missing).
            at: When (naive UTC; default now).
            extra: Passed to the hooks in :attr:`StatusChange.extra`.
            also: Runs in the same transaction first, changed or not (e.g. records the id
                of the event that asked for it, so a replay is refused).

        Returns:
            The updated dossier.

        Raises:
            ValueError: For an unknown status (``overdue`` included: it is computed).
            UnknownDossier: When no dossier has that code.
        """
        _check_status(status)
        canonical = normalize_code(code)
        when = at or _utcnow()

        def work(conn: sa.engine.Connection) -> Any:
            old = conn.execute(
                sa.select(dossiers_table.c.status).where(dossiers_table.c.code == canonical)
            ).first()
            if old is None:
                return None
            change = StatusChange(canonical, old[0], status, when, dict(extra or {}))
            if also is not None:
                also(conn, change)
            if old[0] != status:
                conn.execute(
                    dossiers_table.update()
                    .where(dossiers_table.c.code == canonical)
                    .values(status=status, updated_at=when)
                )
                conn.execute(
                    history_table.insert().values(
                        dossier_code=canonical, at=when, status=status, note=note
                    )
                )
                self._changed(conn, change)
            return conn.execute(
                sa.select(dossiers_table).where(dossiers_table.c.code == canonical)
            ).first()

        row = self._run(work, write=True) if canonical else None
        if row is None:
            raise UnknownDossier(f"no dossier with code {code!r}")
        return _row_to_dossier(row)

    def _filter(self, status: str | None, today: date | None) -> list[Any]:
        if status is None:
            return []
        if status == OVERDUE:
            return [
                dossiers_table.c.status.notin_(CLOSED_STATUSES),
                dossiers_table.c.due_on < (today or date.today()),
            ]
        _check_status(status)
        return [dossiers_table.c.status == status]

    def count(self, status: str | None = None, *, today: date | None = None) -> int:
        """Returns how many dossiers are stored (of ``status`` when given, ``overdue`` too)."""
        conditions = self._filter(status, today)
        query = sa.select(sa.func.count()).select_from(dossiers_table).where(*conditions)
        return self._run(lambda c: c.execute(query).scalar()) or 0

    def list(
        self, status: str | None = None, *, today: date | None = None, limit: int | None = None
    ) -> list[Dossier]:
        """Returns dossiers, newest receipt first.

        Args:
            status: A stored status, or ``overdue`` (open and due before ``today``).
            today: The date that decides ``overdue`` (default: the system date).
            limit: At most this many.
        """
        query = (
            sa.select(dossiers_table)
            .where(*self._filter(status, today))
            .order_by(dossiers_table.c.received_on.desc(), dossiers_table.c.code.desc())
            .limit(limit)
        )
        return [_row_to_dossier(r) for r in self._run(lambda c: c.execute(query).all())]
