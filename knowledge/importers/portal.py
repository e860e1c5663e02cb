"""Importer for the National Public Service Portal export (``procedures.jsonl.gz``).

The portal's pages arrive as one JSON object per procedure with Vietnamese field
names; its tables (channels, documents, legal basis) are flattened into run-on
text with the cells glued together. This module turns one raw record into a
:class:`~knowledge.schema.Procedure` (:func:`parse_record`) and loads a whole
file while collecting, rather than raising, per-record errors
(:func:`load_portal_file`).

Reading the channel table (``cach_thuc_thuc_hien``): after the header, each row is
``<channel><time><fee>[(<fee note>)]<description>``. A row starts where a channel
name (Trực tiếp / Trực tuyến / Dịch vụ bưu chính) is glued to a time cell that is
glued to a fee cell, so a channel named inside a description does not start a row.
The fee cell is ``Miễn phí``, ``Không có thông tin`` or an amount with a currency;
a parenthesised note right after it belongs to the fee and its amounts count.
When the portal omits the unit, the time digits and an amount run together
(``1100 VNĐ``); the time is then the shortest prefix that leaves a well-formed
amount (``1`` and ``100``). When the fee cell is below 1,000 đồng and the note
names that amount in thousands (``100 VNĐ (100.000 đồng/lần)``), the note wins.

``Fee.free`` is ``None`` when nothing is said, ``False`` when an amount is named or
the note names a charge without an amount ("Mức lệ phí ... do Hội đồng nhân dân
tỉnh quyết định"), and ``True`` for ``Miễn phí`` or ``0`` with nothing else.

Documents (``thanh_phan_ho_so``): group headings ("Đối với ...:") are kept as
their own :class:`~knowledge.schema.Document` entries with no counts, in order,
so a reader sees which papers belong to which case.
"""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from knowledge.schema import Channel, Document, Fee, InvalidRecord, Procedure, ProcessingTime
from knowledge.text import normalize

SOURCE = "portal"
NO_INFO = "Không có thông tin"

_CHANNEL_NAMES = {
    "Trực tiếp": "in_person",
    "Trực tuyến": "online",
    "Dịch vụ bưu chính": "post",
}
_UNITS = {
    "ngày làm việc": "working_days",
    "ngày": "days",
    "giờ": "hours",
    "tháng": "months",
    "năm": "years",
}
_LEVELS = {"bộ": "central", "tỉnh": "province", "huyện": "district", "xã": "commune"}

_CHANNEL_HEADER = "Hình thức nộpThời gianPhí, lệ phíMô tả"
_DOCUMENT_HEADER = re.compile(
    r"Tên giấy tờ ?Mẫu đơn, tờ khai ?Số lượng(?: ?Biểu mẫu điện tử ?Kết quả thay thế)?"
)
_LEGAL_HEADER = "Tên văn bản pháp lýMã văn bản"

_LOWER = "a-zàáảãạăằắẳẵặâầấẩẫậđèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵ"
_UPPER = "A-ZÀÁẢÃẠĂẰẮẲẴẶÂẦẤẨẪẬĐÈÉẺẼẸÊỀẾỂỄỆÌÍỈĨỊÒÓỎÕỌÔỒỐỔỖỘƠỜỚỞỠỢÙÚỦŨỤƯỪỨỬỮỰỲÝỶỸỴ"

