"""A FAISS index of procedure embeddings, saved with what it was built from.

The index maps procedure codes to vectors in an exact inner-product index
(``IndexFlatIP`` behind ``IndexIDMap2``: at catalogue size, exact search takes
well under a millisecond). Beside the vectors it keeps the embedding model's
name and every procedure's content hash, so :meth:`DenseIndex.sync` re-embeds
only what changed, and an index built with another model is never served.

In a cluster, :class:`IndexVersions` keeps numbered, immutable versions of the index
(``versions/v000007/``) beside a ``CURRENT`` pointer that is replaced atomically, and
the procedure records each version was built from, stored once per content hash
(``records/``). One builder publishes versions; every action server loads the current
one read-only and moves to a newer one when the pointer changes.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import re
import shutil
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
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


CURRENT_FILE = "CURRENT"
VERSIONS_DIR = "versions"
RECORDS_DIR = "records"
MANIFEST_FILE = "manifest.json"
_VERSION_NAME = re.compile(r"^v(\d{6,})$")


@dataclass(frozen=True)
class VersionManifest:
    """What one published index version holds.

    Attributes:
        name: Folder name, ``v000007``.
        fingerprint: Catalogue fingerprint of the procedures it was built from.
        model: Embedding key of its vectors, or ``None`` (lexical search only).
        hashes: ``{code: content_hash}`` of every procedure in it.
        created_at: When it was published (UTC, ISO 8601).
    """

    name: str
    fingerprint: str
    model: str | None
    hashes: dict[str, str] = field(repr=False)
    created_at: str = ""

    @property
    def number(self) -> int:
        """The version number (7 for ``v000007``)."""
        return int(self.name[1:])

    def to_dict(self) -> dict:
        """Returns the manifest as JSON-able data (without the hashes)."""
        return {
            "version": self.name,
            "fingerprint": self.fingerprint,
            "model": self.model,
            "procedures": len(self.hashes),
            "created_at": self.created_at,
        }


class IndexVersions:
    """Published index versions under one folder: ``CURRENT``, ``versions/``, ``records/``.

    Writers (:meth:`publish`) take a file lock, write a new version folder under a
    temporary name, rename it into place and then replace ``CURRENT``; readers only
    ever see complete versions. Old versions beyond ``keep`` are pruned, with the
    records no kept version refers to.

    Args:
        root: The folder (``MOTCUA_INDEX_DIR``).
        keep: How many versions to keep (the current one always stays).
    """

    def __init__(self, root: Path, keep: int = 5) -> None:
        self.root = Path(root)
        self.keep = max(1, keep)

    @property
    def pointer(self) -> Path:
        """The ``CURRENT`` file."""
        return self.root / CURRENT_FILE

    def current_name(self) -> str | None:
        """Returns the current version's name, or ``None`` when nothing was published."""
        try:
            name = self.pointer.read_text("ascii").strip()
        except (OSError, UnicodeDecodeError):
            return None
        return name if _VERSION_NAME.match(name) else None

    def names(self) -> list[str]:
        """Returns the published versions' names, oldest first."""
        folder = self.root / VERSIONS_DIR
        if not folder.is_dir():
            return []
        found = [p.name for p in folder.iterdir() if _VERSION_NAME.match(p.name)]
        return sorted(found, key=lambda n: int(n[1:]))

    def manifest(self, name: str | None = None) -> VersionManifest | None:
        """Returns the manifest of ``name`` (default: the current version), if readable."""
        name = name or self.current_name()
        if name is None:
            return None
        try:
            data = json.loads((self.root / VERSIONS_DIR / name / MANIFEST_FILE).read_text("utf-8"))
            return VersionManifest(
                name=name,
                fingerprint=str(data["fingerprint"]),
                model=data.get("model"),
                hashes={str(k): str(v) for k, v in data["hashes"].items()},
                created_at=str(data.get("created_at", "")),
            )
        except (OSError, ValueError, KeyError, TypeError) as exc:
            logger.warning("index version %s is unreadable: %s", name, exc)
            return None

    def dense(self, name: str) -> DenseIndex | None:
        """Loads the vectors of version ``name`` (``None`` for a lexical-only version)."""
        return DenseIndex.load(self.root / VERSIONS_DIR / name)

    def _record_path(self, digest: str) -> Path:
        return self.root / RECORDS_DIR / digest[:2] / f"{digest}.json"

    def records(self, manifest: VersionManifest, codes: Iterable[str] | None = None):
        """Returns the procedures of ``manifest`` (only ``codes`` when given), as stored.

        Raises:
            OSError: When a record file is missing (the version is being pruned).
        """
        from knowledge.schema import Procedure

        wanted = manifest.hashes if codes is None else {c: manifest.hashes[c] for c in codes}
        out = []
        for digest in wanted.values():
            data = json.loads(self._record_path(digest).read_text("utf-8"))
            out.append(Procedure.from_dict(data))
        return out

    def publish(
        self,
        procedures: Sequence,
        index: DenseIndex | None,
        *,
        fingerprint: str,
        hashes: dict[str, str] | None = None,
    ) -> VersionManifest:
        """Writes a new version and points ``CURRENT`` at it.

        Args:
            procedures: The whole catalogue the version is built from.
            index: Vectors in step with ``procedures`` (``None``: lexical search only).
            fingerprint: The catalogue fingerprint of ``procedures``.
            hashes: ``{code: content_hash}`` of ``procedures`` when already known.

        Returns:
            The new version's manifest.
        """
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / ".publish.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            known = hashes or {}
            hashes = {}
            for procedure in procedures:
                digest = known.get(procedure.code) or procedure.content_hash()
                hashes[procedure.code] = digest
                path = self._record_path(digest)
                if not path.exists():
                    path.parent.mkdir(parents=True, exist_ok=True)
                    data = json.dumps(procedure.to_dict(), ensure_ascii=False)
                    _atomic_write(path, data.encode("utf-8"))
            names = self.names()
            number = int(names[-1][1:]) + 1 if names else 1
            name = f"v{number:06d}"
            versions = self.root / VERSIONS_DIR
            versions.mkdir(exist_ok=True)
            staging = Path(tempfile.mkdtemp(dir=versions, prefix=f".{name}."))
            try:
                if index is not None:
                    index.version = number
                    index.save(staging)
                manifest = VersionManifest(
                    name=name,
                    fingerprint=fingerprint,
                    model=index.model if index is not None else None,
                    hashes=hashes,
                    created_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                )
                body = {**manifest.to_dict(), "hashes": hashes}
                _atomic_write(staging / MANIFEST_FILE, json.dumps(body).encode("utf-8"))
                staging.chmod(0o755)
                os.rename(staging, versions / name)
            except BaseException:
                shutil.rmtree(staging, ignore_errors=True)
                raise
            _atomic_write(self.pointer, f"{name}\n".encode("ascii"))
            self._prune()
        logger.info("index version %s published (%d procedures)", name, len(hashes))
        return manifest

    def _prune(self) -> None:
        names = self.names()
        current = self.current_name()
        stale = [n for n in names[: -self.keep] if n != current]
        if not stale:
            return
        for name in stale:
            shutil.rmtree(self.root / VERSIONS_DIR / name, ignore_errors=True)
        referenced: set[str] = set()
        for name in self.names():
            manifest = self.manifest(name)
            if manifest is None:
                return  # never delete records while a kept version cannot be read
            referenced.update(manifest.hashes.values())
        for path in (self.root / RECORDS_DIR).glob("*/*.json"):
            if path.stem not in referenced:
                path.unlink(missing_ok=True)


def _atomic_write(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
