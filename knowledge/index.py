"""A FAISS index of procedure embeddings, saved with what it was built from.

The index maps procedure codes to vectors in an exact inner-product index
(``IndexFlatIP`` behind ``IndexIDMap2``: at catalogue size, exact search takes
well under a millisecond). Beside the vectors it keeps the embedding model's
name and every procedure's content hash, so :meth:`DenseIndex.sync` re-embeds
only what changed, and an index built with another model is never served.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import faiss
import numpy as np

from knowledge.embeddings import Embedder
from knowledge.schema import Procedure

logger = logging.getLogger(__name__)

INDEX_FILE = "procedures.faiss"
META_FILE = "procedures.meta.json"
FORMAT_VERSION = 1


@dataclass
class SyncReport:
    """What :meth:`DenseIndex.sync` did.

    Attributes:
        embedded: Codes whose vectors were (re)computed.
        removed: Codes dropped because the catalogue no longer has them.
        rebuilt: Whether the whole index was rebuilt (new model or unreadable index).
    """

    embedded: list[str]
    removed: list[str]
    rebuilt: bool

    @property
    def changed(self) -> bool:
        """Whether anything changed."""
        return bool(self.embedded or self.removed or self.rebuilt)


class DenseIndex:
    """Procedure vectors keyed by code.

    Args:
        dim: Vector size.
        model: Embedding key (model name plus document-text version) the vectors come from.
    """

    def __init__(self, dim: int, model: str) -> None:
        self.dim = dim
        self.model = model
        self.index = faiss.IndexIDMap2(faiss.IndexFlatIP(dim))
        self.ids: dict[str, int] = {}
        self.hashes: dict[str, str] = {}
        self.version = 0
        self._next_id = 0

    def __len__(self) -> int:
        return int(self.index.ntotal)

    @property
    def codes(self) -> dict[int, str]:
        """Returns ``{faiss id: code}``."""
        return {i: c for c, i in self.ids.items()}

    def upsert(self, codes: Sequence[str], vectors: np.ndarray, hashes: Sequence[str]) -> None:
        """Adds or replaces the vectors of ``codes``.

        Args:
            codes: Procedure codes.
            vectors: Normalised float32 vectors, one row per code.
            hashes: Content hash of each procedure the vector was computed from.
        """
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if vectors.shape != (len(codes), self.dim):
            raise ValueError(
                f"expected {len(codes)} vectors of size {self.dim}, got {vectors.shape}"
            )
        self.remove([c for c in codes if c in self.ids])
        ids = np.empty(len(codes), dtype=np.int64)
        for n, (code, digest) in enumerate(zip(codes, hashes, strict=True)):
            self.ids[code] = self._next_id
            self.hashes[code] = digest
            ids[n] = self._next_id
            self._next_id += 1
        if len(codes):
            self.index.add_with_ids(vectors, ids)

    def remove(self, codes: Sequence[str]) -> None:
        """Removes the vectors of ``codes`` (unknown codes are ignored)."""
        ids = [self.ids.pop(c) for c in codes if c in self.ids]
        for c in codes:
            self.hashes.pop(c, None)
        if ids:
            self.index.remove_ids(np.asarray(ids, dtype=np.int64))

    def search(self, vectors: np.ndarray, k: int) -> list[list[tuple[str, float]]]:
        """Returns the ``k`` nearest codes and inner products for each query vector."""
        if len(self) == 0:
            return [[] for _ in range(len(vectors))]
        k = min(k, len(self))
        scores, ids = self.index.search(np.ascontiguousarray(vectors, dtype=np.float32), k)
        codes = self.codes
        return [
            [(codes[int(i)], float(s)) for s, i in zip(row_s, row_i, strict=True) if i >= 0]
            for row_s, row_i in zip(scores, ids, strict=True)
        ]

    def vector(self, code: str) -> np.ndarray:
        """Returns the stored vector of ``code``."""
        return self.index.reconstruct(self.ids[code])

    def sync(
        self,
        procedures: Sequence[Procedure],
        embedder: Embedder,
        text_of: Callable[[Procedure], str],
        *,
        progress: bool = False,
    ) -> SyncReport:
        """Brings the index up to date with ``procedures``, embedding only what changed.

        Args:
            procedures: The whole catalogue.
            embedder: The embedding model; it must match :attr:`model`.
            text_of: The text embedded for a procedure.
            progress: Show a progress bar while embedding.

        Returns:
            What was embedded and removed.
        """
        current = {p.code: p for p in procedures}
        removed = sorted(set(self.ids) - set(current))
        self.remove(removed)
        todo = [p for p in procedures if self.hashes.get(p.code) != p.content_hash()]
        batch = 256
        chunks = range(0, len(todo), batch)
        if progress and len(todo) > batch:
            from tqdm import tqdm

            chunks = tqdm(chunks, desc="embedding", unit="batch")
        for start in chunks:
            part = todo[start : start + batch]
            vectors = embedder.encode([text_of(p) for p in part])
            self.upsert([p.code for p in part], vectors, [p.content_hash() for p in part])
        if todo or removed:
            self.version += 1
        return SyncReport(embedded=[p.code for p in todo], removed=removed, rebuilt=False)

    def save(self, folder: Path) -> None:
        """Writes the index and its metadata; readers never see a half-written file."""
        folder.mkdir(parents=True, exist_ok=True)
        meta = {
            "format": FORMAT_VERSION,
            "model": self.model,
            "dim": self.dim,
            "version": self.version,
            "next_id": self._next_id,
            "ids": self.ids,
            "hashes": self.hashes,
        }
        _atomic_write(folder / INDEX_FILE, faiss.serialize_index(self.index).tobytes())
        _atomic_write(folder / META_FILE, json.dumps(meta).encode("utf-8"))

    @classmethod
    def load(cls, folder: Path) -> DenseIndex | None:
        """Reads a saved index; returns ``None`` (and logs why) when missing or unreadable."""
        meta_path, index_path = folder / META_FILE, folder / INDEX_FILE
        if not meta_path.exists() or not index_path.exists():
            return None
        try:
            meta = json.loads(meta_path.read_text("utf-8"))
            if meta.get("format") != FORMAT_VERSION:
                logger.info("index at %s has an old format; it will be rebuilt", folder)
                return None
            raw = np.frombuffer(index_path.read_bytes(), dtype=np.uint8)
            index = faiss.deserialize_index(raw)
        except (OSError, ValueError, RuntimeError) as exc:
            logger.warning("index at %s is unreadable (%s); it will be rebuilt", folder, exc)
            return None
        self = cls(int(meta["dim"]), str(meta["model"]))
        self.index = index
        self.ids = {str(k): int(v) for k, v in meta["ids"].items()}
        self.hashes = dict(meta["hashes"])
        self.version = int(meta["version"])
        self._next_id = int(meta["next_id"])
        if len(self) != len(self.ids):
            logger.warning("index at %s disagrees with its metadata; it will be rebuilt", folder)
            return None
        return self


def _atomic_write(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
