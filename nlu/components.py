"""Custom Rasa 3.6 NLU components.

``LanguageDetector`` tags a message with a ``language`` entity (``vi`` or ``en``)
when the language is certain, so the ``language`` slot (mapped ``from_entity``)
follows the citizen. Short or neutral messages ("ok", "1", "👍", button payloads)
get no entity and the slot keeps its value.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import ENTITIES, INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from desk.codes import looks_like_factor_only
from knowledge.query import ENGLISH_STOPWORDS, VIETNAMESE_STOPWORDS, detect_language
from knowledge.text import fold, has_diacritics, vietnamese_accented_words
from knowledge.understanding import (
    asks_for_person,
    default_lexicon,
    detect_aspects,
    requested_language,
    split_smalltalk,
    without_language_request,
)
from knowledge.vocabulary import english_glossary

LANGUAGE_ENTITY = "language"
EXTRACTOR_NAME = "LanguageDetector"
MIN_SURE_WORDS = 2
"""How many telltale words a message without diacritics needs before its language is sure."""
MIN_ENGLISH_WITH_ACCENTS = 3
"""How many English words a message with a few accented words needs to count as English."""

_EXTRA_VIETNAMESE = """chào cảm vâng thôi nhé nha ơi ừ ừm nhỉ thế nào sao vậy đây kia giúp
    với chứ chả giùm dùm hem hông khum bn mn ak nộp đâu khi hạn chót tiếng việt đăng ký
    kết hôn cấp lại đổi tách nhập hộ khẩu chiếu căn cước sinh tử xe đất nhà bằng lái thuế
    kinh doanh công ty bảo hiểm chứng thực bản sao trả kết quả mấy lâu tuần tháng""".split()
_EXTRA_ENGLISH = """hello hi hey thanks thank bye goodbye speak english vietnamese sorry yes yeah
    okay talk human person staff agent officer cost costs fee fees apply online""".split()
_NOT_VIETNAMESE = frozenset({"oke", "thank", "thanks", "the", "a", "ah", "k", "j"})


@lru_cache(maxsize=1)
def _telltale_words() -> tuple[frozenset[str], frozenset[str]]:
    """Returns the folded English and Vietnamese telltale words (built on first use).

    English: function words, a few chat words and the glossary's one-word terms.
    Vietnamese: particles, pronouns, question words and common syllables of the domain,
    less those that are also English words ("do", "to", "me").
    """
    glossary = english_glossary()
    english = {*ENGLISH_STOPWORDS, *_EXTRA_ENGLISH}
    vietnamese = {
        w
        for w in (fold(x) for x in (*VIETNAMESE_STOPWORDS, *_EXTRA_VIETNAMESE))
        if len(w) > 1 and w not in english and w not in glossary and w not in _NOT_VIETNAMESE
    }
    return frozenset(english), frozenset(vietnamese)


def _is_english(word: str, english: frozenset[str], vietnamese: frozenset[str]) -> bool:
    return word not in vietnamese and (word in english or word in english_glossary())


def _language_with_diacritics(text: str) -> str:
    """Vietnamese, unless the accented words are foreign or few in a clearly English message.

    Only accented words that can be Vietnamese syllables count for Vietnamese ("café",
    "résumé", "Zoë", "fiancée" do not); "I'm French and want to marry my Vietnamese
    fiancée" and "how do I register temporary residence in Hà Nội" are English.
    """
    en_words, vi_words = _telltale_words()
    accented, _foreign = vietnamese_accented_words(text)
    english = vietnamese = 0
    for token in text.split():
        if has_diacritics(token):
            continue
        for w in fold(token).split():
            if _is_english(w, en_words, vi_words):
                english += 1
            elif w in vi_words:
                vietnamese += 1
    evidence = accented + vietnamese
    if english >= MIN_ENGLISH_WITH_ACCENTS and english >= 2 * evidence:
        return "en"
    if evidence == 0 and english >= 1:
        return "en"
    return "vi"


def sure_language(text: str | None) -> str | None:
    """Tells the language of a message, but only when it is certain.

    An explicit wish ("please answer in English", "nói tiếng Việt đi") decides. Words
    with Vietnamese diacritics make a message Vietnamese unless they are foreign words
    (café, Zoë) or a few names in a clearly English message. Without them, a language is
    accepted only when at least :data:`MIN_SURE_WORDS` words are telltale
    words of it, they outnumber the other language's, and either
    :func:`knowledge.query.detect_language` agrees or they make up half the message.

    Args:
        text: The user's message.

    Returns:
        ``"vi"``, ``"en"`` or ``None`` when the message does not say (e.g. "ok",
        "1", an emoji or a ``/intent`` payload).
    """
    text = (text or "").strip()
    if not text or text.startswith("/"):
        return None
    wish = requested_language(text)
    if wish is not None:
        return wish
    if has_diacritics(text):
        return _language_with_diacritics(text)
    # Codes and numbers say nothing about the language (and would dilute the shares).
    words = [w for w in fold(text).split() if not any(ch.isdigit() for ch in w)]
    if not words:
        return None
    en_words, vi_words = _telltale_words()
    english = sum(1 for w in words if _is_english(w, en_words, vi_words))
    vietnamese = sum(1 for w in words if w in vi_words)
    language = detect_language(" ".join(words))
    for candidate, mine, theirs in (("en", english, vietnamese), ("vi", vietnamese, english)):
        if (
            mine >= MIN_SURE_WORDS
            and mine > theirs
            and (language == candidate or 2 * mine >= len(words))
        ):
            return candidate
    return None


class _Stateless(GraphComponent):
    """A component with nothing to train or store: created bare, training data untouched."""

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> _Stateless:
        """Creates the component (it has no state and nothing to train).

        Args:
            config: The component's configuration (unused).
            model_storage: Rasa's model storage (unused).
            resource: The component's resource (unused).
            execution_context: The graph's execution context (unused).

        Returns:
            A new component.
        """
        return cls()

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        """Leaves training data as it is.

        Args:
            training_data: The NLU training data.

        Returns:
            The training data unchanged.
        """
        return training_data


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR], is_trainable=False)
class LanguageDetector(_Stateless):
    """Adds a ``language`` entity to messages whose language is certain."""

    def process(self, messages: list[Message]) -> list[Message]:
        """Tags each message whose language is certain.

        Args:
            messages: Parsed user messages.

        Returns:
            The same messages, with a ``language`` entity added where certain.
        """
        for message in messages:
            text = message.get(TEXT) or ""
            language = sure_language(text)
            if language is None:
                continue
            entity = {
                "entity": LANGUAGE_ENTITY,
                "value": language,
                "start": 0,
                "end": len(text),
                "extractor": EXTRACTOR_NAME,
                "confidence": 1.0,
            }
            entities = [e for e in message.get(ENTITIES, []) if e.get("entity") != LANGUAGE_ENTITY]
            message.set(ENTITIES, [*entities, entity], add_to_output=True)
        return messages


ROUTED_FROM = "routed_from"
"""Output key naming the intent the router replaced (for the conversation log and tests)."""

_ASPECT_INTENTS = {
    "documents": "ask_documents",
    "fee": "ask_fee",
    "time": "ask_time",
    "where": "ask_where",
    "online": "ask_online",
    "eligibility": "ask_eligibility",
    "steps": "ask_steps",
}
_SMALLTALK_INTENTS = frozenset(
    {"greet", "thank", "goodbye", "affirm", "deny", "bot_challenge", "nlu_fallback"}
)
_FOLLOW_UP_ASPECTS = frozenset({"legal", "forms"})
"""Aspects the classifier has no intent for: asked alone, they follow up on a procedure."""
OUT_OF_SCOPE_SURE = 0.99
"""An ``out_of_scope`` intent at least this sure stays, even when a topic word appears."""


_DOSSIER_WORDS = re.compile(
    r"\b(ho so|ma ho so|tinh trang|tra cuu|den dau|bien nhan|phieu hen|status|application|"
    r"dossier|receipt|track)\b"
)
_DURATION = re.compile(
    r"\b(\d+|mot|hai|ba|bon|nam|may|vai) (tuan|ngay|thang|hom|buoi)\b|\bbao lau\b|"
    r"\bbao nhieu ngay\b|\bhow long\b|\bhow many (days|weeks)\b"
)
"""A duration asked without any dossier word: the procedure's processing time."""
_FAKE = re.compile(r"\b(giả|giả mạo|hối lộ|chạy án|lách luật)\b", re.IGNORECASE)
"""Forgery and bribery, written with diacritics ("làm bằng đại học giả"): never a procedure."""
_CLEARLY_OUT = re.compile(
    r"\b(lam gia|gia mao|hoi lo|boi tien|chay an|lach luat|co phieu|chung khoan|thoi tiet|"
    r"bong da|xo so|dut lot|lo lot|ne phat|mua bang|phim|du lich|du doan|phan quyet|co nen|"
    r"lai nhieu|code|forge|forged|fake|bribe|tip|speed things up|stock|stocks|weather|lottery|"
    r"invest|crypto|bitcoin|football|movie|restaurant|eat|tiktok|relationship|court case|"
    r"illegally|without the test|meaning of life|exchange rate|toa se|toa an se|xu vu|vu an|"
    r"xu an)\b"
)
_FAKE_FOLDED = re.compile(
    r"\b(bang|giay|so|the|can cuoc|cccd|cmnd|ho chieu|chung chi|giay to|con dau|hoa don|"
    r"diploma|id)( \w+){0,3} gia\b"
)
"""Forgery written without diacritics ("lam can cuoc gia o dau", "bang dai hoc gia")."""
_FOLLOW_INTENTS = frozenset({"follow_dossier", "unfollow_dossier", "list_follows"})
_FOLLOW_WORDS = re.compile(
    r"\b(theo doi|thong bao|nhan tin|nhan cho|bao tin|bao cho|ket qua|ho so|dung|huy|"
    r"follow|following|followed|unfollow|notify|notifications?|updates?|subscribe|"
    r"unsubscribe|alerts?|stop|tell me|message me|dossiers?|applications?)\b"
)
"""Words of following a dossier: without any, a follow intent naming a topic is a question."""

