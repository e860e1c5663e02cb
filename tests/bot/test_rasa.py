"""The Rasa project itself: data validation and the end-to-end test stories.

`rasa test core --fail-on-prediction-errors` replays tests/stories (Vietnamese with
and without diacritics, English) against the trained model: every intent and every
predicted action must match.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.model import CONFIG, DOMAIN, TRAINING_DATA, train
from infra.settings import ROOT, read

pytestmark = pytest.mark.slow


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        TF_CPP_MIN_LOG_LEVEL="2",
        SQLALCHEMY_SILENCE_UBER_WARNING="1",
        RASA_TELEMETRY_ENABLED="false",
    )
    return env


def _rasa(*args: str, timeout: float = 900) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "rasa", *args],
        cwd=ROOT,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def test_training_data_validates():
    result = _rasa(
        "data", "validate", "--config", str(CONFIG), "--domain", str(DOMAIN),
        "--data", *(str(p) for p in TRAINING_DATA),
    )  # fmt: skip
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]


@pytest.fixture(scope="module")
def model() -> Path:
    return train(read()["MOTCUA_MODELS_DIR"], log=lambda _: None)


def _story_messages():
    """Yields (story, text, intent, entities) for every user turn of tests/stories."""
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import UserUttered
    from rasa.shared.core.training_data.story_reader.yaml_story_reader import (
        YAMLStoryReader,
    )

    domain = Domain.load(str(DOMAIN))
    for path in sorted((ROOT / "tests" / "stories").glob("*.yml")):
        for step in YAMLStoryReader(domain).read_from_file(path):
            for event in step.events:
                if isinstance(event, UserUttered) and event.text:
                    entities = {(e["entity"], e["value"]) for e in event.entities}
                    yield step.block_name, event.text, event.intent_name, entities


async def test_every_test_story_message_gets_its_intent_and_entities(model: Path):
    """The NLU half of the end-to-end stories (``rasa test core`` checks the actions).

    ``rasa test --e2e`` cannot be used as is: the LanguageDetector tags whole messages with
    a ``language`` entity that stories cannot annotate next to a dossier code.
    """
    from rasa.core.agent import load_agent

    agent = await load_agent(model_path=str(model))
    mistakes = []
    messages = list(_story_messages())
    assert len(messages) >= 30
    for story, text, intent, entities in messages:
        parsed = await agent.parse_message(text)
        got_intent = parsed["intent"]["name"]
        got = {(e["entity"], str(e["value"])) for e in parsed["entities"]}
        got = {e for e in got if e[0] != "language"}
        if got_intent != intent or not entities <= got:
            mistakes.append(f"{story}: {text!r} -> {got_intent} {sorted(got)}")
    assert not mistakes, "\n".join(mistakes)


def test_end_to_end_stories_pass_without_prediction_errors(model: Path, tmp_path: Path):
    result = _rasa(
        "test", "core", "--model", str(model), "--stories", str(ROOT / "tests" / "stories"),
        "--fail-on-prediction-errors", "--out", str(tmp_path / "results"),
    )  # fmt: skip
    assert result.returncode == 0, (result.stdout + result.stderr)[-4000:]
