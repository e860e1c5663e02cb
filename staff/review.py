"""Review decisions and corrections, and the training data exported from them.

A turn in the review queue (see :class:`desk.conversations.ConversationLog`) is
*open* until staff resolve it: ``corrected`` (they picked the right procedure: a
correction), ``ok`` (the answer was fine) or ``dismissed`` (nothing to learn). A
correction stores the question, the right procedure code and who made it; the console
also adds the question as an alias of that procedure (:mod:`knowledge.overrides`).
Corrections export as retrieval questions (the JSON lines of
``motcua eval retrieval --questions``) or as Rasa NLU examples.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import sqlalchemy as sa
import yaml

from knowledge.text import fold
from staff.tables import StaffStore, corrections_table, reviews_table

REVIEW_STATUSES = ("corrected", "ok", "dismissed")
ASK_INTENTS = (
    "ask_documents",
    "ask_fee",
    "ask_time",
    "ask_where",
    "ask_online",
    "ask_eligibility",
    "ask_steps",
    "ask_overview",
)
"""The NLU intents that ask about a procedure (what NLU examples are exported under)."""


def _utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def eval_language(text: str, language: str | None) -> str:
    """Returns ``en``, ``vi`` or ``vi-nodiac`` (Vietnamese typed without diacritics)."""
    if language == "en":
        return "en"
    return "vi-nodiac" if fold(text) == " ".join(text.lower().split()) else "vi"


@dataclass
class Correction:
    """A question staff matched to the right procedure.

    Attributes:
        id: Number given by the database.
        at: When (naive UTC).
        actor: Who.
        turn_id: The reviewed turn, if it came from the queue.
        question: The citizen's question (masked).
        code: The right procedure.
        previous_code: What the assistant answered or offered first, if anything.
        intent: The ``ask_*`` intent the question expresses (for NLU export).
        language: ``vi`` or ``en``.
    """

    id: int
    at: datetime
    actor: str
    turn_id: int | None
    question: str
    code: str
    previous_code: str | None
    intent: str | None
    language: str

    def to_dict(self) -> dict[str, Any]:
        """Returns a JSON-ready dict."""
        data = dict(self.__dict__)
        data["at"] = self.at.isoformat(timespec="seconds")
        return data


@dataclass
class Resolution:
    """What staff decided about one reviewed turn."""

    turn_id: int
    status: str
    actor: str
    at: datetime
    note: str
    correction_id: int | None

    def to_dict(self) -> dict[str, Any]:
        """Returns a JSON-ready dict."""
        data = dict(self.__dict__)
        data["at"] = self.at.isoformat(timespec="seconds")
        return data


def _correction(row: Any) -> Correction:
    return Correction(**{c.name: row._mapping[c.name] for c in corrections_table.columns})


def _resolution(row: Any) -> Resolution:
    return Resolution(**{c.name: row._mapping[c.name] for c in reviews_table.columns})


class ReviewStore(StaffStore):
    """Corrections and review decisions in the shared database.

    Args:
        db: The database (:class:`infra.db.Database`) or its URL.
    """

    what = "staff review"

    def add_correction(
        self,
        *,
        actor: str,
        question: str,
        code: str,
        turn_id: int | None = None,
        previous_code: str | None = None,
        intent: str | None = None,
        language: str = "vi",
        now: datetime | None = None,
    ) -> Correction:
        """Stores a correction and, for a reviewed turn, resolves it as ``corrected``."""
        if intent is not None and intent not in ASK_INTENTS:
            raise ValueError(f"unknown intent {intent!r}; use one of {', '.join(ASK_INTENTS)}")
        values = {
            "at": now or _utcnow(),
            "actor": actor,
            "turn_id": turn_id,
            "question": " ".join(question.split()),
            "code": code,
            "previous_code": previous_code,
            "intent": intent,
            "language": language if language in ("vi", "en") else "vi",
        }

        def work(conn: sa.engine.Connection) -> Correction:
            new_id = conn.execute(corrections_table.insert().values(**values)).inserted_primary_key[
                0
            ]
            if turn_id is not None:
                _put_resolution(conn, turn_id, "corrected", actor, values["at"], "", int(new_id))
            return Correction(id=int(new_id), **values)

        return self._run(work, write=True)

    def corrections(self, *, limit: int | None = None, offset: int = 0) -> list[Correction]:
        """Returns corrections, oldest first."""
        query = (
            sa.select(corrections_table)
            .order_by(corrections_table.c.id)
            .limit(limit)
            .offset(offset)
        )
        return [_correction(r) for r in self._run(lambda c: c.execute(query).all())]

    def resolve(
        self, turn_id: int, status: str, *, actor: str, note: str = "", now: datetime | None = None
    ) -> Resolution:
        """Records staff's decision on a reviewed turn (replacing an earlier one)."""
        if status not in REVIEW_STATUSES:
            raise ValueError(f"unknown status {status!r}; use one of {', '.join(REVIEW_STATUSES)}")
        at = now or _utcnow()

        def work(conn: sa.engine.Connection) -> Resolution:
            _put_resolution(conn, turn_id, status, actor, at, note, None)
            row = conn.execute(
                sa.select(reviews_table).where(reviews_table.c.turn_id == turn_id)
            ).first()
            return _resolution(row)

        return self._run(work, write=True)

    def resolution(self, turn_id: int) -> Resolution | None:
        """Returns the decision on one turn, or ``None`` while it is open."""
        row = self._run(
            lambda c: c.execute(
                sa.select(reviews_table).where(reviews_table.c.turn_id == turn_id)
            ).first()
        )
        return _resolution(row) if row else None

    def resolutions(self, turn_ids: list[int]) -> dict[int, Resolution]:
        """Returns ``{turn_id: Resolution}`` for the resolved ones among ``turn_ids``."""
        if not turn_ids:
            return {}
        rows = self._run(
            lambda c: c.execute(
                sa.select(reviews_table).where(reviews_table.c.turn_id.in_(turn_ids))
            ).all()
        )
        return {r.turn_id: _resolution(r) for r in rows}

    def forget_purged_turns(self) -> int:
        """Deletes review decisions whose turn the retention purge removed; returns how many.

        Corrections stay: they are the training data staff wrote, not the conversation.
        """
        from desk.conversations import turns_table

        def work(conn: sa.engine.Connection) -> int:
            gone = ~reviews_table.c.turn_id.in_(sa.select(turns_table.c.id))
            return int(conn.execute(reviews_table.delete().where(gone)).rowcount or 0)

        return self._run(work, write=True)

    def count(self) -> int:
        """Returns how many corrections there are."""
        return self._run(
            lambda c: c.execute(sa.select(sa.func.count()).select_from(corrections_table)).scalar()
        )