_CHANNEL_START = re.compile("|".join(map(re.escape, _CHANNEL_NAMES)))
_CURRENCY = r"(?:Việt Nam Đồng|VNĐ|VND|Đồng|USD|EUR)"
_AMOUNT_CELL = rf"(?:[1-9]\d{{0,2}}(?:,\d{{3}})+|\d+) ?{_CURRENCY}"
_FEE_CELL = rf"Miễn phí|{NO_INFO}|{_AMOUNT_CELL}"
_UNIT_WORDS = r"Ngày làm việc|Ngày|Giờ|Tháng|Năm"
# The time cell, tried in this order right after a channel name; each must be followed by a fee.
_ROW_HEADS = (
    re.compile(rf"(?P<time>\d+(?:[.,]\d+)? ?(?:{_UNIT_WORDS}))(?P<fee>{_FEE_CELL})"),
    re.compile(rf"(?P<time>{NO_INFO})(?P<fee>{_FEE_CELL})"),
    re.compile(rf"(?P<time>\d+)(?P<fee>Miễn phí|{NO_INFO})"),
    # Bare time glued to an amount: the shortest time that leaves a well-formed amount.
    re.compile(rf"(?P<time>\d+?)(?P<fee>(?:[1-9]\d{{0,2}}(?:,\d{{3}})*|0) ?{_CURRENCY})"),
    # Free-text time ("Không phải trả kết quả ..."): starts with a capital, no brackets.
    re.compile(rf"(?P<time>[{_UPPER}][^()\n]{{0,250}}?)(?P<fee>Miễn phí|{NO_INFO})"),
)
_TIME_VALUE = re.compile(rf"^(\d+(?:[.,]\d+)?) ?({_UNIT_WORDS})?$")
_CELL_AMOUNT = re.compile(rf"^([\d,]+) ?({_CURRENCY})$")
# A sum of money inside free text: "200.000 đồng", "2,000,000 VNĐ", "8.000.000/lần",
# "15000000/lần Đồng", "20.000Đ/tờ". Numbers glued to '/', '.' or ',' (dates, codes) are skipped.
_MONEY = re.compile(
    r"(?<![\d/.,])(\d{1,3}(?:[.,]\d{3})+|\d+[.,]\d+(?=\s*(?:triệu|nghìn|ngàn))|\d+)"
    r"\s*(triệu|nghìn|ngàn)?\s*"
    r"(?:(?:/[^\s()/]+\s*)?(?:đồng|việt nam đồng|vnđ|vnd|đ)(?![^\W\d_])"
    r"|(?<=\d{3})(?=\s*/\s*[^\W\d_]))",
    re.IGNORECASE,
)
_GROUPED = re.compile(r"^\d{1,3}(?:[.,]\d{3})+$")
_MULTIPLIERS = {"triệu": 1_000_000, "nghìn": 1_000, "ngàn": 1_000}
_NOTHING_NOTE = re.compile(
    r"^[\s(\-–.:]*(?:không|chưa|miễn)\b(?!.*\b(?:mức|theo)\b.*\bphí\b)", re.IGNORECASE
)
_CHARGE = re.compile(
    r"(?<!miễn )(?<!không thu )(?<!miễn thu )\b(?:lệ phí|phí|chi phí|giá dịch vụ|biểu giá"
    r"|khung giá|mức giá|giá kiểm|mức thu)\b|\bdo [^.;]{0,40}(?:nhân dân|chính quyền)[^.;]{0,40}"
    r"quy định|theo quy định của (?:Hội đồng|Ủy ban) nhân dân",
    re.IGNORECASE,
)
_CHARGE_HEADING = re.compile(r"(?<![^\W\d_])(?:Phí|Lệ phí|Phí, lệ phí)\s*:")

_QUANTITY = re.compile(
    r"(\d+) bản chính(?:,(\d+) bản sao)?(?=$|[^\s.,;:)])|(?<![\d.])(\d+) bản sao(?=$|[^\s.,;:)])"
)
_FORM_FILE = re.compile(r"\.(?:docx?|pdf|xlsx?|rtf|odt|zip|rar)$", re.IGNORECASE)
_FORM_START = re.compile(r"(?<=[^\s(])(?=Mẫu|MẪU|Mau|Phụ lục|PHỤ LỤC|Phu luc|PL\d)|(?<=\))(?=\S)")
_LEGAL_CODE = re.compile(
    rf"(?:(?<=(?:19|20)\d\d)|(?<!\d))\d{{1,4}}(?:/\d+)?/[A-ZĐ0-9][A-ZĐ0-9\-]*?(?=\d+/|[{_UPPER}]?[{_LOWER}]|[^A-ZĐ0-9\-]|$)"
)
_RESULT_CODE = re.compile(r"Mã: ?(?:[A-Za-z0-9._\-]*\d)?")
_RESULT_END = re.compile(r"Từ khóa")
_STEP_MARK = re.compile(r"(?=Bước\s*\d+\s*[:.)\-–])")
_LIST_SPLIT = re.compile(r"[;\n]+")


class PortalFileError(ValueError):
    """A line of a portal file that is not a JSON object.

    Attributes:
        line: The 1-based line number (0 for a whole-file problem).
        reason: What is wrong.

    """

    def __init__(self, line: int, reason: str) -> None:
        super().__init__(f"line {line}: {reason}")
        self.line = line
        self.reason = reason


