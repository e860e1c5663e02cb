"""The conversation log: one row per citizen message, for staff review and the dashboard.

Rasa publishes every conversation event to an event broker (in-process for the embedded
defaults, RabbitMQ in production; see :mod:`bot.events`). :meth:`ConversationLog.ingest`
folds those events into *turns*: the citizen's message (masked), its intent and
confidence, the procedure answered or the candidates offered, the outcome, the bot's
reply, the response time and the citizen's 👍/👎 on it. Staff read the turns that need
review (fallbacks, low confidence, thumbs-down, hand-offs) and the dashboard's figures.

No Rasa imports: events are the plain dicts brokers carry.
"""

from __future__ import annotations

import hashlib
import json
import statistics
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

import sqlalchemy as sa

from infra.db import SqlStore, StoreUnavailable
from infra.privacy import clean_text, mask_pii, pseudonym
from knowledge.text import fold

LOW_CONFIDENCE = 0.6
"""An NLU intent confidence under this puts the turn in the review queue."""

ANSWER_ACTIONS = frozenset({"action_answer_procedure", "action_choose_procedure"})
OUTCOME_BY_ACTION = {
    "action_answer_procedure": "answer",
    "action_choose_procedure": "answer",
    "action_dossier_status": "dossier",
    "action_handoff": "handoff",
    "action_default_fallback": "fallback",
    "action_feedback": "feedback",
}
OUTCOMES = ("answer", "choose", "fallback", "handoff", "dossier", "feedback", "other")
REVIEW_REASONS = ("fallback", "low_confidence", "thumbs_down", "handoff")
FEEDBACK_INTENT = "feedback"
_DOWN_WORDS = frozenset(
    {"khong", "chua", "sai", "ko", "not", "wrong", "incorrect", "unhelpful", "useless", "bad"}
)


FEEDBACK_TITLES = {"vi": ("👍 Hữu ích", "👎 Chưa đúng"), "en": ("👍 Helpful", "👎 Not helpful")}


def feedback_buttons(language: str = "vi") -> list[dict[str, str]]:
    """Returns the 👍/👎 buttons the assistant adds after a procedure answer.

    Channels without buttons (Zalo) show them as numbered options; a reply of the digit
    sends the payload.
    """
    up, down = FEEDBACK_TITLES.get(language, FEEDBACK_TITLES["vi"])
    return [
        {"title": up, "payload": '/feedback{"rating":"up"}'},
        {"title": down, "payload": '/feedback{"rating":"down"}'},
    ]


class ConversationLogUnavailable(StoreUnavailable):
    """The conversation log's database cannot be reached or read."""


@dataclass
class Turn:
    """One citizen message and what the assistant did with it.

    Attributes:
        id: Number given by the database.
        sender_id: The conversation (channel user id).
        channel: Input channel name: ``rest``, ``webchat``, ``telegram``, ``zalo`` ...
        asked_at: When the message arrived (naive UTC).
        text: The citizen's message, personal data masked.
        language: ``vi`` or ``en`` (the language slot after the turn), if known.
        intent: The NLU intent.
        confidence: The NLU intent confidence.
        procedure_code: The procedure answered in this turn, if any.
        candidates: Procedure codes offered as choices when search was unsure.
        outcome: One of :data:`OUTCOMES`.
        reply: The bot's texts of this turn, one per line.
        response_ms: Milliseconds from the message to the bot's last reply.
        rating: ``up`` or ``down`` when the citizen rated this turn's answer.
        review_reasons: Why staff should look at it (subset of :data:`REVIEW_REASONS`).
    """

    id: int
    sender_id: str
    channel: str
    asked_at: datetime
    text: str
    language: str | None
    intent: str | None
    confidence: float | None
    procedure_code: str | None
    candidates: list[str] = field(default_factory=list)
    outcome: str = "other"
    reply: str = ""
    response_ms: int | None = None
    rating: str | None = None
    review_reasons: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """Returns a JSON-ready dict (ISO time)."""
        data = asdict(self)
        data["asked_at"] = self.asked_at.isoformat(timespec="seconds")
        return data


