"""Retrieval quality over labelled questions: recall@1/@5, MRR@10 and how well confidence works.

``answered_share`` is the share of questions the search is confident about (the assistant
answers them directly), ``answered_precision`` the share of those whose first hit is right,
and ``offered_recall@3`` the share of the unsure ones whose right procedure is among the
three offered as choices.

A question file is JSON lines with at least ``q`` (the question) and ``gold``
(codes of every procedure that correctly answers it); ``lang`` groups the
figures. A hit is any gold code.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
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


@dataclass
class Ranking:
    """What the search returned for one question.

    Attributes:
        codes: Ranked procedure codes (at least 10 where possible).
        confident: Whether the search would answer with the first one (instead of offering
            the first three as choices).
    """

    codes: Sequence[str]
    confident: bool = False


@dataclass
class _Outcome:
    rank: int | None
    confident: bool


def _metrics(outcomes: list[_Outcome]) -> dict[str, float]:
    n = len(outcomes)
    ranks = [o.rank for o in outcomes]
    answered = [o for o in outcomes if o.confident]
    unsure = [o for o in outcomes if not o.confident]
    if n == 0:
        return {"n": 0, "recall@1": 0.0, "recall@5": 0.0, "mrr@10": 0.0}
    return {
        "n": n,
        "recall@1": round(sum(1 for r in ranks if r == 1) / n, 4),
        "recall@5": round(sum(1 for r in ranks if r is not None and r <= 5) / n, 4),
        "mrr@10": round(sum(1.0 / r for r in ranks if r is not None and r <= 10) / n, 4),
        "answered_share": round(len(answered) / n, 4),
        "answered_precision": (
            round(sum(1 for o in answered if o.rank == 1) / len(answered), 4) if answered else 0.0
        ),
        "offered_recall@3": (
            round(sum(1 for o in unsure if o.rank is not None and o.rank <= 3) / len(unsure), 4)
            if unsure
            else 0.0
        ),
    }


def evaluate(
    questions: Sequence[dict[str, Any]],
    ranker: Callable[[str], Ranking | Sequence[str]],
) -> dict[str, Any]:
    """Scores a ranker on labelled questions.

    Args:
        questions: Items with ``q``, ``gold`` and optionally ``lang`` and ``split``.
        ranker: Returns a :class:`Ranking` for a question (or bare ranked codes, then
            never confident).

    Returns:
        ``{"n", "recall@1", "recall@5", "mrr@10", "answered_share", "answered_precision",
        "offered_recall@3", "by_lang": {lang: {...}}}`` and, when questions carry a
        ``split``, ``"by_split": {split: {..., "by_lang": ...}}``; when they carry a
        ``round`` too (the round of work that wrote them), ``"by_part": {"round/split":
        {..., "by_lang": ...}}``, so a later round's fresh questions are seen apart.
    """
    outcomes: list[_Outcome] = []
    by_lang: dict[str, list[_Outcome]] = defaultdict(list)
    by_split: dict[str, dict[str, list[_Outcome]]] = defaultdict(lambda: defaultdict(list))
    by_part: dict[str, dict[str, list[_Outcome]]] = defaultdict(lambda: defaultdict(list))
    for item in questions:
        ranking = ranker(item["q"])
        if not isinstance(ranking, Ranking):
            ranking = Ranking(list(ranking))
        outcome = _Outcome(rank_of(list(ranking.codes)[:10], item["gold"]), ranking.confident)
        outcomes.append(outcome)
        lang = item.get("lang") or "unknown"
        by_lang[lang].append(outcome)
        if item.get("split"):
            by_split[item["split"]][lang].append(outcome)
            if item.get("round") is not None:
                by_part[f"{item['round']}/{item['split']}"][lang].append(outcome)
    result: dict[str, Any] = _metrics(outcomes)
    result["by_lang"] = {lang: _metrics(o) for lang, o in sorted(by_lang.items())}
    for key, groups in (("by_split", by_split), ("by_part", by_part)):
        if groups:
            result[key] = {name: _grouped(langs) for name, langs in sorted(groups.items())}
    return result


def _grouped(langs: dict[str, list[_Outcome]]) -> dict[str, Any]:
    everything = [o for group in langs.values() for o in group]
    return {
        **_metrics(everything),
        "by_lang": {lang: _metrics(o) for lang, o in sorted(langs.items())},
    }
