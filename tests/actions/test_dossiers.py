import pytest

from actions.dossiers import ActionDossierStatus
from actions.handoff import ActionHandoff
from desk.demo import seed_demo
from infra.privacy import pseudonym
from tests.actions.conftest import run_action


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
    assert dossier.agency in text


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