_metadata = sa.MetaData()
turns_table = sa.Table(
    "conversation_turns",
    _metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("sender_id", sa.String(128), nullable=False),
    sa.Column("channel", sa.String(32), nullable=False, default=""),
    sa.Column("message_id", sa.String(64), nullable=True),
    sa.Column("asked_at", sa.DateTime, nullable=False),
    sa.Column("asked_ts", sa.Float, nullable=False),
    sa.Column("last_ts", sa.Float, nullable=False),
    sa.Column("text", sa.Text, nullable=False, default=""),
    sa.Column("language", sa.String(8), nullable=True),
    sa.Column("intent", sa.String(64), nullable=True),
    sa.Column("confidence", sa.Float, nullable=True),
    sa.Column("procedure_code", sa.String(32), nullable=True),
    sa.Column("candidates", sa.Text, nullable=False, default="[]"),
    sa.Column("outcome", sa.String(16), nullable=False, default="other"),
    sa.Column("reply", sa.Text, nullable=False, default=""),
    sa.Column("response_ms", sa.Integer, nullable=True),
    sa.Column("rating", sa.String(8), nullable=True),
    sa.Column("review", sa.String(64), nullable=False, default=""),
    sa.Index("ix_turns_sender", "sender_id", "asked_ts"),
    sa.Index("ix_turns_asked", "asked_at"),
    sa.Index("ix_turns_review", "review", "asked_at"),
    sa.Index("ix_turns_procedure", "procedure_code"),
)
_UPDATE_TURN = turns_table.update().where(turns_table.c.id == sa.bindparam("turn_id"))
set_aside_table = sa.Table(
    "conversation_set_aside",
    _metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("at", sa.DateTime, nullable=False),
    sa.Column("sender", sa.String(32), nullable=False),
    sa.Column("reason", sa.String(200), nullable=False),
)
seen_table = sa.Table(
    "conversation_events_seen",
    _metadata,
    sa.Column("key", sa.String(40), primary_key=True),
    sa.Column("ts", sa.Float, nullable=False, index=True),
)


def _utc(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, timezone.utc).replace(tzinfo=None)


def event_key(event: dict[str, Any]) -> str:
    """Returns a stable identity for one broker event (so a redelivery is recognised)."""
    parts = {
        k: event.get(k)
        for k in ("sender_id", "event", "timestamp", "text", "name", "value", "message_id")
    }
    raw = json.dumps(parts, sort_keys=True, ensure_ascii=True, default=str)
    return hashlib.sha1(raw.encode("ascii")).hexdigest()


def rating_of(text: str, entities: Iterable[dict[str, Any]] = ()) -> str:
    """Returns ``up`` or ``down`` for a feedback message (the ``rating`` entity, else words)."""
    for entity in entities:
        if entity.get("entity") == "rating" and str(entity.get("value")) in ("up", "down"):
            return str(entity["value"])
    text = text or ""
    if "👎" in text or "👍" in text:
        return "down" if "👎" in text else "up"
    return "down" if _DOWN_WORDS & set(fold(text).split()) else "up"


def review_reasons(
    outcome: str, intent: str | None, confidence: float | None, rating: str | None
) -> list[str]:
    """Returns why a turn needs review (empty when it does not)."""
    reasons = []
    if outcome == "fallback":
        reasons.append("fallback")
    if outcome == "choose" or (
        outcome not in ("feedback", "fallback")
        and confidence is not None
        and confidence < LOW_CONFIDENCE
    ):
        reasons.append("low_confidence")
    if rating == "down":
        reasons.append("thumbs_down")
    if outcome == "handoff":
        reasons.append("handoff")
    return reasons


def _row_to_turn(row: Any) -> Turn:
    m = row._mapping
    return Turn(
        id=m["id"],
        sender_id=m["sender_id"],
        channel=m["channel"],
        asked_at=m["asked_at"],
        text=m["text"],
        language=m["language"],
        intent=m["intent"],
        confidence=m["confidence"],
        procedure_code=m["procedure_code"],
        candidates=json.loads(m["candidates"] or "[]"),
        outcome=m["outcome"],
        reply=m["reply"],
        response_ms=m["response_ms"],
        rating=m["rating"],
        review_reasons=[r for r in (m["review"] or "").split(",") if r],
    )


