"""Reading a citizen's message before search: small talk, language wishes, aspects, topic.

Plain rules over folded text, shared by the NLU router (:mod:`nlu.components`) and the
actions; no Rasa in here.

* :func:`split_smalltalk` takes greetings and thanks off the edges of a message, so
  "chào ad, làm hộ chiếu cần gì" is read as the question it carries.
* :func:`requested_language` finds an explicit wish ("please answer in English",
  "nói tiếng Việt đi"); a language merely mentioned ("my Vietnamese wife") is not one.
* :func:`detect_aspects` lists every aspect a message asks, in order, so "what do I
  bring, and is it free?" gets documents and fee together.
* :class:`TopicLexicon` tells whether a message names a procedure topic at all (words
  of procedure names, citizen keywords and glossary terms that are not generic).
* :func:`asks_for_person` separates an explicit wish for a person from a plea for help.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from knowledge.query import ENGLISH_STOPWORDS, VIETNAMESE_STOPWORDS
from knowledge.text import fold

# --- small talk ------------------------------------------------------------------------

_GREETINGS = """xin chao | chao ban | chao ad | chao admin | chao anh | chao chi | chao em |
    chao buoi sang | chao bot | em chao | toi chao | chao ca nha | chao | alo | a lo | hello |
    hello there | hi there | hi | hey there | hey | good morning | good afternoon |
    good evening | greetings | dear | ad oi | admin oi | ban oi | bot oi | shop oi"""
_THANKS = """cam on ban nhieu | cam on ban | cam on nhieu | cam on ad | cam on | camon | cmon |
    thanks a lot | thanks so much | thank you very much | thank you so much | thank you |
    thanks | thank | thx | tks | cheers | great | ok | oke | okay | vang | da vang | da"""
_POLITE = """cho em hoi | cho toi hoi | cho minh hoi | cho chau hoi | em muon hoi | toi muon hoi |
    minh muon hoi | quick question | i have a question | can you help me | could you help me |
    please help | help me | xin hoi | hoi chut | hoi ti"""


def _phrases(spec: str) -> list[list[str]]:
    found = [fold(p).split() for p in spec.split("|")]
    return sorted((p for p in found if p), key=len, reverse=True)


_GREETING_PHRASES = _phrases(_GREETINGS)
_THANKS_PHRASES = _phrases(_THANKS)
_POLITE_PHRASES = _phrases(_POLITE)
_EDGE_FILLERS = set(
    "a ah oi nhe nha nhieu ad admin ban bot em anh chi vay so much very and again but "
    "then well".split()
)


@dataclass
class SmallTalk:
    """What :func:`split_smalltalk` found.

    Attributes:
        greeting: A greeting opened or closed the message.
        thanks: Thanks opened or closed the message.
        rest: The folded words left once those are taken off (may be empty).
    """

    greeting: bool
    thanks: bool
    rest: list[str]


def _strip_front(words: list[str], phrases: list[list[str]]) -> tuple[list[str], bool]:
    hit = False
    changed = True
    while changed and words:
        changed = False
        for phrase in phrases:
            if words[: len(phrase)] == phrase:
                words = words[len(phrase) :]
                hit = changed = True
                break
        while words and words[0] in _EDGE_FILLERS and hit:
            words = words[1:]
    return words, hit


def _strip_back(words: list[str], phrases: list[list[str]]) -> tuple[list[str], bool]:
    reversed_words, hit = _strip_front(words[::-1], [p[::-1] for p in phrases])
    return reversed_words[::-1], hit


def split_smalltalk(text: str) -> SmallTalk:
    """Takes greetings, thanks and "may I ask" off both edges of a message.

    Args:
        text: The citizen's message.

    Returns:
        What was found and the folded words left.
    """
    words = fold(text).split()
    greeting = thanks = False
    for _ in range(3):
        words, g1 = _strip_front(words, _GREETING_PHRASES)
        words, t1 = _strip_front(words, _THANKS_PHRASES)
        words, _p = _strip_front(words, _POLITE_PHRASES)
        words, g2 = _strip_back(words, _GREETING_PHRASES)
        words, t2 = _strip_back(words, _THANKS_PHRASES)
        greeting = greeting or g1 or g2
        thanks = thanks or t1 or t2
        if not (g1 or t1 or _p or g2 or t2):
            break
    return SmallTalk(greeting, thanks, words)


# --- language wishes -------------------------------------------------------------------

_ASK_EN = re.compile(
    r"\b(in|speak|use|reply|respond|answer|write|talk|switch to|change to)\b(\s+\w+){0,3}\s+"
    r"english\b|\benglish\s+(please|pls|plz|only)\b|^english$|^(en|/lang en)$|"
    r"\b(bang|noi|dung|tra loi|chuyen sang|doi sang|viet)\b(\s+\w+){0,2}\s+tieng anh\b|"
    r"\btieng anh\s+(di|nhe|nha|duoc khong|dc ko|duoc ko|duoc k)\b|^tieng anh$"
)
_ASK_VI = re.compile(
    r"\b(in|speak|use|reply|respond|answer|write|talk|switch to|change to)\b(\s+\w+){0,3}\s+"
    r"vietnamese\b|\bvietnamese\s+(please|pls|plz|only)\b|^vietnamese$|^(vi|/lang vi)$|"
    r"\b(bang|noi|dung|tra loi|chuyen sang|doi sang|viet)\b(\s+\w+){0,2}\s+tieng viet\b|"
    r"\btieng viet\s+(di|nhe|nha|duoc khong|dc ko|duoc ko|duoc k)\b|^tieng viet$"
)


def requested_language(text: str) -> str | None:
    """Returns the language a message explicitly asks for, else ``None``.

    "Please answer in English", "english pls", "nói tiếng Việt đi", "trả lời bằng tiếng
    Anh" ask; "I am married to a Vietnamese citizen" does not.
    """
    folded = fold(text)
    en = _ASK_EN.search(folded)
    vi = _ASK_VI.search(folded)
    if en and vi:  # "not in English, in Vietnamese please": the later wish wins
        return "en" if en.start() > vi.start() else "vi"
    return "en" if en else "vi" if vi else None


def without_language_request(text: str) -> str:
    """Returns the folded message with its language wish taken out ("" if nothing is left)."""
    folded = fold(text)
    for pattern in (_ASK_EN, _ASK_VI):
        folded = pattern.sub(" ", folded)
    words = [w for w in folded.split() if w not in ("please", "pls", "plz", "di", "nhe", "nha")]
    return " ".join(words)


# --- aspects ---------------------------------------------------------------------------

_ASPECT_CUES: dict[str, tuple[str, ...]] = {
    "documents": (
        "giay to gi", "giay to nao", "giay to can", "can giay to", "can nhung gi", "can gi",
        "mang gi", "mang theo", "mang nhung gi", "chuan bi gi", "chuan bi nhung", "ho so gom",
        "ho so can", "thanh phan ho so", "can nhung giay", "can co gi", "documents", "document",
        "papers", "paperwork", "what to bring", "bring", "need to prepare", "required documents",
        "what do i need", "giay to",
    ),
    "fee": (
        "le phi", "bao nhieu tien", "het bao nhieu", "mat bao nhieu", "bn tien", "mat tien",
        "ton tien", "ton phi", "mien phi", "phi", "tien", "fee", "fees", "cost", "costs",
        "price", "how much", "free", "charge", "pay",
    ),
    "time": (
        "bao lau", "may ngay", "bao nhieu ngay", "thoi gian", "thoi han", "khi nao co",
        "khi nao xong", "bao gio co", "bao gio xong", "lau khong", "lau ko", "mat bao lau",
        "co xong khong", "xong chua", "may hom", "bao nhieu tuan", "may tuan", "ngay nao co",
        "how long", "how many days", "processing time", "how soon", "when will", "how quickly",
    ),
    "where": (
        "o dau", "cho nao", "noi nao", "nop dau", "lam o dau", "den dau", "co quan nao",
        "where", "which office",
    ),
    "online": (
        "online", "onl", "truc tuyen", "qua mang", "vneid", "dich vu cong", "tren mang",
        "internet", "website",
    ),
    "eligibility": (
        "dieu kien", "ai duoc", "doi tuong", "eligible", "eligibility", "qualify", "who can",
        "am i allowed",
    ),
    "steps": (
        "cac buoc", "trinh tu", "quy trinh", "the nao", "nhu nao", "ra sao", "lam sao",
        "how do i", "how to", "steps", "process",
    ),
    "legal": (
        "can cu phap ly", "can cu", "co so phap ly", "theo quy dinh nao", "quy dinh nao",
        "quy dinh o dau", "van ban nao", "luat nao", "nghi dinh nao", "thong tu nao",
        "theo luat", "legal basis", "which law", "what law", "which laws", "which regulation",
        "what regulation", "which decree", "legal", "regulation", "regulations",
    ),
    "forms": (
        "mau to khai", "to khai mau", "mau don", "bieu mau", "mau so", "mau nao", "to khai",
        "form", "forms", "application form", "template",
    ),
}  # fmt: skip
_WEAK = {"steps"}
"""Aspects whose cues ("thế nào", "how do I") also open any question: counted alone only."""


_CUES_LONGEST_FIRST = sorted(
    ((cue.split(), aspect) for aspect, cues in _ASPECT_CUES.items() for cue in cues),
    key=lambda c: -len(c[0]),
)


def _cue_positions(words: list[str]) -> list[tuple[int, str]]:
    found: list[tuple[int, str]] = []
    taken: set[int] = set()
    for cue, aspect in _CUES_LONGEST_FIRST:
        n = len(cue)
        for i in range(len(words) - n + 1):
            if words[i : i + n] == cue and not taken.intersection(range(i, i + n)):
                found.append((i, aspect))
                taken.update(range(i, i + n))
    return sorted(found)


def detect_aspects(text: str) -> list[str]:
    """Lists the aspects a message asks about, in the order it asks them.

    Args:
        text: The citizen's message (any accents) or its folded words joined by spaces.

    Returns:
        Aspects from :data:`knowledge.answers.ASPECTS` (never ``overview``); "steps"
        only when nothing more specific is asked.
    """
    words = _without_ordinals(fold(text).split())
    ordered = list(dict.fromkeys(aspect for _, aspect in _cue_positions(words)))
    strong = [a for a in ordered if a not in _WEAK]
    return strong or ordered


def _without_ordinals(words: list[str]) -> list[str]:
    """Masks "đầu tiên" (first): folded, its "tiên" is "tiền" (money), a fee cue."""
    return [
        "_" if w == "tien" and i and words[i - 1] in ("dau", "thu") else w
        for i, w in enumerate(words)
    ]


def has_cue(text: str, aspect: str) -> bool:
    """Tells whether a message holds any cue word of ``aspect`` (strong or weak)."""
    words = _without_ordinals(fold(text).split())
    return any(a == aspect for _, a in _cue_positions(words))


# --- people ----------------------------------------------------------------------------

_PERSON = re.compile(
    r"\b(can bo|nhan vien|chuyen vien|nguoi that|nguoi tu van|tu van vien|tong dai|hotline|"
    r"gap nguoi|noi chuyen voi nguoi|so dien thoai|goi dien|human|person|staff|agent|officer|"
    r"operator|real people|someone|somebody|representative|phone number|call)\b"
)


def asks_for_person(text: str) -> bool:
    """Tells whether a message explicitly asks for a member of staff (not just for help)."""
    return bool(_PERSON.search(fold(text)))


# --- topic -----------------------------------------------------------------------------

_SMALLTALK_WORDS = {w for spec in (_GREETINGS, _THANKS, _POLITE) for w in fold(spec).split()}
_ASPECT_WORDS = {w for cues in _ASPECT_CUES.values() for cue in cues for w in cue.split()}
_GENERIC = set(
    fold(
        """thu tuc giay to ho so cap lai doi moi dang ky xac nhan chung nhan nguoi cong dan
        viet nam nuoc ngoai trong tai theo doi voi cua cho ve va hoac cac mot nhung khac
        truong hop thuc hien giai quyet co quan cap tinh xa huyen trung uong ubnd uy ban
        nhan dan so lam xin muon can hoi biet viec mua ban de may chat procedure procedures
        application apply
        certificate certification registration register issue issuance vietnam vietnamese
        form forms new card office paper permit license licence"""
    ).split()
)


GENERIC_TOPIC_WORDS = frozenset(_GENERIC)
"""Words common to so many procedure names that they name none by themselves ("đăng ký",
"cấp lại", "giấy tờ", "certificate")."""


_ASKS_IF_NEEDED = re.compile(
    r"\b(co )?(can|phai|bat buoc|mang|nop|kem|photo|cong chung|chung thuc)\b.*"
    r"\b(khong|ko|k|hong|hok|chua)( (a|ha|nhi|vay|the|nhe|nha))*$|"
    r"\b(do|does|should|must|shall) (i|we|you|he|she|they|my \w+) (need|have|bring|submit|"
    r"include|provide|show)\b|\b(is|are) (a|an|the)? ?\w+ (needed|required|necessary)\b|"
    r"\bneed to (bring|submit|include|provide|show)\b"
)


def asks_if_needed(text: str) -> bool:
    """Tells whether a message asks if something is needed.

    "có cần mang giấy chứng tử không", "do I need to bring my passport?" do.
    """
    return bool(_ASKS_IF_NEEDED.search(fold(text)))


class TopicLexicon:
    """Words that name procedure topics (khai sinh, hộ chiếu, passport, sổ đỏ ...).

    Built from procedure names and keywords (and any extra phrases, such as the citizen
    vocabulary and the English glossary), less particles, aspect and small-talk words,
    and words so common in procedure names that they name nothing by themselves.

    Args:
        texts: Names, keywords and phrases to learn from.
        phrases: Multi-word phrases that name a topic as a whole even when each of their
            words is generic or a particle once folded ("sổ đỏ" folds to "so do").
        max_share: Words found in more than this share of the texts are generic.
        topics: Phrases that name a topic whatever their words are, even particles and
            aspect words once folded ("khai tử" folds to "khai tu": "khai" as in "tờ khai",
            "tu" as in "từ").
    """

    def __init__(
        self,
        texts: Iterable[str],
        phrases: Iterable[str] = (),
        max_share: float = 0.06,
        topics: Iterable[str] = (),
    ) -> None:
        folded = [set(fold(t).split()) for t in texts if t]
        counts = Counter(w for words in folded for w in words)
        limit = max(3, int(max_share * len(folded)))
        skip = (
            _GENERIC
            | _SMALLTALK_WORDS
            | _ASPECT_WORDS
            | {fold(w) for w in VIETNAMESE_STOPWORDS}
            | set(ENGLISH_STOPWORDS)
        )
        self.words = frozenset(
            w
            for w, n in counts.items()
            if n <= limit and w not in skip and len(w) > 1 and not w.isdigit()
        )

        self.phrases = frozenset(
            key
            for key in (tuple(fold(p).split()) for p in phrases)
            if len(key) > 1 and not set(key) <= skip - _GENERIC
        ) | {key for key in (tuple(fold(p).split()) for p in topics) if len(key) > 1}
        self._longest = max((len(p) for p in self.phrases), default=0)

    def __len__(self) -> int:
        return len(self.words) + len(self.phrases)

    def topic_words(self, words: list[str]) -> list[str]:
        """Returns the words (folded) that name a procedure topic, phrases joined by spaces."""
        found = [w for w in words if w in self.words]
        for n in range(2, self._longest + 1):
            for i in range(len(words) - n + 1):
                if tuple(words[i : i + n]) in self.phrases:
                    found.append(" ".join(words[i : i + n]))
        return found

    def names_topic(self, text: str) -> bool:
        """Tells whether ``text`` names a procedure topic."""
        return bool(self.topic_words(fold(text).split()))


_PROGRESS = re.compile(
    r"\b(xong|ket qua|den buoc nao|den dau|xu ly|giai quyet|qua han|tre han|cham|lau (vay|the|qua)|"
    r"han tra|ngay hen|phieu hen|khi nao|bao gio|bao lau nua|tai sao|vi sao|ly do|sao chua|"
    r"when|ready|done|finished|progress|status|due|late|overdue|delayed|why|reason|stage)\b"
)


_SURELY_PROGRESS = re.compile(
    r"\b(bao gio|khi nao|bao lau nua|when)\b.{0,25}\b(xong|co ket qua|tra ket qua|"
    r"done|ready|finished|processed|completed)\b|\bden buoc nao\b|\bden dau roi\b"
)
"""When-will-it-be-done wording, whatever else the message tells ("bao giờ thì xong, tôi
cần gấp để bổ sung hồ sơ vay ngân hàng")."""


def asks_about_progress(text: str, lexicon: TopicLexicon | None = None) -> bool:
    """Tells whether a message asks how a dossier is getting on, naming no procedure.

    "khi nào xong?", "sao lâu vậy", "when will it be ready?" do; "còn hộ chiếu thì sao"
    (a procedure) and "lệ phí bao nhiêu" (no progress word) do not. Meant for the turn
    right after a dossier lookup, where such a question is about that dossier.

    Args:
        text: The message.
        lexicon: The topic lexicon (default: the bundled one).
    """
    folded = fold(text)
    if _SURELY_PROGRESS.search(folded):
        return True
    if not _PROGRESS.search(folded):
        return False
    found = (lexicon or default_lexicon()).topic_words(folded.split())
    return not any(" " in w for w in found) and len(found) <= 2


@lru_cache(maxsize=1)
def default_lexicon() -> TopicLexicon:
    """Returns the topic lexicon of the built-in catalogue and the bundled vocabularies."""
    from knowledge.builtin import load_builtin_catalogue
    from knowledge.vocabulary import citizen_vocabulary, english_glossary

    texts: list[str] = []
    for procedure in load_builtin_catalogue():
        texts.append(procedure.name)
        texts.append(procedure.name_en)
        texts.extend(procedure.keywords)
    phrases = [" ".join(p) for p in citizen_vocabulary().phrases()]
    phrases += [" ".join(p) for p in english_glossary().phrases()]
    topics = [" ".join(p) for p in citizen_vocabulary().bare_topics()]
    return TopicLexicon(texts, phrases, topics=topics)
