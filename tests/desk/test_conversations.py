"""The conversation log folds real Rasa events (built with Rasa's own event classes) into turns."""

from __future__ import annotations

from datetime import datetime

import pytest
from rasa.shared.core.events import ActionExecuted, BotUttered, SlotSet, UserUttered

from desk.conversations import ConversationLog, rating_of
from infra.privacy import pseudonym

T0 = 1_764_600_000.0  # 2025-12-01 14:40 UTC


def user(text, intent, confidence=0.95, ts=T0, channel="rest", entities=None):
    parse = {"intent": {"name": intent, "confidence": confidence}, "entities": entities or []}
    return UserUttered(text, parse_data=parse, timestamp=ts, input_channel=channel)


def publish(sender, events):
    """What Rasa's tracker store hands to a broker: sender_id + the event's dict."""
    return [{"sender_id": sender, **e.as_dict()} for e in events]


def answer_turn(sender, text, code, ts, intent="ask_fee", confidence=0.95):
    return publish(
        sender,
        [
            user(text, intent, confidence, ts),
            ActionExecuted("action_answer_procedure", timestamp=ts + 0.01),
            SlotSet("language", "vi", timestamp=ts + 0.02),
            SlotSet("procedure_code", code, timestamp=ts + 0.02),
            BotUttered("Lệ phí làm hộ chiếu: 200.000 đồng", timestamp=ts + 0.042),
            ActionExecuted("action_listen", timestamp=ts + 0.05),
        ],
    )


@pytest.fixture
def log(tmp_path):
    return ConversationLog(f"sqlite:///{tmp_path / 'log.db'}")


def test_answer_turn(log):
    assert log.ingest(answer_turn("s1", "làm hộ chiếu hết bao nhiêu tiền", "1.001193", T0)) == 6
    (turn,) = log.turns()
    assert turn.sender_id == pseudonym("s1")  # never the channel's raw user id
    assert turn.channel == "rest"
    assert turn.intent == "ask_fee"
    assert turn.procedure_code == "1.001193"
    assert turn.outcome == "answer"
    assert turn.language == "vi"
    assert turn.reply == "Lệ phí làm hộ chiếu: 200.000 đồng"
    assert turn.response_ms == 42
    assert turn.review_reasons == []
    assert turn.asked_at == datetime(2025, 12, 1, 14, 40)


def test_redelivered_events_count_once(log):
    events = answer_turn("s1", "lệ phí hộ chiếu", "1.001193", T0)
    log.ingest(events)
    assert log.ingest(events) == 0
    assert log.ingest(events[3:]) == 0
    (turn,) = log.turns()
    assert turn.reply.count("200.000") == 1


def test_events_split_across_batches_fold_into_one_turn(log):
    events = answer_turn("s1", "lệ phí hộ chiếu", "1.001193", T0)
    for event in events:
        log.ingest([event])
    (turn,) = log.turns()
    assert turn.procedure_code == "1.001193" and turn.response_ms == 42


def test_unsure_search_is_a_low_confidence_choice(log):
    log.ingest(
        publish(
            "s2",
            [
                user("làm lại giấy tờ bị mất", "ask_documents", 0.9),
                ActionExecuted("action_answer_procedure"),
                SlotSet("candidates", ["1.001", "1.002", "1.003"]),
                BotUttered("Anh/chị hỏi thủ tục nào?", data={"buttons": []}),
            ],
        )
    )
    (turn,) = log.turns()
    assert turn.outcome == "choose"
    assert turn.candidates == ["1.001", "1.002", "1.003"]
    assert turn.review_reasons == ["low_confidence"]
    assert log.turns(procedure_code="1.002")[0].id == turn.id


def test_fallback_and_handoff_need_review(log):
    log.ingest(
        publish(
            "s3",
            [
                user("asdf qwer", "nlu_fallback", 0.3),
                ActionExecuted("action_default_fallback"),
                BotUttered("Dạ, em chưa hiểu"),
            ],
        )
        + publish(
            "s3",
            [
                user("cho tôi gặp cán bộ", "request_human", 0.99, ts=T0 + 5),
                ActionExecuted("action_handoff"),
                BotUttered("Đã chuyển"),
            ],
        )
    )
    handoff, fallback = log.turns(needs_review=True)
    assert fallback.outcome == "fallback" and "fallback" in fallback.review_reasons
    assert handoff.outcome == "handoff" and handoff.review_reasons == ["handoff"]


