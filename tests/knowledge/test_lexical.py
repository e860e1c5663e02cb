import math

import numpy as np

from knowledge.lexical import BM25, terms


def test_terms_drop_stopwords_alone_but_keep_them_in_bigrams():
    assert terms(["lam", "ho", "chieu"], frozenset({"lam"})) == [
        "ho",
        "chieu",
        "lam_ho",
        "ho_chieu",
    ]
    assert terms([]) == []


def test_bm25_matches_the_formula_by_hand():
    docs = [["a", "b"], ["a", "a", "c"], ["d"]]
    bm25 = BM25(docs, k1=1.2, b=0.75)
    n, avg = 3, 2.0
    df_a = 2
    idf_a = math.log(1 + (n - df_a + 0.5) / (df_a + 0.5))
    expected_doc1 = idf_a * 2 * 2.2 / (2 + 1.2 * (1 - 0.75 + 0.75 * 3 / avg))
    scores = bm25.scores(["a"])
    assert scores[1] == np.float32(expected_doc1) or abs(scores[1] - expected_doc1) < 1e-5
    assert scores[2] == 0
    assert scores[1] > scores[0] > 0


def test_bm25_unknown_terms_and_empty_corpus():
    assert BM25([["a"]]).scores(["zzz"]).tolist() == [0.0]
    assert BM25([]).scores(["a"]).shape == (0,)


def test_query_terms_count_once():
    bm25 = BM25([["a", "b"], ["b"]])
    assert np.allclose(bm25.scores(["a", "a"]), bm25.scores(["a"]))
