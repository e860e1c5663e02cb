"""Finding the procedure a citizen asks about.

:class:`ProcedureSearch` fuses three signals:

* **lexical** — BM25 per field (name, aliases, field, body) over accent-folded
  syllables and bigrams, after the question's citizen vocabulary is expanded
  into official wording and English is translated with the domain glossary;
* **dense** — cosine similarity in a FAISS index of sentence embeddings (the
  model is a setting; the packaged default is English-only, so its weight is
  small unless a multilingual model is configured);
* **prior** — procedures citizens actually use (curated ones, local levels).

The result carries a calibrated ``confident`` flag: answer directly when set,
otherwise offer the top candidates to pick from.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from knowledge.builtin import english_names
from knowledge.embeddings import Embedder
from knowledge.index import DenseIndex
from knowledge.lexical import BM25, terms
from knowledge.query import ENGLISH_STOPWORDS, AnalysedQuery, analyse
from knowledge.ranker import CANDIDATE_FEATURES, Ranker, query_vector
from knowledge.schema import Procedure
from knowledge.text import fold, has_diacritics, normalize, tokens
from knowledge.vocabulary import english_gloss

logger = logging.getLogger(__name__)

DOC_TEXT_VERSION = "d2"
"""Bump when :func:`dense_text` changes, so saved vectors are recomputed."""

FIELDS = ("name", "alias", "field", "body")
_NAME_COVERAGE = CANDIDATE_FEATURES.index("name_coverage")
_CURATED = CANDIDATE_FEATURES.index("curated")
_PHRASE = CANDIDATE_FEATURES.index("phrase")
_LEXICAL_RANK = CANDIDATE_FEATURES.index("lexical_rank")
_NAME_RECALL = CANDIDATE_FEATURES.index("name_recall")
_UNASKED = CANDIDATE_FEATURES.index("unasked_qualifiers")
_MISSED = CANDIDATE_FEATURES.index("missed_qualifiers")
_NAME_FILLER = frozenset({"thu", "tuc"})
_CORE_FILLER = _NAME_FILLER | {"cap", "moi", "thanh", "lap"}
"""Words left out of a name's core, the plain act of issuing or founding: "Thu hồi mã số …"
is "Cấp mã số …" plus a qualifier, "Dừng thực hiện … đăng ký hộ kinh doanh" is "Đăng ký
thành lập hộ kinh doanh" plus one."""
_QUALIFIER_PHRASES = (

        "mất", "lại", "đổi", "lưu động", "yếu tố nước ngoài", "dưới 14 tuổi", "trình báo",
        "khôi phục", "gia hạn", "hủy", "thay đổi", "cải chính", "xóa", "tạm thời", "ở nước ngoài",
        "người nước ngoài", "bổ sung", "điều chỉnh", "chấm dứt", "tạm ngừng", "thu hồi",
        "tổ chức", "theo yêu cầu của cơ quan", "nước ngoài", "trước ngày",
        "không xác định được", "dừng thực hiện", "biên giới",
)  # fmt: skip
QUALIFIERS = tuple(fold(q) for q in _QUALIFIER_PHRASES)
"""Words in a procedure's name that make it a special case of another ("cấp lại", "bị mất",
"lưu động", "đối với tổ chức", "theo yêu cầu của cơ quan …"): a candidate whose name has one
the question never asked is less likely."""
_QUALIFIER_WORDS = frozenset(w for q in QUALIFIERS for w in q.split())
QUALIFIER_ASKED_BY = {fold("yếu tố nước ngoài"): fold("nước ngoài")}
"""Qualifiers a question asks with fewer words: "kết hôn với người nước ngoài" asks for the
procedure "… có yếu tố nước ngoài"."""
_QUALIFIER_SETS = tuple(frozenset(QUALIFIER_ASKED_BY.get(q, q).split()) for q in QUALIFIERS)
"""The words that ask each qualifier."""
"""Words of procedure names that name nothing ("Thủ tục đăng ký kết hôn")."""


@dataclass(frozen=True)
class SearchWeights:
    """Tunable weights of the fusion (measured on the dev questions; see README).

    Attributes:
        name: BM25 weight of the official name.
        alias: BM25 weight of English name and curated keywords.
        field: BM25 weight of the area of administration.
        body: BM25 weight of documents, applicants, result and conditions.
        expansion: Weight of terms added by the citizen vocabulary (the citizen's
            own words weigh 1).
        dense_vi: Weight of the dense cosine for Vietnamese questions.
        dense_en: Weight of the dense cosine for English questions.
        curated: Prior for procedures with curated keywords (the ones citizens use most).
        local: Prior for procedures done at commune (ward) or district level, where
            residents go.
        individual: Prior for procedures open to individuals (citizens, foreigners) rather
            than only to businesses, organisations or civil servants.
        coverage: Weight of the share of the question's topic words a candidate accounts
            for (computed for the best ``rerank_depth`` candidates).
        rerank_depth: How many candidates get the coverage feature.
        gap_threshold: Score lead of the first hit over the second needed for confidence.
        min_coverage: Share of topic words the first hit must account for to be confident.
        phrase_match: Bonus (times the similarity) for a question that nearly repeats one
            of a procedure's long keyword phrases, such as a citizen question staff matched
            to it in the console (see :mod:`knowledge.overrides`).
        phrase_similarity: Least Dice similarity of folded words for that bonus.
    """

    name: float = 0.7
    alias: float = 1.0
    field: float = 0.15
    body: float = 0.3
    expansion: float = 0.3
    dense_vi: float = 0.0
    dense_en: float = 0.4
    curated: float = 0.08
    local: float = 0.04
    individual: float = 0.1
    coverage: float = 0.7
    rerank_depth: int = 30
    gap_threshold: float = 0.12
    min_coverage: float = 0.5
    phrase_match: float = 0.5
    phrase_similarity: float = 0.75


