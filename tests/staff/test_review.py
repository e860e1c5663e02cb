"""The review loop: queue, corrections that teach search, hand-offs, dashboard, export."""

import json

import pytest
import yaml

from desk.handoffs import HandoffStore
from infra.privacy import pseudonym
from knowledge.evaluate import load_questions
from knowledge.search import ProcedureSearch
from staff.console import Conflict, Forbidden, NotFound, QueueFilter
from tests.staff.conftest import PASSWORD, T0, events, feedback

MARRIAGE_STATUS = "1.004873"  # Cấp Giấy xác nhận tình trạng hôn nhân (bundled sample)
QUESTION = "tôi cần giấy tờ chứng minh chưa có vợ để cưới người nước ngoài"


@pytest.fixture
def log(console):
    console.conversations.ingest(
        events("s1", "làm hộ chiếu hết bao nhiêu tiền", code="1.001456", ts=T0)
        + events(
            "s2", "asdf qwerty", intent="out_of_scope", confidence=0.3, fallback=True, ts=T0 + 10
        )
        + events("s3", QUESTION, code="2.000806", ts=T0 + 20, channel="telegram")
        + feedback("s3", "down", T0 + 30)
    )
    return console.conversations


def test_the_queue_has_fallbacks_and_thumbs_down_newest_first(console, log):
    items = console.queue(QueueFilter())
    assert [i["text"] for i in items] == [QUESTION, "asdf qwerty"]
    assert items[0]["review_reasons"] == ["thumbs_down"] and items[0]["status"] == "open"
    assert console.queue(QueueFilter(channel="telegram"))[0]["sender_id"] == pseudonym("s3")
    assert console.queue(QueueFilter(procedure="2.000806"))[0]["sender_id"] == pseudonym("s3")
    assert [i["sender_id"] for i in console.queue(QueueFilter(reason="fallback"))] == [
        pseudonym("s2")
    ]


def test_resolving_takes_a_turn_off_the_open_queue(console, log, editor):
    fallback = console.queue(QueueFilter(reason="fallback"))[0]
    console.resolve(editor, fallback["id"], "dismissed", "spam")
    assert [i["sender_id"] for i in console.queue(QueueFilter())] == [pseudonym("s3")]
    (done,) = console.queue(QueueFilter(status="dismissed"))
    assert done["resolution"]["note"] == "spam" and done["resolution"]["actor"] == "lan"
    with pytest.raises(NotFound):
        console.resolve(editor, 999999, "ok")
    with pytest.raises(ValueError):
        console.resolve(editor, fallback["id"], "maybe")


def test_a_correction_teaches_search_the_question_and_its_paraphrases(console, log, editor):
    wrong = console.queue(QueueFilter(reason="thumbs_down"))[0]
    before = ProcedureSearch(console.catalogue.all()).search(QUESTION, 3)
    assert before.top.code != MARRIAGE_STATUS

    correction = console.correct(
        editor, MARRIAGE_STATUS, turn_id=wrong["id"], intent="ask_documents"
    )
    assert correction["previous_code"] == "2.000806" and correction["question"] == QUESTION
    assert console.turn(wrong["id"])["status"] == "corrected"
    assert QUESTION in console.catalogue.get(MARRIAGE_STATUS).keywords

    search = ProcedureSearch(console.catalogue.all())
    for question in (
        QUESTION,
        "toi can giay to chung minh chua co vo de cuoi nguoi nuoc ngoai",
        "cần giấy chứng minh chưa có vợ để lấy người nước ngoài",
        "giấy tờ chứng minh chưa có chồng để cưới người nước ngoài",
    ):
        result = search.search(question, 3)
        assert result.top.code == MARRIAGE_STATUS and result.confident, (question, result.to_dict())
    entry = console.audit.entries(target=f"procedure:{MARRIAGE_STATUS}")[0]
    assert entry.action == "correction.create" and QUESTION in entry.after["aliases"]
    assert QUESTION not in entry.before["aliases"]


def test_corrections_export_as_retrieval_questions_and_nlu(console, log, editor, tmp_path):
    wrong = console.queue(QueueFilter(reason="thumbs_down"))[0]
    console.correct(editor, MARRIAGE_STATUS, turn_id=wrong["id"], intent="ask_documents")
    console.correct(editor, "1.001456", question="lam passport o dau", intent="ask_where")
    console.correct(editor, "1.001456", question="passport for my baby")
    path = tmp_path / "staff.jsonl"
    path.write_text(console.export_training("retrieval"), "utf-8")
    questions = load_questions(path)  # what `motcua eval retrieval --questions` reads
    assert [(q["q"], q["gold"], q["lang"]) for q in questions] == [
        (QUESTION, [MARRIAGE_STATUS], "vi"),
        ("lam passport o dau", ["1.001456"], "vi-nodiac"),
        ("passport for my baby", ["1.001456"], "en"),
    ]
    nlu = yaml.safe_load(console.export_training("nlu"))
    assert nlu["version"] == "3.1"
    by_intent = {item["intent"]: item["examples"] for item in nlu["nlu"]}
    assert by_intent["ask_documents"] == f"- {QUESTION}\n"
    assert by_intent["ask_where"] == "- lam passport o dau\n"
    assert by_intent["ask_overview"] == "- passport for my baby\n"
    with pytest.raises(ValueError):
        console.export_training("csv")