def _put_resolution(
    conn: sa.engine.Connection,
    turn_id: int,
    status: str,
    actor: str,
    at: datetime,
    note: str,
    correction_id: int | None,
) -> None:
    values = {
        "status": status,
        "actor": actor,
        "at": at,
        "note": note,
        "correction_id": correction_id,
    }
    updated = conn.execute(
        reviews_table.update().where(reviews_table.c.turn_id == turn_id).values(**values)
    ).rowcount
    if not updated:
        conn.execute(reviews_table.insert().values(turn_id=turn_id, **values))


class _Literal(str):
    """A string YAML writes as a ``|`` block (Rasa's ``examples``)."""


class _NluDumper(yaml.SafeDumper):
    """Safe YAML with :class:`_Literal` strings as blocks."""


_NluDumper.add_representer(
    _Literal, lambda d, v: d.represent_scalar("tag:yaml.org,2002:str", str(v), style="|")
)


def export_retrieval(corrections: list[Correction]) -> str:
    """Returns corrections as retrieval questions, one JSON object a line.

    Each line is ``{"id", "q", "gold", "lang"}`` like ``../shared/eval/dev_questions.jsonl``,
    for ``motcua eval retrieval --questions``. The latest correction of a question wins.
    """
    latest: dict[str, Correction] = {}
    for correction in corrections:
        latest[fold(correction.question)] = correction
    lines = [
        json.dumps(
            {
                "id": f"S{c.id:05d}",
                "q": c.question,
                "gold": [c.code],
                "lang": eval_language(c.question, c.language),
            },
            ensure_ascii=False,
        )
        for c in sorted(latest.values(), key=lambda c: c.id)
    ]
    return "".join(line + "\n" for line in lines)


def export_nlu(corrections: list[Correction]) -> str:
    """Returns corrections as Rasa NLU training data (YAML), grouped by intent.

    Questions without an ``ask_*`` intent go under ``ask_overview`` (what the assistant
    answers when no aspect is named). Review it before adding it to ``nlu/``.
    """
    by_intent: dict[str, list[str]] = {}
    seen: set[tuple[str, str]] = set()
    for c in corrections:
        intent = c.intent if c.intent in ASK_INTENTS else "ask_overview"
        key = (intent, fold(c.question))
        if key in seen or not c.question:
            continue
        seen.add(key)
        by_intent.setdefault(intent, []).append(c.question)
    nlu = [
        {"intent": intent, "examples": _Literal("".join(f"- {q}\n" for q in questions))}
        for intent, questions in sorted(by_intent.items())
    ]
    header = "# Exported by `motcua staff export-training --format nlu` from staff corrections.\n"
    body = yaml.dump(
        {"version": "3.1", "nlu": nlu},
        Dumper=_NluDumper,
        allow_unicode=True,
        sort_keys=False,
        width=1000,
    )
    return header + body