@dataclass
class Hit:
    """One candidate procedure.

    Attributes:
        code: Procedure code.
        name: Official name.
        name_en: English name, if known.
        url: Official page.
        score: Fused score (higher is better; about 1 for a clear match).
        lexical: Normalised lexical part.
        dense: Cosine similarity of the dense part (0 without a model).
        coverage: Share of the question's topic words the procedure accounts for.
    """

    code: str
    name: str
    name_en: str
    url: str
    score: float
    lexical: float
    dense: float
    coverage: float = 0.0


@dataclass
class SearchResult:
    """Ranked candidates and whether to trust the first.

    Attributes:
        query: The analysed question.
        hits: Candidates, best first.
        confident: Whether the first hit is clear enough to answer directly.
        confidence: A 0–1 score behind ``confident`` (with the learned ranker, the
            probability that the first hit is right).
        likely: Not confident, but the first hit is probably right: worth answering as a
            best guess with the other candidates offered beside it.
    """

    query: AnalysedQuery
    hits: list[Hit] = field(default_factory=list)
    confident: bool = False
    confidence: float = 0.0
    likely: bool = False

    @property
    def top(self) -> Hit | None:
        """The best hit, if any."""
        return self.hits[0] if self.hits else None

    def to_dict(self) -> dict:
        """Returns a JSON-able summary."""
        return {
            "query": self.query.text,
            "language": self.query.language,
            "confident": self.confident,
            "likely": self.likely,
            "confidence": round(self.confidence, 3),
            "hits": [
                {
                    "code": h.code,
                    "name": h.name,
                    "name_en": h.name_en,
                    "url": h.url,
                    "score": round(h.score, 4),
                    "lexical": round(h.lexical, 4),
                    "dense": round(h.dense, 4),
                    "coverage": round(h.coverage, 3),
                }
                for h in self.hits
            ],
        }


@dataclass
class Candidates:
    """The best candidates of a question with everything the ranking needs.

    Attributes:
        query: The analysed question.
        rows: Catalogue positions of the candidates.
        codes: Their codes.
        fused: The hand-tuned fused score of each.
        lexical: Normalised lexical score of each.
        dense: Dense cosine of each (0 without a model).
        coverage: Share of the question's topic words each accounts for.
        features: One row of :data:`knowledge.ranker.CANDIDATE_FEATURES` per candidate.
        topic_words: How many topic words the question has.
    """

    query: AnalysedQuery
    rows: list[int]
    codes: list[str]
    fused: np.ndarray
    lexical: np.ndarray
    dense: np.ndarray
    coverage: np.ndarray
    features: np.ndarray
    topic_words: int

    def hit(self, search: ProcedureSearch, n: int, score: float) -> Hit:
        """Returns candidate ``n`` as a :class:`Hit` with ``score``."""
        procedure = search.get(self.codes[n])
        assert procedure is not None
        return Hit(
            code=procedure.code,
            name=procedure.name,
            name_en=procedure.name_en,
            url=procedure.url,
            score=score,
            lexical=float(self.lexical[n]),
            dense=float(self.dense[n]),
            coverage=float(self.coverage[n]),
        )


def english_content(text: str) -> str:
    """Returns an English name without its function words.

    Folded Vietnamese shares them ("thẻ" is "the", "cần" is "can", "tổ" is "to"): left in,
    every English name would match Vietnamese questions through them.
    """
    return " ".join(w for w in text.split() if fold(w) not in ENGLISH_STOPWORDS)


def field_texts(procedure: Procedure) -> dict[str, str]:
    """Returns the text of each searchable field of a procedure."""
    body = " . ".join(
        [d.name for d in procedure.documents[:30]]
        + procedure.applicants
        + [procedure.result[:300], procedure.conditions[:300]]
    )
    return {
        "name": procedure.name,
        "alias": " . ".join([english_content(procedure.name_en), *procedure.keywords]),
        "field": procedure.field,
        "body": body,
    }


RESIDENT_FIRST_DEPTH = 5
"""How far down the ranking a procedure open to people is moved above one only
organisations may use, when the question speaks of no organisation."""

_AGE_ASKED = re.compile(
    r"\b(\d{1,3}) ?(?:tuoi|t|years? old|yo|y/o)\b|\baged? (\d{1,3})\b|\b(\d{1,3})-year-old\b"
)
_AGE_UNDER = re.compile(r"\bduoi (\d{1,3}) tuoi\b")
_AGE_FROM = re.compile(r"\btu (?:du )?(\d{1,3}) tuoi\b")


_AGE_RANGE_BEFORE = re.compile(r"\b(?:duoi|tu|du|tren|qua|under|over|below|above)\s*$")


def asked_age(text: str) -> int | None:
    """The age a question states ("con 15 tuổi", "my 10-year-old"), or ``None``.

    A range ("trẻ dưới 6 tuổi", "từ đủ 14 tuổi", "under 14") states no age.
    """
    folded = fold(text)
    for found in _AGE_ASKED.finditer(folded):
        if not _AGE_RANGE_BEFORE.search(folded[: found.start()]):
            return int(next(g for g in found.groups() if g))
    return None