@dataclass
class ImportReport:
    """What :func:`load_portal_file` read.

    Attributes:
        procedures: The records that parsed.
        errors: ``(where, reason)`` pairs; ``where`` is the procedure code or ``"line N"``.

    """

    procedures: list[Procedure] = field(default_factory=list)
    errors: list[tuple[str, str]] = field(default_factory=list)


def iter_portal_file(path: str | Path) -> Iterator[dict[str, Any] | PortalFileError]:
    """Yield the raw records of a portal export, one per line.

    Accepts ``.jsonl``, ``.jsonl.gz`` and a ``.json`` (or ``.json.gz``) file holding a list.
    A line that is not a JSON object is yielded as a :class:`PortalFileError` carrying its
    line number, so the caller can report it and go on.

    Args:
        path: The export file.

    Yields:
        Raw record dicts, or errors for unreadable lines.

    """
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as handle:
        if path.name.removesuffix(".gz").endswith(".json"):
            try:
                data = json.load(handle)
            except json.JSONDecodeError as exc:
                yield PortalFileError(exc.lineno, f"invalid JSON ({exc.msg})")
                return
            items = data if isinstance(data, list) else [data]
            for index, item in enumerate(items, 1):
                yield item if isinstance(item, dict) else PortalFileError(index, "not an object")
            return
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                item = json.loads(line)
            except json.JSONDecodeError as exc:
                yield PortalFileError(number, f"invalid JSON ({exc.msg})")
                continue
            yield item if isinstance(item, dict) else PortalFileError(number, "not a JSON object")


def load_portal_file(path: str | Path, *, progress: bool = False) -> ImportReport:
    """Parse every record of a portal export, collecting errors instead of stopping.

    Args:
        path: The export file (see :func:`iter_portal_file`).
        progress: Show a progress bar (records read) on standard error.

    Returns:
        The parsed procedures and the errors met.

    """
    report = ImportReport()
    items: Iterable[dict[str, Any] | PortalFileError] = iter_portal_file(path)
    if progress:
        from tqdm import tqdm

        items = tqdm(items, desc="importing", unit="record")
    for item in items:
        if isinstance(item, PortalFileError):
            report.errors.append((f"line {item.line}", item.reason))
            continue
        try:
            report.procedures.append(parse_record(item))
        except InvalidRecord as exc:
            report.errors.append((exc.code or "<no code>", exc.reason))
    return report


def parse_record(raw: dict[str, Any]) -> Procedure:
    """Turn one raw portal record into a validated procedure.

    Args:
        raw: One JSON object of the export.

    Returns:
        The procedure, with ``source="portal"``.

    Raises:
        InvalidRecord: When the code or the name is missing, or a field is malformed.

    """
    if not isinstance(raw, dict):
        raise InvalidRecord("", f"expected an object, got {type(raw).__name__}")
    code = normalize(str(raw.get("ma_thu_tuc") or ""))
    name = normalize(str(raw.get("ten_thu_tuc") or ""))
    if not code:
        raise InvalidRecord("", "missing ma_thu_tuc (code)")
    if not name:
        raise InvalidRecord(code, "missing ten_thu_tuc (name)")
    try:
        procedure = Procedure(
            code=code,
            name=name,
            field=_clean(raw.get("linh_vuc")),
            levels=parse_levels(_str(raw.get("cap_thuc_hien"))),
            agencies=parse_agencies(
                _str(raw.get("co_quan_thuc_hien")), _str(raw.get("co_quan_co_tham_quyen"))
            ),
            applicants=split_outside_parens(_str(raw.get("doi_tuong_thuc_hien"))),
            channels=parse_channels(_str(raw.get("cach_thuc_thuc_hien"))),
            documents=parse_documents(_str(raw.get("thanh_phan_ho_so"))),
            steps=parse_steps(_str(raw.get("trinh_tu_thuc_hien"))),
            conditions=parse_paragraphs(_str(raw.get("yeu_cau_dieu_kien"))),
            result=parse_result(_str(raw.get("ket_qua_xu_ly"))),
            legal_basis=parse_legal_basis(_str(raw.get("can_cu_phap_ly"))),
            url=_clean(raw.get("detail_url")),
            source=SOURCE,
        )
    except (TypeError, ValueError, AttributeError) as exc:
        raise InvalidRecord(code, f"malformed field ({exc})") from exc
    # Round-trip through the schema's validation so portal records obey the same rules.
    return Procedure.from_dict(procedure.to_dict())


