"""Wiring: the catalogue database, the saved FAISS index and the search over both.

``open_search`` is what the CLI and the action server call: it seeds an empty
database from the bundled sample, brings the saved index up to date (embedding
only procedures that changed) and returns a ready :class:`ProcedureSearch`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from knowledge.catalogue import CatalogueStore
from knowledge.embeddings import make_embedder
from knowledge.index import DenseIndex, SyncReport
from knowledge.search import ProcedureSearch, SearchWeights, embedding_key, text_for
from knowledge.settings import Settings, get_settings

logger = logging.getLogger(__name__)


@dataclass
class OpenedSearch:
    """A ready search and how its index was brought up to date."""

    search: ProcedureSearch
    store: CatalogueStore
    sync: SyncReport | None


def open_search(
    settings: Settings | None = None,
    store: CatalogueStore | None = None,
    *,
    weights: SearchWeights | None = None,
    progress: bool = False,
    force_rebuild: bool = False,
) -> OpenedSearch:
    """Opens the catalogue and its index, building or refreshing the index when stale.

    Args:
        settings: Settings (default: from the environment).
        store: An open catalogue store (default: one on ``settings.database_url``).
        weights: Fusion weights (default: the tuned ones).
        progress: Show a progress bar while embedding.
        force_rebuild: Ignore the saved index and embed everything again.

    Returns:
        The search, the store and what the index sync did.

    Raises:
        knowledge.catalogue.CatalogueUnavailable: When the database cannot be read.
    """
    settings = settings or get_settings()
    store = store or CatalogueStore(settings.database_url)
    store.ensure_seeded()
    procedures = store.all()
    embedder = make_embedder(
        settings.embedding_model, settings.threads, settings.embedding_text or None
    )
    index = None
    report = None
    if embedder is not None:
        key = embedding_key(embedder)
        index = None if force_rebuild else DenseIndex.load(settings.index_dir)
        rebuilt = False
        if index is None or index.model != key:
            if index is not None:
                logger.info("index was built with %s, now %s: rebuilding", index.model, key)
            index = DenseIndex(embedder.dim, key)
            rebuilt = True
        report = index.sync(procedures, embedder, text_for(embedder), progress=progress)
        report.rebuilt = rebuilt
        if report.changed:
            index.save(settings.index_dir)
            logger.info(
                "index %s: %d embedded, %d removed (version %d)",
                settings.index_dir,
                len(report.embedded),
                len(report.removed),
                index.version,
            )
    search = ProcedureSearch(procedures, embedder, index, weights)
    return OpenedSearch(search, store, report)


@dataclass
class RefreshReport:
    """What :meth:`LiveSearch.refresh` took from the database."""

    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)


class LiveSearch:
    """Keeps an open search in step with the catalogue database, without a restart.

    An import (``motcua catalogue import``) or an edit made by another process is seen
    at the next refresh: the content hashes are compared (one small query), and only
    the procedures that changed are re-read, re-indexed and re-embedded.

    Args:
        opened: What :func:`open_search` returned.
        interval_s: At most one database check per this many seconds.
        clock: Monotonic clock (tests pass their own).
    """

    def __init__(
        self,
        opened: OpenedSearch,
        interval_s: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = opened.store
        self._search = opened.search
        self._hashes = {code: p.content_hash() for code, p in self._search.procedures()}
        self._interval = interval_s
        self._clock = clock
        self._checked = clock()

    @property
    def search(self) -> ProcedureSearch:
        """The search, refreshed first when the interval has passed."""
        if self._clock() - self._checked >= self._interval:
            try:
                self.refresh()
            except Exception:  # a dead database must not stop answers from memory
                logger.exception("catalogue refresh failed; answering from memory")
        return self._search

    def refresh(self) -> RefreshReport:
        """Applies every change made in the database since the last refresh."""
        self._checked = self._clock()
        stored = self.store.hashes()
        report = RefreshReport(
            changed=sorted(c for c, h in stored.items() if self._hashes.get(c) != h),
            removed=sorted(set(self._hashes) - set(stored)),
        )
        if report.changed or report.removed:
            procedures = [p for p in (self.store.get(c) for c in report.changed) if p]
            self._search.apply(procedures, report.removed)
            self._hashes = stored
            logger.info(
                "catalogue refreshed: %d changed, %d removed",
                len(report.changed),
                len(report.removed),
            )
        return report
