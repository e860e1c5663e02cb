import pytest

from knowledge.assistant import Assistant, choose_payload
from knowledge.search import ProcedureSearch


@pytest.fixture
def assistant(mini_catalogue):
    return Assistant(ProcedureSearch(mini_catalogue))


def test_clear_question_is_answered_with_the_aspect(assistant):
    reply = assistant.ask("đăng ký kết hôn cần giấy tờ gì", "documents", "vi")
    assert reply.kind == "answer" and reply.procedure_code == "1.000002"
    assert "Tờ khai đăng ký kết hôn" in reply.text


@pytest.mark.parametrize("follow_up", ["còn lệ phí?", "thế mất bao lâu", "and online?", "how much"])
def test_follow_ups_stay_on_the_current_procedure(assistant, follow_up):
    reply = assistant.ask(follow_up, "fee", "vi", current_code="1.000003")
    assert reply.kind == "answer" and reply.procedure_code == "1.000003"
    assert not reply.switched


def test_generic_words_and_details_stay_on_the_current_procedure(assistant):
    # "đăng ký", "ai được đăng ký": words of every procedure name none in particular.
    for text in ("đăng ký", "ai duoc dang ky"):
        reply = assistant.ask(text, "eligibility", "vi", current_code="1.000003")
        assert reply.kind == "answer" and reply.procedure_code == "1.000003"
    detail = assistant.ask("con tôi 6 tuổi thì sao", "documents", "vi", current_code="1.000003")
    assert detail.kind == "answer" and detail.procedure_code == "1.000003"


def test_a_new_topic_switches(assistant):
    reply = assistant.ask("còn đăng ký kết hôn thì sao", "overview", "vi", current_code="1.000003")
    assert reply.procedure_code == "1.000002" and reply.switched


def test_unsure_question_offers_candidates_as_buttons_and_numbers(assistant):
    reply = assistant.ask("đăng ký", "documents", "vi")
    assert reply.kind == "choose"
    assert 2 <= len(reply.buttons) <= 3
    assert reply.buttons[0]["payload"] == choose_payload(reply.candidates[0])
    assert "1. " in reply.text and "2. " in reply.text
    assert reply.aspect == "documents"


def test_choose_answers_the_pending_aspect(assistant):
    reply = assistant.choose("1.000004", "fee", "en")
    assert reply.kind == "answer" and "70,000 VND" in reply.text
    assert assistant.choose("9.999999", "fee", "vi").kind == "not_found"


def test_nothing_found(assistant):
    reply = assistant.ask("xyzzy plugh", "overview", "en")
    assert reply.kind == "not_found" and "could not find" in reply.text


@pytest.fixture(scope="module")
def sample_assistant():
    from knowledge.builtin import load_builtin_catalogue

    return Assistant(ProcedureSearch(load_builtin_catalogue()))


@pytest.mark.parametrize(
    ("text", "current"),
    [
        ("thế có mất tiền không", "1.001193"),  # "mất" is "costs" here, not "lost"
        ("thế mất bao lâu", "1.001193"),
        ("con toi 6 tuoi thi sao", "1.001456"),
        ("nộp từ đầu tháng mà giờ chưa xong, quá hạn rồi thì làm sao", "3.000333"),
        ("how much is it?", "1.003460"),
        ("làm ở phường nào cũng được à", "1.004873"),  # "phường" is no "phương thức"
    ],
)
def test_details_and_aspect_questions_keep_the_procedure(sample_assistant, text, current):
    reply = sample_assistant.ask(text, "fee", "vi", current_code=current)
    assert (reply.kind, reply.procedure_code) == ("answer", current)


@pytest.mark.parametrize(
    ("text", "current"),
    [
        ("thế còn sổ đỏ", "1.014064"),
        ("đăng ký xe", "1.014064"),
        ("còn làm lại căn cước", "1.001456"),
    ],
)
def test_a_named_new_topic_leaves_the_current_procedure(sample_assistant, text, current):
    reply = sample_assistant.ask(text, "documents", "vi", current_code=current)
    assert reply.procedure_code != current
    assert reply.kind in ("answer", "choose")


@pytest.mark.parametrize(
    ("text", "current", "expected"),
    [
        ("con 16 tuoi thi sao", "1.014062", "1.014061"),  # under-14 card -> 14 and over
        ("what about my 8-year-old son?", "1.014061", "1.014062"),
        ("con út 12 tuổi thì vẫn như trên à", "1.014061", "1.014062"),
        ("con 12 tuoi thi sao", "1.014062", "1.014062"),  # the age fits: stay
        ("con toi 6 tuoi thi sao", "1.001456", "1.001456"),  # no age range: stay
    ],
)
def test_an_age_in_a_follow_up_moves_to_the_procedure_for_that_age(
    sample_assistant, text, current, expected
):
    reply = sample_assistant.ask(text, "overview", "vi", current_code=current)
    assert (reply.kind, reply.procedure_code) == ("answer", expected)
    assert reply.switched == (expected != current)


def test_a_question_that_is_only_an_age_names_no_procedure(sample_assistant):
    # Without a procedure under discussion "12 tuổi" must not find one whose text has it.
    reply = sample_assistant.ask("con 12 tuổi thì sao", "overview", "vi")
    assert reply.kind == "choose"


