"""``python -m bot.prepare``: the launcher's preparing step, in a child process of its own.

Seeds an empty catalogue with the built-in one (and builds its search index with
``--index``), seeds the demo dossiers into an empty dossier table with ``--demo``, and
writes the channels' ``credentials.yml`` (the channel modules import Rasa). Running it as a
child keeps torch, the embedding model, the catalogue and Rasa out of the launcher, which
then only supervises (about 60 MB instead of 1.2 GB).

Prints ``motcua: …`` progress lines, then one JSON line: ``{"channels": [...]}``. A
database that cannot be reached is one line on stderr and exit status 1.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from bot.render import write_credentials
from desk.demo import seed_demo
from desk.dossiers import DossierStore
from infra.db import StoreUnavailable
from infra.settings import get_settings
from knowledge.catalogue import CatalogueStore


def prepare(*, index: bool, demo: bool, credentials: Path, log=print) -> list[str]:
    """Prepares the data and the credentials file; returns the channel names enabled."""
    settings = get_settings()
    if index:
        from knowledge.service import open_search  # torch and the model: only to build

        opened = open_search(settings)
        count, where = len(opened.search), opened.store._safe_url()
    else:
        store = CatalogueStore(settings.database_url)
        store.ensure_seeded()
        count, where = store.count(), store._safe_url()
        store.dispose()
    log(f"motcua: catalogue ready, {count} procedures ({where})")
    if demo:
        added = seed_demo(DossierStore(settings.database_url))
        if added:
            log(f"motcua: seeded {added} demo dossiers (e.g. 000.00.20.H26-251103-0042)")
    return write_credentials(credentials, os.environ)


def main(argv: list[str] | None = None) -> int:
    """Runs the preparing step; returns an exit status."""
    parser = argparse.ArgumentParser(prog="python -m bot.prepare")
    parser.add_argument("--index", action="store_true", help="build the search index too")
    parser.add_argument("--demo", action="store_true", help="seed the demo dossiers if empty")
    parser.add_argument("--credentials", required=True, help="where to write credentials.yml")
    args = parser.parse_args(argv)
    try:
        channels = prepare(
            index=args.index,
            demo=args.demo,
            credentials=Path(args.credentials),
            log=lambda line: print(line, flush=True),
        )
    except StoreUnavailable as exc:
        print(str(exc), file=sys.stderr)
        return 1
    print(json.dumps({"channels": channels}))
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