# --- small text helpers -------------------------------------------------------------------


def _str(value: Any) -> str:
    return "" if value is None else str(value)


def _clean(value: Any) -> str:
    """Normalise a cell and maps "Không có thông tin" to the empty string."""
    text = normalize(_str(value))
    return "" if text.rstrip(".") in (NO_INFO, "Không", "") else text


def split_outside_parens(text: str, separators: str = ",;") -> list[str]:
    """Split ``text`` on separators that are not inside parentheses, dropping duplicates.

    Args:
        text: E.g. ``"Tổ chức (không bao gồm doanh nghiệp, HTX), Công dân Việt Nam"``.
        separators: The characters that separate items.

    Returns:
        The trimmed, NFC items in order, e.g. ``["Tổ chức (không bao gồm doanh nghiệp, HTX)",
        "Công dân Việt Nam"]``.

    """
    items: list[str] = []
    depth = 0
    current: list[str] = []
    for char in normalize(text):
        if char in "([":
            depth += 1
        elif char in ")]":
            depth = max(0, depth - 1)
        if char in separators and depth == 0:
            items.append("".join(current))
            current = []
        else:
            current.append(char)
    items.append("".join(current))
    return _dedupe(_clean(item) for item in items)


def _dedupe(items: Any) -> list[str]:
    seen: set[str] = set()
    result = []
    for item in items:
        key = item.casefold()
        if item and key not in seen:
            seen.add(key)
            result.append(item)
    return result


def _lines(text: str) -> list[str]:
    return [line for line in (normalize(part) for part in text.splitlines()) if line]


# --- simple fields --------------------------------------------------------------------------


def parse_levels(text: str) -> list[str]:
    """Map ``"Cấp bộ, Cấp tỉnh, Cơ quan khác"`` to ``["central", "province", "other"]``."""
    levels = []
    for item in split_outside_parens(text):
        word = item.casefold().removeprefix("cấp ").strip()
        levels.append(_LEVELS.get(word, "other"))
    return _dedupe(levels)


def parse_agencies(*texts: str) -> list[str]:
    """Collect the agencies of several cells, split on ``;`` and line breaks, without repeats.

    Commas are kept because agency names contain them ("Ủy ban nhân dân tỉnh, thành phố ...").
    """
    items: list[str] = []
    for text in texts:
        items.extend(_clean(part) for part in _LIST_SPLIT.split(normalize_lines(text)))
    return _dedupe(items)


def normalize_lines(text: str) -> str:
    """Return ``text`` in NFC with each line's whitespace collapsed and blank lines dropped."""
    return "\n".join(_lines(text))


def parse_steps(text: str) -> list[str]:
    """Split the procedure's course into steps.

    Uses the "Bước N:" markers when there are any (text before the first marker becomes a
    step of its own), otherwise one step per line.

    Args:
        text: The raw ``trinh_tu_thuc_hien``.

    Returns:
        The steps, each normalised to one line.

    """
    if _clean(text) == "":
        return []
    text = normalize_lines(text)
    parts = _STEP_MARK.split(text) if _STEP_MARK.search(text) else text.split("\n")
    return [step for step in (normalize(part) for part in parts) if step]


def parse_paragraphs(text: str) -> str:
    """Normalise free text, keeping line breaks; "Không có thông tin" becomes ``""``."""
    return "" if _clean(text) == "" else normalize_lines(text)


def parse_result(text: str) -> str:
    """Clean ``ket_qua_xu_ly``: drops the "Mã: KQ..." codes and the "Từ khóa ..." tail.

    Several results are joined with ``"; "``.
    """
    text = normalize(text)
    end = _RESULT_END.search(text)
    if end:
        text = text[: end.start()]
    parts = [part.strip(" .;") for part in _RESULT_CODE.split(text)]
    return "; ".join(_dedupe(_clean(part) for part in parts))


