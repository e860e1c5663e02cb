"""Dossiers received at one-stop shops: codes, statuses, storage and a public view.

A dossier code such as ``000.00.20.H26-251103-0042`` is the receiving agency's code
(``000.00.20.H26``; ``H26`` is Hanoi), the receipt date as ``yymmdd`` and a 4-digit
sequence number. Whoever holds the code may see where the dossier stands, so
:meth:`Dossier.public` shows only the procedure, the agency, the dates, the status and
a masked applicant name, never the phone number.

The store uses the same database URL as the catalogue: SQLite by default, PostgreSQL
by URL. Nothing connects until a method is called.
"""

from __future__ import annotations

import logging
import random
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any, TypeVar

import sqlalchemy as sa

from knowledge.db import SqlStore

logger = logging.getLogger(__name__)

T = TypeVar("T")

# --- codes -------------------------------------------------------------------------------

EXAMPLE_CODE = "000.00.20.H26-251103-0042"
"""A well-formed code, for help messages (also the overdue dossier of the demo set)."""

_SEPARATORS = r"[\s.\-_–—‐]"
_CODE_PARTS = re.compile(r"^(\d{3})(\d{2})(\d{2})([A-Z]\d{2})(\d{2})(\d{2})(\d{2})(\d{4})$")
_CODE_IN_TEXT = re.compile(
    rf"(?<!\w)\d{{3}}{_SEPARATORS}{{0,3}}\d{{2}}{_SEPARATORS}{{0,3}}\d{{2}}{_SEPARATORS}{{0,3}}"
    rf"[A-Za-z]\d{{2}}{_SEPARATORS}{{0,3}}\d{{6}}{_SEPARATORS}{{0,3}}\d{{4}}(?!\w)"
)
DOSSIER_CODE_IN_TEXT = _CODE_IN_TEXT
"""Finds dossier codes in free text, in every accepted spelling (before normalisation)."""

CODE_PROBLEMS: dict[str, dict[str, str]] = {
    "vi": {
        "empty": f"Vui lòng gửi mã hồ sơ in trên giấy biên nhận, ví dụ {EXAMPLE_CODE}.",
        "shape": (
            "Mã hồ sơ chưa đúng dạng. Mã gồm mã cơ quan, ngày nhận (yymmdd) và số thứ tự, "
            f"ví dụ {EXAMPLE_CODE}."
        ),
        "date": (
            "Phần ngày nhận trong mã hồ sơ (6 chữ số yymmdd) không phải ngày có thật; "
            f"vui lòng kiểm tra lại giấy biên nhận. Ví dụ: {EXAMPLE_CODE}."
        ),
    },
    "en": {
        "empty": f"Please send the dossier code printed on your receipt, e.g. {EXAMPLE_CODE}.",
        "shape": (
            "That does not look like a dossier code. A code is the agency code, the receipt "
            f"date (yymmdd) and a sequence number, e.g. {EXAMPLE_CODE}."
        ),
        "date": (
            "The receipt date in that code (6 digits, yymmdd) is not a real date; please "
            f"check your receipt. Example: {EXAMPLE_CODE}."
        ),
    },
}
"""What to tell the applicant for each :func:`code_problem`, by language."""


def _compact(text: str) -> str:
    return re.sub(_SEPARATORS, "", text.strip().upper())


def _receipt_date(yy: str, mm: str, dd: str) -> date | None:
    try:
        return date(2000 + int(yy), int(mm), int(dd))
    except ValueError:
        return None


def code_problem(text: str | None) -> str | None:
    """Says what is wrong with a dossier code as typed.

    Args:
        text: The code as the user typed it (any case, spaces or missing dashes allowed).

    Returns:
        ``None`` when :func:`normalize_code` accepts it, otherwise ``"empty"``, ``"shape"``
        or ``"date"`` (a key of :data:`CODE_PROBLEMS`).
    """
    if not text or not text.strip():
        return "empty"
    match = _CODE_PARTS.match(_compact(text))
    if match is None:
        return "shape"
    if _receipt_date(*match.group(5, 6, 7)) is None:
        return "date"
    return None


def normalize_code(text: str | None) -> str | None:
    """Returns the canonical form of a dossier code, or ``None`` when it is not one.

    Accepts lower case, spaces and missing or extra dots and dashes between the parts:
    ``"000.00.20.h26 251103 0042"``, ``"0000020H262511030042"``. The receipt date must be a
    real date.

    Args:
        text: The code as typed.

    Returns:
        ``"000.00.20.H26-251103-0042"``-style code, or ``None``.
    """
    if code_problem(text) is not None:
        return None
    match = _CODE_PARTS.match(_compact(text or ""))
    assert match is not None
    a, b, c, province, yy, mm, dd, seq = match.groups()
    return f"{a}.{b}.{c}.{province}-{yy}{mm}{dd}-{seq}"


