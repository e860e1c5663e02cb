"""The dialogue model: its training data's fingerprint, its file name, training it.

A model's file name carries a fingerprint of everything it is trained from (config,
domain, NLU data, rules, stories and the custom NLU components), so ``motcua run`` and
``motcua serve`` train only when that changed.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
import time
from collections.abc import Iterable
from pathlib import Path

from bot.errors import RunError
from bot.plan import ROOT, child_env

CONFIG = ROOT / "config.yml"
DOMAIN = ROOT / "bot" / "domain"
TRAINING_DATA = (ROOT / "nlu", ROOT / "bot" / "rules", ROOT / "bot" / "stories")


def _files(paths: Iterable[Path]) -> list[Path]:
    out: list[Path] = []
    for path in paths:
        if path.is_dir():
            out += sorted(p for p in path.rglob("*") if p.suffix in (".yml", ".yaml", ".py"))
        elif path.exists():
            out.append(path)
    return out


def training_fingerprint() -> str:
    """Returns a hash of everything the dialogue model is trained from."""
    digest = hashlib.sha256()
    sources = _files([CONFIG, DOMAIN, *TRAINING_DATA, ROOT / "nlu" / "components.py"])
    for path in sources:
        digest.update(str(path.relative_to(ROOT)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def model_path(models_dir: Path) -> Path:
    """Returns where the model for the current training data lives."""
    return models_dir / f"motcua-{training_fingerprint()}.tar.gz"


def train(models_dir: Path, *, force: bool = False, log=print) -> Path:
    """Trains the dialogue model unless one for the current data exists.

    Args:
        models_dir: Where models are kept.
        force: Train even when a model for this data exists.
        log: Where progress lines go.

    Returns:
        The model file.

    Raises:
        RunError: When training fails (with the end of its output).
    """
    target = model_path(models_dir)
    if target.exists() and not force:
        return target
    models_dir.mkdir(parents=True, exist_ok=True)
    log(f"motcua: training the dialogue model ({target.name}); this takes a few minutes…")
    started = time.monotonic()
    command = [
        sys.executable, "-m", "rasa", "train",
        "--config", str(CONFIG),
        "--domain", str(DOMAIN),
        "--data", *(str(p) for p in TRAINING_DATA),
        "--out", str(models_dir),
        "--fixed-model-name", target.name.removesuffix(".tar.gz"),
    ]  # fmt: skip
    result = subprocess.run(
        command, cwd=ROOT, env=child_env(), capture_output=True, text=True, check=False
    )
    if result.returncode != 0 or not target.exists():
        tail = "\n".join((result.stdout + result.stderr).splitlines()[-20:])
        raise RunError(f"training failed (exit {result.returncode}):\n{tail}")
    log(f"motcua: model trained in {time.monotonic() - started:.0f} s")
    return target
