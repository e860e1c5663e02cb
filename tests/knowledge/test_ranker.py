import json

import numpy as np
import pytest

from knowledge.ranker import (
    CANDIDATE_FEATURES,
    QUERY_FEATURES,
    Ranker,
    choose_threshold,
    examples_from,
    load_bundled_ranker,
    search_rescorer,
    train,
)
from knowledge.search import ProcedureSearch


def test_the_threshold_keeps_the_answers_above_it_precise():
    probabilities = [0.99, 0.95, 0.9, 0.8, 0.7, 0.6]
    correct = [True, True, True, False, True, False]
    assert choose_threshold(probabilities, correct, 1.0) == 0.9
    assert choose_threshold(probabilities, correct, 0.8) == 0.7
    assert choose_threshold([0.9], [False], 0.9) == 0.999  # never reached: never confident


def test_a_ranker_round_trips_and_refuses_other_features(tmp_path):
    n, m = len(CANDIDATE_FEATURES), len(QUERY_FEATURES)
    ranker = Ranker([0.1] * n, [0.0] * n, [1.0] * n, [0.2] * m, 0.9, {"n": 3}, 0.6)
    data = json.loads(json.dumps(ranker.to_dict()))
    assert Ranker.from_dict(data) == ranker
    data["candidate_features"] = ["something", "else"]
    with pytest.raises(ValueError, match="retrain"):
        Ranker.from_dict(data)


def test_training_learns_to_put_the_right_procedure_first(mini_catalogue):
    search = ProcedureSearch(mini_catalogue)
    questions = [
        {"q": "đăng ký khai sinh cho con", "gold": ["1.000001"]},
        {"q": "làm giấy khai sinh", "gold": ["1.000001"]},
        {"q": "đăng ký kết hôn", "gold": ["1.000002"]},
        {"q": "kết hôn cần gì", "gold": ["1.000002"]},
        {"q": "làm hộ chiếu", "gold": ["1.000003"]},
        {"q": "hộ chiếu phổ thông", "gold": ["1.000003"]},
        {"q": "cấp lại căn cước", "gold": ["1.000004"]},
        {"q": "mất thẻ căn cước", "gold": ["1.000004"]},
        {"q": "lý lịch tư pháp", "gold": ["2.000005"]},
        {"q": "giấy phép xây dựng nhà", "gold": ["2.000006"]},
    ]
    examples = examples_from(search, questions)
    assert len(examples) == len(questions)
    ranker = train(examples, search_rescorer(search), precision=0.9, folds=2)
    assert len(ranker.weights) == len(CANDIDATE_FEATURES)
    assert 0.0 < ranker.likely_threshold <= ranker.threshold <= 0.999
    ranked = search.with_ranker(ranker)
    right = sum(ranked.search(q["q"], 3).top.code in q["gold"] for q in questions)
    assert right >= 9
    assert np.isfinite(ranked.search("đăng ký kết hôn", 3).confidence)


def test_the_bundled_ranker_loads():
    ranker = load_bundled_ranker()
    assert ranker is not None and 0.5 < ranker.threshold < 1.0
    assert ranker.likely_threshold <= ranker.threshold


def test_threshold_counts_each_question_by_its_weight():
    probabilities, correct = [0.9, 0.8, 0.7], [True, True, False]
    assert choose_threshold(probabilities, correct, 0.9) == 0.8
    # A wrong answer that weighs little (a question from a set that over-represents
    # rare procedures) lowers the precision less: 2 / 2.05 still reaches 0.95.
    assert choose_threshold(probabilities, correct, 0.95, [1.0, 1.0, 0.05]) == 0.7
    assert choose_threshold(probabilities, correct, 0.95, [1.0, 1.0, 1.0]) == 0.8
