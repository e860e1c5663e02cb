"""Wiring: the catalogue database, the saved FAISS index and the search over both.

``open_search`` is what the CLI and the action server call: it seeds an empty
database from the bundled sample, brings the saved index up to date (embedding
only procedures that changed) and returns a ready :class:`ProcedureSearch`.

In a cluster (``motcua serve``) the index is built once instead of once per action
server: :class:`IndexPublisher` (``motcua index watch``, one process) follows the
database and publishes a new :class:`~knowledge.index.IndexVersions` version after
each import or edit, and every action server opens a :class:`VersionedSearch`, which
loads the current version read-only and moves to the next one within a second, never
embedding the catalogue itself.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from infra.settings import Settings, get_settings
from knowledge.catalogue import CatalogueStore, catalogue_fingerprint
from knowledge.embeddings import Embedder, make_embedder
from knowledge.index import DenseIndex, IndexVersions, SyncReport, VersionManifest
from knowledge.ranker import load_bundled_ranker
from knowledge.search import ProcedureSearch, SearchWeights, embedding_key, text_for

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
    search = ProcedureSearch(procedures, embedder, index, weights, load_bundled_ranker())
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


def _embedder(settings: Settings) -> Embedder | None:
    return make_embedder(
        settings.embedding_model, settings.threads, settings.embedding_text or None
    )


class IndexPublisher:
    """The one writer of index versions: publishes a version whenever the catalogue changed.

    It keeps the catalogue and the vectors in memory, so a staff edit re-reads and
    re-embeds one procedure, then writes a version (the vectors, a manifest, and the
    record of each procedure whose content is new).

    Args:
        settings: Settings (``index_dir`` is where the versions go).
        store: An open catalogue store (default: one on ``settings.database_url``).
        embedder: The embedding model (default: the one in ``settings``; ``None`` when the
            settings say ``none``).
    """

    _UNSET = object()

    def __init__(
        self,
        settings: Settings | None = None,
        store: CatalogueStore | None = None,
        embedder: Embedder | None | object = _UNSET,
    ) -> None:
        self.settings = settings or get_settings()
        self.store = store or CatalogueStore(self.settings.database_url)
        self.versions = IndexVersions(self.settings.index_dir)
        self.embedder = _embedder(self.settings) if embedder is self._UNSET else embedder
        self._procedures: dict = {}
        self._hashes: dict[str, str] = {}
        self._index: DenseIndex | None = None

    def _key(self) -> str | None:
        return embedding_key(self.embedder) if self.embedder is not None else None

    def _load_catalogue(self, stored: dict[str, str]) -> tuple[list[str], list[str]]:
        """Brings the in-memory catalogue up to ``stored``; returns (changed, removed) codes."""
        changed = sorted(c for c, h in stored.items() if self._hashes.get(c) != h)
        removed = sorted(set(self._procedures) - set(stored))
        for code in removed:
            del self._procedures[code]
            del self._hashes[code]
        if len(changed) > 200 or not self._procedures:
            self._procedures = {p.code: p for p in self.store.all()}
            self._hashes = {c: p.content_hash() for c, p in self._procedures.items()}
            return changed, removed
        for code in changed:
            procedure = self.store.get(code)
            if procedure is None:  # deleted since the hashes were read
                self._procedures.pop(code, None)
                self._hashes.pop(code, None)
            else:
                self._procedures[code] = procedure
                self._hashes[code] = procedure.content_hash()
        return changed, removed

    def _start_index(self, current: VersionManifest | None) -> DenseIndex:
        key = self._key()
        if current is not None and current.model == key:
            loaded = self.versions.dense(current.name)
            if loaded is not None and loaded.model == key:
                return loaded
        return DenseIndex(self.embedder.dim, key)

    def _update_index(self, changed: list[str], removed: list[str]) -> None:
        if self._index is None:  # first time: reuse the current version's vectors
            self._index = self._start_index(self.versions.manifest())
            procedures = list(self._procedures.values())
            report = self._index.sync(procedures, self.embedder, text_for(self.embedder))
            changed, removed = report.embedded, report.removed
        else:
            self._index.remove(removed)
            todo = [self._procedures[c] for c in changed if c in self._procedures]
            text_of = text_for(self.embedder)
            for start in range(0, len(todo), 256):
                part = todo[start : start + 256]
                vectors = self.embedder.encode([text_of(p) for p in part])
                self._index.upsert(
                    [p.code for p in part], vectors, [self._hashes[p.code] for p in part]
                )
        if changed or removed:
            logger.info("index: %d embedded, %d removed", len(changed), len(removed))

    def publish_if_changed(self, *, force: bool = False) -> VersionManifest | None:
        """Publishes a version when the database differs from the current one.

        Args:
            force: Publish even when nothing changed.

        Returns:
            The new version's manifest, or ``None`` when the current one is up to date.
        """
        self.store.ensure_seeded()
        stored = self.store.hashes()
        current = self.versions.manifest()
        if (
            not force
            and current is not None
            and current.fingerprint == catalogue_fingerprint(stored)
            and current.model == self._key()
        ):
            return None
        changed, removed = self._load_catalogue(stored)
        if self.embedder is not None:
            self._update_index(changed, removed)
        procedures = [self._procedures[c] for c in sorted(self._procedures)]
        return self.versions.publish(
            procedures,
            self._index,
            fingerprint=catalogue_fingerprint(self._hashes),
            hashes=self._hashes,
        )

    def watch(self, interval_s: float = 1.0, stop: threading.Event | None = None, log=None) -> None:
        """Publishes a version after every change until ``stop`` is set.

        A failed check (database down) is logged and retried at the next interval.
        """
        stop = stop or threading.Event()
        while not stop.is_set():
            try:
                manifest = self.publish_if_changed()
                if manifest is not None and log is not None:
                    log(
                        f"motcua index: {manifest.name} published "
                        f"({len(manifest.hashes)} procedures, catalogue {manifest.fingerprint})"
                    )
            except Exception:
                logger.exception("index publish failed; retrying")
            stop.wait(interval_s)


class IndexNotPublished(RuntimeError):
    """No index version was published (``motcua index publish`` or ``watch`` first)."""


class VersionedSearch:
    """A read-only search over the published index versions (one per action server).

    The search answers from the version it loaded; at most once per ``interval_s`` it
    reads the ``CURRENT`` pointer, and when a newer version is there it applies only
    the procedures whose content changed (records and vectors come from the version,
    nothing is embedded). A version it cannot read is skipped; it keeps answering.

    Args:
        versions: The published versions.
        embedder: The model that embeds questions; it must match the versions' model.
        weights: Fusion weights.
        interval_s: At most one pointer check per this many seconds.
        clock: Monotonic clock (tests pass their own).
    """

    def __init__(
        self,
        versions: IndexVersions,
        embedder: Embedder | None,
        weights: SearchWeights | None = None,
        interval_s: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.versions = versions
        self.embedder = embedder
        self.weights = weights
        self.manifest: VersionManifest | None = None
        self._search: ProcedureSearch | None = None
        self._interval = interval_s
        self._clock = clock
        self._checked = clock()
        if not self.refresh():
            raise IndexNotPublished(
                f"no index version under {versions.root}: run `motcua index publish`"
            )

    @classmethod
    def open(cls, settings: Settings | None = None, *, wait_s: float = 0.0) -> VersionedSearch:
        """Opens the current version, waiting up to ``wait_s`` for one to be published."""
        settings = settings or get_settings()
        versions = IndexVersions(settings.index_dir)
        deadline = time.monotonic() + wait_s
        while versions.current_name() is None and time.monotonic() < deadline:
            time.sleep(0.5)
        return cls(versions, _embedder(settings))

    @property
    def version(self) -> str | None:
        """The loaded version's name."""
        return self.manifest.name if self.manifest else None

    @property
    def search(self) -> ProcedureSearch:
        """The search, moved to a newer version first when the interval has passed."""
        if self._clock() - self._checked >= self._interval:
            try:
                self.refresh()
            except Exception:
                logger.exception("index version refresh failed; answering from memory")
        return self._search

    def refresh(self) -> bool:
        """Loads the current version if it is not the loaded one; returns whether it did."""
        self._checked = self._clock()
        name = self.versions.current_name()
        if name is None or name == self.version:
            return False
        manifest = self.versions.manifest(name)
        if manifest is None:
            return False
        key = embedding_key(self.embedder) if self.embedder is not None else None
        dense = None
        if manifest.model is not None and self.embedder is not None:
            if manifest.model != key:
                logger.error(
                    "index version %s was built with %s, this server embeds with %s: " "keeping %s",
                    name,
                    manifest.model,
                    key,
                    self.version,
                )
                return False
            dense = self.versions.dense(name)
            if dense is None:
                return False
        old = self.manifest.hashes if self.manifest else {}
        changed = [c for c, h in manifest.hashes.items() if old.get(c) != h]
        removed = sorted(set(old) - set(manifest.hashes))
        procedures = self.versions.records(manifest, changed)
        embedder = self.embedder if dense is not None else None
        if self._search is None:
            self._search = ProcedureSearch(
                procedures, embedder, dense, self.weights, load_bundled_ranker()
            )
        else:
            # The version's vectors replace the old ones whole: detach the dense index so
            # that apply() updates the lexical side only (it would embed otherwise).
            self._search.dense_index = None
            self._search.apply(procedures, removed)
            self._search.embedder = embedder
            self._search.dense_index = dense
        self.manifest = manifest
        logger.info(
            "index version %s loaded: %d changed, %d removed", name, len(changed), len(removed)
        )
        return True
