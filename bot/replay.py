"""Replaying multi-turn conversations over the REST channel and checking every turn.

``motcua eval conversations FILE [--url URL]`` reads a YAML list of conversations::

    - name: greeting-before-question
      split: dev                    # optional: dev | holdout (figures per split)
      covers: greeting              # optional: the class(es) it exercises
      turns:
        - user: "hello! how do I renew my passport?"
          expect:
            answer: ["1.001456"]          # the reply answers one of these procedures
            offered: ["1.001456"]         # the reply offers a choice including one of these
            mentions: ["1.001456"]        # one of these codes appears anywhere
            not_codes: ["1.000001"]       # none of these codes appears
            contains: ["Fees"]            # all appear (lower case, without diacritics)
            contains_any: ["1022", "staff"]
            not_contains: ["không hiểu"]
            lang: en                      # the reply's language

sends each turn to a running assistant (``motcua run``) as one sender, and prints one
JSON summary: turns right overall, per split and per class, and each failed turn with
what was wrong. Only the standard library is used, so it runs against any deployment.
"""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from knowledge.query import ENGLISH_STOPWORDS
from knowledge.text import fold, vietnamese_accented_words
from knowledge.vocabulary import english_glossary

EXPECT_KEYS = frozenset(
    {"answer", "offered", "mentions", "not_codes", "contains", "contains_any", "not_contains",
     "lang"}
)  # fmt: skip
"""What a turn may expect."""

_PROCEDURE_LINE = re.compile(r"^(?:Thủ tục|Procedure): .*\((?:mã|code) ([0-9]+\.[0-9]{6})\)\s*$")
_CODE = re.compile(r"\b[0-9]\.[0-9]{6}\b")
_CHOICE = re.compile(r'"procedure_code"\s*:\s*"([^"]+)"')
_URL = re.compile(r"https?://\S+")
_NAMED_LINES = ("Procedure:", "Thủ tục:", "Dossier:", "Hồ sơ:", "Receiving agency:", "Cơ quan")


class ReplayError(RuntimeError):
    """The conversations file is malformed or the assistant cannot be reached."""


@dataclass
class Turn:
    """One citizen message and what its reply must show."""

    user: str
    expect: dict[str, Any] = field(default_factory=dict)


@dataclass
class Conversation:
    """A named conversation of several turns."""

    name: str
    turns: list[Turn]
    split: str = ""
    covers: list[str] = field(default_factory=list)


@dataclass
class Reply:
    """What the assistant sent back for one turn (all its messages together)."""

    text: str
    buttons: list[dict[str, str]] = field(default_factory=list)

    @property
    def answered(self) -> str | None:
        """The code of the procedure answered (its "Procedure: … (code X)" line), if any."""
        for line in self.text.splitlines():
            match = _PROCEDURE_LINE.match(line.strip())
            if match:
                return match.group(1)
        return None

    @property
    def offered(self) -> list[str]:
        """Codes offered as choices (buttons)."""
        return [m for b in self.buttons for m in _CHOICE.findall(b.get("payload", ""))]

    @property
    def codes(self) -> set[str]:
        """Every procedure code in the reply, text and buttons."""
        found = set(_CODE.findall(self.text))
        found.update(self.offered)
        return found

    @property
    def language(self) -> str:
        """The reply's language, from its own words.

        Official Vietnamese names are left out: the part after " — " of a title
        ("Marriage registration — Thủ tục đăng ký kết hôn (code 1.000894)"), procedure and
        dossier lines, and links.
        """
        kept = []
        for line in self.text.splitlines():
            line = line.strip()
            if _PROCEDURE_LINE.match(line) or line.startswith(_NAMED_LINES):
                continue
            kept.append(_URL.sub(" ", line.split(" — ", 1)[0]))
        return reply_language(" ".join(kept))


def reply_language(text: str) -> str:
    """Tells the language of a reply (long, well-formed text): the larger body of evidence.

    Vietnamese evidence: words that can be Vietnamese syllables with diacritics, and
    Vietnamese particles; English evidence: English function words and glossary terms.
    """
    words = fold(text).split()
    english_words = english_glossary()
    english = sum(1 for w in words if w in ENGLISH_STOPWORDS or w in english_words)
    accented, _foreign = vietnamese_accented_words(text)
    return "en" if english > 2 * accented else "vi"


