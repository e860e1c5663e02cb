"""Retrieval quality: recall@1, recall@5 and MRR@10 over labelled questions.

A question file is JSON lines with at least ``q`` (the question) and ``gold``
(codes of every procedure that correctly answers it); ``lang`` groups the
figures. A hit is any gold code.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any


def load_questions(path: Path) -> list[dict[str, Any]]:
    """Reads labelled questions from a JSON-lines file.

    Raises:
        ValueError: When a line is not JSON or lacks ``q`` or ``gold`` (with the line number).
    """
    questions = []
    with open(path, encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                item = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ValueError(f"{path}:{lineno}: not JSON ({exc.msg})") from exc
            if not isinstance(item, dict) or not item.get("q") or not item.get("gold"):
                raise ValueError(f"{path}:{lineno}: needs 'q' and a non-empty 'gold' list")
            questions.append(item)
    return questions


def rank_of(ranked: Sequence[str], gold: Iterable[str]) -> int | None:
    """Returns the 1-based rank of the first gold code in ``ranked``, or ``None``."""
    wanted = set(gold)
    return next((i for i, code in enumerate(ranked, 1) if code in wanted), None)


def _metrics(ranks: list[int | None]) -> dict[str, float]:
    n = len(ranks)
    if n == 0:
        return {"n": 0, "recall@1": 0.0, "recall@5": 0.0, "mrr@10": 0.0}
    return {
        "n": n,
        "recall@1": round(sum(1 for r in ranks if r == 1) / n, 4),
        "recall@5": round(sum(1 for r in ranks if r is not None and r <= 5) / n, 4),
        "mrr@10": round(sum(1.0 / r for r in ranks if r is not None and r <= 10) / n, 4),
    }


def evaluate(
    questions: Sequence[dict[str, Any]], ranker: Callable[[str], Sequence[str]]
) -> dict[str, Any]:
    """Scores a ranker on labelled questions.

    Args:
        questions: Items with ``q``, ``gold`` and optionally ``lang``.
        ranker: Returns ranked codes (at least 10 where possible) for a question.

    Returns:
        ``{"n", "recall@1", "recall@5", "mrr@10", "by_lang": {lang: {...}}}``.
    """
    ranks: list[int | None] = []
    by_lang: dict[str, list[int | None]] = defaultdict(list)
    for item in questions:
        rank = rank_of(list(ranker(item["q"]))[:10], item["gold"])
        ranks.append(rank)
        by_lang[item.get("lang") or "unknown"].append(rank)
    result: dict[str, Any] = _metrics(ranks)
    result["by_lang"] = {lang: _metrics(r) for lang, r in sorted(by_lang.items())}
    return result
