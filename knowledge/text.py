"""Vietnamese text helpers: Unicode normalisation, accent folding and tokenisation.

Citizens type with and without diacritics ("hộ chiếu", "ho chieu"), so every
lexical comparison happens on *folded* text: lower-cased, diacritics removed,
"đ" turned into "d", punctuation turned into spaces.
"""

from __future__ import annotations

import re
import unicodedata

_WS = re.compile(r"\s+")
_NON_WORD = re.compile(r"[^0-9a-z]+")
_DIACRITIC_CHARS = set("àáảãạăằắẳẵặâầấẩẫậèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵđ")


def normalize(text: str) -> str:
    """Returns ``text`` in NFC with runs of whitespace collapsed to one space.

    Args:
        text: Any text, possibly in decomposed Unicode (NFD) as some portal records are.

    Returns:
        The composed, trimmed text.
    """
    return _WS.sub(" ", unicodedata.normalize("NFC", text or "")).strip()


def strip_accents(text: str) -> str:
    """Removes Vietnamese diacritics but keeps case and punctuation ("Đăng ký" -> "Dang ky")."""
    decomposed = unicodedata.normalize("NFD", text or "")
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return stripped.replace("đ", "d").replace("Đ", "D")


def fold(text: str) -> str:
    """Returns the search form of ``text``: lower case, no diacritics, words split by one space.

    Args:
        text: Any text.

    Returns:
        Folded text, e.g. ``"Cấp lại Căn cước (mất)"`` -> ``"cap lai can cuoc mat"``.
    """
    return _NON_WORD.sub(" ", strip_accents(text).lower()).strip()


def tokens(text: str) -> list[str]:
    """Splits ``text`` into folded syllables."""
    folded = fold(text)
    return folded.split() if folded else []


def has_diacritics(text: str) -> bool:
    """Tells whether ``text`` carries Vietnamese diacritics (a hint that it is Vietnamese)."""
    return any(ch in _DIACRITIC_CHARS for ch in unicodedata.normalize("NFC", text.lower()))
