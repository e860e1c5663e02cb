import numpy as np
import pytest

from knowledge.embeddings import HashingEmbedder
from knowledge.index import DenseIndex
from knowledge.search import dense_text


def _unit(rng, n, dim):
    x = rng.standard_normal((n, dim)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def _brute_force(vectors, codes, query, k):
    scores = vectors @ query
    order = np.argsort(-scores)[:k]
    return [(codes[i], float(scores[i])) for i in order]


def test_search_agrees_with_brute_force():
    rng = np.random.default_rng(0)
    codes = [f"1.{i:06d}" for i in range(300)]
    vectors = _unit(rng, 300, 32)
    index = DenseIndex(32, "test")
    index.upsert(codes, vectors, ["h"] * 300)
    queries = _unit(rng, 20, 32)
    for query, got in zip(queries, index.search(queries, 10), strict=True):
        want = _brute_force(vectors, codes, query, 10)
        assert [c for c, _ in got] == [c for c, _ in want]
        assert np.allclose([s for _, s in got], [s for _, s in want], atol=1e-5)


def test_replace_and_remove_one_vector_without_rebuild():
    rng = np.random.default_rng(1)
    codes = ["1.000001", "1.000002", "1.000003"]
    vectors = _unit(rng, 3, 8)
    index = DenseIndex(8, "test")
    index.upsert(codes, vectors, ["a", "b", "c"])
    new = _unit(rng, 1, 8)
    index.upsert(["1.000002"], new, ["b2"])
    assert len(index) == 3
    assert np.allclose(index.vector("1.000002"), new[0])
    assert index.hashes["1.000002"] == "b2"
    (top,) = index.search(new, 1)
    assert top[0][0] == "1.000002"
    index.remove(["1.000001", "9.999999"])
    assert len(index) == 2 and "1.000001" not in index.ids
    assert {c for c, _ in index.search(vectors[:1], 5)[0]} == {"1.000002", "1.000003"}


def test_wrong_shape_is_refused():
    index = DenseIndex(4, "test")
    with pytest.raises(ValueError):
        index.upsert(["1.000001"], np.zeros((1, 5), dtype=np.float32), ["h"])


def test_save_load_round_trip(tmp_path):
    rng = np.random.default_rng(2)
    index = DenseIndex(8, "model#d1")
    index.upsert(["1.000001", "1.000002"], _unit(rng, 2, 8), ["a", "b"])
    index.version = 7
    index.save(tmp_path)
    loaded = DenseIndex.load(tmp_path)
    assert loaded is not None
    assert (loaded.model, loaded.version, loaded.hashes, loaded.ids) == (
        "model#d1",
        7,
        index.hashes,
        index.ids,
    )
    assert np.allclose(loaded.vector("1.000002"), index.vector("1.000002"))


def test_missing_or_corrupt_index_loads_as_none(tmp_path):
    assert DenseIndex.load(tmp_path) is None
    index = DenseIndex(4, "m")
    index.save(tmp_path)
    (tmp_path / "procedures.faiss").write_bytes(b"garbage")
    assert DenseIndex.load(tmp_path) is None


def test_sync_embeds_only_what_changed(mini_catalogue):
    embedder = HashingEmbedder(16)
    index = DenseIndex(16, embedder.name)
    first = index.sync(mini_catalogue, embedder, dense_text)
    assert len(first.embedded) == len(mini_catalogue)
    again = index.sync(mini_catalogue, embedder, dense_text)
    assert not again.changed
    edited = [p for p in mini_catalogue]
    changed = type(edited[0]).from_dict({**edited[0].to_dict(), "name_en": "Birth reg."})
    edited[0] = changed
    third = index.sync(edited[:-1], embedder, dense_text)
    assert third.embedded == [changed.code]
    assert third.removed == [mini_catalogue[-1].code]
    assert len(index) == len(mini_catalogue) - 1