def parse_legal_basis(text: str) -> list[str]:
    """Read the flattened legal-basis table into ``"<name> (<number>)"`` items.

    A row is a document name followed, glued, by its number (``68/2013/TT-BCA``); a number
    followed by a space belongs to the name. A year glued to a number ("năm 201102/2011/QH13")
    stays with the name. A name that already ends with its number is not repeated.

    Args:
        text: The raw ``can_cu_phap_ly``.

    Returns:
        One item per legal document, in order.

    """
    text = normalize(text).replace(_LEGAL_HEADER, "")
    items: list[str] = []
    start = 0
    matches = list(_LEGAL_CODE.finditer(text))
    glued_to_next = {m.end() for m in matches} & {m.start() for m in matches}
    for match in matches:
        end = match.end()
        if end < len(text) and (text[end].isspace() or not text[end].isalnum()):
            continue
        if end in glued_to_next:
            continue  # "Nghị định 05/2012/NĐ-CP" + its number: the first copy is the name's.
        name = text[start : match.start()].strip(" ,;")
        number = match.group()
        if not name or name.endswith(number):
            items.append(name or number)
        else:
            items.append(f"{name} ({number})")
        start = end
    rest = text[start:].strip(" ,;")
    if rest and _clean(rest):
        items.append(rest)
    return _dedupe(items)


# --- channels -------------------------------------------------------------------------------


@dataclass
class _RowHead:
    start: int
    end: int
    channel: str
    time: str
    fee: str


def _find_row_heads(text: str) -> list[_RowHead]:
    heads = []
    for match in _CHANNEL_START.finditer(text):
        for pattern in _ROW_HEADS:
            head = pattern.match(text, match.end())
            if head:
                heads.append(
                    _RowHead(
                        match.start(),
                        head.end(),
                        _CHANNEL_NAMES[match.group()],
                        head.group("time"),
                        head.group("fee"),
                    )
                )
                break
    return heads


def parse_channels(text: str) -> list[Channel]:
    """Read the flattened channel table of ``cach_thuc_thuc_hien``.

    Args:
        text: E.g. ``"Hình thức nộpThời gianPhí, lệ phíMô tảTrực tuyến5 Ngày làm việc"
            "70,000 VNĐ(70.000 đồng/Giấy chứng nhận)Trực tiếp1Miễn phí"``.

    Returns:
        One channel per row, in the order given.

    """
    text = normalize(text).replace(_CHANNEL_HEADER, "")
    heads = _find_row_heads(text)
    channels = []
    for index, head in enumerate(heads):
        tail_end = heads[index + 1].start if index + 1 < len(heads) else len(text)
        note, description = split_note(text[head.end : tail_end])
        channels.append(
            Channel(
                channel=head.channel,
                processing_time=parse_time(head.time),
                fee=parse_fee(head.fee, note, description),
                description=_clean(description),
            )
        )
    return channels


def split_note(text: str) -> tuple[str, str]:
    """Split the bracketed fee note off the front of a row's tail.

    Args:
        text: What follows the fee cell, e.g. ``"(70.000 đồng/lần)Nộp tại ..."``.

    Returns:
        ``(note without its outer brackets, description)``; the note is ``""`` when the tail
        does not start with ``(``. An unclosed bracket makes the whole tail the note.

    """
    if not text.startswith("("):
        return "", text
    depth = 0
    for index, char in enumerate(text):
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth == 0:
                return text[1:index].strip(), text[index + 1 :]
    return text[1:].strip(), ""


def parse_time(text: str) -> ProcessingTime:
    """Read a time cell: ``"7 Ngày làm việc"``, ``"02 Giờ"``, ``"1"`` or free text.

    Args:
        text: The cell.

    Returns:
        The value and unit (``None`` when absent) with the cell's text.

    """
    text = normalize(text)
    match = _TIME_VALUE.match(text)
    if not match:
        return ProcessingTime(text="" if text == NO_INFO else text)
    unit = _UNITS[match.group(2).casefold()] if match.group(2) else None
    return ProcessingTime(value=float(match.group(1).replace(",", ".")), unit=unit, text=text)


def parse_amount(number: str) -> int:
    """Read ``"200.000"``, ``"2,000,000"`` or ``"15000000"`` as đồng.

    A group of exactly three digits after a separator marks a thousands separator in either
    convention; anything else (``"1,5"``) is a decimal, rounded down.
    """
    if _GROUPED.match(number):
        return int(re.sub(r"[.,]", "", number))
    return int(float(number.replace(",", ".")))


def money_amounts(text: str) -> list[int]:
    """Find sums in đồng named in free text, in order, without repeats.

    Args:
        text: E.g. ``"Phí : 200.000 Đồng; Lệ phí: 1,5 triệu đồng"``.

    Returns:
        E.g. ``[200000, 1500000]``; zeros (typos such as "0.000đ") are left out.

    """
    amounts: list[int] = []
    for match in _MONEY.finditer(text):
        number, multiplier = match.group(1), match.group(2)
        if multiplier:
            value = int(float(number.replace(",", ".")) * _MULTIPLIERS[multiplier.casefold()])
        else:
            value = parse_amount(number)
        if value and value not in amounts:
            amounts.append(value)
    return amounts