def test_a_correction_needs_a_known_procedure_and_a_question(console, log, editor):
    with pytest.raises(NotFound):
        console.correct(editor, "9.999999", question="abc")
    with pytest.raises(ValueError):
        console.correct(editor, MARRIAGE_STATUS, question="   ")
    with pytest.raises(NotFound):
        console.correct(editor, MARRIAGE_STATUS, turn_id=424242)


def test_handoffs_are_claimed_then_done_with_the_transcript(console, log, editor, admin):
    store = HandoffStore(console.settings.database_url)
    handoff = store.create("s3", "telegram", "muốn gặp cán bộ", procedure_code="2.000806")
    detail = console.handoff(handoff.id)
    assert detail["transcript"][0]["text"] == QUESTION
    claimed = console.set_handoff(editor, handoff.id, "claimed")
    assert claimed["status"] == "claimed" and claimed["claimed_by"] == "lan"
    with pytest.raises(Conflict):
        console.set_handoff(admin, handoff.id, "claimed")
    done = console.set_handoff(admin, handoff.id, "done")
    assert done["status"] == "done" and done["claimed_by"] == "lan"
    with pytest.raises(Conflict):
        console.set_handoff(editor, handoff.id, "claimed")
    actions = [e.action for e in console.audit.entries(target=f"handoff:{handoff.id}")]
    assert actions == ["handoff.done", "handoff.claim"]
    assert [h["id"] for h in console.handoff_list("done")] == [handoff.id]
    store.dispose()


def test_the_dashboard_figures(console, log):
    from datetime import datetime

    stats = console.stats(datetime(2025, 11, 30), datetime(2025, 12, 2))
    assert stats["questions"] == 3
    assert {(d["channel"], d["questions"]) for d in stats["per_day"]} == {
        ("rest", 2),
        ("telegram", 1),
    }
    assert stats["fallback_rate"] == pytest.approx(1 / 3, abs=1e-3)
    assert stats["open_reviews"] == 2
    assert json.dumps(stats)


def test_account_changes_are_audited_without_passwords(console, admin):
    console.create_user(admin.username, "minh", "a long password 1", "viewer")
    console.update_user(admin, "minh", role="editor", password="another password 2")
    with pytest.raises(Conflict):
        console.update_user(admin, "root", active=False)
    create, update = reversed(console.audit.entries(target="user:minh"))
    assert create.after["role"] == "viewer" and update.after["role"] == "editor"
    assert "password 2" not in json.dumps([create.to_dict(), update.to_dict()])


def test_only_the_claimer_or_an_admin_marks_a_hand_off_done(console, editor, admin):
    other = console.create_user("cli", "minh", PASSWORD, "editor")
    store = HandoffStore(console.db)
    handoff = store.create("s9", "rest", "muốn gặp cán bộ")
    console.set_handoff(editor, handoff.id, "claimed")
    with pytest.raises(Forbidden, match="claimed by lan"):
        console.set_handoff(other, handoff.id, "done")
    assert console.handoff(handoff.id)["handoff"]["status"] == "claimed"
    denied = console.audit.entries(target=f"handoff:{handoff.id}", action="handoff.denied")
    assert [(e.actor, e.before["claimed_by"]) for e in denied] == [("minh", "lan")]
    assert console.set_handoff(editor, handoff.id, "done")["status"] == "done"
    unclaimed = store.create("s8", "rest", "gọi lại giúp tôi")
    assert console.set_handoff(other, unclaimed.id, "done")["claimed_by"] == "minh"
    store.dispose()


def test_the_dashboard_shows_refused_lookups_and_set_aside_events(console):
    from datetime import datetime, timedelta

    from desk.lookups import LookupGuard

    guard = LookupGuard(console.db, per_sender=1, per_minute=100)
    assert guard.admit("0912345678").allowed
    assert not guard.admit("0912345678").allowed
    console.conversations.set_aside({"sender_id": "x"}, "ValueError: bad timestamp")
    now = datetime.now()
    stats = console.stats(now - timedelta(days=1), now + timedelta(days=1))
    assert stats["refused_lookups"] == 1 and stats["refused_lookups_by_scope"] == {"sender": 1}
    assert stats["recent_refusals"][0]["who"].startswith("p-")
    assert "0912345678" not in json.dumps(stats)
    assert stats["set_aside"] == 1