class ConversationLog(SqlStore):
    """Turns in a SQL database (the catalogue's URL).

    Args:
        db: The database (:class:`infra.db.Database`) or its URL.
    """

    what = "conversation log"
    error = ConversationLogUnavailable

    # --- writing ---------------------------------------------------------------------

    def ingest(self, events: Iterable[dict[str, Any]]) -> int:
        """Folds broker events into turns, in one transaction.

        Args:
            events: Rasa event dicts as brokers publish them (``sender_id``, ``event``,
                ``timestamp`` and the event's fields), in the order they happened.

        Returns:
            How many events were applied (a redelivered event is skipped).
        """
        batch = [e for e in events if isinstance(e, dict) and e.get("sender_id")]
        if not batch:
            return 0
        return self._run(lambda conn: self._ingest(conn, batch), write=True)

    def _ingest(self, conn: sa.engine.Connection, events: list[dict[str, Any]]) -> int:
        keys = [event_key(e) for e in events]
        seen = set(
            conn.execute(sa.select(seen_table.c.key).where(seen_table.c.key.in_(keys))).scalars()
        )
        new_keys: list[dict[str, Any]] = []
        open_turns: dict[str, dict[str, Any]] = {}
        for event, key in zip(events, keys, strict=True):
            if key in seen:
                continue
            seen.add(key)
            ts = float(event.get("timestamp") or 0.0)
            new_keys.append({"key": key, "ts": ts})
            sender = pseudonym(str(event["sender_id"]))
            kind = event.get("event")
            if kind == "user":
                self._flush(conn, open_turns.pop(sender, None))
                open_turns[sender] = self._new_turn(conn, sender, event, ts)
                continue
            turn = open_turns.get(sender) or self._latest_turn(conn, sender)
            if turn is None:
                continue
            open_turns[sender] = turn
            self._apply(turn, event, ts)
        for turn in open_turns.values():
            self._flush(conn, turn)
        if new_keys:
            conn.execute(seen_table.insert(), new_keys)
        return len(new_keys)

    def _new_turn(
        self, conn: sa.engine.Connection, sender: str, event: dict[str, Any], ts: float
    ) -> dict[str, Any]:
        parse = event.get("parse_data") or {}
        intent = (parse.get("intent") or {}).get("name")
        confidence = (parse.get("intent") or {}).get("confidence")
        text = mask_pii(event.get("text") or "")
        row = {
            "sender_id": sender,
            "channel": clean_text(str(event.get("input_channel") or ""))[:32],
            "message_id": (
                clean_text(str(event.get("message_id")))[:64] if event.get("message_id") else None
            ),
            "asked_at": _utc(ts),
            "asked_ts": ts,
            "last_ts": ts,
            "text": text,
            "language": None,
            "intent": str(intent)[:64] if intent else None,
            "confidence": float(confidence) if confidence is not None else None,
            "procedure_code": None,
            "candidates": "[]",
            "outcome": "feedback" if intent == FEEDBACK_INTENT else "other",
            "reply": "",
            "response_ms": None,
            "rating": None,
            "review": "",
        }
        row["id"] = None  # inserted, with its final values, when the turn is flushed
        if intent == FEEDBACK_INTENT:
            self._rate_latest_answer(conn, sender, rating_of(text, parse.get("entities") or []))
        return row

    def _rate_latest_answer(self, conn: sa.engine.Connection, sender: str, rating: str) -> None:
        row = conn.execute(
            sa.select(turns_table)
            .where(turns_table.c.sender_id == sender, turns_table.c.procedure_code.is_not(None))
            .order_by(turns_table.c.id.desc())
            .limit(1)
        ).first()
        if row is None:
            return
        m = row._mapping
        reasons = review_reasons(m["outcome"], m["intent"], m["confidence"], rating)
        conn.execute(
            turns_table.update()
            .where(turns_table.c.id == m["id"])
            .values(rating=rating, review=",".join(reasons))
        )

    def _latest_turn(self, conn: sa.engine.Connection, sender: str) -> dict[str, Any] | None:
        row = conn.execute(
            sa.select(turns_table)
            .where(turns_table.c.sender_id == sender)
            .order_by(turns_table.c.id.desc())
            .limit(1)
        ).first()
        return dict(row._mapping) if row else None

    @staticmethod
    def _apply(turn: dict[str, Any], event: dict[str, Any], ts: float) -> None:
        kind = event.get("event")
        turn["last_ts"] = max(turn["last_ts"], ts)
        if kind == "action":
            outcome = OUTCOME_BY_ACTION.get(str(event.get("name")))
            if outcome and turn["outcome"] in ("other", "fallback"):
                turn["outcome"] = outcome
        elif kind == "slot":
            name, value = event.get("name"), event.get("value")
            if name == "procedure_code" and value:
                turn["procedure_code"] = str(value)[:32]
                if turn["outcome"] in ("other", "fallback", "choose"):
                    turn["outcome"] = "answer"
            elif name == "candidates" and value:
                turn["candidates"] = json.dumps([str(c) for c in value][:10])
                if turn["outcome"] in ("other", "answer") and not turn["procedure_code"]:
                    turn["outcome"] = "choose"
            elif name == "language" and value in ("vi", "en"):
                turn["language"] = value
        elif kind == "bot":
            text = mask_pii(event.get("text") or "")
            turn["reply"] = f"{turn['reply']}\n{text}".strip() if text else turn["reply"]
            turn["response_ms"] = max(0, round((ts - turn["asked_ts"]) * 1000))

    @staticmethod
    def _flush(conn: sa.engine.Connection, turn: dict[str, Any] | None) -> None:
        if turn is None:
            return
        reasons = review_reasons(
            turn["outcome"], turn["intent"], turn["confidence"], turn["rating"]
        )
        turn["review"] = ",".join(reasons)
        values = {k: v for k, v in turn.items() if k != "id"}
        if turn["id"] is None:
            turn["id"] = conn.execute(turns_table.insert(), values).inserted_primary_key[0]
        else:
            conn.execute(_UPDATE_TURN, {**values, "turn_id": turn["id"]})

    def purge(self, older_than: datetime) -> int:
        """Deletes turns asked before ``older_than`` (naive UTC); returns how many.

        Safe to run at any time (from cron): it deletes in one transaction and a second
        run deletes nothing more.
        """
        cutoff_ts = older_than.replace(tzinfo=timezone.utc).timestamp()

        def work(conn: sa.engine.Connection) -> int:
            deleted = conn.execute(
                turns_table.delete().where(turns_table.c.asked_at < older_than)
            ).rowcount
            conn.execute(seen_table.delete().where(seen_table.c.ts < cutoff_ts))
            return int(deleted or 0)

        return self._run(work, write=True)

    # --- reading ---------------------------------------------------------------------

    def turns(
        self,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        channel: str | None = None,
        procedure_code: str | None = None,
        sender_id: str | None = None,
        needs_review: bool = False,
        limit: int = 100,
        offset: int = 0,
    ) -> list[Turn]:
        """Returns turns, newest first, filtered.

        Args:
            since: Only turns asked at or after this (naive UTC).
            until: Only turns asked before this.
            channel: Only this input channel.
            procedure_code: Only turns about this procedure (answered or offered).
            sender_id: Only this conversation.
            needs_review: Only turns with a review reason.
            limit: At most this many (capped at 1,000).
            offset: Skip this many first.
        """
        query = sa.select(turns_table)
        if since is not None:
            query = query.where(turns_table.c.asked_at >= since)
        if until is not None:
            query = query.where(turns_table.c.asked_at < until)
        if channel:
            query = query.where(turns_table.c.channel == channel)
        if procedure_code:
            query = query.where(
                sa.or_(
                    turns_table.c.procedure_code == procedure_code,
                    turns_table.c.candidates.contains(f'"{procedure_code}"'),
                )
            )
        if sender_id:
            query = query.where(turns_table.c.sender_id == pseudonym(sender_id))
        if needs_review:
            query = query.where(turns_table.c.review != "")
        query = (
            query.order_by(turns_table.c.asked_ts.desc(), turns_table.c.id.desc())
            .limit(max(1, min(limit, 1000)))
            .offset(max(0, offset))
        )
        return [_row_to_turn(r) for r in self._run(lambda c: c.execute(query).all())]

    def get(self, turn_id: int) -> Turn | None:
        """Returns one turn, or ``None``."""
        row = self._run(
            lambda c: c.execute(sa.select(turns_table).where(turns_table.c.id == turn_id)).first()
        )
        return _row_to_turn(row) if row else None

    def transcript(self, sender_id: str, *, limit: int = 200) -> list[Turn]:
        """Returns a conversation's latest ``limit`` turns, oldest first."""
        return list(reversed(self.turns(sender_id=sender_id, limit=limit)))

    def stats(self, *, since: datetime | None = None, until: datetime | None = None) -> dict:
        """Returns the dashboard's figures over ``[since, until)`` (default: 30 days).

        Returns:
            ``questions``; ``per_day`` (``day``, ``channel``, ``questions``);
            ``top_procedures`` (``code``, ``count``, at most 10); ``fallback_rate``;
            ``thumbs_down_rate`` (of answers); ``ratings`` (``up``, ``down``);
            ``median_response_ms`` (``None`` without replies); ``set_aside`` (events the
            log could not take, see :meth:`set_aside`).
        """
        until = until or datetime.now(timezone.utc).replace(tzinfo=None) + timedelta(seconds=1)
        since = since or until - timedelta(days=30)
        t = turns_table
        window = sa.and_(t.c.asked_at >= since, t.c.asked_at < until, t.c.outcome != "feedback")

        def work(conn: sa.engine.Connection) -> dict:
            rows = conn.execute(
                sa.select(t.c.asked_at, t.c.channel, t.c.outcome, t.c.rating, t.c.response_ms)
                .where(window)
                .order_by(t.c.asked_at)
            ).all()
            top = conn.execute(
                sa.select(t.c.procedure_code, sa.func.count().label("n"))
                .where(window, t.c.procedure_code.is_not(None))
                .group_by(t.c.procedure_code)
                .order_by(sa.desc("n"), t.c.procedure_code)
                .limit(10)
            ).all()
            set_aside = conn.execute(
                sa.select(sa.func.count())
                .select_from(set_aside_table)
                .where(set_aside_table.c.at >= since, set_aside_table.c.at < until)
            ).scalar()
            return {"rows": rows, "top": top, "set_aside": int(set_aside or 0)}

        data = self._run(work)
        per_day: dict[tuple[str, str], int] = {}
        outcomes: dict[str, int] = {}
        ratings = {"up": 0, "down": 0}
        times = []
        for asked_at, channel, outcome, rating, response_ms in data["rows"]:
            key = (asked_at.date().isoformat(), channel or "")
            per_day[key] = per_day.get(key, 0) + 1
            outcomes[outcome] = outcomes.get(outcome, 0) + 1
            if rating in ratings:
                ratings[rating] += 1
            if response_ms is not None:
                times.append(response_ms)
        questions = len(data["rows"])
        answers = outcomes.get("answer", 0)
        return {
            "since": since.isoformat(timespec="seconds"),
            "until": until.isoformat(timespec="seconds"),
            "questions": questions,
            "per_day": [
                {"day": day, "channel": channel, "questions": n}
                for (day, channel), n in sorted(per_day.items())
            ],
            "outcomes": outcomes,
            "top_procedures": [{"code": code, "count": n} for code, n in data["top"]],
            "fallback_rate": round(outcomes.get("fallback", 0) / questions, 4)
            if questions
            else 0.0,
            "thumbs_down_rate": round(ratings["down"] / answers, 4) if answers else 0.0,
            "ratings": ratings,
            "median_response_ms": float(statistics.median(times)) if times else None,
            "set_aside": data["set_aside"],
        }

    def reachable(self) -> bool:
        """Whether the database answers now (tells a bad event from a dead database)."""
        try:
            self._run(lambda c: c.execute(sa.text("SELECT 1")).scalar())
        except StoreUnavailable:
            return False
        return True

    def set_aside(self, event: dict[str, Any], reason: str) -> None:
        """Records that ``event`` could not be written (who and why, never its content).

        Args:
            event: The event the log could not take.
            reason: The error, in one line.
        """
        row = {
            "at": datetime.now(timezone.utc).replace(tzinfo=None),
            "sender": pseudonym(str(event.get("sender_id") if isinstance(event, dict) else "")),
            "reason": clean_text(reason)[:200],
        }
        self._run(lambda c: c.execute(set_aside_table.insert(), [row]), write=True)

    def set_aside_count(self, since: datetime | None = None) -> int:
        """How many events were set aside (since ``since``)."""
        query = sa.select(sa.func.count()).select_from(set_aside_table)
        if since is not None:
            query = query.where(set_aside_table.c.at >= since)
        return int(self._run(lambda c: c.execute(query).scalar()) or 0)

    def count(self) -> int:
        """Returns the number of turns stored."""
        return self._run(
            lambda c: c.execute(sa.select(sa.func.count()).select_from(turns_table)).scalar()
        )