def parse_fee(cell: str, note: str = "", description: str = "") -> Fee:
    """Read a fee cell and its bracketed note.

    Args:
        cell: ``"Miễn phí"``, ``"Không có thông tin"`` or an amount such as
            ``"2,000,000 Việt Nam Đồng"`` or ``"50 USD"``.
        note: The bracketed text after the cell, which may name further amounts.
        description: The row's description; a "Phí :" or "Lệ phí :" heading there names a
            charge even when the cell says "Miễn phí".

    Returns:
        The fee: every đồng amount of the cell and the note, and whether it is free.

    """
    cell = normalize(cell)
    note = normalize(note)
    text = f"{cell} ({note})" if note else cell
    amounts = money_amounts(note)
    named_amount = False
    match = _CELL_AMOUNT.match(cell)
    if match:
        named_amount = True
        value = parse_amount(match.group(1))
        if match.group(2) in ("USD", "EUR"):
            pass
        elif value < 1000 and value * 1000 in amounts:
            pass  # The cell is in thousands; the note gives the full sum.
        elif value in amounts:
            amounts.remove(value)
            amounts.insert(0, value)
        else:
            amounts.insert(0, value)
    if any(amounts) or (named_amount and not amounts and match and match.group(1) != "0"):
        return Fee(amounts_vnd=amounts, free=False, text=text)
    if cell == NO_INFO and not note:
        return Fee(text="")
    if cell == NO_INFO:
        return Fee(free=False if _names_charge(note) else None, text=text)
    charged = _names_charge(note) or bool(_CHARGE_HEADING.search(description))
    return Fee(amounts_vnd=amounts, free=not charged, text=text)


def _names_charge(note: str) -> bool:
    """Tell whether a note without amounts still names a charge to pay."""
    if not note or _NOTHING_NOTE.match(note):
        return False
    return bool(_CHARGE.search(note))


# --- documents ------------------------------------------------------------------------------


def parse_documents(text: str) -> list[Document]:
    """Read the flattened dossier table(s) of ``thanh_phan_ho_so``.

    Each row is ``<name>[<form file>]<N bản chính[,M bản sao]>``. Text before a table header
    ("Tên giấy tờMẫu đơn, tờ khaiSố lượng") that is not a row is a group heading and becomes a
    document entry of its own with no counts.

    Args:
        text: The raw field.

    Returns:
        The documents (and headings) in order.

    """
    text = normalize(text)
    documents: list[Document] = []
    for chunk in _DOCUMENT_HEADER.split(text):
        start = 0
        for match in _QUANTITY.finditer(chunk):
            segment = chunk[start : match.start()]
            start = match.end()
            originals, copies = _counts(match)
            segment, originals = _unglue_count(segment, originals, match)
            name, form = _split_form(segment)
            name = _strip_bullet(name)
            if name:
                documents.append(Document(name, originals, copies, form))
        rest = _strip_bullet(chunk[start:])
        if rest and _clean(rest):
            documents.append(Document(rest))
    return documents


def _counts(match: re.Match[str]) -> tuple[int | None, int | None]:
    if match.group(3) is not None:
        return None, int(match.group(3))
    copies = int(match.group(2)) if match.group(2) is not None else None
    return int(match.group(1)), copies


def _unglue_count(
    segment: str, originals: int | None, match: re.Match[str]
) -> tuple[str, int | None]:
    """Give back to the name the digits a glued count swallowed ("...năm 20231 bản chính")."""
    digits = match.group(1) or match.group(3)
    if originals is None or len(digits) < 3:
        return segment, originals
    return segment + digits[:-1], int(digits[-1])


def _split_form(segment: str) -> tuple[str, str]:
    """Split a glued form file ("...theo mẫuMẫu số 01.docx") off the end of a row's name."""
    segment = segment.strip()
    if not _FORM_FILE.search(segment):
        return segment, ""
    starts = [m.start() for m in _FORM_START.finditer(segment)]
    if not starts:
        return segment, ""
    cut = starts[-1]
    return segment[:cut].strip(), segment[cut:].strip()


def _strip_bullet(text: str) -> str:
    return normalize(text).strip(" -+*•").strip()
