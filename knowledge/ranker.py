"""Learning to rank: a linear reranker and a confidence model over the search's features.

:class:`~knowledge.search.ProcedureSearch` computes, for its best candidates, the
features it already fuses by hand (BM25 per field, dense cosine, coverage of the
question's topic words, priors ...). A :class:`Ranker` learned from labelled questions
reorders those candidates with one weight per feature (pairwise logistic regression:
the right procedure should outscore each wrong one), and a second logistic model turns
the first hit's lead into the probability that it is right. The search answers directly
only above ``threshold``, chosen on held-out folds so that answers stay precise.

The weights are a small JSON file bundled with the package (``knowledge/data/ranker.json``)
and retrained with ``motcua eval train-ranker``; without it the hand-tuned fusion is used.
"""

from __future__ import annotations

import json
import logging
import math
import random
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

logger = logging.getLogger(__name__)

RANKER_RESOURCE = "ranker.json"

CANDIDATE_FEATURES = (
    "fused",
    "lexical",
    "name",
    "alias",
    "field",
    "body",
    "dense",
    "coverage",
    "name_coverage",
    "phrase",
    "curated",
    "local",
    "individual",
    "lexical_rank",
    "name_length",
    "name_recall",
    "unasked_qualifiers",
    "missed_qualifiers",
    "company_fit",
)
"""Per-candidate features, in the order of :attr:`Ranker.weights`."""

QUERY_FEATURES = (
    "top_score",
    "gap",
    "gap_any",
    "gap_plain",
    "top_share",
    "top_coverage",
    "coverage_lead",
    "top_name_coverage",
    "top_name_recall",
    "name_recall_lead",
    "qualifier_lead",
    "top_curated",
    "top_phrase",
    "fusion_agrees",
    "top_lexical_rank",
    "topic_words",
    "english",
    "bias",
)
"""Per-question features of the confidence model, in the order of :attr:`Ranker.confidence`."""


