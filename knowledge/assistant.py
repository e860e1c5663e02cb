"""What to say to a procedure question: answer, keep the current procedure, or offer choices.

This is the conversation logic behind the Rasa custom actions, with no Rasa in
it: the actions pass the user's text, the aspect the NLU recognised and the
procedure already under discussion, and get back a :class:`Reply`.

Follow-ups ("còn lệ phí?", "and online?") name no procedure: their topic words
are only aspect words, so the current procedure is kept. A message that names
another procedure clearly switches to it. When search is not confident, the
top candidates are offered instead of a guess.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from knowledge.answers import ASPECTS, compose_answer, title
from knowledge.search import ProcedureSearch, SearchResult
from knowledge.text import fold

INTENT_ASPECTS = {
    "ask_documents": "documents",
    "ask_fee": "fee",
    "ask_time": "time",
    "ask_where": "where",
    "ask_online": "online",
    "ask_eligibility": "eligibility",
    "ask_steps": "steps",
    "ask_overview": "overview",
}
"""NLU intent -> aspect of the procedure to answer."""

MAX_CANDIDATES = 3

NEW_TOPIC_COVERAGE = 0.75
"""Share of a follow-up's topic words a candidate must explain for it to count as a new topic."""

ASPECT_WORDS = frozenset(
    fold(w)
    for w in """online onl trực tuyến qua mạng mạng vneid app ứng dụng dịch vụ công cổng
    lệ phí phí tiền giá bao nhiêu đồng fee fees cost costs price charge much pay free miễn
    thời gian thời hạn giải quyết bao lâu mấy ngày ngày lâu nhanh time long days quickly soon
    giấy tờ hồ sơ cần gì mang chuẩn bị documents document papers paperwork bring prepare need
    nộp ở đâu chỗ nào nơi đâu where submit apply office nộp trực tiếp bưu điện bưu chính post
    điều kiện ai được đối tượng eligible eligibility qualify who can conditions requirements
    các bước trình tự quy trình thế nào như nào làm sao process steps procedure how
    thủ tục làm còn thì sao vậy thế nhé và and what about also còn nữa else""".split()
)
"""Words that tell what is asked, not which procedure: a follow-up has little else."""


@dataclass
class Reply:
    """The assistant's answer to one procedure question.

    Attributes:
        kind: ``answer``, ``choose`` (candidates offered) or ``not_found``.
        text: The reply text (numbered options included when choosing).
        procedure_code: The procedure answered (``answer``), else ``None``.
        aspect: The aspect answered or pending.
        buttons: ``{"title", "payload"}`` for each candidate (``choose``).
        candidates: Codes offered, in order (``choose``).
        switched: Whether the answer moved to another procedure than the current one.
    """

    kind: str
    text: str
    procedure_code: str | None = None
    aspect: str = "overview"
    buttons: list[dict[str, str]] = field(default_factory=list)
    candidates: list[str] = field(default_factory=list)
    switched: bool = False


_TEXTS = {
    "vi": {
        "choose": (
            "Dạ, anh/chị đang hỏi về thủ tục nào dưới đây? Chọn một thủ tục (bấm nút hoặc gõ số):"
        ),
        "not_found": (
            "Dạ, em chưa tìm thấy thủ tục phù hợp. Anh/chị mô tả rõ hơn giúp em việc cần làm, "
            'ví dụ: "làm lại căn cước bị mất cần gì" hoặc "đăng ký khai sinh mất bao lâu".'
        ),
        "unknown_code": "Dạ, em không tìm thấy thủ tục mã {code}.",
        "others": "Nếu anh/chị hỏi thủ tục khác, chọn:",
    },
    "en": {
        "choose": (
            "Which of these procedures do you mean? Pick one (tap a button or type its number):"
        ),
        "not_found": (
            "Sorry, I could not find a matching procedure. Could you describe what you need, "
            'e.g. "replace a lost ID card" or "how long does birth registration take"?'
        ),
        "unknown_code": "Sorry, I cannot find a procedure with code {code}.",
        "others": "If you meant another procedure, pick one:",
    },
}


def choose_payload(code: str) -> str:
    """Returns the button payload that picks procedure ``code``."""
    return f'/choose_procedure{{"procedure_code":"{code}"}}'


