import json

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.dossiers import ActionDossierStatus
from actions.handoff import ActionHandoff
from actions.procedures import ActionAnswerProcedure
from desk.demo import seed_demo
from infra.privacy import pseudonym
from tests.actions.conftest import TRACKERS, run_action


@pytest.fixture
def seeded(runtime):
    seed_demo(runtime.dossiers)
    return runtime


async def test_known_code_in_a_loose_spelling_reports_status_without_personal_data(seeded):
    messages, slots = await run_action(ActionDossierStatus(), "dossier_status_known_code")
    text = messages[0]["text"]
    assert slots["dossier_code"] == "000.00.20.H26-251103-0042"
    assert "000.00.20.H26-251103-0042" in text
    assert "Quá hạn" in text or "quá hạn" in text
    dossier = seeded.dossiers.get("000.00.20.H26-251103-0042")
    assert dossier.applicant_name not in text
    assert dossier.applicant_phone not in text
    assert dossier.agency not in text  # the bare status: no second factor was given
    assert "4 số cuối" in text


async def test_garbage_code_gets_an_example(seeded):
    messages, slots = await run_action(ActionDossierStatus(), "dossier_status_garbage_code")
    assert "000.00.20.H26-251103-0042" in messages[0]["text"]
    assert "dossier_code" not in slots


async def test_unknown_code_says_so_in_english(seeded):
    messages, _ = await run_action(ActionDossierStatus(), "dossier_status_unknown_code")
    assert "cannot find a dossier with code 000.00.20.H26-251101-9999" in messages[0]["text"]


async def test_lookups_are_limited_per_sender(seeded):
    for _ in range(10):
        messages, _ = await run_action(ActionDossierStatus(), "dossier_status_unknown_code")
        assert "cannot find" in messages[0]["text"]
    messages, _ = await run_action(ActionDossierStatus(), "dossier_status_unknown_code")
    assert "too many" in messages[0]["text"]


async def test_follow_up_without_a_code_stays_on_the_dossier(seeded):
    messages, slots = await run_action(ActionDossierStatus(), "dossier_follow_up_without_code")
    assert slots["dossier_code"] == "000.00.20.H26-251103-0042"
    assert "phản ánh" in messages[0]["text"]


async def test_handoff_is_recorded_with_context(seeded):
    messages, slots = await run_action(ActionHandoff(), "handoff_after_dossier")
    handoffs = seeded.handoffs.list()
    assert len(handoffs) == 1
    assert handoffs[0].dossier_code == "000.00.20.H26-251103-0042"
    assert handoffs[0].sender == pseudonym("citizen-1")
    assert handoffs[0].transcript_ref == f"tracker:{pseudonym('citizen-1')}"
    assert f"#{handoffs[0].id}" in messages[0]["text"]
    assert "1022" in messages[0]["text"]


# --- the second factor and the limits that stop enumeration ------------------------------

CODE = "000.00.20.H26-251103-0042"


async def ask(text: str, *, sender: str = "citizen-1", dossier_code: str | None = None):
    """Runs the dossier action on ``text`` from ``sender`` (optionally after a lookup)."""
    data = json.loads((TRACKERS / "dossier_status_known_code.json").read_text("utf-8"))
    data["sender_id"] = sender
    data["slots"]["dossier_code"] = dossier_code
    data["latest_message"] = {"text": text, "intent": {"name": "dossier_status"}, "entities": []}
    dispatcher = CollectingDispatcher()
    events = await ActionDossierStatus().run(dispatcher, Tracker.from_dict(data), {})
    slots = {e["name"]: e["value"] for e in events if e["event"] == "slot"}
    return "\n".join(m["text"] for m in dispatcher.messages), slots


def last_digits(runtime) -> str:
    return "".join(ch for ch in runtime.dossiers.get(CODE).applicant_phone if ch.isdigit())[-4:]


async def test_the_right_last_digits_unlock_the_details(seeded):
    digits = last_digits(seeded)
    dossier = seeded.dossiers.get(CODE)
    text, slots = await ask(f"hồ sơ {CODE} {digits}")
    assert dossier.agency in text and dossier.procedure_code in text
    assert "Người nộp" in text  # masked initials, only with the factor
    assert dossier.applicant_phone not in text and dossier.applicant_name not in text
    assert slots["procedure_code"] == dossier.procedure_code
    # and as a reply after the bare status, on the same dossier
    bare, slots = await ask(f"hồ sơ {CODE}")
    assert dossier.agency not in bare and "Người nộp" not in bare and "procedure_code" not in slots
    text, _ = await ask(f"4 số cuối {digits}", dossier_code=CODE)
    assert dossier.agency in text


async def test_wrong_digits_show_the_bare_status_and_lock_after_five(seeded):
    dossier = seeded.dossiers.get(CODE)
    wrong = "0000" if last_digits(seeded) != "0000" else "1111"
    for i in range(5):
        text, _ = await ask(f"{CODE} {wrong}", sender=f"guesser-{i}")
        assert dossier.agency not in text and "không khớp" in text
    # the right digits no longer help for an hour, whoever asks
    text, _ = await ask(f"{CODE} {last_digits(seeded)}", sender="someone-else")
    assert dossier.agency not in text and "tạm khóa" in text
    scopes = [r["scope"] for r in seeded.lookups.refusals()]
    assert scopes.count("factor") == 6


async def test_a_new_sender_id_per_request_still_meets_the_service_limit(runtime):
    from desk.lookups import LookupGuard

    seed_demo(runtime.dossiers)
    runtime.__dict__["lookups"] = LookupGuard(runtime.db, per_sender=10, per_minute=5)
    answers = [(await ask(f"hồ sơ {CODE}", sender=f"bot-{i}"))[0] for i in range(8)]
    assert all("Trạng thái" in a for a in answers[:5])
    assert all("quá tải" in a and "Trạng thái" not in a for a in answers[5:])
    refusals = runtime.lookups.refusals()
    assert [r["scope"] for r in refusals] == ["global"] * 3
    assert all(r["who"].startswith("p-") and "bot-" not in r["who"] for r in refusals)


async def test_a_progress_question_right_after_a_lookup_is_about_that_dossier(seeded):
    # "khi nào xong", classified as a time question, must not search the catalogue
    # (which finds a procedure with "xong" in its text).
    messages, slots = await run_action(
        ActionAnswerProcedure(), "progress_question_after_dossier_lookup"
    )
    text = messages[0]["text"]
    assert "000.00.20.H26-251103-0042" in text
    assert slots["dossier_code"] == "000.00.20.H26-251103-0042"
    assert "procedure_code" not in slots
    assert "quá hạn" in text.lower()