def age_conflict(age: int | None, name: str) -> bool:
    """Tells whether a procedure's name excludes the stated age.

    "Cấp thẻ căn cước cho người dưới 14 tuổi" excludes a child of 15, "… từ đủ 14 tuổi
    trở lên" one of 10.
    """
    if age is None:
        return False
    folded = base_name(name)
    under = _AGE_UNDER.search(folded)
    if under and age >= int(under.group(1)):
        return True
    start = _AGE_FROM.search(folded)
    return bool(start and age < int(start.group(1)))


def has_age_range(name: str) -> bool:
    """Tells whether a procedure's name sets an age range ("… dưới 14 tuổi")."""
    folded = base_name(name)
    return bool(_AGE_UNDER.search(folded) or _AGE_FROM.search(folded))


PHRASE_MIN_WORDS = 5
"""Keyword phrases of at least this many words can earn the near-repeat bonus."""


def phrase_similarity(words: set[str], phrase: frozenset[str]) -> float:
    """How nearly a question repeats a keyword phrase: Dice similarity of the folded words.

    A phrase with words the question lacks ("… ở khu vực biên giới") scores 0: the
    question must hold at least 85% of the phrase's words.
    """
    if not words or not phrase:
        return 0.0
    shared = len(words & phrase)
    if shared < 0.85 * len(phrase):
        return 0.0
    return 2 * shared / (len(words) + len(phrase))


_PARENTHESES = re.compile(r"\([^)]*\)")


def base_name(name: str) -> str:
    """Returns a procedure name without its parentheses (level, channel) for comparison."""
    return fold(_PARENTHESES.sub(" ", name))


_NOT_A_WORD = re.compile(r"[^\w]+")
_SETTLED_ABROAD = re.compile(r"định cư ở nước ngoài")


def _accented_name(name: str) -> str:
    """Returns a name in lower case with its accents, without parentheses and punctuation.

    Qualifiers are matched on it: folded, "đối với" and "đổi" are one word ("doi"). Who
    may apply, listed in a name ("… cá nhân, người Việt Nam định cư ở nước ngoài"), is no
    special case: "ở nước ngoài" there is not a qualifier.
    """
    text = normalize(_PARENTHESES.sub(" ", name)).lower()
    text = _SETTLED_ABROAD.sub(" ", text)
    return " ".join(_NOT_A_WORD.sub(" ", text).split())


_AGENCY = re.compile(
    r" tai (cuc|tong cuc|chi cuc|cong an|bo|so|phong|uy ban|ubnd|co quan|"
    r"cap (tinh|huyen|xa|trung uong))( .*)?$"
)
_IN_VIETNAM = re.compile(r" tai viet nam$")


def variant_name(name: str) -> str:
    """Returns what the variants of one procedure share: the base name less its agency.

    The catalogue lists some procedures once per level in parentheses ("… (cấp tỉnh)") and
    some once per agency in the name ("Cấp thẻ tạm trú cho người nước ngoài tại Cục Quản lý
    xuất nhập cảnh, Bộ Công an" / "… tại Việt Nam tại Công an cấp tỉnh"): either way they are
    one procedure for a citizen, and no rival of each other.
    """
    return _IN_VIETNAM.sub("", _AGENCY.sub("", base_name(name)))


_INDIVIDUALS = ("cong dan", "ca nhan", "nguoi nuoc ngoai", "nguoi viet nam", "ho gia dinh")


def for_individuals(procedure: Procedure) -> bool:
    """Tells whether individuals may apply (or the record does not say who may)."""
    if not procedure.applicants:
        return True
    return any(marker in fold(a) for a in procedure.applicants for marker in _INDIVIDUALS)


_ORGANISATIONS = (
    "to chuc", "doanh nghiep", "cong ty", "hop tac xa", "co quan", "don vi", "chi nhanh",
    "van phong dai dien", "ngan hang",
)  # fmt: skip


_PEOPLE = re.compile(r"\b(nguoi|cong dan|ca nhan|ho gia dinh|than nhan|vo|chong|cha|me|con)\b")


def for_organisations_only(procedure: Procedure) -> bool:
    """Tells whether only organisations may apply (every applicant named is one, no person).

    "Tổ chức; doanh nghiệp" are; "Người thân, chủ nhà hoặc cơ quan, đơn vị nơi người chết
    cư trú" are not.
    """
    if not procedure.applicants or for_individuals(procedure):
        return False
    return all(
        any(m in fold(a) for m in _ORGANISATIONS) and not _PEOPLE.search(fold(a))
        for a in procedure.applicants
    )


_COMPANY = ("doanh nghiep", "cong ty", "hop tac xa", "chi nhanh", "van phong dai dien")
_HOUSEHOLD = ("ho kinh doanh", "ca nhan kinh doanh", "ho gia dinh ca nhan")


def company_fit(query_is_company: bool, name: str) -> float:
    """How a candidate's name fits a question about a company.

    +1 it is a company's procedure, -1 a household business's or a person's ("Tạm ngừng
    kinh doanh … của hộ kinh doanh" for "công ty em muốn tạm ngừng kinh doanh"), 0 otherwise
    or for a question about no company.
    """
    return company_kind(name) if query_is_company else 0.0


def company_kind(name: str) -> float:
    """+1 for a company's procedure, -1 for a household business's or a person's, else 0."""
    folded = f" {base_name(name)} "
    if any(f" {m} " in folded for m in _COMPANY):
        return 1.0
    return -1.0 if any(f" {m} " in folded for m in _HOUSEHOLD) else 0.0