class Assistant:
    """Answers procedure questions over a :class:`ProcedureSearch`.

    Args:
        search: The catalogue search.
    """

    def __init__(self, search: ProcedureSearch) -> None:
        self.search = search

    def topic_indices(self, result: SearchResult) -> list[int]:
        """Returns the positions of the question's words that may name a procedure.

        Aspect words ("lệ phí", "bao lâu", "online") are left out. Words inside a
        citizen-vocabulary phrase that names a thing count even when they look like
        particles once folded ("sổ đỏ" folds to "so do": "sơ" and "đó" too).
        """
        query = result.query
        in_phrase = {
            i
            for e in query.expansions
            if any(t not in ASPECT_WORDS and t not in query.stop for t in e.tokens)
            and any(w not in ASPECT_WORDS for w in query.words[e.start : e.end])
            for i in range(e.start, e.end)
        }
        content = set(query.content)
        return [
            i
            for i, w in enumerate(query.words)
            if i in in_phrase or (i in content and w not in ASPECT_WORDS)
        ]

    def topic_words(self, result: SearchResult) -> list[str]:
        """Returns the question's words that may name a procedure (see :meth:`topic_indices`)."""
        return [result.query.words[i] for i in self.topic_indices(result)]

    def ask(
        self,
        text: str,
        aspect: str,
        language: str,
        current_code: str | None = None,
        offered: list[str] | None = None,
    ) -> Reply:
        """Answers a question about a procedure.

        Args:
            text: The citizen's message.
            aspect: One of :data:`knowledge.answers.ASPECTS`.
            language: ``"vi"`` or ``"en"`` (the reply language).
            current_code: The procedure under discussion, if any.
            offered: Candidates offered on the previous turn and not picked. When the
                same first candidate would be offered again, it is answered instead, with
                the others as buttons: asking the same choice twice helps nobody.

        Returns:
            An answer, candidates to choose from, or a not-found reply.
        """
        reply = self._ask(text, aspect, language, current_code)
        if reply.kind == "choose" and offered and reply.candidates[0] == offered[0]:
            answer = self._answer(reply.candidates[0], reply.aspect, language)
            others = reply.buttons[1:]
            note = _TEXTS[_lang(language)]["others"]
            answer.text += "\n" + note + "\n" + "\n".join(b["title"] for b in others)
            answer.buttons = others
            return answer
        return reply

    def _ask(self, text: str, aspect: str, language: str, current_code: str | None) -> Reply:
        aspect = aspect if aspect in ASPECTS else "overview"
        current = self.search.get(current_code) if current_code else None
        result = self.search.search(text, k=5)
        indices = self.topic_indices(result)
        topic = [result.query.words[i] for i in indices]
        if current is not None and len(topic) <= 1:
            return self._answer(current.code, aspect, language)
        if result.confident and result.top is not None:
            return self._answer(result.top.code, aspect, language, current_code)
        if current is not None:
            # Unsure: a message whose topic words a candidate fully accounts for ("đăng ký
            # xe" while discussing ID cards) names a new topic; anything else ("con tôi 6
            # tuổi thì sao") is a detail of the current one.
            top_codes = [h.code for h in result.hits[:MAX_CANDIDATES]]
            new_topic = (
                result.top is not None
                and result.query.coverage(self.search.words_of(result.top.code), indices)
                >= NEW_TOPIC_COVERAGE
            )
            if current.code in top_codes or not new_topic:
                return self._answer(current.code, aspect, language)
        if not result.hits:
            if current is not None:
                return self._answer(current.code, aspect, language)
            return Reply("not_found", _TEXTS[_lang(language)]["not_found"], aspect=aspect)
        return self._choices(result, aspect, language)

    def choose(self, code: str, aspect: str, language: str) -> Reply:
        """Answers the pending question for a procedure the citizen picked."""
        if self.search.get(code) is None:
            text = _TEXTS[_lang(language)]["unknown_code"].format(code=code)
            return Reply("not_found", text, aspect=aspect)
        return self._answer(code, aspect if aspect in ASPECTS else "overview", language)

    def _answer(
        self, code: str, aspect: str, language: str, current_code: str | None = None
    ) -> Reply:
        procedure = self.search.get(code)
        text = compose_answer(procedure, aspect, language)
        switched = current_code is not None and current_code != code
        return Reply("answer", text, code, aspect, switched=switched)

    def _choices(self, result: SearchResult, aspect: str, language: str) -> Reply:
        lang = _lang(language)
        hits = result.hits[:MAX_CANDIDATES]
        lines = [_TEXTS[lang]["choose"]]
        buttons = []
        for n, hit in enumerate(hits, 1):
            procedure = self.search.get(hit.code)
            lines.append(f"{n}. {title(procedure, lang)}")
            name = procedure.name_en if lang == "en" and procedure.name_en else procedure.name
            buttons.append(
                {
                    "title": f"{n}. {_short(name)} ({procedure.code})",
                    "payload": choose_payload(hit.code),
                }
            )
        return Reply(
            "choose",
            "\n".join(lines),
            aspect=aspect,
            buttons=buttons,
            candidates=[h.code for h in hits],
        )


def _lang(language: str) -> str:
    return "en" if language == "en" else "vi"


def _short(label: str, limit: int = 48) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "…"
