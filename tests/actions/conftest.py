"""Action tests: trackers from JSON snapshots named for their state, run against real stores."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.runtime import Runtime, set_runtime
from infra.settings import Settings

TRACKERS = Path(__file__).resolve().parent / "trackers"


def load_tracker(name: str) -> Tracker:
    return Tracker.from_dict(json.loads((TRACKERS / f"{name}.json").read_text("utf-8")))


@pytest.fixture
def runtime(tmp_path):
    """A runtime on a fresh SQLite database seeded from the bundled sample catalogue."""
    settings = Settings.from_env(
        {"MOTCUA_HOME": str(tmp_path), "MOTCUA_EMBEDDING_MODEL": "hashing"}
    )
    rt = Runtime(settings)
    set_runtime(rt)
    yield rt
    set_runtime(None)


async def run_action(action, tracker_name: str):
    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, load_tracker(tracker_name), {})
    return dispatcher.messages, {e["name"]: e["value"] for e in events if e["event"] == "slot"}
