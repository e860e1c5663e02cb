"""Query analysis: language, citizen vocabulary, English -> Vietnamese terms.

The catalogue is Vietnamese. A question is folded (no accents), its chat
abbreviations and colloquial words are expanded into the official wording, and
an English question is translated term by term with the domain glossary. The
result is a few *segments* of folded syllables: lexical search makes bigrams
inside a segment, never across two.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from knowledge.text import fold, has_diacritics, normalize, vietnamese_accented_words
from knowledge.vocabulary import PhraseTable, citizen_vocabulary, english_glossary

MAX_QUERY_CHARS = 1000
"""Longer questions are cut here: nothing a citizen asks needs more, and it bounds the work."""

ENGLISH_STOPWORDS = frozenset(
    """a about after am an and any are as at be been before being but by can could did do does
    doing for from get got had has have having he her here his how i if in into is it its just
    me more most my need needs new of on or our out over please she should so some than that
    the their them then there these they this those through to too up us want wants was we were
    what when where which while who whom why will with would you your yours i'm im i've ive
    don't dont what's whats how's hows it's there's let lets like also much many long
    take takes does doesn't cannot can't won't would've last next week weeks month months
    year years day days already still now there's way ways one two three""".split()
)
"""English function words and question words (they never name a procedure)."""

VIETNAMESE_STOPWORDS = frozenset(
    """a ad ah ak ạ oi ơi nhe nhé nha vay vậy thi thì la là ma mà gi gì nao nào sao
    khong không ko k hok chua chưa co có duoc được dc đc bao nhieu nhiêu lau lâu dau đâu
    toi tôi minh mình em anh chi chị ban bạn ong ông ba bà cho hoi hỏi muon muốn can cần
    phai phải lam làm nhung những cac các mot một nay này do đó roi rồi voi với va và cua của
    o ở tai tại thu tuc thủ tục giay to giấy tờ ho so hồ sơ xin nguoi người moi mọi mn
    nhu như biet biết giup giúp bi bị di đi ve về len lên luon luôn hay hoac hoặc nen nên
    mat mất tien tiền phi phí le lệ ngay ngày thang tháng xong giờ đã nữa vẫn""".split()
)
"""Particles, pronouns and question words; ``fold`` is applied, so both spellings collapse.

Aspect words (phí, bao lâu, ở đâu ...) are dropped from the *topic* terms because they
tell what is asked about a procedure, not which procedure; bigrams are still formed
over the full question, so "lệ phí trước bạ" keeps its meaning.
"""

ENGLISH_ASPECT_WORDS = frozenset(
    """fee fees cost costs price prices charge charges free pay paid payment documents document
    papers paperwork online internet website portal processing time long quickly soon days
    where office steps process requirements required eligible eligibility conditions""".split()
)
"""English words that tell what is asked, not which procedure: never translated for search
("passport fee" must not find the registration-fee procedures through "lệ phí")."""

_VI_CHANNEL = re.compile(
    r"\b(?:tren|qua) mang\b"
    r"|\b(?:(?:tren|qua|bang) )?(?:(?:cong|trang) )?dich vu cong(?: quoc gia)?"
    r"(?: truc tuyen)?(?: (?:toan trinh|mot phan))?\b"
    r"|\b(?:(?:tren|qua|bang) )?(?:online|truc tuyen)(?: (?:toan trinh|mot phan))?\b"
)
"""How a Vietnamese question asks to apply online ("trên cổng dịch vụ công", "qua mạng",
"online"): an aspect, like "bao lâu", not a topic. Left in, it matches the procedures whose
names carry their channel ("Đăng ký xe tạm thời thực hiện bằng dịch vụ công trực tuyến
toàn trình") instead of the one asked about."""

_VI_STOP = frozenset(fold(w) for w in VIETNAMESE_STOPWORDS)
_EN_STOP = frozenset(ENGLISH_STOPWORDS)


@dataclass
class Expansion:
    """Official wording added for some words of the question.

    Attributes:
        start: Index of the first word it stands for.
        end: Index after the last word it stands for.
        tokens: The folded official wording.
    """

    start: int
    end: int
    tokens: list[str]


