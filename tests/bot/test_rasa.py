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

from bot.runner import CONFIG, DOMAIN, ROOT, TRAINING_DATA, RunSettings, train
from knowledge.settings import Settings

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


def test_end_to_end_stories_pass_without_prediction_errors(tmp_path: Path):
    settings = RunSettings.from_env(Settings.from_env({"MOTCUA_HOME": str(tmp_path)}).home)
    model = train(settings.models_dir, log=lambda _: None)
    result = _rasa(
        "test", "core", "--model", str(model), "--stories", str(ROOT / "tests" / "stories"),
        "--fail-on-prediction-errors", "--out", str(tmp_path / "results"),
    )  # fmt: skip
    assert result.returncode == 0, (result.stdout + result.stderr)[-4000:]
