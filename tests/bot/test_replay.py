import pytest

from bot.replay import ReplayError, Reply, check_turn, load_conversations

ANSWER = (
    "Procedure: Birth registration — Đăng ký khai sinh (code 1.001193)\n"
    "Fees: Free of charge\nDetails: https://dichvucong.gov.vn/x?ma_thu_tuc=1.001193"
)
CHOICE = Reply(
    "Which of these procedures do you mean?\n1. Passport — Cấp hộ chiếu (code 1.001456)",
    [{"title": "1. Passport", "payload": '/choose_procedure{"procedure_code":"1.001456"}'}],
)


def test_an_answer_is_checked_against_every_expectation():
    reply = Reply(ANSWER)
    assert reply.answered == "1.001193" and reply.language == "en"
    assert check_turn(reply, {"answer": ["1.001193"], "contains": ["fees"], "lang": "en"}) == []
    problems = check_turn(
        reply,
        {
            "answer": ["1.000894"],
            "contains": ["Documents to prepare"],
            "not_contains": ["free of"],
            "not_codes": ["1.001193"],
            "lang": "vi",
            "contains_any": ["1022", "staff"],
        },
    )
    assert len(problems) == 6, problems


def test_a_choice_is_not_an_answer_but_counts_as_offered():
    assert CHOICE.answered is None and CHOICE.offered == ["1.001456"]
    assert check_turn(CHOICE, {"offered": ["1.001456", "1.003460"]}) == []
    assert check_turn(CHOICE, {"answer": ["1.001456"]}) == [
        "expected an answer about ['1.001456'], got a choice of ['1.001456']"
    ]


def test_accents_and_case_do_not_matter_in_contains():
    reply = Reply("Thủ tục: Đăng ký khai sinh (mã 1.001193)\nPhí, lệ phí: Miễn phí")
    assert reply.answered == "1.001193" and reply.language == "vi"
    assert check_turn(reply, {"contains": ["phi, le phi", "MIỄN PHÍ"], "lang": "vi"}) == []


def test_a_malformed_file_names_the_conversation_and_turn(tmp_path):
    path = tmp_path / "c.yml"
    path.write_text("- name: a\n  turns:\n    - user: hi\n      expect: {answr: [1]}\n", "utf-8")
    with pytest.raises(ReplayError, match=r"a turn 1: unknown expectation \['answr'\]"):
        load_conversations(path)
    path.write_text("- name: b\n  turns:\n    - expect: {}\n", "utf-8")
    with pytest.raises(ReplayError, match="b turn 1 needs a 'user' message"):
        load_conversations(path)
    path.write_text("just text", "utf-8")
    with pytest.raises(ReplayError, match="expected a list"):
        load_conversations(path)


def test_the_bundled_conversation_sets_load():
    from tests.conftest import ROOT

    conversations = load_conversations(ROOT / "benchmarks" / "eval" / "conversations.yml")
    assert len(conversations) >= 40
    assert {c.split for c in conversations} == {"dev", "holdout"}
    classes = {c for conversation in conversations for c in conversation.covers}
    for name in ("greeting", "routing", "loanword", "citizen-words", "two-aspects",
                 "choice-followup", "language-switch", "follow-up", "english-framing"):  # fmt: skip
        assert name in classes
