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


_VOWELS = "aàáảãạăằắẳẵặâầấẩẫậeèéẻẽẹêềếểễệiìíỉĩịoòóỏõọôồốổỗộơờớởỡợuùúủũụưừứửữựyỳýỷỹỵ"
_SYLLABLE = re.compile(
    rf"^(ngh|ng|nh|ch|gh|gi|kh|ph|qu|th|tr|b|c|d|đ|g|h|k|l|m|n|p|r|s|t|v|x)?"
    rf"[{_VOWELS}]{{1,3}}(ch|ng|nh|c|m|n|p|t)?$"
)


def is_vietnamese_syllable(word: str) -> bool:
    """Tells whether ``word`` can be a Vietnamese syllable ("hộ", "Nội": yes; "café", "naïve": no).

    Checks the shape (initial consonant, one to three vowels, final consonant) and that
    every letter is one Vietnamese uses, so accented loanwords and names (café, résumé,
    Zoë, fiancée) do not count as Vietnamese.
    """
    return bool(_SYLLABLE.match(unicodedata.normalize("NFC", word.lower())))


def vietnamese_accented_words(text: str) -> tuple[int, int]:
    """Counts the words with diacritics in ``text``: ``(Vietnamese syllables, other words)``."""
    vietnamese = other = 0
    for word in re.findall(r"\w+", unicodedata.normalize("NFC", text.lower())):
        if any(ch in _DIACRITIC_CHARS or unicodedata.combining(ch) for ch in word) or any(
            not ch.isascii() for ch in word
        ):
            if is_vietnamese_syllable(word):
                vietnamese += 1
            else:
                other += 1
    return vietnamese, other
