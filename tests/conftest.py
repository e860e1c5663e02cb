"""Shared fixtures: a six-procedure catalogue, isolated settings and paths to ../shared."""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa

from infra.settings import Settings
from knowledge.catalogue import parse_catalogue_json
from knowledge.schema import Procedure


def pytest_configure(config: pytest.Config) -> None:
    """One pseudonym key for the test process (no key file in the checkout's var/).

    Servers the tests start get a home of their own; those that should make their own key
    there (as the embedded default does) drop this variable from their environment.
    """
    os.environ.setdefault("MOTCUA_PSEUDONYM_KEY", "motcua-tests")


ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parent / "fixtures"
SHARED = ROOT.parent / "shared"
PORTAL_EXPORT = SHARED / "data" / "dichvucong" / "procedures.jsonl.gz"
DEV_QUESTIONS = SHARED / "eval" / "dev_questions.jsonl"
POSTGRES_ADMIN_URL = os.environ.get(
    "MOTCUA_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)


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


@pytest.fixture
def pg_url():
    """A fresh schema in the local PostgreSQL server, dropped afterwards.

    CI always runs PostgreSQL, so there a missing server fails the test; elsewhere it skips
    with the reason.
    """
    admin = sa.create_engine(POSTGRES_ADMIN_URL, future=True)
    schema = f"motcua_test_{uuid.uuid4().hex[:12]}"
    try:
        with admin.begin() as conn:
            conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    except sa.exc.OperationalError as exc:
        admin.dispose()
        reason = f"PostgreSQL is not running at {POSTGRES_ADMIN_URL}: {exc.__class__.__name__}"
        pytest.fail(reason) if os.environ.get("CI") else pytest.skip(reason)
    yield f"{POSTGRES_ADMIN_URL}?options=-csearch_path%3D{schema}"
    with admin.begin() as conn:
        conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()