def load_conversations(path: Path) -> list[Conversation]:
    """Reads and checks a conversations file.

    Raises:
        ReplayError: When the file is not a list of conversations with turns, or a turn
            expects something unknown (naming the conversation and the turn).
    """
    try:
        data = yaml.safe_load(Path(path).read_text("utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ReplayError(f"cannot read {path}: {exc}") from exc
    if not isinstance(data, list):
        raise ReplayError(f"{path}: expected a list of conversations")
    conversations = []
    for n, raw in enumerate(data, 1):
        if not isinstance(raw, dict) or not isinstance(raw.get("turns"), list):
            raise ReplayError(f"{path}: conversation {n} needs a list of turns")
        name = str(raw.get("name") or f"#{n}")
        turns = []
        for t, turn in enumerate(raw["turns"], 1):
            if not isinstance(turn, dict) or not str(turn.get("user") or "").strip():
                raise ReplayError(f"{path}: {name} turn {t} needs a 'user' message")
            expect = turn.get("expect") or {}
            if not isinstance(expect, dict):
                raise ReplayError(f"{path}: {name} turn {t}: expect must be a mapping")
            unknown = set(expect) - EXPECT_KEYS
            if unknown:
                raise ReplayError(f"{path}: {name} turn {t}: unknown expectation {sorted(unknown)}")
            turns.append(Turn(str(turn["user"]), expect))
        covers = raw.get("covers") or []
        covers = [c.strip() for c in covers.split(",")] if isinstance(covers, str) else covers
        conversations.append(Conversation(name, turns, str(raw.get("split") or ""), covers))
    return conversations


def _list(value: Any) -> list[str]:
    if value is None:
        return []
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def check_turn(reply: Reply, expect: dict[str, Any]) -> list[str]:
    """Lists what a reply gets wrong against a turn's expectations (empty when right)."""
    problems = []
    folded = fold(reply.text + " " + " ".join(b.get("title", "") for b in reply.buttons))
    answer = _list(expect.get("answer"))
    if answer and reply.answered not in answer:
        got = reply.answered or (f"a choice of {reply.offered}" if reply.offered else "no answer")
        problems.append(f"expected an answer about {answer}, got {got}")
    offered = _list(expect.get("offered"))
    if offered and not (set(offered) & (set(reply.offered) | {reply.answered})):
        problems.append(f"expected a choice including one of {offered}, got {reply.offered}")
    mentions = _list(expect.get("mentions"))
    if mentions and not set(mentions) & reply.codes:
        problems.append(f"expected one of {mentions} mentioned")
    banned = set(_list(expect.get("not_codes"))) & reply.codes
    if banned:
        problems.append(f"mentions {sorted(banned)}, which it must not")
    for text in _list(expect.get("contains")):
        if fold(text) not in folded:
            problems.append(f"missing {text!r}")
    anyof = _list(expect.get("contains_any"))
    if anyof and not any(fold(t) in folded for t in anyof):
        problems.append(f"missing any of {anyof}")
    for text in _list(expect.get("not_contains")):
        if fold(text) in folded:
            problems.append(f"contains {text!r}, which it must not")
    lang = expect.get("lang")
    if lang and reply.language != lang:
        problems.append(f"replied in {reply.language}, expected {lang}")
    return problems


def send(url: str, sender: str, message: str, timeout: float = 60.0) -> Reply:
    """Sends one message to the REST channel and gathers the reply.

    Raises:
        ReplayError: When the assistant cannot be reached or answers with an error.
    """
    body = json.dumps({"sender": sender, "message": message}).encode("utf-8")
    request = urllib.request.Request(
        url, data=body, headers={"Content-Type": "application/json"}, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            messages = json.loads(response.read().decode("utf-8") or "[]")
    except (urllib.error.URLError, TimeoutError, json.JSONDecodeError) as exc:
        raise ReplayError(f"cannot reach the assistant at {url}: {exc}") from exc
    texts = [m.get("text") or "" for m in messages if isinstance(m, dict)]
    buttons = [b for m in messages if isinstance(m, dict) for b in (m.get("buttons") or [])]
    return Reply("\n".join(t for t in texts if t), buttons)


def _share(right: int, total: int) -> float:
    return round(right / total, 4) if total else 0.0


def replay(
    conversations: list[Conversation], url: str, *, split: str | None = None
) -> dict[str, Any]:
    """Replays conversations against the REST webhook at ``url`` and scores every turn.

    Args:
        conversations: What to replay.
        url: The REST webhook (``http://host:5005/webhooks/rest/webhook``).
        split: Only the conversations of this split.

    Returns:
        ``{"conversations", "turns", "turns_right", "share", "conversations_right",
        "by_split", "by_class", "failures"}``.
    """
    chosen = [c for c in conversations if split is None or c.split == split]
    totals: dict[str, dict[str, list[int]]] = {
        "split": defaultdict(lambda: [0, 0]),
        "class": defaultdict(lambda: [0, 0]),
    }
    failures = []
    turns = right = whole = 0
    run = uuid.uuid4().hex[:8]
    for conversation in chosen:
        sender = f"eval-{run}-{conversation.name}"[:120]
        all_right = True
        for number, turn in enumerate(conversation.turns, 1):
            reply = send(url, sender, turn.user)
            problems = check_turn(reply, turn.expect)
            ok = not problems
            turns += 1
            right += ok
            all_right = all_right and ok
            for key, value in (("split", conversation.split or "all"),):
                totals[key][value][0] += ok
                totals[key][value][1] += 1
            for covered in conversation.covers or ["unlabelled"]:
                totals["class"][covered][0] += ok
                totals["class"][covered][1] += 1
            if problems:
                failures.append(
                    {
                        "conversation": conversation.name,
                        "turn": number,
                        "user": turn.user,
                        "problems": problems,
                        "reply": reply.text[:400],
                    }
                )
        whole += all_right
    return {
        "conversations": len(chosen),
        "conversations_right": whole,
        "turns": turns,
        "turns_right": right,
        "share": _share(right, turns),
        "by_split": {
            k: {"turns": n, "right": r, "share": _share(r, n)}
            for k, (r, n) in sorted(totals["split"].items())
        },
        "by_class": {
            k: {"turns": n, "right": r, "share": _share(r, n)}
            for k, (r, n) in sorted(totals["class"].items())
        },
        "failures": failures,
    }
