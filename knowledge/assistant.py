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

from knowledge.answers import compose_answer, normalize_aspects, title
from knowledge.query import detect_language
from knowledge.schema import Procedure
from knowledge.search import (
    ProcedureSearch,
    SearchResult,
    age_conflict,
    asked_age,
    base_name,
    has_age_range,
)
from knowledge.text import fold
from knowledge.understanding import (
    GENERIC_TOPIC_WORDS,
    asks_if_needed,
    default_lexicon,
    requested_language,
    split_smalltalk,
    without_language_request,
)

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

NAMED_CANDIDATE_COVERAGE = 0.5
"""Share of a reply's topic words an offered candidate must explain to count as picked."""

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

_CARRIED_ACTIONS = {a: fold(a) for a in ("cấp lại", "cấp đổi", "gia hạn", "đăng ký lại")}
"""Actions (at the start of a procedure's name, with their folded form) that a follow-up
naming only a new
subject ("còn bằng lái xe thì sao") carries over from the procedure under discussion."""

_OWN_ACTIONS = tuple(
    """lam cap doi xin dang ky gia han mat hong moi lan dau thay doi xoa chuyen nop thu tuc
    sang ten ban mua""".split()
)
"""Words (folded) with which a follow-up states its own action: nothing is carried over."""

_DETAIL_WORDS = frozenset("tuoi years year old yo age aged phuong quan huyen xa".split())
"""With numbers, the details of a case ("con 12 tuổi", "my 15-year-old", "ở phường nào"),
not a procedure: a follow-up that gives an age or a ward stays on the current procedure
(or moves to its sibling for that age), and a question that is only an age names nothing
to answer. Once folded, "phường" is also "phương" (as in "phương thức") and "xã" the "xa"
of "xã hội": as details they name nothing alone."""


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
        aspects: Every aspect answered or pending, in order (``aspect`` is the first).
        guess: An answer to the probable procedure, with the other candidates offered.
    """

    kind: str
    text: str
    procedure_code: str | None = None
    aspect: str = "overview"
    buttons: list[dict[str, str]] = field(default_factory=list)
    candidates: list[str] = field(default_factory=list)
    switched: bool = False
    aspects: list[str] = field(default_factory=list)
    guess: bool = False

    def __post_init__(self) -> None:
        if not self.aspects:
            self.aspects = [self.aspect]


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
        "still_choose": (
            "Dạ, anh/chị cho em biết là thủ tục nào trong các thủ tục dưới đây để em trả lời "
            "đúng (bấm nút hoặc gõ số):"
        ),
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
        "still_choose": (
            "Which of these procedures is it about? Pick one so I can answer "
            "(tap a button or type its number):"
        ),
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
            if i in in_phrase
            or (
                i in content
                and w not in ASPECT_WORDS
                and w not in _DETAIL_WORDS
                and not w.isdigit()
            )
        ]

    def topic_words(self, result: SearchResult) -> list[str]:
        """Returns the question's words that may name a procedure (see :meth:`topic_indices`)."""
        return [result.query.words[i] for i in self.topic_indices(result)]

    def ask(
        self,
        text: str,
        aspect: str | list[str],
        language: str,
        current_code: str | None = None,
        offered: list[str] | None = None,
    ) -> Reply:
        """Answers a question about a procedure.

        Args:
            text: The citizen's message.
            aspect: One of :data:`knowledge.answers.ASPECTS`, or several asked together.
            language: ``"vi"`` or ``"en"`` (the reply language).
            current_code: The procedure under discussion, if any.
            offered: Candidates offered on the previous turn and not picked. When the
                same first candidate would be offered again, it is answered instead, with
                the others as buttons: asking the same choice twice helps nobody.

        Returns:
            An answer, candidates to choose from, or a not-found reply.
        """
        aspects = normalize_aspects(aspect)
        reply = self._ask(text, aspects, language, current_code)
        if reply.kind == "choose" and offered and reply.candidates[0] == offered[0]:
            answer = self._answer(reply.candidates[0], reply.aspects, language)
            others = reply.buttons[1:]
            note = _TEXTS[_lang(language)]["others"]
            answer.text += "\n" + note + "\n" + "\n".join(b["title"] for b in others)
            answer.buttons = others
            return answer
        return reply

    def follow_choices(
        self, text: str, aspect: str | list[str], language: str, offered: list[str]
    ) -> Reply | None:
        """Handles a message that answers an offer of candidates with something else.

        An aspect-only follow-up ("bao nhiêu tiền?", "and online?") keeps the offer: the
        same candidates come back, now for that aspect. A message that names one of the
        candidates (its topic words fit that one clearly better) answers it.

        Args:
            text: The citizen's message (on its own, not joined to the pending question).
            aspect: The aspect(s) it asks.
            language: The reply language.
            offered: The candidates offered, in order.

        Returns:
            The reply, or ``None`` when the message is a new question (search it).
        """
        aspects = normalize_aspects(aspect)
        procedures = [p for p in (self.search.get(c) for c in offered) if p is not None]
        if not procedures:
            return None
        age = asked_age(text)
        ranged = [p for p in procedures if has_age_range(p.name)] if age is not None else []
        if ranged:
            # "he is 8 years old": of the candidates, the one whose name sets an age range
            # that includes 8 (the ID card for under-14s), when only one does; else the
            # sibling for that age of the first one with a range.
            fits = [p for p in ranged if not age_conflict(age, p.name)]
            fit = fits[0].code if len(fits) == 1 else self._for_age(ranged[0].name, text, age)
            if fit is not None:
                return self._answer(fit, aspects, language)
        result = self.search.search(text, k=5)
        indices = self.topic_indices(result)
        if not indices:
            lang = _lang(language)
            reply = self._offer([p.code for p in procedures], aspects, language)
            reply.text = reply.text.replace(_TEXTS[lang]["choose"], _TEXTS[lang]["still_choose"])
            return reply
        fits = sorted(
            (
                (result.query.coverage(self.search.words_of(p.code), indices), n, p.code)
                for n, p in enumerate(procedures)
            ),
            reverse=True,
        )
        best, _, code = fits[0]
        runner_up = fits[1][0] if len(fits) > 1 else 0.0
        if best >= NAMED_CANDIDATE_COVERAGE and best > runner_up:
            return self._answer(code, aspects, language)
        return None

    def _ask(self, text: str, aspects: list[str], language: str, current_code: str | None) -> Reply:
        aspect = aspects
        text = _question_text(text)
        current = self.search.get(current_code) if current_code else None
        age = asked_age(text)
        if current is not None and age_conflict(age, current.name):
            # "con 16 tuổi thì sao" after the ID card for under-14s: the same procedure for
            # that age, when the catalogue has one.
            fit = self._for_age(current.name, text, age)
            if fit is not None:
                return self._answer(fit, aspect, language, current.code)
        result = self.search.search(text, k=5)
        indices = self.topic_indices(result)
        topic = [result.query.words[i] for i in indices]
        specific = [w for w in topic if w not in GENERIC_TOPIC_WORDS]
        if current is not None and (
            not specific
            or (len(topic) <= 1 and not self._names_another(result, indices, current.code))
        ):
            # "ai được đăng ký?", "cấp lại thì sao?": nothing that names another procedure
            # ("hộ chiếu nữa" while discussing driving licences does).
            return self._answer(current.code, aspect, language)
        if (
            current is not None
            and asks_if_needed(text)
            and self._among_documents(current, specific)
        ):
            # "có cần mang giấy chứng tử không": a paper the current procedure asks for.
            return self._answer(current.code, aspect, language)
        carried = (
            self._carry_action(current, text)
            if current is not None and self._names_a_subject(result, indices)
            else None
        )
        if carried is not None:
            # "còn bằng lái xe thì sao" after replacing a lost ID card: replacing it too.
            result, indices = carried, self.topic_indices(carried)
        vague = not specific
        if result.confident and result.top is not None and not vague:
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
            text = _TEXTS[_lang(language)]["not_found"]
            return Reply("not_found", text, aspect=aspect[0], aspects=aspect)
        if result.likely and result.top is not None and not vague:
            # "đăng ký cần gì" names no procedure: choices, never a guess.
            return self._best_guess(result, aspect, language, current_code)
        return self._choices(result, aspect, language)

    def _names_a_subject(self, result: SearchResult, indices: list[int]) -> bool:
        """Tells whether a question names a thing: a procedure word, or a citizen wording of one.

        "còn bằng lái xe thì sao" ("xe") and "thẻ bhyt" ("bảo hiểm y tế") do; "het bn tien v"
        (only "how much", in chat spelling) does not.
        """
        query = result.query
        lexicon = default_lexicon().words
        return any(query.words[i] in lexicon for i in indices) or any(
            e.start <= i < e.end and any(t not in ASPECT_WORDS for t in e.tokens)
            for e in query.expansions
            for i in indices
        )

    def _carry_action(self, current: Procedure, text: str) -> SearchResult | None:
        """Searches a bare new subject with the action of the current procedure.

        After "Cấp lại thẻ căn cước", "còn bằng lái xe thì sao" asks to replace the
        driving licence too: the search for "cấp lại bằng lái xe" is used when its first
        hit does that action. A message with an action of its own ("còn làm hộ chiếu"),
        in English, or after a procedure without such an action, is searched as written.
        """
        name = base_name(current.name)
        action = next((a for a, f in _CARRIED_ACTIONS.items() if name.startswith(f"{f} ")), None)
        folded = f" {fold(text)} "
        if (
            action is None
            or detect_language(text) != "vi"
            or any(f" {w} " in folded for w in _OWN_ACTIONS)
        ):
            return None
        carried = self.search.search(f"{action} {text}", k=5)
        top = carried.top
        if top is None or not base_name(top.name).startswith(f"{_CARRIED_ACTIONS[action]} "):
            return None
        return carried

    def _names_another(self, result: SearchResult, indices: list[int], current_code: str) -> bool:
        """Tells whether a one-word follow-up names another procedure's subject.

        It does when the word is a procedure word the current procedure lacks and every
        one of the first hits has it in its official (Vietnamese) name ("chiếu" of "hộ
        chiếu" while discussing driving licences), or when its citizen wording does ("bhyt":
        "bảo hiểm y tế"); a place ("Cầu Giấy"), a paper of the current procedure or an English
        word of every English name ("approval") does not.
        """
        own = self.search.words_of(current_code)
        own_name = set(base_name(self.search.get(current_code).name).split())
        names = [set(base_name(h.name).split()) for h in result.hits[:MAX_CANDIDATES]]
        query = result.query
        lexicon = default_lexicon().words

        def names_subject(i: int) -> bool:
            word = query.words[i]
            if word in GENERIC_TOPIC_WORDS or word in own:
                return False
            # "thẻ bhyt" while discussing ID cards: its wording "bảo hiểm y tế" counts too
            wordings = [
                set(e.tokens)
                for e in query.expansions
                if e.start <= i < e.end and e.tokens and not set(e.tokens) <= own_name
            ]
            if word not in lexicon and not wordings:
                return False
            return all(word in n or any(t <= n for t in wordings) for n in names)

        return bool(indices) and bool(names) and all(names_subject(i) for i in indices)

    def _for_age(self, name: str, text: str, age: int) -> str | None:
        """Returns the procedure like ``name`` whose age range includes ``age``, if any.

        One whose name sets a range that fits comes first ("… dưới 14 tuổi" for a child of
        8), else the first that the age does not exclude.
        """
        near = self.search.search(f"{name} {text}", k=MAX_CANDIDATES + 2).hits
        fits = [h for h in near if not age_conflict(age, h.name)]
        ranged = [h for h in fits if has_age_range(h.name)]
        best = (ranged or fits)[:1]
        return best[0].code if best else None

    @staticmethod
    def _among_documents(procedure, words: list[str]) -> bool:
        """Tells whether every one of ``words`` is in the names of a procedure's documents."""
        names = {w for d in procedure.documents for w in fold(f"{d.name} {d.name_en}").split()}
        return bool(words) and all(w in names for w in words)

    def _best_guess(
        self, result: SearchResult, aspects: list[str], language: str, current_code: str | None
    ) -> Reply:
        """Answers the probable procedure and offers the other candidates beside it."""
        assert result.top is not None
        lang = _lang(language)
        answer = self._answer(result.top.code, aspects, language, current_code)
        others = self._offer(
            [h.code for h in result.hits[1:MAX_CANDIDATES]], aspects, language
        ).buttons
        lines = [f"{n}. {b['title'].split('. ', 1)[-1]}" for n, b in enumerate(others, 1)]
        answer.text = "\n".join([answer.text, _TEXTS[lang]["others"], *lines])
        answer.buttons = [
            {**b, "title": f"{n}. {b['title'].split('. ', 1)[-1]}"} for n, b in enumerate(others, 1)
        ]
        answer.guess = True
        return answer

    def choose(self, code: str, aspect: str | list[str], language: str) -> Reply:
        """Answers the pending question for a procedure the citizen picked."""
        aspects = normalize_aspects(aspect)
        if self.search.get(code) is None:
            text = _TEXTS[_lang(language)]["unknown_code"].format(code=code)
            return Reply("not_found", text, aspect=aspects[0], aspects=aspects)
        return self._answer(code, aspects, language)

    def _answer(
        self, code: str, aspects: list[str], language: str, current_code: str | None = None
    ) -> Reply:
        procedure = self.search.get(code)
        text = compose_answer(procedure, aspects, language)
        switched = current_code is not None and current_code != code
        return Reply("answer", text, code, aspects[0], switched=switched, aspects=aspects)

    def _choices(self, result: SearchResult, aspects: list[str], language: str) -> Reply:
        return self._offer([h.code for h in result.hits[:MAX_CANDIDATES]], aspects, language)

    def _offer(self, codes: list[str], aspects: list[str], language: str) -> Reply:
        lang = _lang(language)
        lines = [_TEXTS[lang]["choose"]]
        buttons = []
        for n, code in enumerate(codes, 1):
            procedure = self.search.get(code)
            lines.append(f"{n}. {title(procedure, lang)}")
            name = procedure.name_en if lang == "en" and procedure.name_en else procedure.name
            buttons.append(
                {
                    "title": f"{n}. {_short(name)} ({procedure.code})",
                    "payload": choose_payload(code),
                }
            )
        return Reply(
            "choose",
            "\n".join(lines),
            aspect=aspects[0],
            buttons=buttons,
            candidates=list(codes),
            aspects=aspects,
        )


def _question_text(text: str) -> str:
    """Returns the message without its greetings, thanks and language wish, for search."""
    rest = split_smalltalk(text).rest
    folded = " ".join(rest)
    if requested_language(folded):
        folded = without_language_request(folded)
    if not folded or folded == fold(text):
        return text  # nothing taken off: keep the accents (they help tell the language)
    # Keep the accents of what is left ("Cảm ơn. Bố tôi …" -> "Bố tôi …"): they tell
    # "tử tuất" from "tu tuat" for the search, when the words line up one to one.
    words = text.split()
    kept = folded.split()
    folded_words = [fold(w) for w in words]
    if "" in folded_words:  # a word that folds to nothing ("-", an emoji): no one to one
        return folded
    for start in range(len(words) - len(kept) + 1):
        if folded_words[start : start + len(kept)] == kept:
            return " ".join(words[start : start + len(kept)])
    return folded


def _lang(language: str) -> str:
    return "en" if language == "en" else "vi"


def _short(label: str, limit: int = 48) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "…"
