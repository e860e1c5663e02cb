"""The ``motcua`` command line.

Usage examples::

    motcua run                                  # the main job: Rasa + action servers
    motcua serve [--demo]                       # production: replicas behind nginx
    motcua train [--force]                      # train the dialogue model if data changed
    motcua search "làm lại căn cước bị mất cần gì" --k 5
    motcua catalogue import ../shared/data/dichvucong/procedures.jsonl.gz
    motcua catalogue show 1.001193 --json
    motcua index build
    motcua eval retrieval --questions ../shared/eval/dev_questions.jsonl
    motcua dossiers seed --demo
    motcua dossiers show "000.00.20.h26 251103 0042" --json
    motcua dossiers list --status overdue
    motcua dossiers simulate 000.00.20.H26-251103-0042 done

Heavy modules (SQLAlchemy, FAISS, torch) are imported inside the commands that
need them, so ``motcua --help`` answers at once and the launcher (``run``, ``serve``)
never loads them.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path

from bot import launcher
from bot.errors import RunError
from bot.model import train as train_dialogue_model
from infra.settings import read

logger = logging.getLogger("motcua")


class CliError(Exception):
    """A failure to report in one line, without a traceback."""


def _quiet_libraries() -> None:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    for noisy in ("sentence_transformers", "faiss", "httpx", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    logging.getLogger("transformers").setLevel(logging.ERROR)  # a load report per start


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
    from infra.settings import get_settings
    from knowledge.catalogue import CatalogueStore, layer_all

    procedures, errors = _read_catalogue_file(Path(args.path))
    sources = {p.source for p in procedures}
    replace = sources.pop() if args.replace and len(sources) == 1 else None
    procedures = layer_all(procedures)
    store = CatalogueStore(get_settings().database_url)
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
    from infra.settings import get_settings
    from knowledge.catalogue import CatalogueStore

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
    from infra.settings import get_settings
    from knowledge.catalogue import CatalogueStore

    settings = get_settings()
    store = CatalogueStore(settings.database_url)
    store.ensure_seeded()
    stats = store.stats()
    if args.json:
        print(json.dumps({"database": store._safe_url(), **stats}))
        return 0
    print(f"database: {store._safe_url()}")
    for key, value in stats.items():
        print(f"{key}: {value}")
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
    from knowledge.evaluate import Ranking, evaluate, load_questions

    try:
        questions = load_questions(Path(args.questions))
    except (OSError, ValueError) as exc:
        raise CliError(str(exc)) from exc
    if args.catalogue:
        from knowledge.ranker import load_bundled_ranker

        search = _full_search(Path(args.catalogue))
        search = search.with_ranker(None if args.no_ranker else load_bundled_ranker())
    else:
        search = _open_search(args).search
        if args.no_ranker:
            search = search.with_ranker(None)

    def rank(question: str) -> Ranking:
        found = search.search(question, 10)
        return Ranking([h.code for h in found.hits], found.confident)

    if args.split:
        questions = [q for q in questions if q.get("split") == args.split]
    result = evaluate(questions, rank)
    print(json.dumps(result, ensure_ascii=False))
    return 0


def _full_search(catalogue: Path):
    """A search over an export layered with the built-in catalogue (nothing stored)."""
    from infra.settings import get_settings
    from knowledge.catalogue import layer_all
    from knowledge.embeddings import make_embedder
    from knowledge.search import ProcedureSearch

    procedures, _errors = _read_catalogue_file(catalogue)
    settings = get_settings()
    embedder = make_embedder(
        settings.embedding_model, settings.threads, settings.embedding_text or None
    )
    return ProcedureSearch(layer_all(procedures), embedder)


def cmd_eval_train_ranker(args: argparse.Namespace) -> int:
    """Trains the reranker and confidence model on labelled questions and saves them."""
    from knowledge.evaluate import load_questions
    from knowledge.ranker import examples_from, save_ranker, search_rescorer, train

    questions = [q for path in args.questions for q in load_questions(Path(path))]
    if args.split:  # questions without a split (another team's dev set) all count
        questions = [q for q in questions if q.get("split", args.split) == args.split]
    if not questions:
        raise CliError("no questions to train on (check --split)")
    search = _full_search(Path(args.catalogue)).with_ranker(None)
    examples = examples_from(search, questions)
    ranker = train(examples, search_rescorer(search), precision=args.precision)
    ranker.trained_on = {
        "questions": [Path(p).name for p in args.questions],
        "split": args.split or "all",
        "n": len(examples),
        "precision_target": args.precision,
    }
    save_ranker(ranker, Path(args.out))
    print(
        json.dumps(
            {"saved": args.out, "threshold": round(ranker.threshold, 4), **ranker.trained_on}
        )
    )
    return 0


def cmd_eval_conversations(args: argparse.Namespace) -> int:
    """Replays multi-turn conversations over REST and prints one JSON summary."""
    from bot.replay import ReplayError, load_conversations, replay

    url = args.url
    if url is None:
        url = f"http://127.0.0.1:{read()['MOTCUA_RASA_PORT']}"
    if "/webhooks/" not in url:
        url = url.rstrip("/") + "/webhooks/rest/webhook"
    try:
        result = replay(load_conversations(Path(args.file)), url, split=args.split)
    except ReplayError as exc:
        raise CliError(str(exc)) from exc
    print(json.dumps(result, ensure_ascii=False, indent=None if args.compact else 1))
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    """The main job: prepares what is missing and runs the Rasa and action servers."""
    try:
        return launcher.run(force_train=args.train)
    except RunError as exc:
        raise CliError(str(exc)) from exc


def cmd_serve(args: argparse.Namespace) -> int:
    """Production: N Rasa + M action servers behind nginx (no demo data unless --demo)."""
    logging.getLogger("bot").setLevel(logging.INFO)
    try:
        return launcher.serve(force_train=args.train, demo=args.demo)
    except RunError as exc:
        raise CliError(str(exc)) from exc


def cmd_train(args: argparse.Namespace) -> int:
    """Trains the dialogue model when its training data changed (or with --force)."""
    try:
        print(train_dialogue_model(read()["MOTCUA_MODELS_DIR"], force=args.force))
    except RunError as exc:
        raise CliError(str(exc)) from exc
    return 0


def cmd_index_publish(args: argparse.Namespace) -> int:
    """Publishes a new index version when the catalogue changed (or with --force)."""
    from infra.settings import get_settings
    from knowledge.index import IndexVersions
    from knowledge.service import IndexPublisher

    manifest = IndexPublisher().publish_if_changed(force=args.force)
    current = manifest or IndexVersions(get_settings().index_dir).manifest()
    print(json.dumps({"published": manifest is not None, **(current.to_dict() if current else {})}))
    return 0


def cmd_index_watch(args: argparse.Namespace) -> int:
    """Publishes a version after every catalogue change until stopped (``motcua serve``)."""
    from knowledge.service import IndexPublisher

    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    publisher = IndexPublisher()
    print(f"motcua index: watching the catalogue every {args.interval:g} s", flush=True)
    publisher.watch(args.interval, stop, log=lambda line: print(line, flush=True))
    return 0


def cmd_index_status(args: argparse.Namespace) -> int:
    """Prints the current index version and the versions kept."""
    from infra.settings import get_settings
    from knowledge.index import IndexVersions

    versions = IndexVersions(get_settings().index_dir)
    manifest = versions.manifest()
    current = manifest.to_dict() if manifest else {"version": None}
    print(json.dumps({**current, "kept": versions.names()}))
    return 0


def _dossier_store():
    from desk.dossiers import DossierStore
    from infra.settings import get_settings

    return DossierStore(get_settings().database_url)


def cmd_dossiers_seed(args: argparse.Namespace) -> int:
    """Loads the demo dossiers into an empty dossier table."""
    from desk.demo import seed_demo

    if not args.demo:
        raise CliError("only the demo set can be seeded: motcua dossiers seed --demo")
    store = _dossier_store()
    added = seed_demo(store)
    print(json.dumps({"added": added, "dossiers": store.count()}))
    return 0


def cmd_dossiers_show(args: argparse.Namespace) -> int:
    """Prints what whoever has the code may see of one dossier (never personal data)."""
    from datetime import date

    from desk.codes import CODE_PROBLEMS, code_problem, normalize_code

    problem = code_problem(args.code)
    if problem is not None:
        raise CliError(CODE_PROBLEMS["en"][problem])
    dossier = _dossier_store().get(args.code)
    if dossier is None:
        raise CliError(f"no dossier with code {normalize_code(args.code)}")
    public = dossier.public(date.today())
    if args.json:
        print(json.dumps(public.to_dict(), ensure_ascii=False, indent=1))
    else:
        print(public.text(args.language))
    return 0


def cmd_dossiers_list(args: argparse.Namespace) -> int:
    """Prints stored dossiers, newest first: code, status, due date, procedure."""
    from datetime import date

    from desk.dossiers import STATUSES

    if args.status is not None and args.status not in STATUSES:
        raise CliError(f"unknown status {args.status!r}; use one of {', '.join(STATUSES)}")
    today = date.today()
    dossiers = _dossier_store().list(args.status, today=today, limit=args.limit)
    for dossier in dossiers:
        due = dossier.due_on.isoformat() if dossier.due_on else "-"
        print(
            f"{dossier.code}  {dossier.effective_status(today):<20}  due {due}  "
            f"{dossier.procedure_code} {dossier.procedure_name}"
        )
    print(f"{len(dossiers)} dossier(s)", file=sys.stderr)
    return 0


def cmd_telegram_poll(args: argparse.Namespace) -> int:
    """Long-polls Telegram and relays messages to the REST channel (no public URL needed)."""
    import asyncio

    from connectors.telegram import DEFAULT_API_BASE_URL, run_polling

    token = os.environ.get("MOTCUA_TELEGRAM_TOKEN", "").strip()
    if not token:
        raise CliError("set MOTCUA_TELEGRAM_TOKEN to the bot token from @BotFather")
    base = os.environ.get("MOTCUA_TELEGRAM_API_URL", "").strip() or DEFAULT_API_BASE_URL
    logging.getLogger("connectors.telegram").setLevel(logging.INFO)
    asyncio.run(run_polling(token, base, args.rest_url))
    return 0


def cmd_conversations_purge(args: argparse.Namespace) -> int:
    """Deletes conversations older than the retention period (safe to run from cron)."""
    from desk.retention import purge
    from infra.settings import get_settings

    settings = get_settings()
    days = args.days if args.days is not None else settings.retention_days
    if days < 1:
        raise CliError("--days must be at least 1")
    report = purge(
        settings.database_url, days, tracker_url=os.environ.get("MOTCUA_TRACKER_STORE_URL")
    )
    counts = report.to_dict()
    from staff.review import ReviewStore

    counts["reviews"] = ReviewStore(settings.database_url).forget_purged_turns()
    print(json.dumps(counts, ensure_ascii=False))
    return 0


def cmd_events_consume(args: argparse.Namespace) -> int:
    """Writes RabbitMQ's conversation events to the conversation log until stopped."""
    from bot.events import run_consumer

    logging.getLogger("bot.events").setLevel(logging.INFO)
    return run_consumer(args.url, args.queue)