@dataclass
class Ranker:
    """Learned weights of the reranker and of the confidence model.

    Attributes:
        weights: One weight per :data:`CANDIDATE_FEATURES`.
        mean: Feature means (standardisation).
        scale: Feature standard deviations (standardisation).
        confidence: One weight per :data:`QUERY_FEATURES`.
        threshold: Least probability that the first hit is right for a direct answer.
        trained_on: What it was trained on (file, questions), for the record.
        likely_threshold: Least probability for a best-guess answer with the other
            candidates offered beside it (between it and ``threshold``).
    """

    weights: list[float]
    mean: list[float]
    scale: list[float]
    confidence: list[float]
    threshold: float
    trained_on: dict[str, Any] = field(default_factory=dict)
    likely_threshold: float = 1.0

    def score(self, features: np.ndarray) -> np.ndarray:
        """Scores candidates (rows of :data:`CANDIDATE_FEATURES`); higher is better."""
        standard = (features - np.asarray(self.mean)) / np.asarray(self.scale)
        return standard @ np.asarray(self.weights)

    def probability(self, query_features: np.ndarray) -> float:
        """Returns the probability that the first hit is right."""
        z = float(query_features @ np.asarray(self.confidence))
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))

    def to_dict(self) -> dict[str, Any]:
        """Returns the JSON form (with the feature names, so a file cannot be misread)."""
        return {
            "candidate_features": list(CANDIDATE_FEATURES),
            "query_features": list(QUERY_FEATURES),
            **asdict(self),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Ranker:
        """Reads the JSON form.

        Raises:
            ValueError: When its features are not the ones this code computes.
        """
        if (
            tuple(data.get("candidate_features", ())) != CANDIDATE_FEATURES
            or tuple(data.get("query_features", ())) != QUERY_FEATURES
        ):
            raise ValueError("ranker was trained on other features; retrain it")
        return cls(
            weights=[float(x) for x in data["weights"]],
            mean=[float(x) for x in data["mean"]],
            scale=[float(x) for x in data["scale"]],
            confidence=[float(x) for x in data["confidence"]],
            threshold=float(data["threshold"]),
            trained_on=dict(data.get("trained_on") or {}),
            likely_threshold=float(data.get("likely_threshold", 1.0)),
        )


def load_bundled_ranker() -> Ranker | None:
    """Returns the bundled ranker, or ``None`` (hand-tuned fusion) when absent or stale."""
    resource = resources.files("knowledge").joinpath("data").joinpath(RANKER_RESOURCE)
    if not resource.is_file():
        return None
    try:
        return Ranker.from_dict(json.loads(resource.read_text("utf-8")))
    except (ValueError, KeyError, TypeError) as exc:
        logger.warning("bundled ranker ignored (%s): using the hand-tuned fusion", exc)
        return None


def save_ranker(ranker: Ranker, path: Path) -> None:
    """Writes a ranker as JSON."""
    path.write_text(json.dumps(ranker.to_dict(), indent=1) + "\n", encoding="utf-8")


# --- training --------------------------------------------------------------------------


@dataclass
class Example:
    """The candidates of one labelled question, with their features."""

    codes: list[str]
    features: np.ndarray
    gold: set[str]
    context: Any = None
    weight: float = 1.0


def _logistic(
    x: np.ndarray,
    y: np.ndarray,
    l2: float,
    epochs: int = 400,
    sample_weight: np.ndarray | None = None,
) -> np.ndarray:
    """Fits weighted logistic regression without intercept (full-batch gradient descent)."""
    w = np.zeros(x.shape[1])
    weight = np.ones(len(y)) if sample_weight is None else np.asarray(sample_weight, dtype=float)
    total = float(weight.sum())
    rate = 0.5
    for _ in range(epochs):
        p = 1.0 / (1.0 + np.exp(-np.clip(x @ w, -30, 30)))
        grad = x.T @ (weight * (p - y)) / total + l2 * w
        w -= rate * grad
    return w


def fit_reranker(examples: Sequence[Example], l2: float = 0.01, seed: int = 7) -> tuple:
    """Learns candidate weights from pairs (right candidate, wrong candidate).

    Returns:
        ``(weights, mean, scale)``.
    """
    rows = np.vstack([e.features for e in examples])
    mean = rows.mean(axis=0)
    scale = rows.std(axis=0)
    scale[scale < 1e-6] = 1.0
    rng = random.Random(seed)
    diffs, labels, pair_weights = [], [], []
    for example in examples:
        standard = (example.features - mean) / scale
        right = [i for i, c in enumerate(example.codes) if c in example.gold]
        wrong = [i for i, c in enumerate(example.codes) if c not in example.gold]
        if not right or not wrong:
            continue
        # Hard negatives first: the wrong candidates the fusion ranks highest (the
        # neighbours that share words with the question), then a few random ones.
        fused = example.features[:, 0]
        hard = sorted(wrong, key=lambda j: -fused[j])[:10]
        easy = [j for j in wrong if j not in hard]
        chosen = hard + rng.sample(easy, min(len(easy), 5))
        for i in right[:2]:
            for j in chosen:
                if rng.random() < 0.5:
                    diffs.append(standard[i] - standard[j])
                    labels.append(1.0)
                else:
                    diffs.append(standard[j] - standard[i])
                    labels.append(0.0)
                pair_weights.append(example.weight)
    if not diffs:
        raise ValueError("no question has its right procedure among the candidates")
    weights = _logistic(
        np.asarray(diffs), np.asarray(labels), l2, sample_weight=np.asarray(pair_weights)
    )
    return weights.tolist(), mean.tolist(), scale.tolist()


def query_vector(query: dict[str, float]) -> np.ndarray:
    """Orders a question's confidence features as :data:`QUERY_FEATURES`."""
    return np.asarray([query.get(name, 1.0 if name == "bias" else 0.0) for name in QUERY_FEATURES])


def choose_threshold(
    probabilities: Sequence[float],
    correct: Sequence[bool],
    precision: float,
    weights: Sequence[float] | None = None,
) -> float:
    """Returns the least threshold whose answers reach ``precision`` (and keep it above).

    Walks down from the most confident question; the threshold is the lowest probability
    at which the (weighted) running precision of everything above it still reaches the
    target.
    """
    weights = [1.0] * len(correct) if weights is None else list(weights)
    order = sorted(zip(probabilities, correct, weights, strict=True), key=lambda pc: -pc[0])
    right = total = 0.0
    best = 1.0
    for p, ok, weight in order:
        right += weight * ok
        total += weight
        if total and right / total >= precision:
            best = p
    return float(min(best, 0.999))


def train(
    examples: Sequence[Example],
    rescore: Callable[[Ranker, Example], dict[str, float]],
    *,
    precision: float = 0.96,
    likely_precision: float = 0.85,
    folds: int = 5,
    repeats: int = 3,
    seed: int = 7,
) -> Ranker:
    """Trains the reranker and the confidence model, the threshold on held-out folds.

    Args:
        examples: The candidates of each labelled question.
        rescore: Recomputes a question's confidence features under a ranker (the order,
            and so the lead of the first hit, changes with the weights).
        precision: Target share of right first hits among direct answers.
        likely_precision: Target share of right first hits among direct and best-guess
            answers together (sets ``likely_threshold``).
        folds: Folds for the out-of-fold probabilities the threshold is chosen on.
        repeats: Shuffles of the folds pooled for the threshold: one shuffle's few most
            confident questions move it by several points; pooled, it holds still.
        seed: Shuffling seed (training is deterministic for a given seed).

    Returns:
        The trained ranker.
    """
    oof_probability: list[float] = []
    oof_correct: list[bool] = []
    oof_weight: list[float] = []
    shuffler = random.Random(seed)
    for _ in range(repeats):
        order = list(range(len(examples)))
        shuffler.shuffle(order)
        for k in range(folds):
            held = set(order[k::folds])
            train_part = [e for i, e in enumerate(examples) if i not in held]
            test_part = [e for i, e in enumerate(examples) if i in held]
            ranker = _fit(train_part, rescore)
            for example in test_part:
                query = rescore(ranker, example)
                oof_probability.append(ranker.probability(query_vector(query)))
                oof_correct.append(bool(query.get("_correct")))
                oof_weight.append(example.weight)
    ranker = _fit(list(examples), rescore)
    ranker.threshold = choose_threshold(oof_probability, oof_correct, precision, oof_weight)
    ranker.likely_threshold = min(
        ranker.threshold,
        choose_threshold(oof_probability, oof_correct, likely_precision, oof_weight),
    )
    return ranker


def _fit(examples: Sequence[Example], rescore) -> Ranker:
    weights, mean, scale = fit_reranker(examples)
    ranker = Ranker(weights, mean, scale, [0.0] * len(QUERY_FEATURES), 0.5)
    queries = [rescore(ranker, e) for e in examples]
    x = np.vstack([query_vector(q) for q in queries])
    y = np.asarray([1.0 if q.get("_correct") else 0.0 for q in queries])
    # Standardise (the bias column stays 1), fit, then fold the scaling into the weights.
    mu, sd = x.mean(axis=0), x.std(axis=0)
    bias = QUERY_FEATURES.index("bias")
    mu[bias], sd[bias] = 0.0, 1.0
    sd[sd < 1e-6] = 1.0
    w = _logistic(
        (x - mu) / sd,
        y,
        0.0003,
        epochs=4000,
        sample_weight=np.asarray([e.weight for e in examples]),
    )
    folded = w / sd
    folded[bias] = w[bias] - float(np.sum(w * mu / sd))
    ranker.confidence = folded.tolist()
    return ranker


def examples_from(search: Any, questions: Sequence[dict[str, Any]], depth: int = 30) -> list:
    """Collects the candidates of each labelled question from a search.

    Args:
        search: A :class:`~knowledge.search.ProcedureSearch`.
        questions: Items with ``q`` and ``gold``.
        depth: Candidates per question.

    Returns:
        The examples (questions with no candidate at all are left out).
    """
    examples = []
    for item in questions:
        pool = search.candidates(item["q"], depth)
        if pool is None:
            continue
        weight = float(item.get("weight", 1.0))
        examples.append(Example(pool.codes, pool.features, set(item["gold"]), pool, weight))
    return examples


def search_rescorer(search: Any) -> Callable[[Ranker, Example], dict[str, float]]:
    """Returns the ``rescore`` callback of :func:`train` for a search's examples."""

    def rescore(ranker: Ranker, example: Example) -> dict[str, float]:
        scores = ranker.score(example.features)
        order = search.ordered(example.context, scores)
        query = search.query_features(example.context, scores, order)
        query["_correct"] = example.codes[order[0]] in example.gold
        return query

    return rescore