def test_fallback_that_found_an_answer_is_an_answer(log):
    log.ingest(
        publish(
            "s3",
            [
                user("ho chieu", "nlu_fallback", 0.4),
                ActionExecuted("action_default_fallback"),
                SlotSet("procedure_code", "1.001193"),
                BotUttered("Hộ chiếu ..."),
            ],
        )
    )
    (turn,) = log.turns()
    assert turn.outcome == "answer"
    assert turn.review_reasons == ["low_confidence"]


def test_thumbs_down_lands_on_the_answer_it_rates(log):
    log.ingest(answer_turn("s4", "lệ phí hộ chiếu", "1.001193", T0))
    log.ingest(
        publish(
            "s4",
            [
                user(
                    '/feedback{"rating":"down"}',
                    "feedback",
                    1.0,
                    ts=T0 + 10,
                    entities=[{"entity": "rating", "value": "down"}],
                ),
                ActionExecuted("action_feedback"),
                BotUttered("Cảm ơn"),
            ],
        )
    )
    feedback, answer = log.turns()
    assert feedback.outcome == "feedback" and feedback.review_reasons == []
    assert answer.rating == "down" and answer.review_reasons == ["thumbs_down"]
    assert [t.id for t in log.turns(needs_review=True)] == [answer.id]


def test_personal_data_is_masked(log):
    log.ingest(answer_turn("s5", "số cccd 001203004567, gọi 0912345678", "1.001193", T0))
    assert log.turns()[0].text == "số cccd [id], gọi [phone]"


def test_filters_transcript_stats_and_purge(log):
    day1, day2 = T0, T0 + 86_400
    log.ingest(answer_turn("a", "lệ phí hộ chiếu", "1.001193", day1))
    log.ingest(answer_turn("a", "còn thời gian?", "1.001193", day1 + 30, intent="ask_time"))
    log.ingest(answer_turn("b", "khai sinh", "1.000001", day2))
    log.ingest(
        publish(
            "c",
            [
                user("xyz", "nlu_fallback", 0.2, ts=day2, channel="telegram"),
                ActionExecuted("action_default_fallback"),
                BotUttered("?", timestamp=day2 + 0.1),
            ],
        )
    )
    assert [t.text for t in log.transcript("a")] == ["lệ phí hộ chiếu", "còn thời gian?"]
    assert [t.sender_id for t in log.turns(channel="telegram")] == [pseudonym("c")]
    assert len(log.turns(since=datetime(2025, 12, 2))) == 2
    stats = log.stats(since=datetime(2025, 11, 1), until=datetime(2025, 12, 31))
    assert stats["questions"] == 4
    assert stats["per_day"] == [
        {"day": "2025-12-01", "channel": "rest", "questions": 2},
        {"day": "2025-12-02", "channel": "rest", "questions": 1},
        {"day": "2025-12-02", "channel": "telegram", "questions": 1},
    ]
    assert stats["top_procedures"][0] == {"code": "1.001193", "count": 2}
    assert stats["fallback_rate"] == 0.25
    assert stats["median_response_ms"] == 42.0
    assert log.purge(datetime(2025, 12, 2)) == 2
    assert log.purge(datetime(2025, 12, 2)) == 0
    assert {t.sender_id for t in log.turns()} == {pseudonym("b"), pseudonym("c")}


def test_dead_database_raises_one_clear_error(tmp_path):
    from desk.conversations import ConversationLogUnavailable

    log = ConversationLog("postgresql://nobody@127.0.0.1:1/none")
    with pytest.raises(ConversationLogUnavailable, match="conversation log"):
        log.turns()


@pytest.mark.parametrize(
    ("text", "entities", "expected"),
    [
        ('/feedback{"rating":"down"}', [{"entity": "rating", "value": "down"}], "down"),
        ('/feedback{"rating":"up"}', [{"entity": "rating", "value": "up"}], "up"),
        ("👎", [], "down"),
        ("câu trả lời hữu ích", [], "up"),
        ("thông tin này không chính xác", [], "down"),
        ("tra loi khong huu ich", [], "down"),
        ("that answer is wrong", [], "down"),
        ("very helpful answer", [], "up"),
    ],
)
def test_rating_of(text, entities, expected):
    assert rating_of(text, entities) == expected
