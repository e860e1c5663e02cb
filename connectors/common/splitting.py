"""Long replies cut into messages a platform accepts, at line boundaries."""

from __future__ import annotations

from collections.abc import Callable


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units (how Telegram counts: astral characters count twice)."""
    return len(text.encode("utf-16-le")) // 2


def _hard_split(line: str, limit: int, measure: Callable[[str], int]) -> list[str]:
    """Splits one over-long line, at a space in its second half where there is one."""
    parts = []
    while measure(line) > limit:
        cut = limit
        while measure(line[:cut]) > limit:  # characters that count more than one
            cut -= 1
        space = line.rfind(" ", 0, cut)
        if space > cut // 2:
            cut = space + 1
        parts.append(line[:cut])
        line = line[cut:]
    if line:
        parts.append(line)
    return parts


def split_lines(text: str, limit: int, measure: Callable[[str], int] = len) -> list[str]:
    """Splits ``text`` into chunks of at most ``limit`` (by ``measure``) at line boundaries.

    Nothing is lost: joining the chunks with newlines gives ``text`` back, except that
    blank chunks are dropped. A single line longer than ``limit`` is split inside (at a
    space when there is one in its second half; the space stays at the end of its chunk).

    Args:
        text: The reply.
        limit: The platform's limit for one message.
        measure: How the platform counts (``len``, or :func:`utf16_len`).
    """
    chunks: list[str] = []
    current = ""
    for line in text.splitlines(keepends=True):
        if measure(current) + measure(line) <= limit:
            current += line
            continue
        if current.strip():
            chunks.append(current.rstrip("\n"))
        current = ""
        if measure(line) <= limit:
            current = line
            continue
        pieces = _hard_split(line.rstrip("\n"), limit, measure)
        chunks.extend(pieces[:-1])
        current = pieces[-1] if pieces else ""
    if current.strip():
        chunks.append(current.rstrip("\n"))
    return chunks
