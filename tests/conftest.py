"""Shared fixtures: a six-procedure catalogue, isolated settings and paths to ../shared."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from knowledge.catalogue import parse_catalogue_json
from knowledge.schema import Procedure
from knowledge.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parent / "fixtures"
SHARED = ROOT.parent / "shared"
PORTAL_EXPORT = SHARED / "data" / "dichvucong" / "procedures.jsonl.gz"
DEV_QUESTIONS = SHARED / "eval" / "dev_questions.jsonl"


@pytest.fixture(scope="session")
def mini_catalogue() -> list[Procedure]:
    procedures, errors = parse_catalogue_json(
        json.loads((FIXTURES / "mini_catalogue.json").read_text("utf-8"))
    )
    assert not errors
    return procedures


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings on a fresh SQLite file and index folder, with the tiny hashing embedder."""
    return Settings.from_env({"MOTCUA_HOME": str(tmp_path), "MOTCUA_EMBEDDING_MODEL": "hashing"})


@pytest.fixture(scope="session")
def portal_export() -> Path:
    if not PORTAL_EXPORT.exists():
        pytest.fail(
            f"the national export is expected at {PORTAL_EXPORT} (../shared beside the repo)"
        )
    return PORTAL_EXPORT
