import json

import pytest

from knowledge.evaluate import Ranking, evaluate, load_questions, rank_of


def test_rank_of():
    assert rank_of(["x", "y", "z"], ["z", "q"]) == 3
    assert rank_of(["x"], ["q"]) is None


def test_metrics_arithmetic_on_a_tiny_fixture():
    questions = [
        {"q": "a", "gold": ["1"], "lang": "vi"},  # rank 1
        {"q": "b", "gold": ["9", "2"], "lang": "vi"},  # rank 2 (any gold counts)
        {"q": "c", "gold": ["6"], "lang": "en"},  # rank 6: outside @5, inside MRR@10
        {"q": "d", "gold": ["zz"], "lang": "en"},  # missed
    ]
    ranked = {
        "a": ["1", "2"],
        "b": ["1", "2", "9"],
        "c": ["1", "2", "3", "4", "5", "6"],
        "d": ["1"] * 12,
    }
    result = evaluate(questions, lambda q: ranked[q])
    assert result["n"] == 4
    assert result["recall@1"] == 0.25
    assert result["recall@5"] == 0.5
    assert result["mrr@10"] == round((1 + 1 / 2 + 1 / 6) / 4, 4)
    vi = result["by_lang"]["vi"]
    assert {k: vi[k] for k in ("n", "recall@1", "recall@5", "mrr@10")} == {
        "n": 2,
        "recall@1": 0.5,
        "recall@5": 1.0,
        "mrr@10": 0.75,
    }
    assert result["by_lang"]["en"]["recall@5"] == 0.0
    assert result["answered_share"] == 0.0  # bare rankings are never confident


def test_confidence_metrics_and_splits():
    questions = [
        {"q": "a", "gold": ["1"], "split": "dev"},  # confident, right
        {"q": "b", "gold": ["2"], "split": "dev"},  # confident, wrong
        {"q": "c", "gold": ["3"], "split": "holdout"},  # unsure, right one offered 3rd
        {"q": "d", "gold": ["9"], "split": "holdout"},  # unsure, right one offered 4th
    ]
    rankings = {
        "a": Ranking(["1", "2"], True),
        "b": Ranking(["1", "2"], True),
        "c": Ranking(["1", "2", "3"], False),
        "d": Ranking(["1", "2", "3", "9"], False),
    }
    result = evaluate(questions, lambda q: rankings[q])
    assert result["answered_share"] == 0.5
    assert result["answered_precision"] == 0.5
    assert result["offered_recall@3"] == 0.5
    assert result["by_split"]["dev"]["n"] == 2
    assert result["by_split"]["dev"]["answered_precision"] == 0.5
    assert result["by_split"]["holdout"]["offered_recall@3"] == 0.5
    assert "by_part" not in result  # no question says its round


def test_only_the_first_ten_ranks_count():
    result = evaluate([{"q": "a", "gold": ["11"]}], lambda q: [str(i) for i in range(1, 20)])
    assert result["mrr@10"] == 0.0
    assert result["by_lang"]["unknown"]["n"] == 1


def test_load_questions_reports_the_bad_line(tmp_path):
    path = tmp_path / "q.jsonl"
    path.write_text(json.dumps({"q": "x", "gold": ["1"]}) + "\n\n{oops\n", encoding="utf-8")
    with pytest.raises(ValueError, match=":3: not JSON"):
        load_questions(path)
    path.write_text(json.dumps({"q": "x", "gold": []}) + "\n", encoding="utf-8")
    with pytest.raises(ValueError, match="gold"):
        load_questions(path)


def test_rounds_are_reported_apart_within_each_split():
    questions = [
        {"q": "a", "gold": ["1"], "split": "holdout", "round": 1, "lang": "vi"},
        {"q": "b", "gold": ["2"], "split": "holdout", "round": 2, "lang": "en"},
        {"q": "c", "gold": ["3"], "split": "dev", "round": 2, "lang": "en"},
    ]
    result = evaluate(questions, lambda q: Ranking(["1", "3"], True))
    assert set(result["by_part"]) == {"1/holdout", "2/holdout", "2/dev"}
    assert result["by_part"]["1/holdout"]["recall@1"] == 1.0
    assert result["by_part"]["2/holdout"]["recall@1"] == 0.0
    assert result["by_part"]["2/holdout"]["by_lang"]["en"]["n"] == 1
    assert result["by_split"]["holdout"]["n"] == 2
