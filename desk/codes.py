"""Dossier codes of the one-stop system: the format, checks and finding them in text.

A dossier code such as ``000.00.20.H26-251103-0042`` is the receiving agency's code
(``000.00.20.H26``; ``H26`` is Hanoi), the receipt date as ``yymmdd`` and a 4-digit
sequence number. This module only reads the format; it touches no database.
"""

from __future__ import annotations

import re
from datetime import date

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


# --- the second factor -------------------------------------------------------------------

FACTOR_DIGITS = 4
"""How many trailing digits of the applicant's phone unlock a dossier's details."""

_FACTOR_WORDS = (
    r"4|bon|bốn|four|last|the|cuoi|cuối|so|số|chu|chữ|digits?|dien thoai|điện thoại|sđt|sdt|"
    r"phone|number|of|la|là|is|are|my|cua|của|toi|tôi"
)
_FACTOR_ALONE = re.compile(rf"^\W*(?:(?:{_FACTOR_WORDS})\b\W*)*(\d{{4}})\W*$", re.IGNORECASE)
_FACTOR_AFTER_CODE = re.compile(rf"{_CODE_IN_TEXT.pattern}\W{{1,3}}(\d{{4}})(?!\w)")
_FACTOR_AFTER_WORD = re.compile(
    r"(?:số cuối|so cuoi|digits?|sđt|sdt|điện thoại|dien thoai|phone)\D{0,12}?(?<!\d)(\d{4})(?!\d)",
    re.IGNORECASE,
)


def factor_in(text: str | None) -> str | None:
    """Finds the four digits a citizen sent as the second factor.

    Only digits sent as such count: the whole message (``"5678"``, ``"4 số cuối 5678"``),
    right after the dossier code (``"000.00.20.H26-251103-0042 5678"``), or after words
    naming them (``"sđt đuôi 5678"``) — never a year or a number elsewhere in a sentence.

    Args:
        text: The message.

    Returns:
        The four digits, or ``None``.
    """
    if not text:
        return None
    for pattern in (_FACTOR_ALONE, _FACTOR_AFTER_CODE, _FACTOR_AFTER_WORD):
        found = pattern.search(text.strip())
        if found:
            return found.group(found.lastindex or 1)
    return None


def looks_like_factor_only(text: str | None) -> bool:
    """Whether a message is only the four digits (the reply to "send the last 4 digits")."""
    return bool(text and _FACTOR_ALONE.match(text.strip()))