def test_an_age_after_an_offer_picks_the_candidate_for_that_age(sample_assistant):
    offered = ["1.014063", "1.014061", "1.014064"]  # none is for under-14s
    reply = sample_assistant.follow_choices(
        "and her brother, he is 8 years old?", "overview", "en", offered
    )
    assert reply is not None and (reply.kind, reply.procedure_code) == ("answer", "1.014062")
    both = ["1.014062", "1.014061"]
    reply = sample_assistant.follow_choices("con 16 tuổi", "documents", "vi", both)
    assert reply is not None and reply.procedure_code == "1.014061"


def test_a_question_made_of_folded_particles_still_finds_its_procedure(sample_assistant):
    # "bị mất sổ đỏ" folds to "bi mat so do": every word is also a particle.
    reply = sample_assistant.ask("nhà em bị mất sổ đỏ, giờ làm sao", "steps", "vi")
    assert (reply.kind, reply.procedure_code) == ("answer", "1.012786")
    follow_up = sample_assistant.ask("bao lâu thì có", "time", "vi", current_code="1.012786")
    assert follow_up.procedure_code == "1.012786"


def test_the_same_choice_is_not_offered_twice(assistant):
    first = assistant.ask("đăng ký", "documents", "vi")
    again = assistant.ask("đăng ký", "fee", "vi", offered=first.candidates)
    assert again.kind == "answer" and again.procedure_code == first.candidates[0]
    assert [b["payload"] for b in again.buttons] == [b["payload"] for b in first.buttons[1:]]
    assert "chọn" in again.text


def test_a_channel_question_is_not_a_new_topic(sample_assistant):
    reply = sample_assistant.ask("làm trên VNeID được không", "online", "vi", "1.014064")
    assert reply.procedure_code == "1.014064"


def test_an_aspect_only_follow_up_keeps_the_offered_choices(assistant):
    offered = assistant.ask("đăng ký", "documents", "vi")
    assert offered.kind == "choose"
    reply = assistant.follow_choices("bao nhiêu tiền?", "fee", "vi", offered.candidates)
    assert reply is not None and reply.kind == "choose"
    assert reply.candidates == offered.candidates and reply.aspect == "fee"


def test_naming_one_of_the_offered_choices_answers_it(assistant):
    offered = ["1.000001", "1.000002"]
    reply = assistant.follow_choices("kết hôn ạ, hết bao nhiêu", "fee", "vi", offered)
    assert reply is not None and (reply.kind, reply.procedure_code) == ("answer", "1.000002")
    assert assistant.follow_choices("làm hộ chiếu cho con", "fee", "vi", offered) is None


def test_two_aspects_in_one_question(assistant):
    reply = assistant.ask(
        "đăng ký kết hôn cần giấy tờ gì, lệ phí bao nhiêu", ["documents", "fee"], "vi"
    )
    assert reply.kind == "answer" and reply.aspects == ["documents", "fee"]
    assert "Hồ sơ cần chuẩn bị" in reply.text and "Phí, lệ phí" in reply.text


def test_greetings_and_language_wishes_do_not_disturb_the_search(assistant):
    plain = assistant.ask("đăng ký kết hôn cần giấy tờ gì", "documents", "vi")
    polite = assistant.ask("chào ad, đăng ký kết hôn cần giấy tờ gì ạ, cảm ơn", "documents", "vi")
    assert polite.procedure_code == plain.procedure_code == "1.000002"


@pytest.mark.parametrize(
    ("text", "current", "stays"),
    [
        ("hộ chiếu nữa", "3.000346", False),  # a new subject, in one word
        ("ở Cầu Giấy nộp đâu", "1.001456", True),  # a place
        ("cấp lại thì sao", "3.000346", True),  # a generic word
        ("how long does approval take?", "1.002757", True),  # English, of every name
    ],
)
def test_a_one_word_follow_up_leaves_only_for_another_subject(
    sample_assistant, text, current, stays
):
    reply = sample_assistant.ask(text, "overview", "vi", current_code=current)
    assert (reply.procedure_code == current) is stays


@pytest.mark.parametrize(
    ("text", "current", "expected"),
    [
        # after replacing a lost ID card, a bare new subject is replaced too
        ("còn bằng lái xe thì sao", "1.014064", "3.000348"),
        ("thẻ bhyt thì sao", "1.014064", "1.001294"),  # "bhyt": "bảo hiểm y tế"
        # its own action, or a procedure without a carried action: searched as written
        ("còn làm hộ chiếu", "1.014064", "1.001456"),
    ],
)
def test_a_bare_new_subject_carries_the_action_of_the_current_procedure(
    sample_assistant, text, current, expected
):
    reply = sample_assistant.ask(text, "overview", "vi", current_code=current)
    assert (reply.kind, reply.procedure_code) == ("answer", expected)


def test_an_aspect_in_chat_spelling_carries_no_action_to_another_procedure():
    # "het bn tien v" ("how much?") after replacing an ID card: "cấp lại het bn tien v"
    # finds another replacement procedure; an aspect names no subject to carry to.
    from knowledge.builtin import load_builtin_catalogue
    from knowledge.embeddings import HashingEmbedder
    from knowledge.ranker import load_bundled_ranker

    ranked = Assistant(
        ProcedureSearch(
            load_builtin_catalogue(), embedder=HashingEmbedder(), ranker=load_bundled_ranker()
        )
    )
    reply = ranked.ask("het bn tien v", "fee", "vi", current_code="1.014064")
    assert (reply.kind, reply.procedure_code) == ("answer", "1.014064")