def asks_about_company(query: AnalysedQuery) -> bool:
    """Tells whether a question speaks of a company, cooperative or branch.

    An agency is not one: "nộp ở cơ quan nào" asks where.
    """
    return _mentions(query, _COMPANY)


def asks_about_organisations(query: AnalysedQuery) -> bool:
    """Tells whether a question speaks of an organisation (company, agency, cooperative)."""
    return _mentions(query, _ORGANISATIONS)


def _mentions(query: AnalysedQuery, markers: tuple[str, ...]) -> bool:
    """Tells whether the question or its vocabulary says one of ``markers`` (folded)."""
    texts = [query.words, *(e.tokens for e in query.expansions)]
    return any(f" {m} " in f" {' '.join(t)} " for t in texts for m in markers)


_DRIVE = re.compile(r"\b(bang|tap|phep|hach|thi|giay) lai\b|\blai (xe|tau|may)\b")


def _respelling(query: AnalysedQuery, expansion) -> bool:
    """Tells whether an expansion only spells the citizen's words out.

    "nc ngoai" -> "nuoc ngoai", "vs" -> "voi" do; "mất" -> "cấp lại" adds a meaning.
    """
    span = query.words[expansion.start : expansion.end]
    return len(span) == len(expansion.tokens) and all(
        w[:1] == t[:1] for w, t in zip(span, expansion.tokens, strict=True)
    )


def asked_words(query: AnalysedQuery, text: str, own: bool = False) -> set[str]:
    """The folded words a question asks with, its own and its vocabulary's.

    Folded, "lái" (drive) is "lại" (again), a qualifier: a question with accents asks
    "lại" only when it writes "lại", one without only outside "bằng lái", "lái xe" ….
    With ``own``, a Vietnamese question's vocabulary counts only where it spells the
    citizen's words out: "bố em mất" asks for no "cấp lại".
    """
    expansions = query.expansions
    if own and query.language != "en":
        expansions = [e for e in expansions if _respelling(query, e)]
    asked = set(query.words) | {t for e in expansions for t in e.tokens}
    if "lai" in asked:
        if has_diacritics(text):
            again = re.search(r"\blại\b", normalize(text).lower()) is not None
        else:
            again = _again(fold(text))
        if not again and not any(_again(" ".join(e.tokens)) for e in expansions):
            asked.discard("lai")
    return asked


def _again(folded: str) -> bool:
    return re.search(r"\blai\b", _DRIVE.sub(" ", folded)) is not None


def dense_text(procedure: Procedure, mode: str = "english") -> str:
    """Returns the text embedded for a procedure.

    Args:
        procedure: The procedure.
        mode: ``"english"`` for an English-only model (the packaged default): the English
            name, or else a glossary gloss of the Vietnamese name; ``"bilingual"`` for a
            multilingual or Vietnamese model: the English name and the Vietnamese name.

    Returns:
        One line of text.
    """
    english = (
        procedure.name_en or english_names().get(procedure.code) or english_gloss(procedure.name)
    )
    if mode == "english":
        return english or procedure.name
    return " | ".join(p for p in (english, procedure.name) if p)


def _doc_terms(text: str) -> list[str]:
    # Sentence-like pieces keep bigrams from crossing "." between list items.
    out: list[str] = []
    for piece in text.split(" . "):
        out.extend(terms(tokens(piece)))
    return out


def embedding_key(embedder: Embedder) -> str:
    """Returns the key saved with an index: model, embedded text and its version."""
    return f"{embedder.name}#{embedder.text_mode}-{DOC_TEXT_VERSION}"


def text_for(embedder: Embedder):
    """Returns the function giving the text ``embedder`` embeds for a procedure."""
    mode = embedder.text_mode
    return lambda procedure: dense_text(procedure, mode)


