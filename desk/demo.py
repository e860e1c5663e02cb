"""Demo dossiers: a deterministic set of about 30 invented dossiers for trials and tests.

Loaded into an empty store by ``motcua run`` on the embedded default and by
``motcua dossiers seed-demo``; production (``motcua serve``) never loads them unless asked.
Agency codes, names and phone numbers are invented.
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from desk.dossiers import (
    CLOSED_STATUSES,
    DONE,
    IN_PROGRESS,
    NEEDS_MORE_DOCUMENTS,
    RECEIVED,
    RETURNED,
    Dossier,
    DossierStore,
    HistoryEntry,
)

logger = logging.getLogger(__name__)

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