OUT_OF_SCOPE_TOPIC_WORDS = 3
"""Topic words (or phrases) that make a sure ``out_of_scope`` asking an aspect a procedure
question after all ("làm sổ hồng chung cư mua của chủ đầu tư cần gì")."""


def route_intent(
    text: str, intent: str, confidence: float, lexicon=None, has_dossier_code: bool = False
) -> str | None:
    """Decides whether a message is really a procedure question the classifier missed.

    A message that names a procedure topic (or, after small talk, asks an aspect such
    as "and online?") is a procedure question unless it explicitly asks for a person,
    is confidently outside public services, or is about a dossier.

    Args:
        text: The message.
        intent: The intent the classifier chose (after the fallback classifier).
        confidence: Its confidence.
        lexicon: A :class:`knowledge.understanding.TopicLexicon` (default: the bundled one).
        has_dossier_code: The message holds a dossier code (it stays a dossier question).

    Returns:
        The ``ask_*`` intent to use instead (``dossier_status`` for a message that is only
        the last digits of a phone number), or ``None`` to keep the classifier's.
    """
    if not text or text.startswith("/"):
        return None
    if looks_like_factor_only(text):  # "4 số cuối 5678": the second factor of a lookup
        return None if intent == "dossier_status" else "dossier_status"
    if intent.startswith("ask_"):
        return None
    if asks_for_person(text) and not detect_aspects(text):
        # "chưa có kết quả, cho tôi gặp cán bộ": an explicit wish for a person, nothing asked
        return None if intent == "request_human" else "request_human"
    if intent in ("choose_procedure", "feedback") or has_dossier_code:
        return None
    folded = fold(text)
    if intent == "dossier_status" and _DOSSIER_WORDS.search(folded):
        return None  # "where is my application?" without a code: the dossier action asks for it
    if intent == "dossier_status" and _DURATION.search(folded):
        return "ask_time"  # "1 tuần có xong không?": how long the procedure takes
    lexicon = lexicon or default_lexicon()
    if intent == "change_language":
        rest = without_language_request(text)
    else:
        rest = " ".join(split_smalltalk(text).rest)
    if not rest:
        return None
    found = lexicon.topic_words(rest.split())
    aspects = detect_aspects(rest)
    # Replies that are rarely questions ("yes", "no", "bye", "are you a bot?") need more
    # than one loose word ("máy" in "chat với máy") to count as naming a procedure.
    strict = intent in (
        "affirm",
        "deny",
        "goodbye",
        "bot_challenge",
        "out_of_scope",
        "request_human",
    )
    topic = len(found) >= 2 or any(" " in w for w in found) if strict else bool(found)
    if intent == "request_human" and asks_for_person(text):
        return None
    if intent == "out_of_scope" and (_CLEARLY_OUT.search(folded) or _FAKE.search(text)):
        return None
    if intent == "out_of_scope" and set(aspects) & _FOLLOW_UP_ASPECTS and len(rest.split()) <= 8:
        return "ask_overview"  # "theo quy định nào?", "which law?": about the current procedure
    if intent == "out_of_scope" and _FAKE_FOLDED.search(folded):
        return None
    if (
        intent == "out_of_scope"
        and aspects
        and len(set(found)) >= OUT_OF_SCOPE_TOPIC_WORDS
        and not asks_for_person(text)
    ):
        return _ASPECT_INTENTS.get(aspects[0], "ask_overview")
    if intent == "out_of_scope" and confidence >= OUT_OF_SCOPE_SURE:
        return None
    if intent == "bot_challenge" and not aspects and not any(" " in w for w in found):
        # "are you a real person?" names no aspect, whatever loose words it uses; a
        # procedure named as a phrase ("đăng ký khai tử cho bà nội") is still a question.
        return None
    if intent in _SMALLTALK_INTENTS or intent in ("change_language", "request_human"):
        if topic or (aspects and intent not in ("affirm", "deny", "bot_challenge")):
            return _ASPECT_INTENTS.get(aspects[0], "ask_overview") if aspects else "ask_overview"
        return None
    if intent in ("out_of_scope", "dossier_status") and topic:
        return _ASPECT_INTENTS.get(aspects[0], "ask_overview") if aspects else "ask_overview"
    if intent in _FOLLOW_INTENTS and topic and not _FOLLOW_WORDS.search(folded):
        # "thẻ bhyt nữa" taken for "which dossiers do I follow?": no word of following
        return _ASPECT_INTENTS.get(aspects[0], "ask_overview") if aspects else "ask_overview"
    return None


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class ProcedureRouter(_Stateless):
    """Puts understanding first: procedure questions hidden behind small talk get answered.

    Runs after the intent classifier and the fallback classifier. "Hello, how do I renew
    my passport?" (greet), a typo-ridden family question the classifier was unsure of
    (nlu_fallback), "please answer in English: how much is a passport" (change_language)
    become the ``ask_*`` intent of the aspect asked (see :func:`route_intent`); the
    replaced intent is kept in the parse output as ``routed_from``.
    """

    def __init__(self) -> None:
        # Built with the model, not at the first message (it would hold that message).
        default_lexicon()

    def process(self, messages: list[Message]) -> list[Message]:
        """Replaces the intent of procedure questions the classifier missed.

        Args:
            messages: Parsed user messages.

        Returns:
            The same messages, some with a new intent.
        """
        for message in messages:
            intent = message.get(INTENT) or {}
            name = intent.get("name") or ""
            confidence = float(intent.get("confidence") or 0.0)
            has_code = any(
                e.get("entity") == "dossier_code" for e in message.get(ENTITIES, []) or []
            )
            routed = route_intent(
                message.get(TEXT) or "", name, confidence, has_dossier_code=has_code
            )
            if routed is None:
                continue
            message.set(INTENT, {"name": routed, "confidence": max(confidence, 0.5)}, True)
            message.set(ROUTED_FROM, name, add_to_output=True)
        return messages
