"""Domain vocabularies: citizen Vietnamese -> official wording, and English -> Vietnamese.

Both are tab-separated files in ``knowledge/data`` (``phrase<TAB>target | target``).
A :class:`PhraseTable` finds the longest phrases of a folded token list and
returns their targets, which the query analyser adds to the search terms.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from knowledge.text import fold

logger = logging.getLogger(__name__)

VOCAB_VI = "vocab_vi.tsv"
GLOSSARY_EN_VI = "glossary_en_vi.tsv"


@dataclass(frozen=True)
class Match:
    """A phrase found in a token list.

    Attributes:
        start: Index of the first token.
        end: Index after the last token.
        targets: Folded target phrases, each a tuple of tokens.
    """

    start: int
    end: int
    targets: tuple[tuple[str, ...], ...]


class PhraseTable:
    """Longest-match lookup of folded phrases.

    Args:
        entries: ``(phrase, [targets])`` pairs in any case and accents.
    """

    def __init__(self, entries: list[tuple[str, list[str]]]) -> None:
        self._table: dict[tuple[str, ...], tuple[tuple[str, ...], ...]] = {}
        for phrase, targets in entries:
            key = tuple(fold(phrase).split())
            folded = tuple(tuple(fold(x).split()) for x in targets)
            if not key:
                continue
            merged = self._table.get(key, ()) + tuple(t for t in folded)
            self._table[key] = merged
        self.max_len = max((len(k) for k in self._table), default=0)

    def __len__(self) -> int:
        return len(self._table)

    def __contains__(self, phrase: str) -> bool:
        return tuple(fold(phrase).split()) in self._table

    def phrases(self) -> list[tuple[str, ...]]:
        """Returns every folded phrase of the table."""
        return list(self._table)

    def bare_topics(self) -> list[tuple[str, ...]]:
        """Returns the folded phrases listed with nothing to add ("khai tử", "ly hôn").

        The table names them only so that they count as procedure topics, however common
        their words are alone.
        """
        return [key for key, targets in self._table.items() if not any(targets)]

    def matches(self, tokens: list[str]) -> list[Match]:
        """Returns the longest match at each position, left to right.

        Overlapping matches are all kept ("mất bằng lái" holds both "mặt bằng" and
        "bằng lái" once folded: the search cannot know which was meant), but a match
        wholly inside an earlier one is not ("làm sổ đỏ" does not add "sổ đỏ" again).
        """
        found: list[Match] = []
        covered_to = 0
        for i in range(len(tokens)):
            for n in range(min(self.max_len, len(tokens) - i), 0, -1):
                key = tuple(tokens[i : i + n])
                if key in self._table:
                    if i + n > covered_to:
                        found.append(Match(i, i + n, self._table[key]))
                        covered_to = i + n
                    break
        return found


def parse_tsv(text: str, source: str = "") -> list[tuple[str, list[str]]]:
    """Parses ``phrase<TAB>target | target`` lines; ``#`` starts a comment line.

    Args:
        text: File content.
        source: File name, for warnings about malformed lines.

    Returns:
        ``(phrase, targets)`` pairs; a target may be empty (the phrase maps to nothing).
    """
    entries = []
    for lineno, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if "\t" not in line:
            logger.warning("%s:%d: no tab, line skipped", source, lineno)
            continue
        phrase, _, rhs = line.partition("\t")
        targets = [t.strip() for t in rhs.split("|") if t.strip()]
        entries.append((phrase.strip(), targets))
    return entries


def _load(resource: str) -> PhraseTable:
    path = resources.files("knowledge").joinpath("data").joinpath(resource)
    if not path.is_file():
        logger.warning("vocabulary %s is missing; search runs without it", resource)
        return PhraseTable([])
    return PhraseTable(parse_tsv(path.read_text("utf-8"), resource))


@lru_cache(maxsize=1)
def citizen_vocabulary() -> PhraseTable:
    """Returns the bundled Vietnamese citizen-vocabulary table (loaded once)."""
    return _load(VOCAB_VI)


@lru_cache(maxsize=1)
def english_glossary() -> PhraseTable:
    """Returns the bundled English -> Vietnamese glossary (loaded once)."""
    return _load(GLOSSARY_EN_VI)


@lru_cache(maxsize=1)
def vietnamese_glossary() -> PhraseTable:
    """Returns the glossary read backwards: Vietnamese wording -> its first English term."""
    path = resources.files("knowledge").joinpath("data").joinpath(GLOSSARY_EN_VI)
    if not path.is_file():
        return PhraseTable([])
    reverse: dict[str, str] = {}
    for english, targets in parse_tsv(path.read_text("utf-8"), GLOSSARY_EN_VI):
        for target in targets:
            reverse.setdefault(fold(target), english)
    return PhraseTable([(vi, [en]) for vi, en in reverse.items()])


def english_gloss(text: str) -> str:
    """Returns a word-by-word English gloss of Vietnamese text, from the domain glossary.

    The gloss is not a translation ("Cấp lại thẻ căn cước" -> "renew id card"), but it
    lets an English-only embedding model compare an English question with a
    Vietnamese procedure name.
    """
    words = fold(text).split()
    glossed = (" ".join(m.targets[0]) for m in vietnamese_glossary().matches(words) if m.targets)
    return " ".join(dict.fromkeys(glossed))