def find_code(text: str | None) -> str | None:
    """Finds the first valid dossier code inside a longer message.

    Args:
        text: A message such as ``"hồ sơ 000.00.20.h26 251103 0042 đến đâu rồi?"``.

    Returns:
        The canonical code, or ``None`` when the message holds no valid code.
    """
    if not text:
        return None
    for match in _CODE_IN_TEXT.finditer(text):
        code = normalize_code(match.group(0))
        if code:
            return code
    return None


def code_received_on(code: str) -> date | None:
    """Returns the receipt date written in a dossier code, or ``None`` for an invalid code."""
    canonical = normalize_code(code)
    if canonical is None:
        return None
    yymmdd = canonical.split("-")[1]
    return _receipt_date(yymmdd[:2], yymmdd[2:4], yymmdd[4:])


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
    """

    code: str
    procedure_code: str
    procedure_name: str
    agency: str
    received_on: date
    due_on: date | None
    status: str
    recorded_status: str
    updated_at: datetime
    applicant: str
    days_left: int | None

    def to_dict(self) -> dict[str, Any]:
        """Returns a JSON-ready dict (ISO dates)."""
        return {
            "code": self.code,
            "procedure_code": self.procedure_code,
            "procedure_name": self.procedure_name,
            "agency": self.agency,
            "received_on": self.received_on.isoformat(),
            "due_on": self.due_on.isoformat() if self.due_on else None,
            "status": self.status,
            "recorded_status": self.recorded_status,
            "updated_at": self.updated_at.isoformat(timespec="seconds"),
            "applicant": self.applicant,
            "days_left": self.days_left,
        }

    def text(self, language: str = "vi") -> str:
        """Returns a short plain-text report in ``vi`` or ``en``."""
        en = language == "en"
        status = status_label(self.status, language)
        if self.status == OVERDUE:
            status += f" ({status_label(self.recorded_status, language)})"
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

    def public(self, today: date) -> PublicDossier:
        """Returns only what may be shown to whoever has the code."""
        open_ = self.status not in CLOSED_STATUSES
        return PublicDossier(
            code=self.code,
            procedure_code=self.procedure_code,
            procedure_name=self.procedure_name,
            agency=self.agency,
            received_on=self.received_on,
            due_on=self.due_on,
            status=self.effective_status(today),
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
        url: SQLAlchemy database URL (``sqlite:///var/motcua.db``, ``postgresql://...``).
    """

    metadata = _metadata
    what = "dossier"

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
        self, code: str, status: str, note: str = "", *, at: datetime | None = None
    ) -> Dossier:
        """Moves a dossier to ``status`` and records it in the history.

        Args:
            code: The dossier code.
            status: One of :data:`STORED_STATUSES`.
            note: What to record with it (e.g. which paper is missing).
            at: When (naive UTC; default now).

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
            updated = conn.execute(
                dossiers_table.update()
                .where(dossiers_table.c.code == canonical)
                .values(status=status, updated_at=when)
            )
            if not updated.rowcount:
                return None
            conn.execute(
                history_table.insert().values(
                    dossier_code=canonical, at=when, status=status, note=note
                )
            )
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


# --- demo data ---------------------------------------------------------------------------

DEMO_SEED = 20251103


@dataclass(frozen=True)
class _DemoProcedure:
    code: str
    name: str
    agency: tuple[str, str]
    working_days: int


_SO_TU_PHAP = ("000.00.20.H26", "Sở Tư pháp thành phố Hà Nội")
_XUAT_NHAP_CANH = (
    "000.00.08.H26",
    "Phòng Quản lý xuất nhập cảnh, Công an thành phố Hà Nội",
)
_PHUONG = [
    ("000.25.13.H26", "UBND phường Cầu Giấy, thành phố Hà Nội"),
    ("000.21.11.H26", "UBND phường Ba Đình, thành phố Hà Nội"),
    ("000.22.12.H26", "UBND phường Hoàn Kiếm, thành phố Hà Nội"),
    ("000.23.14.H26", "UBND phường Đống Đa, thành phố Hà Nội"),
]
_CONG_AN_PHUONG = [
    ("000.35.13.H26", "Công an phường Cầu Giấy, thành phố Hà Nội"),
    ("000.36.14.H26", "Công an phường Đống Đa, thành phố Hà Nội"),
]

_DEMO_PROCEDURES = [
    _DemoProcedure("1.001193", "Đăng ký khai sinh", _PHUONG[0], 1),
    _DemoProcedure("1.001193", "Đăng ký khai sinh", _PHUONG[1], 1),
    _DemoProcedure("1.000894", "Đăng ký kết hôn", _PHUONG[2], 1),
    _DemoProcedure("1.004873", "Cấp Giấy xác nhận tình trạng hôn nhân", _PHUONG[3], 3),
    _DemoProcedure("1.001456", "Cấp hộ chiếu phổ thông ở trong nước", _XUAT_NHAP_CANH, 8),
    _DemoProcedure(
        "3.000333",
        "Cấp Phiếu lý lịch tư pháp cho công dân Việt Nam, "
        "người nước ngoài đang cư trú tại Việt Nam",
        _SO_TU_PHAP,
        8,
    ),
    _DemoProcedure("1.004222", "Đăng ký thường trú", _CONG_AN_PHUONG[0], 7),
    _DemoProcedure("1.004194", "Đăng ký tạm trú", _CONG_AN_PHUONG[1], 3),
]

# (status, how many, (newest, oldest) days since receipt); open ones are never late here.
_DEMO_PLAN: list[tuple[str, int, tuple[int, int]]] = [
    (RECEIVED, 5, (0, 1)),
    (IN_PROGRESS, 8, (1, 9)),
    (NEEDS_MORE_DOCUMENTS, 4, (3, 12)),
    (DONE, 8, (5, 40)),
    (RETURNED, 3, (4, 30)),
]
_OVERDUE_PLAN = [(IN_PROGRESS, (14, 25)), (NEEDS_MORE_DOCUMENTS, (20, 30))]

_FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi", "Đỗ", "Ngô", "Dương"]
_MEN = (["Văn", "Đức", "Quang", "Hữu", "Minh"], ["An", "Bình", "Dũng", "Hùng", "Nam", "Quân"])
_WOMEN = (["Thị", "Thu", "Ngọc", "Hồng", "Thanh"], ["Chi", "Hà", "Lan", "Linh", "Mai", "Trang"])

_NOTES = {
    NEEDS_MORE_DOCUMENTS: [
        "Đề nghị bổ sung bản sao giấy chứng nhận kết hôn của cha mẹ.",
        "Đề nghị bổ sung ảnh chân dung đúng quy cách (nền trắng, 4x6).",
        "Tờ khai thiếu chữ ký của người yêu cầu; đề nghị bổ sung.",
        "Đề nghị bổ sung giấy tờ chứng minh chỗ ở hợp pháp.",
    ],
    RETURNED: [
        "Trả lại hồ sơ: không thuộc thẩm quyền giải quyết, hướng dẫn nộp tại cơ quan khác.",
        "Từ chối: người yêu cầu không bổ sung hồ sơ trong thời hạn.",
        "Trả lại hồ sơ theo đề nghị rút hồ sơ của người nộp.",
    ],
    DONE: ["Đã có kết quả, mời công dân đến nhận hoặc nhận qua bưu chính."],
}


def add_working_days(start: date, days: int) -> date:
    """Returns the date ``days`` working days (Monday–Friday) after ``start``.

    Public holidays are not counted out; ``days=0`` returns ``start``.
    """
    current = start
    while days > 0:
        current += timedelta(days=1)
        if current.weekday() < 5:
            days -= 1
    return current


def _demo_dossier(
    rng: random.Random,
    proc: _DemoProcedure,
    received_on: date,
    status: str,
    sequence: int,
    today: date,
) -> tuple[Dossier, str, list[HistoryEntry]]:
    middles, givens = rng.choice((_MEN, _WOMEN))
    name = f"{rng.choice(_FAMILY)} {rng.choice(middles)} {rng.choice(givens)}"
    phone = f"09{rng.choice('0134816')}{rng.randrange(10**7):07d}"
    code = f"{proc.agency[0]}-{received_on:%y%m%d}-{sequence:04d}"
    due_on = add_working_days(received_on, proc.working_days)
    start = datetime.combine(received_on, datetime.min.time()) + timedelta(
        hours=1 + rng.randrange(7), minutes=rng.randrange(60)
    )  # 08:00–15:59 Vietnam time, stored as UTC
    history = [HistoryEntry(start, RECEIVED, "Tiếp nhận hồ sơ tại Bộ phận Một cửa.")]
    last_day = today if status != DONE else min(today, due_on)
    steps = {
        RECEIVED: [],
        IN_PROGRESS: [IN_PROGRESS],
        NEEDS_MORE_DOCUMENTS: [IN_PROGRESS, NEEDS_MORE_DOCUMENTS],
        DONE: [IN_PROGRESS, DONE],
        RETURNED: [IN_PROGRESS, RETURNED],
    }[status]
    span = max((last_day - received_on).days, 0)
    for step in steps:
        if step == IN_PROGRESS:
            day = received_on + timedelta(days=min(1, span))
        elif step == NEEDS_MORE_DOCUMENTS:
            day = received_on + timedelta(days=max(min(1, span), span * 2 // 3))
        else:
            day = last_day
        at = datetime.combine(day, datetime.min.time()) + timedelta(
            hours=1 + rng.randrange(8), minutes=rng.randrange(60)
        )
        at = max(at, history[-1].at + timedelta(minutes=5))
        note = rng.choice(_NOTES[step]) if step in _NOTES else "Chuyển chuyên viên thụ lý."
        history.append(HistoryEntry(at, step, note))
    dossier = Dossier(
        code=code,
        procedure_code=proc.code,
        procedure_name=proc.name,
        agency=proc.agency[1],
        applicant_name=name,
        applicant_phone=phone,
        received_on=received_on,
        due_on=due_on,
        status=status,
        updated_at=history[-1].at,
    )
    return dossier, "", history


def demo_dossiers(today: date) -> list[tuple[Dossier, str, list[HistoryEntry]]]:
    """Returns the deterministic demo set (about 30 dossiers) relative to ``today``.

    It holds :data:`EXAMPLE_CODE` as an overdue dossier in progress, a few dossiers in each
    status, some due within two days and a second overdue one. Agency codes, names and
    phone numbers are invented.
    """
    rng = random.Random(DEMO_SEED)
    items: list[tuple[Dossier, str, list[HistoryEntry]]] = []
    used: set[str] = set()

    def add(status: str, newest: int, oldest: int, proc: _DemoProcedure | None = None) -> None:
        proc = proc or rng.choice(_DEMO_PROCEDURES)
        if status not in CLOSED_STATUSES:
            # received at most as many calendar days ago as it has working days: not late
            oldest = max(newest, min(oldest, proc.working_days))
        received_on = today - timedelta(days=rng.randint(newest, oldest))
        while True:
            item = _demo_dossier(rng, proc, received_on, status, rng.randrange(1, 400), today)
            if item[0].code not in used:
                used.add(item[0].code)
                items.append(item)
                return

    # The documented example: a criminal-record certificate received on 2025-11-03, in progress.
    example_received = date(2025, 11, 3)
    example_due = min(add_working_days(example_received, 8), today - timedelta(days=1))
    example, note, history = _demo_dossier(
        rng, _DEMO_PROCEDURES[5], example_received, IN_PROGRESS, 42, today
    )
    example.applicant_name = "Nguyễn Văn An"
    example.due_on = example_due
    items.append((example, note, history))
    used.add(example.code)

    for status, how_many, (newest, oldest) in _DEMO_PLAN:
        for _ in range(how_many):
            add(status, newest, oldest)
    for status, (newest, oldest) in _OVERDUE_PLAN:
        late = _demo_dossier(
            rng,
            _DEMO_PROCEDURES[3],
            today - timedelta(days=rng.randint(newest, oldest)),
            status,
            rng.randrange(400, 500),
            today,
        )
        used.add(late[0].code)
        items.append(late)
    # Two passports due soon: received so that the due date is 1 and 2 days away.
    for ahead in (1, 2):
        received = today
        while add_working_days(received, 8) > today + timedelta(days=ahead):
            received -= timedelta(days=1)
        days = (today - received).days
        add(IN_PROGRESS, days, days, _DEMO_PROCEDURES[4])
    return items


def seed_demo(store: DossierStore, today: date | None = None) -> int:
    """Loads the demo dossiers into an empty store.

    Args:
        store: The dossier store.
        today: The date the demo is built around (default: the system date).

    Returns:
        How many dossiers were added (0 when the store already had some).
    """
    if store.count():
        return 0
    added = store.add_many(demo_dossiers(today or date.today()))
    logger.info("loaded %d demo dossiers", len(added))
    return len(added)
