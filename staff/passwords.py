"""The staff password policy: long enough, not common, not guessable from its parts.

A password is refused, with the reason, when it is shorter than :data:`MIN_PASSWORD`
characters; contains the user name; is digits only (dates, phone and ID numbers); uses
fewer than five different characters; is a short part repeated; is a sequence or a
keyboard walk (``abcdef``, ``987654``, ``qwerty``, ``1qaz2wsx``); or is, once folded
(case, diacritics, look-alike digits such as ``P@ssw0rd``), a common password or a common
word, name or place with digits and symbols around it (``Matkhau@2024``,
``Nguyenvananh1990``). The common list is bundled (``staff/data/common-passwords.txt``):
nothing is sent over the network. Long passphrases of unrelated words pass
(``correct horse battery``), as NIST SP 800-63B advises; no mix of character classes is
demanded.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from pathlib import Path

MIN_PASSWORD = 12
MAX_PASSWORD = 1024
MIN_DISTINCT = 5
"""Different characters a password needs (``aaaaaaaaaaaa``, ``121212121212`` have fewer)."""
MIN_CORE = 4
"""Letters a password needs once the digits and symbols around them are taken off."""
COMMON_FILE = Path(__file__).resolve().parent / "data" / "common-passwords.txt"
WALKS = (
    "abcdefghijklmnopqrstuvwxyz",
    "01234567890",
    "qwertyuiop",
    "asdfghjkl",
    "zxcvbnm",
    "qwertzuiop",
    "azertyuiop",
    "1qaz2wsx3edc4rfv5tgb6yhn7ujm8ik9ol0p",
    "qazwsxedcrfvtgbyhnujmikolp",
    "1q2w3e4r5t6y7u8i9o0p",
    "q1w2e3r4t5y6u7i8o9p0",
    "a1b2c3d4e5f6g7h8i9",
    "!@#$%^&*()",
    "`1234567890-=",
)
"""Sequences and keyboard rows; a password cut entirely into pieces of them is a walk."""
LONGEST_WALK = max(map(len, WALKS))
LEET = (str.maketrans("@4310$5!7+8", "aaeiossittb"), str.maketrans("@4310$5!7+8", "aaelosslttb"))
"""Look-alike digits and symbols back to letters (``1`` read as ``i``, then as ``l``)."""
_EDGES = re.compile(r"^[\W\d_]+|[\W\d_]+$")


class WeakPassword(ValueError):
    """A password the policy refuses; the message says why."""


def fold(text: str) -> str:
    """Case, width and diacritics folded away: ``Mật Khẩu`` -> ``mat khau``."""
    text = unicodedata.normalize("NFKC", text).casefold().replace("đ", "d")
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    """The bundled list (folded, one a line; ``#`` lines are comments)."""
    lines = COMMON_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(fold(x.strip()) for x in lines if x.strip() and not x.startswith("#"))


def is_walk(text: str) -> bool:
    """Whether ``text`` is cut entirely into runs (3+ characters) of :data:`WALKS`.

    ``abc123abc123``, ``qwertyuiop``, ``987654321`` and ``1qaz2wsx3edc`` are walks.
    """
    if len(text) < 3:
        return False
    pieces = [w for walk in WALKS for w in (walk, walk[::-1])]
    i = 0
    while i < len(text):
        best = 0
        for length in range(min(len(text) - i, LONGEST_WALK), 2, -1):
            if any(text[i : i + length] in piece for piece in pieces):
                best = length
                break
        if not best:
            return False
        i += best
    return True


def _unit(text: str) -> str:
    """The shortest part that ``text`` repeats (``text`` itself when it repeats none)."""
    for size in range(1, len(text) // 2 + 1):
        if len(text) % size == 0 and text[:size] * (len(text) // size) == text:
            return text[:size]
    return text


def _guessable(core: str) -> bool:
    """Whether a password's core is a common password or word, a walk, or one repeated."""
    common = common_passwords()
    spaced = {core, core.replace(" ", ""), re.sub(r"[\W_]+", "", core)}
    for variant in list(spaced):
        spaced.update(variant.translate(table) for table in LEET)
    for variant in spaced:
        unit = _unit(variant)
        if variant in common or unit in common or is_walk(variant) or is_walk(unit):
            return True
    return False


def password_problem(password: object, username: str = "") -> str | None:
    """Says why ``password`` is refused for ``username``; ``None`` when it is fine."""
    if not isinstance(password, str) or len(password) < MIN_PASSWORD:
        return (
            f"a password has at least {MIN_PASSWORD} characters "
            "(a few unrelated words make a good one)"
        )
    if len(password) > MAX_PASSWORD:
        return f"a password has at most {MAX_PASSWORD} characters"
    folded = fold(password)
    compact = re.sub(r"\s+", "", folded)
    name = fold(username or "").strip()
    parts = [name] if len(name) >= 3 else []
    parts += [p for p in re.split(r"[._-]+", name) if len(p) >= 4]
    if any(p in folded or p in compact for p in parts):
        return "a password must not contain the user name"
    if compact.isdigit():
        return "a password of digits only is easy to guess (dates, phone and ID numbers)"
    if len(set(compact)) < MIN_DISTINCT:
        return f"a password needs at least {MIN_DISTINCT} different characters"
    if not any(c.isalnum() for c in compact):
        return "a password needs letters or digits, not only symbols"
    if _unit(compact) != compact:
        return "a password must not be a short part repeated"
    if is_walk(compact):
        return "a password must not be a sequence or a keyboard row (abcdef, 123456, qwerty)"
    core = _EDGES.sub("", folded).strip()
    if len(re.sub(r"[\W\d_]+", "", core)) < MIN_CORE:
        return "a password must not be mostly digits and symbols around a short word"
    if _guessable(folded) or _guessable(core):
        return (
            "this password is common, or a common word, name or place with digits or "
            "symbols added (like Matkhau@2024); choose a few unrelated words instead"
        )
    return None


def check_password(password: str, username: str = "") -> str:
    """Returns ``password`` when the policy accepts it for ``username``.

    Raises:
        WeakPassword: Saying why it is refused.
    """
    problem = password_problem(password, username)
    if problem:
        raise WeakPassword(problem)
    return password
