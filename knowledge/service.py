"""Wiring: the catalogue database, the saved FAISS index and the search over both.

``open_search`` is what the CLI and the action server call: it seeds an empty
database from the bundled sample, brings the saved index up to date (embedding
only procedures that changed) and returns a ready :class:`ProcedureSearch`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

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
