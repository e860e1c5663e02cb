"""The action server's long-lived objects, opened once on first use.

Actions call :func:`get_runtime`; the action server's entry point
(:mod:`actions.server`) calls :func:`warm_up` before it accepts requests, so the
first citizen does not wait for the catalogue, the index or the model.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from functools import cached_property

from infra.settings import Settings, get_settings
from knowledge.assistant import Assistant
from knowledge.service import LiveSearch, VersionedSearch, open_search

logger = logging.getLogger(__name__)


@dataclass
class Runtime:
    """Opened stores and search.

    Attributes:
        settings: The settings they were opened with.
    """

    settings: Settings

    @cached_property
    def live(self) -> LiveSearch | VersionedSearch:
        """The catalogue search, kept in step with the database (imports, edits).

        Embedded (one action server) it syncs and saves the index itself; with
        ``MOTCUA_INDEX_READONLY`` it loads the published index version read-only and
        follows newer versions (``motcua serve``: one indexer, many action servers).
        """
        if self.settings.index_readonly:
            live = VersionedSearch.open(self.settings, wait_s=120)
            logger.info(
                "index version %s loaded read-only: %d procedures",
                live.version,
                len(live.search),
            )
            return live
        opened = open_search(self.settings)
        logger.info("catalogue ready: %d procedures", len(opened.search))
        return LiveSearch(opened)

    def status(self) -> dict:
        """Returns what this server answers from (index version, procedure count)."""
        live = self.live
        search = live.search
        manifest = getattr(live, "manifest", None)
        return {
            "mode": "readonly" if self.settings.index_readonly else "embedded",
            "index_version": manifest.name if manifest else None,
            "catalogue_fingerprint": manifest.fingerprint if manifest else None,
            "procedures": len(search),
        }

    @property
    def assistant(self) -> Assistant:
        """The procedure assistant over the (refreshed) catalogue search."""
        return Assistant(self.live.search)

    @cached_property
    def db(self):
        """The one database (pool) the dossier, limit and hand-off stores share."""
        from infra.db import Database

        return Database(self.settings.database_url)

    @cached_property
    def dossiers(self):
        """The dossier store."""
        from desk.dossiers import DossierStore

        return DossierStore(self.db)

    @cached_property
    def lookups(self):
        """The dossier lookup guard: limits, second factor, refusal log (in the database)."""
        from desk.lookups import LookupGuard
        from infra.settings import read

        values = read()
        return LookupGuard(
            self.db,
            per_sender=values["MOTCUA_DOSSIER_LOOKUPS_PER_SENDER"],
            per_minute=values["MOTCUA_DOSSIER_LOOKUPS_PER_MINUTE"],
        )

    @cached_property
    def follows(self):
        """Who follows which dossier (notices of status changes)."""
        from desk.follows import FollowStore

        return FollowStore(self.db)

    @cached_property
    def handoffs(self):
        """The handoff request store."""
        from desk.handoffs import HandoffStore

        return HandoffStore(self.db)


_lock = threading.Lock()
_runtime: Runtime | None = None


def get_runtime() -> Runtime:
    """Returns the process-wide runtime, creating it on first call."""
    global _runtime
    with _lock:
        if _runtime is None:
            _runtime = Runtime(get_settings())
        return _runtime


def set_runtime(runtime: Runtime | None) -> None:
    """Replaces the process-wide runtime (tests use it to inject small fixtures)."""
    global _runtime
    with _lock:
        _runtime = runtime


def warm_up() -> None:
    """Opens everything and runs one English and one Vietnamese search (loads the model)."""
    runtime = get_runtime()
    runtime.assistant.search.search("passport renewal")
    runtime.assistant.search.search("đăng ký khai sinh")
    runtime.dossiers.count()
