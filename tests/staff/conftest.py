"""Staff console fixtures: a console on a fresh SQLite file, accounts, conversation events."""

from __future__ import annotations

import pytest

from staff.console import Console
from staff.settings import StaffSettings

T0 = 1_764_600_000.0  # 2025-12-01 14:40 UTC
PASSWORD = "correct horse battery"


def events(
    sender: str,
    text: str,
    *,
    ts: float = T0,
    intent: str = "ask_fee",
    confidence: float = 0.95,
    code: str | None = None,
    fallback: bool = False,
    channel: str = "rest",
    reply: str = "…",
) -> list[dict]:
    """Rasa broker events of one turn: the message, the action, slots, the reply."""
    out = [
        {
            "event": "user",
            "timestamp": ts,
            "text": text,
            "input_channel": channel,
            "parse_data": {"intent": {"name": intent, "confidence": confidence}, "entities": []},
        },
        {
            "event": "action",
            "timestamp": ts + 0.01,
            "name": "action_default_fallback" if fallback else "action_answer_procedure",
        },
        {"event": "slot", "timestamp": ts + 0.02, "name": "language", "value": "vi"},
    ]
    if code:
        out.append(
            {"event": "slot", "timestamp": ts + 0.02, "name": "procedure_code", "value": code}
        )
    out.append({"event": "bot", "timestamp": ts + 0.04, "text": reply})
    return [{"sender_id": sender, **e} for e in out]


def feedback(sender: str, rating: str, ts: float) -> list[dict]:
    """The 👍/👎 button's message."""
    return [
        {
            "sender_id": sender,
            "event": "user",
            "timestamp": ts,
            "text": f'/feedback{{"rating":"{rating}"}}',
            "input_channel": "rest",
            "parse_data": {
                "intent": {"name": "feedback", "confidence": 1.0},
                "entities": [{"entity": "rating", "value": rating}],
            },
        }
    ]


@pytest.fixture
def staff_settings(tmp_path) -> StaffSettings:
    return StaffSettings(database_url=f"sqlite:///{tmp_path / 'motcua.db'}", login_limit=1000)


@pytest.fixture
def console(staff_settings):
    c = Console(staff_settings)
    c.prepare()
    yield c
    c.close()


@pytest.fixture
def editor(console):
    return console.create_user("cli", "lan", PASSWORD, "editor")


@pytest.fixture
def admin(console):
    return console.create_user("cli", "root", PASSWORD, "admin")