class ProcedureSearch:
    """Hybrid search over the procedure catalogue.

    Args:
        procedures: The catalogue.
        embedder: Embedding model, or ``None`` for lexical search alone.
        dense_index: A FAISS index already in sync with ``procedures`` (built when omitted
            and ``embedder`` is given).
        weights: Fusion weights.
        ranker: Learned reranker and confidence model (:mod:`knowledge.ranker`); without
            one the hand-tuned fusion ranks and decides confidence.
    """

    def __init__(
        self,
        procedures: Sequence[Procedure],
        embedder: Embedder | None = None,
        dense_index: DenseIndex | None = None,
        weights: SearchWeights | None = None,
        ranker: Ranker | None = None,
    ) -> None:
        self.weights = weights or SearchWeights()
        self.ranker = ranker
        self.embedder = embedder
        self._procedures: dict[str, Procedure] = {}
        self._doc_terms: dict[str, dict[str, list[str]]] = {}
        self._doc_words: dict[str, set[str]] = {}
        self._name_words: dict[str, set[str]] = {}
        self._base_words: dict[str, set[str]] = {}
        self._qualifiers: dict[str, list[frozenset[str]]] = {}
        self._variants: dict[str, str] = {}
        self._for_organisations: dict[str, bool] = {}
        self._company_kind: dict[str, float] = {}
        self._core_words: dict[str, frozenset[str]] = {}
        self._phrases: dict[str, list[frozenset[str]]] = {}
        for p in procedures:
            self._add_terms(p)
        if embedder is not None and dense_index is None:
            dense_index = DenseIndex(embedder.dim, embedding_key(embedder))
            dense_index.sync(list(self._procedures.values()), embedder, text_for(embedder))
        self.dense_index = dense_index
        self._rebuild_lexical()

    def __len__(self) -> int:
        return len(self._procedures)

    def __contains__(self, code: str) -> bool:
        return code in self._procedures

    def get(self, code: str) -> Procedure | None:
        """Returns the procedure with ``code`` from the searched catalogue."""
        return self._procedures.get(code)

    def procedures(self) -> list[tuple[str, Procedure]]:
        """Returns ``(code, procedure)`` for every searched procedure."""
        return list(self._procedures.items())

    def words_of(self, code: str) -> set[str]:
        """Returns the folded words of a procedure's name, aliases and field."""
        return self._doc_words.get(code, set())

    def _add_terms(self, procedure: Procedure) -> None:
        self._procedures[procedure.code] = procedure
        texts = field_texts(procedure)
        self._doc_terms[procedure.code] = {f: _doc_terms(t) for f, t in texts.items()}
        self._doc_words[procedure.code] = {
            w for f in ("name", "alias", "field") for w in tokens(texts[f])
        }
        self._name_words[procedure.code] = set(tokens(procedure.name))
        self._base_words[procedure.code] = set(base_name(procedure.name).split()) - _NAME_FILLER
        padded = f" {_accented_name(procedure.name)} "
        self._core_words[procedure.code] = frozenset(
            set(base_name(procedure.name).split()) - _CORE_FILLER - _QUALIFIER_WORDS
        )
        self._qualifiers[procedure.code] = [
            _QUALIFIER_SETS[n] for n, q in enumerate(_QUALIFIER_PHRASES) if f" {q} " in padded
        ]
        self._variants[procedure.code] = variant_name(procedure.name)
        self._for_organisations[procedure.code] = for_organisations_only(procedure)
        self._company_kind[procedure.code] = company_kind(procedure.name)
        phrases = [frozenset(tokens(k)) for k in procedure.keywords]
        self._phrases[procedure.code] = [p for p in phrases if len(p) >= PHRASE_MIN_WORDS]

    def _rebuild_lexical(self, fields: Iterable[str] = FIELDS) -> None:
        """Rebuilds the BM25 indexes of ``fields`` (all when procedures came or went)."""
        codes = list(self._procedures)
        previous = getattr(self, "_bm25", None)
        if previous is None or codes != getattr(self, "_codes", None):
            fields, previous = FIELDS, {}
        self._codes = codes
        self._position = {code: row for row, code in enumerate(self._codes)}
        self._bm25 = {
            **previous,
            **{f: BM25([self._doc_terms[c][f] for c in self._codes]) for f in fields},
        }
        self._prior = np.array(
            [self._prior_of(self._procedures[c]) for c in self._codes], dtype=np.float32
        )

    def _prior_of(self, procedure: Procedure) -> float:
        w = self.weights
        prior = w.curated if procedure.keywords else 0.0
        if {"commune", "district"} & set(procedure.levels):
            prior += w.local
        if for_individuals(procedure):
            prior += w.individual
        return prior

    def _replace_terms(self, procedure: Procedure) -> set[str]:
        """Re-reads one procedure's terms; returns the fields whose terms changed."""
        before = self._doc_terms.get(procedure.code)
        self._add_terms(procedure)
        after = self._doc_terms[procedure.code]
        return {f for f in FIELDS if before is None or before[f] != after[f]}

    def upsert(self, procedure: Procedure) -> None:
        """Adds or replaces one procedure (e.g. after a staff edit), without a full rebuild."""
        fields = self._replace_terms(procedure)
        if self.embedder is not None and self.dense_index is not None:
            vector = self.embedder.encode([dense_text(procedure, self.embedder.text_mode)])
            self.dense_index.upsert([procedure.code], vector, [procedure.content_hash()])
        self._rebuild_lexical(fields)

    def apply(self, changed: Sequence[Procedure], removed: Sequence[str] = ()) -> None:
        """Adds or replaces ``changed`` and drops ``removed``, rebuilding once.

        One lexical rebuild (of the fields whose terms changed; a fee edit changes none,
        an alias only the alias field) and one embedding batch, for an import or edits.
        """
        for code in removed:
            if self._procedures.pop(code, None) is not None:
                self._forget(code)
        fields: set[str] = set()
        for procedure in changed:
            fields |= self._replace_terms(procedure)
        if self.dense_index is not None:
            self.dense_index.remove(list(removed))
            if self.embedder is not None and changed:
                vectors = self.embedder.encode(
                    [dense_text(p, self.embedder.text_mode) for p in changed]
                )
                self.dense_index.upsert(
                    [p.code for p in changed], vectors, [p.content_hash() for p in changed]
                )
        self._rebuild_lexical(fields)

    def _forget(self, code: str) -> None:
        """Drops what :meth:`_add_terms` derived from one procedure."""
        for derived in (
            self._doc_terms,
            self._doc_words,
            self._name_words,
            self._base_words,
            self._qualifiers,
            self._variants,
            self._for_organisations,
            self._company_kind,
            self._core_words,
            self._phrases,
        ):
            derived.pop(code, None)

    def remove(self, code: str) -> bool:
        """Removes one procedure; returns whether it was there."""
        if self._procedures.pop(code, None) is None:
            return False
        self._forget(code)
        if self.dense_index is not None:
            self.dense_index.remove([code])
        self._rebuild_lexical()
        return True

    def _query_weights(self, query: AnalysedQuery) -> dict[str, float]:
        """Weighs query terms: the citizen's own words count fully, expansions less."""
        weights: dict[str, float] = {}
        expansion = 1.0 if query.language == "en" else self.weights.expansion
        for n, segment in enumerate(query.segments):
            weight = 1.0 if n == 0 and query.language == "vi" else expansion
            for term in terms(segment, query.stop):
                weights[term] = max(weights.get(term, 0.0), weight)
        return weights

    def _field_scores(self, query: AnalysedQuery) -> dict[str, np.ndarray]:
        """BM25 of the question in each field (English content words also match aliases)."""
        weights = self._query_weights(query)
        scores = {name: self._bm25[name].scores(weights) for name in ("name", "field", "body")}
        alias_weights = dict(weights)
        for term in terms(query.english, query.stop):
            alias_weights.setdefault(term, 1.0)
        scores["alias"] = self._bm25["alias"].scores(alias_weights)
        return scores

    def _lexical_scores(
        self, query: AnalysedQuery, fields: dict[str, np.ndarray] | None = None
    ) -> np.ndarray:
        w = self.weights
        fields = fields if fields is not None else self._field_scores(query)
        total = np.zeros(len(self._codes), dtype=np.float32)
        for name, weight in (("name", w.name), ("field", w.field), ("body", w.body)):
            total += weight * fields[name]
        total += w.alias * fields["alias"]
        return total

    def _dense_scores(self, query: AnalysedQuery) -> np.ndarray | None:
        weight = self.weights.dense_en if query.language == "en" else self.weights.dense_vi
        if weight <= 0 or self.embedder is None or self.dense_index is None:
            return None
        if len(self.dense_index) == 0:
            return None
        vector = self.embedder.encode([query.text])
        (ranked,) = self.dense_index.search(vector, len(self.dense_index))
        scores = np.zeros(len(self._codes), dtype=np.float32)
        for code, score in ranked:
            row = self._position.get(code)
            if row is not None:
                scores[row] = score
        return scores

    def search(self, text: str, k: int = 5) -> SearchResult:
        """Finds the procedures that best answer ``text``.

        Args:
            text: The citizen's question (Vietnamese with or without accents, or English).
            k: How many candidates to return.

        Returns:
            Ranked hits and the confidence of the first.
        """
        pool = self.candidates(text, max(k, self.weights.rerank_depth))
        if pool is None:
            return SearchResult(analyse(text))
        if self.ranker is not None:
            return self._ranked(pool, k)
        order = sorted(range(len(pool.rows)), key=lambda n: -pool.fused[n])[:k]
        hits = [pool.hit(self, n, float(pool.fused[n])) for n in order]
        confidence = self._confidence(hits)
        return SearchResult(pool.query, hits, confidence >= 0.5, confidence)

    def candidates(self, text: str, depth: int) -> Candidates | None:
        """Scores the catalogue and returns the best ``depth`` candidates with their features.

        Returns:
            The candidates, or ``None`` when nothing in the question matches anything.
        """
        query = analyse(text)
        if not self._codes or not query.segments:
            return None
        fields = self._field_scores(query)
        lexical = self._lexical_scores(query, fields)
        top_lexical = float(lexical.max())
        if top_lexical <= 0:
            return None
        lexical_norm = lexical / top_lexical
        fused = lexical_norm + self._prior
        dense = self._dense_scores(query)
        if dense is not None:
            weight = self.weights.dense_en if query.language == "en" else self.weights.dense_vi
            fused = fused + weight * dense
        fused = np.where(lexical > 0, fused, 0.0)
        pool = [int(i) for i in np.argsort(-fused, kind="stable")[:depth] if fused[i] > 0]
        coverage = np.array(
            [query.coverage(self._doc_words[self._codes[i]]) for i in pool], dtype=np.float32
        )
        fused_pool = fused[pool] + self.weights.coverage * coverage
        words = set(tokens(text))
        phrase = np.zeros(len(pool), dtype=np.float32)
        if len(words) >= PHRASE_MIN_WORDS:
            for n, i in enumerate(pool):
                phrases = self._phrases.get(self._codes[i]) or ()
                best = max((phrase_similarity(words, p) for p in phrases), default=0.0)
                if best >= self.weights.phrase_similarity:
                    phrase[n] = best
                    fused_pool[n] += self.weights.phrase_match * best
        name_coverage = np.array(
            [query.coverage(self._name_words[self._codes[i]]) for i in pool], dtype=np.float32
        )
        maxima = {f: float(v.max()) or 1.0 for f, v in fields.items()}
        lexical_rank = np.argsort(np.argsort(-lexical[pool], kind="stable"), kind="stable")
        asked = asked_words(query, text)
        own = asked_words(query, text, own=True)
        asked_qualifiers = [q for q in _QUALIFIER_SETS if q <= own]
        company = asks_about_company(query)
        features = np.zeros((len(pool), len(CANDIDATE_FEATURES)), dtype=np.float64)
        columns = {name: n for n, name in enumerate(CANDIDATE_FEATURES)}
        for n, i in enumerate(pool):
            procedure = self._procedures[self._codes[i]]
            row = features[n]
            row[columns["fused"]] = fused_pool[n]
            row[columns["lexical"]] = lexical_norm[i]
            for f in FIELDS:
                row[columns[f]] = fields[f][i] / maxima[f]
            row[columns["dense"]] = dense[i] if dense is not None else 0.0
            row[columns["coverage"]] = coverage[n]
            row[columns["name_coverage"]] = name_coverage[n]
            row[columns["phrase"]] = phrase[n]
            row[columns["curated"]] = 1.0 if procedure.keywords else 0.0
            row[columns["local"]] = 1.0 if {"commune", "district"} & set(procedure.levels) else 0.0
            row[columns["individual"]] = 1.0 if for_individuals(procedure) else 0.0
            row[columns["lexical_rank"]] = math.log1p(float(lexical_rank[n]))
            row[columns["name_length"]] = math.log1p(len(self._name_words[self._codes[i]]))
            base = self._base_words[self._codes[i]]
            row[columns["name_recall"]] = len(base & asked) / len(base) if base else 0.0
            qualifiers = self._qualifiers[self._codes[i]]
            row[columns["unasked_qualifiers"]] = sum(
                1 for qualifier in qualifiers if not qualifier <= asked
            )
            row[columns["missed_qualifiers"]] = sum(
                1 for qualifier in asked_qualifiers if qualifier not in qualifiers
            )
            row[columns["company_fit"]] = self._company_kind[procedure.code] if company else 0.0
        return Candidates(
            query=query,
            rows=pool,
            codes=[self._codes[i] for i in pool],
            fused=fused_pool,
            lexical=np.asarray(lexical_norm[pool]),
            dense=np.asarray(dense[pool]) if dense is not None else np.zeros(len(pool)),
            coverage=coverage,
            features=features,
            topic_words=len(query.content),
        )

    def _ranked(self, pool: Candidates, k: int) -> SearchResult:
        assert self.ranker is not None
        scores = self.ranker.score(pool.features)
        order = self.ordered(pool, scores)
        query = self.query_features(pool, scores, order)
        order = self._diversify(order, pool.codes)
        hits = [pool.hit(self, n, float(scores[n])) for n in order[:k]]
        probability = self.ranker.probability(query_vector(query))
        confident = probability >= self.ranker.threshold
        likely = not confident and (
            probability >= self.ranker.likely_threshold or self._only_special_rivals(pool, order)
        )
        return SearchResult(pool.query, hits, confident, probability, likely)

    def _only_special_rivals(self, pool: Candidates, order: list[int], rivals: int = 2) -> bool:
        """Tells whether the first hit's only rivals are special cases the question never asked.

        "passport fee": "Cấp hộ chiếu" leads "Trình báo mất hộ chiếu", "Khôi phục … hộ
        chiếu": a best guess at the general procedure, the special cases offered beside it.
        """
        if not order:
            return False
        top = order[0]
        top_row = pool.features[top]
        if top_row[_UNASKED] or top_row[_MISSED]:
            return False
        seen = {self._variants[pool.codes[top]]}
        checked = 0
        for n in order[1:]:
            variant = self._variants[pool.codes[n]]
            if variant in seen:
                continue
            seen.add(variant)
            row = pool.features[n]
            if not row[_UNASKED] or pool.coverage[n] > pool.coverage[top]:
                return False
            checked += 1
            if checked == rivals:
                return True
        return checked > 0

    def ordered(self, pool: Candidates, scores: np.ndarray, depth: int = 10) -> list[int]:
        """Orders candidates by score, the general procedure before its special cases.

        "Xóa đăng ký thường trú" is "Đăng ký thường trú" plus a qualifier ("xóa"); when
        the question never asked for the qualifier and the general procedure is among the
        best ``depth``, the general one goes first. When the question did ask for one the
        first candidate lacks, the same procedure with it goes first. A procedure only
        organisations may use goes after one open to people unless the question speaks of
        an organisation.
        """
        order = sorted(range(len(pool.rows)), key=lambda n: -scores[n])
        column = CANDIDATE_FEATURES.index("unasked_qualifiers")
        head = order[:depth]
        moved = True
        while moved:
            moved = False
            for i, special in enumerate(head):
                unasked = pool.features[special][column]
                if not unasked:
                    continue
                core = self._core_words[pool.codes[special]]
                for j in range(i + 1, len(head)):
                    general = head[j]
                    if (
                        pool.features[general][column] < unasked
                        and self._core_words[pool.codes[general]] == core
                    ):
                        head.insert(i, head.pop(j))
                        moved = True
                        break
                if moved:
                    break
        missed = CANDIDATE_FEATURES.index("missed_qualifiers")
        top = head[0] if head else None
        if top is not None and pool.features[top][missed]:
            # The question asked a qualifier the first one lacks ("kết hôn với người nước
            # ngoài", "làm lại căn cước"): the same procedure with it goes first.
            core = self._core_words[pool.codes[top]]
            for j in head[1:]:
                if (
                    pool.features[j][missed] < pool.features[top][missed]
                    and pool.features[j][column] <= pool.features[top][column]
                    and core <= self._core_words[pool.codes[j]]
                ):
                    head.remove(j)
                    head.insert(0, j)
                    break
        age = asked_age(pool.query.text)
        if age is not None and head:
            # "làm căn cước cho con 15 tuổi": the procedure for under-14s is excluded, so it
            # goes after every one that fits (and is never the answer or a first choice).
            excluded = [n for n in head if age_conflict(age, self._procedures[pool.codes[n]].name)]
            if len(excluded) < len(head):
                head[:] = [n for n in head if n not in excluded] + excluded
        if head and asks_about_company(pool.query) and not _mentions(pool.query, _HOUSEHOLD):
            # "cty em muốn tạm ngừng kinh doanh": a household business's or a person's
            # procedure goes after the ones a company may use.
            personal = [n for n in head if self._company_kind[pool.codes[n]] < 0]
            if head[0] in personal and len(personal) < len(head):
                head[:] = [n for n in head if n not in personal] + personal
        if not asks_about_organisations(pool.query):
            # A resident asks: a procedure only organisations may use goes after the
            # first one open to people ("… lần đầu đối với tổ chức" after "… đối với hộ gia
            # đình, cá nhân").
            lead = head[:RESIDENT_FIRST_DEPTH]
            open_to_people = [n for n in lead if n not in self._organisations_only(pool)]
            if open_to_people and lead[0] != open_to_people[0]:
                head.remove(open_to_people[0])
                head.insert(0, open_to_people[0])
        return head + order[depth:]

    def _organisations_only(self, pool: Candidates) -> set[int]:
        return {n for n, code in enumerate(pool.codes) if self._for_organisations.get(code, False)}

    def _diversify(self, order: list[int], codes: list[str]) -> list[int]:
        """Puts one variant of each procedure first, the same procedure at other levels after.

        The national catalogue lists many procedures once per level ("... (cấp tỉnh)",
        "... (cấp trung ương)"): offering three variants of one procedure as the three
        choices helps nobody. Of the variants, the one residents deal with (not only at
        central level) leads.
        """
        groups: dict[str, list[int]] = {}
        for n in order:  # in score order, so each group's members are too
            groups.setdefault(self._variants[codes[n]], []).append(n)
        firsts, rest = [], []
        for members in groups.values():  # groups in the order of their best member
            local = [n for n in members if self._procedures[codes[n]].levels != ["central"]]
            lead = local[0] if local else members[0]
            firsts.append(lead)
            rest.extend(n for n in members if n != lead)
        position = {n: i for i, n in enumerate(order)}
        return firsts + sorted(rest, key=lambda n: position[n])

    def query_features(
        self, pool: Candidates, scores: np.ndarray, order: list[int]
    ) -> dict[str, float]:
        """The confidence model's features of a question whose candidates were scored."""
        top = order[0]
        top_variant = self._variants[pool.codes[top]]
        rival_n = next((n for n in order[1:] if self._variants[pool.codes[n]] != top_variant), None)
        rival = scores[rival_n] if rival_n is not None else scores[top] - 3.0
        # A rival that is a special case the question never asked ("Trình báo mất hộ chiếu"
        # for "passport fee") is a weaker one: the lead over the first plain rival.
        plain_n = next(
            (
                n
                for n in order[1:]
                if self._variants[pool.codes[n]] != top_variant
                and pool.features[n][_UNASKED] <= pool.features[top][_UNASKED]
            ),
            None,
        )
        plain = scores[plain_n] if plain_n is not None else scores[top] - 3.0
        shifted = np.exp(np.clip(scores - scores[top], -30, 0))
        second = order[1] if len(order) > 1 else None
        features = pool.features[top]
        return {
            "top_score": float(scores[top]),
            "gap": float(scores[top] - rival),
            "gap_any": float(scores[top] - scores[second]) if second is not None else 3.0,
            "gap_plain": float(scores[top] - plain),
            "top_share": float(1.0 / shifted.sum()),
            "top_coverage": float(pool.coverage[top]),
            "coverage_lead": float(
                pool.coverage[top] - (pool.coverage[rival_n] if rival_n is not None else 0.0)
            ),
            "top_name_coverage": float(features[_NAME_COVERAGE]),
            "top_name_recall": float(features[_NAME_RECALL]),
            "name_recall_lead": float(
                features[_NAME_RECALL]
                - (pool.features[rival_n][_NAME_RECALL] if rival_n is not None else 0.0)
            ),
            "qualifier_lead": float(
                (pool.features[rival_n][_UNASKED] if rival_n is not None else 0.0)
                - features[_UNASKED]
            ),
            "top_curated": float(features[_CURATED]),
            "top_phrase": float(features[_PHRASE]),
            "fusion_agrees": 1.0 if int(np.argmax(pool.fused)) == top else 0.0,
            "top_lexical_rank": float(features[_LEXICAL_RANK]),
            "topic_words": min(pool.topic_words, 10) / 5.0,
            "english": 1.0 if pool.query.language == "en" else 0.0,
            "bias": 1.0,
        }

    def _confidence(self, hits: list[Hit]) -> float:
        """Turns the first hit's coverage and its lead over the second into a 0–1 score.

        Both must pass their calibrated thresholds (``min_coverage``, ``gap_threshold``);
        the score is 0.5 where the weaker of the two sits exactly at its threshold.
        """
        if not hits:
            return 0.0
        w = self.weights
        # The same procedure at another level ("... (cấp tỉnh)" / "(cấp trung ương)") is no
        # rival: the lead that counts is over the first hit with another base name.
        top = variant_name(hits[0].name)
        rival = next((h.score for h in hits[1:] if variant_name(h.name) != top), 0.0)
        gap = hits[0].score - rival
        margin = min(gap - w.gap_threshold, (hits[0].coverage - w.min_coverage) / 2)
        return 1.0 / (1.0 + math.exp(-margin * 25.0))

    def with_ranker(self, ranker: Ranker | None) -> ProcedureSearch:
        """Returns a copy searching the same catalogue with another ranker (or none)."""
        clone = object.__new__(ProcedureSearch)
        clone.__dict__.update(self.__dict__)
        clone.ranker = ranker
        return clone

    def with_weights(self, **changes: float) -> ProcedureSearch:
        """Returns a copy searching the same catalogue with other weights (for tuning)."""
        clone = object.__new__(ProcedureSearch)
        clone.__dict__.update(self.__dict__)
        clone.weights = replace(self.weights, **changes)
        clone._prior = np.array(
            [clone._prior_of(clone._procedures[c]) for c in clone._codes], dtype=np.float32
        )
        return clone