@dataclass
class AnalysedQuery:
    """A question prepared for search.

    Attributes:
        text: The question as received (NFC, trimmed, capped).
        language: ``"vi"`` or ``"en"``.
        words: The question's folded words.
        expansions: Official Vietnamese wording found for runs of ``words``.
        stop: Folded words that count in bigrams but not alone.
    """

    text: str
    language: str
    words: list[str] = field(default_factory=list)
    expansions: list[Expansion] = field(default_factory=list)
    stop: frozenset[str] = frozenset()

    @property
    def segments(self) -> list[list[str]]:
        """Syllable runs to match: the question itself (Vietnamese), then each expansion.

        An English question contributes only its translations and the words the
        glossary did not know (those may still be Vietnamese names or codes).
        """
        if self.language == "en":
            covered = {i for e in self.expansions for i in range(e.start, e.end)}
            rest = [w for i, w in enumerate(self.words) if i not in covered and w not in self.stop]
            out = [e.tokens for e in self.expansions]
            return [*out, rest] if rest else out
        return [self.words, *(e.tokens for e in self.expansions)] if self.words else []

    @property
    def english(self) -> list[str]:
        """English content words, matched against English names and keywords."""
        if self.language != "en":
            return []
        return [w for w in self.words if w not in self.stop and len(w) > 1]

    @property
    def content(self) -> list[int]:
        """Indices of the words that carry the topic (not particles or question words).

        Words inside a vocabulary phrase count even when they fold to a particle:
        "bị mất sổ đỏ" folds to "bi mat so do", every word of which is also a particle.
        """
        phrases = {
            i
            for e in self.expansions
            if any(t not in self.stop for t in e.tokens)
            for i in range(e.start, e.end)
        }
        return [
            i
            for i, w in enumerate(self.words)
            if (w not in self.stop and len(w) > 1) or i in phrases
        ]

    def coverage(self, vocabulary: set[str], indices: list[int] | None = None) -> float:
        """Tells how much of the question's topic a document's words account for.

        A content word counts as covered when the document has it, or when an
        expansion standing for it has at least half of its words in the document.

        Args:
            vocabulary: The folded words of a document.
            indices: The words to account for (default: :attr:`content`).

        Returns:
            The covered share of those words, 0–1 (0 when there are none).
        """
        content = self.content if indices is None else indices
        if not content:
            return 0.0
        explained: set[int] = set()
        for e in self.expansions:
            if e.tokens and sum(t in vocabulary for t in e.tokens) * 2 >= len(e.tokens):
                explained.update(range(e.start, e.end))
        covered = sum(1 for i in content if self.words[i] in vocabulary or i in explained)
        return covered / len(content)


def detect_language(text: str, glossary: PhraseTable | None = None) -> str:
    """Tells whether a message is Vietnamese (``"vi"``) or English (``"en"``), by its words.

    Accents alone do not decide: a word with diacritics counts as Vietnamese only when it
    can be a Vietnamese syllable ("hộ", "Nội"), so "café", "résumé" or "Zoë" in an English
    message leave it English. English wins when its words (function words and glossary
    terms) clearly outnumber the Vietnamese ones; Vietnamese typed without accents ("lam
    ho chieu mat bao lau") stays Vietnamese.

    Args:
        text: The message.
        glossary: The English glossary (default: the bundled one).

    Returns:
        ``"vi"`` or ``"en"``.
    """
    words = fold(text).split()
    if not words:
        return "vi"
    glossary = glossary if glossary is not None else english_glossary()
    accented_vi, _foreign = vietnamese_accented_words(text) if has_diacritics(text) else (0, 0)
    english = sum(1 for w in words if w in _EN_STOP or w in glossary)
    vietnamese = sum(1 for w in words if w in _VI_STOP and w not in _EN_STOP)
    if accented_vi:
        # Vietnamese syllables with accents are strong evidence; an English message that
        # names a place ("Hà Nội") or a person still has far more English words.
        return "en" if english >= 3 and english >= 2 * (accented_vi + vietnamese) else "vi"
    return "en" if english > vietnamese and english >= 0.4 * len(words) else "vi"


def analyse(text: str) -> AnalysedQuery:
    """Prepares a citizen's question for lexical search.

    Args:
        text: The question in Vietnamese (any accents) or English.

    Returns:
        The analysed query.
    """
    text = normalize(text)[:MAX_QUERY_CHARS]
    language = detect_language(text)
    folded = fold(text)
    if language == "vi":
        folded = _VI_CHANNEL.sub(" ", folded)
    words = folded.split()
    table = english_glossary() if language == "en" else citizen_vocabulary()
    expansions = [
        Expansion(match.start, match.end, list(target))
        for match in table.matches(words)
        for target in match.targets
        if target
        and not (
            language == "en"
            and all(w in ENGLISH_ASPECT_WORDS for w in words[match.start : match.end])
        )
    ]
    stop = _EN_STOP if language == "en" else _VI_STOP
    return AnalysedQuery(text, language, words, expansions, stop)
