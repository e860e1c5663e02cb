import pytest

from knowledge.query import detect_language
from knowledge.text import is_vietnamese_syllable
from knowledge.understanding import (
    TopicLexicon,
    asks_about_progress,
    asks_for_person,
    asks_if_needed,
    default_lexicon,
    detect_aspects,
    requested_language,
    split_smalltalk,
    without_language_request,
)


@pytest.mark.parametrize(
    ("text", "greeting", "thanks", "rest"),
    [
        ("chào ad, làm hộ chiếu cần gì ạ", True, False, "lam ho chieu can gi a"),
        ("hello, how do I renew my passport?", True, False, "how do i renew my passport"),
        ("thanks! and what about online?", False, True, "what about online"),
        ("cảm ơn bạn nhiều", False, True, ""),
        ("Hi there! Quick question: passport fee?", True, False, "passport fee"),
        ("làm sổ đỏ mất bao lâu, cảm ơn ad", False, True, "lam so do mat bao lau"),
        ("đăng ký kết hôn", False, False, "dang ky ket hon"),
    ],
)
def test_small_talk_comes_off_the_edges(text, greeting, thanks, rest):
    found = split_smalltalk(text)
    assert (found.greeting, found.thanks, " ".join(found.rest)) == (greeting, thanks, rest)


@pytest.mark.parametrize(
    ("text", "wish"),
    [
        ("please answer in English", "en"),
        ("can you reply in english? how much is a passport", "en"),
        ("english pls", "en"),
        ("nói tiếng Việt đi", "vi"),
        ("trả lời bằng tiếng anh được không", "en"),
        ("in Vietnamese please", "vi"),
        ("I am married to a Vietnamese citizen, how do I register?", None),
        ("my English name is on the passport", None),
        ("lớp tiếng anh", None),
    ],
)
def test_only_explicit_language_wishes_count(text, wish):
    assert requested_language(text) == wish


def test_the_rest_of_a_language_wish_is_kept():
    assert without_language_request("please answer in English: how much is a passport") == (
        "how much is a passport"
    )
    assert without_language_request("nói tiếng việt đi") == ""


@pytest.mark.parametrize(
    ("text", "aspects"),
    [
        ("what do I bring, and is it free?", ["documents", "fee"]),
        ("lam giay khai sinh bao lau va het bao nhieu tien", ["time", "fee"]),
        ("nộp ở đâu, làm online được không", ["where", "online"]),
        ("làm hộ chiếu cần giấy tờ gì", ["documents"]),
        ("how do I renew my passport", ["steps"]),
        ("how do I renew my passport and how much is it", ["fee"]),  # "how do I" is weak
        ("đăng ký kết hôn", []),
        ("cái đầu tiên ạ", []),  # "đầu tiên" (first) is no "tiền" (money)
        ("thủ tục đầu tiên hết bao nhiêu tiền", ["fee"]),
    ],
)
def test_aspects_in_the_order_asked(text, aspects):
    assert detect_aspects(text) == aspects


def test_a_person_is_asked_for_only_explicitly():
    assert asks_for_person("cho tôi gặp cán bộ")
    assert asks_for_person("can I talk to a real person")
    assert not asks_for_person("ai giúp em làm giấy khai sinh với")


def test_the_topic_lexicon_knows_procedure_words_but_not_small_talk():
    lexicon = TopicLexicon(
        ["Đăng ký khai sinh", "Cấp hộ chiếu phổ thông", "Đăng ký kết hôn", "birth certificate"],
        phrases=["sổ đỏ"],
    )
    assert lexicon.names_topic("làm giấy khai sinh cho con")
    assert lexicon.names_topic("mất sổ đỏ")  # a phrase of particles once folded
    assert lexicon.names_topic("I need a birth certificate")
    assert not lexicon.names_topic("hello, how are you")
    assert not lexicon.names_topic("cần giấy tờ gì")  # only aspect words


def test_the_bundled_lexicon():
    lexicon = default_lexicon()
    assert lexicon.names_topic("how do I renew my passport")
    assert lexicon.names_topic("lam so do")
    # "khai" (as in "tờ khai") and "tử" (as in "từ") are particles alone, not together
    assert lexicon.names_topic("đăng ký khai tử cho bà nội")
    assert lexicon.names_topic("chứng thực bản sao bằng đại học")
    assert not lexicon.names_topic("what about online")
    assert not lexicon.names_topic("thời tiết hôm nay")


@pytest.mark.parametrize(
    ("word", "vietnamese"),
    [("hộ", True), ("Nội", True), ("nghiêng", True), ("café", False), ("résumé", False),
     ("naïve", False), ("Zoë", False), ("fiancée", False)],
)  # fmt: skip
def test_vietnamese_syllables(word, vietnamese):
    assert is_vietnamese_syllable(word) is vietnamese


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("I need my résumé certified, where do I go?", "en"),
        ("my daughter Zoë needs a passport, how much is it", "en"),
        ("I'm French and want to marry my Vietnamese fiancée", "en"),
        ("how do I register temporary residence in Hà Nội", "en"),
        ("Tôi muốn làm hộ chiếu cho con", "vi"),
        ("lam ho chieu mat bao lau", "vi"),
        ("đăng ký tạm trú ở Hà Nội cần gì", "vi"),
    ],
)
def test_language_is_decided_by_words_not_accents(text, language):
    assert detect_language(text) == language


@pytest.mark.parametrize(
    ("text", "asks"),
    [
        ("có cần mang giấy chứng tử không", True),
        ("co phai cong chung ban sao khong a", True),
        ("do I need to bring my passport?", True),
        ("is a photo required?", True),
        ("làm hộ chiếu cần gì", False),
        ("cần mang gì ạ", False),
        ("nộp ở đâu", False),
    ],
)
def test_asking_whether_something_is_needed(text, asks):
    assert asks_if_needed(text) is asks


@pytest.mark.parametrize(
    ("text", "asks"),
    [
        ("khi nào xong", True),
        ("sao lâu vậy", True),
        ("bao giờ trả kết quả", True),
        ("why is it taking so long? when will it be ready?", True),
        ("nộp từ đầu tháng mà giờ chưa xong, quá hạn rồi thì làm sao", True),
        # the reason given names other things; "bao giờ thì xong" asks the progress
        ("Thế bao giờ thì xong? Tôi cần gấp để bổ sung hồ sơ vay ngân hàng.", True),
        ("còn hộ chiếu thì sao", False),  # a procedure, no progress word
        ("khi nào có sổ đỏ", False),  # a procedure named
        ("lệ phí bao nhiêu", False),
    ],
)
def test_asking_how_a_dossier_is_getting_on(text, asks):
    assert asks_about_progress(text) is asks
