"""BM25 over folded Vietnamese syllables and syllable bigrams.

Each field of a procedure (name, aliases, field, body) has its own BM25 model;
a query scores every document of a field with one sparse matrix product.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from itertools import pairwise

import numpy as np
from scipy import sparse


def terms(syllables: Sequence[str], stop: frozenset[str] = frozenset()) -> list[str]:
    """Returns the unigrams (minus ``stop``) and all adjacent bigrams of a syllable run.

    Args:
        syllables: Folded syllables, e.g. ``["cap", "lai", "ho", "chieu"]``.
        stop: Words that carry no topic alone; they still count inside bigrams.

    Returns:
        Terms such as ``["cap", "lai", "ho", "chieu", "cap_lai", "lai_ho", "ho_chieu"]``.
    """
    out = [s for s in syllables if s not in stop]
    out.extend(f"{a}_{b}" for a, b in pairwise(syllables))
    return out


class BM25:
    """Okapi BM25 over pre-tokenised documents.

    Args:
        documents: One term list per document.
        k1: Term-frequency saturation.
        b: Length normalisation.
    """

    def __init__(self, documents: Sequence[Sequence[str]], k1: float = 1.2, b: float = 0.75):
        self.k1 = k1
        self.b = b
        self.vocabulary: dict[str, int] = {}
        rows, cols, tfs = [], [], []
        lengths = np.zeros(len(documents), dtype=np.float32)
        for row, doc in enumerate(documents):
            lengths[row] = len(doc)
            for term, tf in Counter(doc).items():
                col = self.vocabulary.setdefault(term, len(self.vocabulary))
                rows.append(row)
                cols.append(col)
                tfs.append(tf)
        n_docs = len(documents)
        shape = (n_docs, len(self.vocabulary))
        tf_matrix = sparse.csc_matrix(
            (np.asarray(tfs, dtype=np.float32), (rows, cols)), shape=shape
        )
        df = np.diff(tf_matrix.indptr).astype(np.float32)
        self.idf = np.log(1.0 + (n_docs - df + 0.5) / (df + 0.5)).astype(np.float32)
        avg = float(lengths.mean()) if n_docs and lengths.mean() > 0 else 1.0
        norm = k1 * (1.0 - b + b * lengths / avg)
        coo = tf_matrix.tocoo()
        weights = coo.data * (k1 + 1.0) / (coo.data + norm[coo.row]) * self.idf[coo.col]
        self.matrix = sparse.csc_matrix((weights, (coo.row, coo.col)), shape=shape)
        self.n_docs = n_docs

    def scores(self, query: Iterable[str] | Mapping[str, float]) -> np.ndarray:
        """Returns the BM25 score of every document for the query terms.

        Args:
            query: Terms (each counted once), or ``{term: weight}`` to weigh them;
                unknown terms are ignored.

        Returns:
            A float32 array of one score per document.
        """
        weights = query if isinstance(query, Mapping) else dict.fromkeys(query, 1.0)
        known = sorted(
            (self.vocabulary[t], w) for t, w in weights.items() if t in self.vocabulary and w
        )
        if not known or self.n_docs == 0:
            return np.zeros(self.n_docs, dtype=np.float32)
        cols = [c for c, _ in known]
        vector = np.asarray([w for _, w in known], dtype=np.float32)
        return np.asarray(self.matrix[:, cols] @ vector, dtype=np.float32).ravel()