def cmd_settings(args: argparse.Namespace) -> int:
    """Prints every setting's effective value (secrets masked) and where it came from."""
    from infra.settings import SettingError, describe

    try:
        rows = describe()
    except SettingError as exc:
        raise CliError(str(exc)) from None
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=1))
        return 0
    width = max(len(r["name"]) for r in rows)
    section = None
    for row in rows:
        if row["section"] != section:
            section = row["section"]
            print(f"# {section}")
        origin = "" if row["from"] == "default" else "  (environment)"
        print(f"{row['name']:<{width}}  {row['value'] or '-'}{origin}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """Returns the argument parser of the ``motcua`` command."""
    parser = argparse.ArgumentParser(
        prog="motcua", description="motcua: the one-stop-shop assistant for public services."
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log more")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = sub.add_parser("run", help="prepare what is missing and run the assistant (REST :5005)")
    run.add_argument("--train", action="store_true", help="retrain the dialogue model first")
    run.set_defaults(func=cmd_run)

    settings = sub.add_parser("settings", help="every setting's effective value (secrets masked)")
    settings.add_argument("--json", action="store_true", help="machine-readable")
    settings.set_defaults(func=cmd_settings)

    train = sub.add_parser("train", help="train the dialogue model if its data changed")
    train.add_argument("--force", action="store_true", help="train even if up to date")
    train.set_defaults(func=cmd_train)

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
    stats = csub.add_parser(
        "stats", help="counts (procedures, curated, English), known fee share, fingerprint"
    )
    stats.add_argument("--json", action="store_true", help="one JSON object")
    stats.set_defaults(func=cmd_catalogue_stats)

    index = sub.add_parser("index", help="the dense search index")
    isub = index.add_subparsers(dest="index_command", required=True, metavar="ACTION")
    build = isub.add_parser("build", help="embed what changed since the last build")
    build.add_argument("--force", action="store_true", help="embed everything again")
    build.set_defaults(func=cmd_index_build)
    publish = isub.add_parser(
        "publish", help="publish a new index version if the catalogue changed"
    )
    publish.add_argument("--force", action="store_true", help="publish even if unchanged")
    publish.set_defaults(func=cmd_index_publish)
    watch = isub.add_parser("watch", help="publish a version after every catalogue change")
    watch.add_argument("--interval", type=float, default=1.0, help="seconds between checks")
    watch.set_defaults(func=cmd_index_watch)
    istatus = isub.add_parser("status", help="the current index version")
    istatus.set_defaults(func=cmd_index_status)

    serve = sub.add_parser(
        "serve", help="production: N Rasa + M action servers behind nginx (docs/deployment.md)"
    )
    serve.add_argument("--train", action="store_true", help="retrain the dialogue model first")
    serve.add_argument(
        "--demo", action="store_true", help="seed the demo dossiers into an empty dossier table"
    )
    serve.set_defaults(func=cmd_serve)

    ev = sub.add_parser("eval", help="measure quality")
    esub = ev.add_subparsers(dest="eval_command", required=True, metavar="WHAT")
    retr = esub.add_parser("retrieval", help="recall@1/@5 and MRR@10 on labelled questions")
    retr.add_argument("--questions", required=True, help="JSON lines with q, gold, lang")
    retr.add_argument(
        "--catalogue", help="evaluate over this export instead of the database (not stored)"
    )
    retr.add_argument("--split", help="only the questions of this split (dev, holdout)")
    retr.add_argument(
        "--no-ranker", action="store_true", help="the hand-tuned fusion instead of the ranker"
    )
    retr.set_defaults(func=cmd_eval_retrieval)
    tr = esub.add_parser(
        "train-ranker", help="learn the reranker and confidence model from labelled questions"
    )
    tr.add_argument(
        "--questions", required=True, nargs="+", help="JSON lines with q, gold (and split)"
    )
    tr.add_argument("--catalogue", required=True, help="the export to search (layered, not stored)")
    tr.add_argument("--split", default="dev", help="train on this split only (default: dev)")
    tr.add_argument("--precision", type=float, default=0.96, help="target answered precision")
    tr.add_argument("--out", default="knowledge/data/ranker.json", help="where to save it")
    tr.set_defaults(func=cmd_eval_train_ranker)
    conv = esub.add_parser(
        "conversations", help="replay multi-turn conversations over REST, check every turn"
    )
    conv.add_argument("file", help="YAML conversations with per-turn expectations")
    conv.add_argument(
        "--url", help="the assistant (default: this machine's motcua run, MOTCUA_RASA_PORT)"
    )
    conv.add_argument("--split", help="only the conversations of this split (dev, holdout)")
    conv.add_argument("--compact", action="store_true", help="print the JSON on one line")
    conv.set_defaults(func=cmd_eval_conversations)

    dossiers = sub.add_parser("dossiers", help="dossier status records (lookups, demo data)")
    dsub = dossiers.add_subparsers(dest="dossiers_command", required=True, metavar="ACTION")
    seed = dsub.add_parser("seed", help="load demo dossiers into an empty table")
    seed.add_argument("--demo", action="store_true", help="the invented demo set (~30 dossiers)")
    seed.set_defaults(func=cmd_dossiers_seed)
    dshow = dsub.add_parser("show", help="what a citizen with the code may see")
    dshow.add_argument("code", help="dossier code, e.g. 000.00.20.H26-251103-0042")
    dshow.add_argument("--json", action="store_true", help="print JSON")
    dshow.add_argument("--language", choices=("vi", "en"), default="vi", help="text language")
    dshow.set_defaults(func=cmd_dossiers_show)
    dlist = dsub.add_parser("list", help="stored dossiers, newest first")
    dlist.add_argument(
        "--status",
        help="only this status: received, in_progress, needs_more_documents, done, returned "
        "or overdue (computed from the due date)",
    )
    dlist.add_argument("--limit", type=int, default=None, help="at most this many")
    dlist.set_defaults(func=cmd_dossiers_list)
    from notify.cli import add_parsers as add_notify_parsers  # light: no heavy imports

    add_notify_parsers(dsub)  # motcua dossiers simulate CODE STATUS

    telegram = sub.add_parser("telegram", help="the Telegram channel in development")
    tsub = telegram.add_subparsers(dest="telegram_command", required=True, metavar="ACTION")
    poll = tsub.add_parser("poll", help="long-poll Telegram and relay to the REST channel")
    poll.add_argument(
        "--rest-url",
        default="http://localhost:5005/webhooks/rest/webhook",
        help="the REST channel's webhook (default: the local assistant)",
    )
    poll.set_defaults(func=cmd_telegram_poll)

    conversations = sub.add_parser("conversations", help="the conversation log")
    cvsub = conversations.add_subparsers(
        dest="conversations_command", required=True, metavar="ACTION"
    )
    purge = cvsub.add_parser(
        "purge", help="delete conversations older than the retention period (cron-safe)"
    )
    purge.add_argument(
        "--days", type=int, default=None, help="keep this many days (default MOTCUA_RETENTION_DAYS)"
    )
    purge.set_defaults(func=cmd_conversations_purge)

    events = sub.add_parser("events", help="conversation events from the event broker")
    evsub = events.add_subparsers(dest="events_command", required=True, metavar="ACTION")
    consume = evsub.add_parser("consume", help="write RabbitMQ's events to the conversation log")
    consume.add_argument("--url", help="AMQP URL (default MOTCUA_EVENT_BROKER_URL)")
    consume.add_argument("--queue", help="queue (default MOTCUA_EVENT_QUEUE, motcua_events)")
    consume.set_defaults(func=cmd_events_consume)

    from staff.cli import add_parser as add_staff_parser  # light: no heavy imports

    add_staff_parser(sub)
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
    from infra.db import StoreUnavailable

    try:
        return args.func(args)
    except CliError as exc:
        print(f"motcua: {exc}", file=sys.stderr)
        return 1
    except StoreUnavailable as exc:  # any motcua database, the catalogue included
        print(f"motcua: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
