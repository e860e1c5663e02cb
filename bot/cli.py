"""The ``motcua`` command line.

Usage examples::

    motcua run                                  # the main job on embedded defaults
    motcua search "làm lại căn cước bị mất cần gì" --k 5
    motcua catalogue import ../shared/data/dichvucong/procedures.jsonl.gz
    motcua catalogue show 1.001193 --json
    motcua index build
    motcua eval retrieval --questions ../shared/eval/dev_questions.jsonl

Heavy modules (SQLAlchemy, FAISS, torch) are imported inside the commands that
need them, so ``motcua --help`` answers at once.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

logger = logging.getLogger("motcua")


class CliError(Exception):
    """A failure to report in one line, without a traceback."""


def _quiet_libraries() -> None:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    for noisy in ("sentence_transformers", "faiss", "httpx", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def _open_search(args: argparse.Namespace, *, progress: bool = False):
    from knowledge.service import open_search

    return open_search(progress=progress, force_rebuild=getattr(args, "force", False))


def _print_hits(result, as_json: bool) -> None:
    if as_json:
        print(json.dumps(result.to_dict(), ensure_ascii=False, indent=1))
        return
    if not result.hits:
        print("No matching procedure. Try other words, e.g. 'đăng ký khai sinh'.")
        return
    verdict = "confident" if result.confident else "not sure: offer these as choices"
    print(f"[{result.query.language}] {verdict} (confidence {result.confidence:.2f})")
    for n, hit in enumerate(result.hits, 1):
        english = f" / {hit.name_en}" if hit.name_en else ""
        print(f"{n}. {hit.code}  {hit.name}{english}  (score {hit.score:.3f})")
        if hit.url:
            print(f"   {hit.url}")


def cmd_search(args: argparse.Namespace) -> int:
    """Searches the catalogue and prints ranked procedures."""
    text = " ".join(args.text).strip()
    if not text:
        raise CliError('give a question, e.g. motcua search "làm hộ chiếu cần gì"')
    opened = _open_search(args)
    _print_hits(opened.search.search(text, args.k), args.json)
    return 0


def _read_catalogue_file(path: Path):
    """Returns ``(procedures, errors)`` from an official export or a file in our own schema."""
    from knowledge.catalogue import parse_catalogue_json

    if not path.exists():
        raise CliError(f"no such file: {path}")
    if path.suffix == ".json":
        try:
            data = json.loads(path.read_text("utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise CliError(f"cannot read {path}: {exc}") from exc
        records = data.get("procedures", []) if isinstance(data, dict) else data
        if records and isinstance(records[0], dict) and "code" in records[0]:
            return parse_catalogue_json(data)
    from knowledge.importers.portal import load_portal_file

    report = load_portal_file(path, progress=sys.stderr.isatty())
    return report.procedures, report.errors


def cmd_catalogue_import(args: argparse.Namespace) -> int:
    """Loads an official export (or a catalogue in our schema) into the database."""
    from knowledge.catalogue import CatalogueStore, enrich, load_sample_catalogue
    from knowledge.settings import get_settings

    procedures, errors = _read_catalogue_file(Path(args.path))
    curated = {p.code: p for p in load_sample_catalogue()}
    procedures = [enrich(p, curated.get(p.code)) for p in procedures]
    store = CatalogueStore(get_settings().database_url)
    sources = {p.source for p in procedures}
    replace = sources.pop() if args.replace and len(sources) == 1 else None
    report = store.upsert(procedures, replace_source=replace)
    report.errors = errors
    for code, reason in errors[:50]:
        print(f"skipped {code}: {reason}", file=sys.stderr)
    if len(errors) > 50:
        print(f"... and {len(errors) - 50} more skipped records", file=sys.stderr)
    summary = {"file": str(args.path), "read": len(procedures), **report.summary()}
    print(json.dumps(summary, ensure_ascii=False))
    if not args.no_index:
        opened = _open_search(args, progress=sys.stderr.isatty())
        if opened.sync is not None:
            print(
                json.dumps(
                    {
                        "index_embedded": len(opened.sync.embedded),
                        "index_removed": len(opened.sync.removed),
                    }
                )
            )
    return 0 if procedures else 1


def cmd_catalogue_show(args: argparse.Namespace) -> int:
    """Prints one stored procedure."""
    from knowledge.catalogue import CatalogueStore
    from knowledge.settings import get_settings

    store = CatalogueStore(get_settings().database_url)
    store.ensure_seeded()
    procedure = store.get(args.code.strip())
    if procedure is None:
        raise CliError(f"no procedure with code {args.code!r} (codes look like 1.001193)")
    if args.json:
        print(json.dumps(procedure.to_dict(), ensure_ascii=False, indent=1))
        return 0
    print(f"{procedure.code}  {procedure.name}")
    if procedure.name_en:
        print(f"  {procedure.name_en}")
    for channel in procedure.channels:
        print(
            f"  - {channel.channel}: {channel.processing_time.text or '?'}; "
            f"fee: {channel.fee.text or '?'}"
        )
    for doc in procedure.documents:
        print(f"  * {doc.name}")
    if procedure.url:
        print(f"  {procedure.url}")
    return 0


def cmd_catalogue_stats(args: argparse.Namespace) -> int:
    """Prints how many procedures the database holds and its fingerprint."""
    from knowledge.catalogue import CatalogueStore
    from knowledge.settings import get_settings

    settings = get_settings()
    store = CatalogueStore(settings.database_url)
    store.ensure_seeded()
    print(
        json.dumps(
            {
                "database": store._safe_url(),
                "procedures": store.count(),
                "fingerprint": store.fingerprint(),
            }
        )
    )
    return 0


def cmd_index_build(args: argparse.Namespace) -> int:
    """Brings the dense index up to date (or rebuilds it with --force)."""
    opened = _open_search(args, progress=sys.stderr.isatty())
    sync = opened.sync
    print(
        json.dumps(
            {
                "procedures": len(opened.search),
                "embedded": len(sync.embedded) if sync else 0,
                "removed": len(sync.removed) if sync else 0,
                "model": opened.search.dense_index.model if opened.search.dense_index else None,
            }
        )
    )
    return 0


def cmd_eval_retrieval(args: argparse.Namespace) -> int:
    """Prints recall@1, recall@5 and MRR@10 of the search on labelled questions."""
    from knowledge.evaluate import evaluate, load_questions

    try:
        questions = load_questions(Path(args.questions))
    except (OSError, ValueError) as exc:
        raise CliError(str(exc)) from exc
    if args.catalogue:
        from knowledge.catalogue import enrich, load_sample_catalogue
        from knowledge.embeddings import make_embedder
        from knowledge.search import ProcedureSearch
        from knowledge.settings import get_settings

        procedures, errors = _read_catalogue_file(Path(args.catalogue))
        curated = {p.code: p for p in load_sample_catalogue()}
        procedures = [enrich(p, curated.get(p.code)) for p in procedures]
        settings = get_settings()
        embedder = make_embedder(
            settings.embedding_model, settings.threads, settings.embedding_text or None
        )
        search = ProcedureSearch(procedures, embedder)
    else:
        search = _open_search(args).search
    result = evaluate(questions, lambda q: [h.code for h in search.search(q, 10).hits])
    print(json.dumps(result, ensure_ascii=False))
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    """The main job: prepares the catalogue and index, then answers questions typed in."""
    opened = _open_search(args, progress=sys.stderr.isatty())
    print(
        f"motcua: {len(opened.search)} procedures ready "
        f"({opened.store._safe_url()}). Type a question, or Ctrl-D to quit.",
        file=sys.stderr,
    )
    for line in sys.stdin:
        if line.strip():
            _print_hits(opened.search.search(line, args.k), False)
            print()
    return 0


def build_parser() -> argparse.ArgumentParser:
    """Returns the argument parser of the ``motcua`` command."""
    parser = argparse.ArgumentParser(
        prog="motcua", description="motcua: the one-stop-shop assistant for public services."
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log more")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = sub.add_parser("run", help="prepare everything and answer questions typed in")
    run.add_argument("--k", type=int, default=3, help="candidates shown per question")
    run.set_defaults(func=cmd_run)

    search = sub.add_parser("search", help="find the procedure for a question")
    search.add_argument("text", nargs="+", help="the question")
    search.add_argument("--k", type=int, default=5, help="how many candidates")
    search.add_argument("--json", action="store_true", help="print JSON")
    search.set_defaults(func=cmd_search)

    catalogue = sub.add_parser("catalogue", help="the procedure catalogue database")
    csub = catalogue.add_subparsers(dest="catalogue_command", required=True, metavar="ACTION")
    imp = csub.add_parser("import", help="load an official export (.jsonl/.jsonl.gz) or a .json")
    imp.add_argument("path", help="file to import")
    imp.add_argument(
        "--replace", action="store_true", help="delete records of the same source not in the file"
    )
    imp.add_argument("--no-index", action="store_true", help="do not update the search index")
    imp.set_defaults(func=cmd_catalogue_import)
    show = csub.add_parser("show", help="print one procedure")
    show.add_argument("code", help="procedure code, e.g. 1.001193")
    show.add_argument("--json", action="store_true", help="print the normalised record as JSON")
    show.set_defaults(func=cmd_catalogue_show)
    stats = csub.add_parser("stats", help="count and fingerprint")
    stats.set_defaults(func=cmd_catalogue_stats)

    index = sub.add_parser("index", help="the dense search index")
    isub = index.add_subparsers(dest="index_command", required=True, metavar="ACTION")
    build = isub.add_parser("build", help="embed what changed since the last build")
    build.add_argument("--force", action="store_true", help="embed everything again")
    build.set_defaults(func=cmd_index_build)

    ev = sub.add_parser("eval", help="measure quality")
    esub = ev.add_subparsers(dest="eval_command", required=True, metavar="WHAT")
    retr = esub.add_parser("retrieval", help="recall@1/@5 and MRR@10 on labelled questions")
    retr.add_argument("--questions", required=True, help="JSON lines with q, gold, lang")
    retr.add_argument(
        "--catalogue", help="evaluate over this export instead of the database (not stored)"
    )
    retr.set_defaults(func=cmd_eval_retrieval)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Runs the ``motcua`` command; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    _quiet_libraries()
    from knowledge.catalogue import CatalogueUnavailable

    try:
        return args.func(args)
    except CliError as exc:
        print(f"motcua: {exc}", file=sys.stderr)
        return 1
    except CatalogueUnavailable as exc:
        print(f"motcua: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
