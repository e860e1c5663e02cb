"""The follow offer, follow, list and stop, run as actions on trackers from each channel."""

from __future__ import annotations

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.dossiers import ActionDossierStatus
from actions.follows import ActionFollowDossier, ActionListFollows, ActionUnfollowDossier
from actions.runtime import Runtime, set_runtime
from desk.demo import seed_demo
from infra.settings import Settings
from tests.notifications.conftest import CODE, OTHER


@pytest.fixture
def runtime(tmp_path):
    rt = Runtime(
        Settings.from_env({"MOTCUA_HOME": str(tmp_path), "MOTCUA_EMBEDDING_MODEL": "hashing"})
    )
    seed_demo(rt.dossiers)
    set_runtime(rt)
    yield rt
    set_runtime(None)


def tracker(
    text: str,
    *,
    channel: str = "telegram",
    sender: str = "555",
    intent: str = "dossier_status",
    entities: list | None = None,
    slots: dict | None = None,
) -> Tracker:
    message = {"text": text, "intent": {"name": intent}, "entities": entities or []}
    return Tracker.from_dict(
        {
            "sender_id": sender,
            "slots": {"language": None, "preferred_language": None, **(slots or {})},
            "latest_message": message,
            "events": [
                {"event": "user", "text": text, "parse_data": message, "input_channel": channel}
            ],
            "paused": False,
            "followup_action": None,
            "active_loop": {},
            "latest_action_name": "action_listen",
        }
    )


async def run(action, t: Tracker):
    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, t, {})
    return dispatcher.messages, {e["name"]: e["value"] for e in events if e["event"] == "slot"}


async def test_a_status_answer_offers_to_follow_where_notices_can_arrive(runtime):
    for channel in ("telegram", "zalo", "webchat"):
        messages, _ = await run(ActionDossierStatus(), tracker(f"hồ sơ {CODE}", channel=channel))
        [button] = messages[0]["buttons"]
        assert button["payload"] == f'/follow_dossier{{"dossier_code":"{CODE}"}}'
        assert "Báo tôi" in button["title"]
    messages, _ = await run(ActionDossierStatus(), tracker(f"dossier {CODE}", channel="rest"))
    assert not messages[0].get("buttons")


async def test_follow_records_channel_language_and_consent_only(runtime):
    t = tracker(
        f'/follow_dossier{{"dossier_code":"{CODE}"}}',
        intent="follow_dossier",
        entities=[{"entity": "dossier_code", "value": CODE}],
        slots={"language": "en"},
    )
    messages, slots = await run(ActionFollowDossier(), t)
    assert CODE in messages[0]["text"] and "stop" in messages[0]["text"]
    [follow] = runtime.follows.following("telegram", "555")
    assert (follow.dossier_code, follow.channel, follow.language) == (CODE, "telegram", "en")
    assert follow.consent == "notify-status-v1" and follow.address == "555"
    assert follow.who.startswith("p-")
    # asking again after the status answer: no second offer, a note instead
    messages, _ = await run(ActionDossierStatus(), tracker(f"dossier {CODE}"))
    assert not messages[0].get("buttons")
    assert "đang theo dõi" in messages[0]["text"]


async def test_follow_uses_the_dossier_just_looked_up_and_warns_about_zalos_window(runtime):
    t = tracker("báo tôi khi hồ sơ thay đổi", channel="zalo", sender="z-1", intent="follow_dossier")
    t.slots["dossier_code"] = CODE
    messages, _ = await run(ActionFollowDossier(), t)
    assert "7 ngày" in messages[0]["text"]
    assert [f.dossier_code for f in runtime.follows.following("zalo", "z-1")] == [CODE]


async def test_rest_clients_and_unknown_codes_are_told_why_not(runtime):
    t = tracker(f"theo dõi hồ sơ {CODE}", channel="rest", intent="follow_dossier")
    messages, _ = await run(ActionFollowDossier(), t)
    assert "không nhận được thông báo" in messages[0]["text"]
    t = tracker("theo dõi hồ sơ 000.00.20.H26-251101-9999", intent="follow_dossier")
    messages, _ = await run(ActionFollowDossier(), t)
    assert "không tìm thấy" in messages[0]["text"]
    assert runtime.follows.following("telegram", "555") == []


async def test_list_then_stop_one_then_stop_all(runtime):
    for code in (CODE, OTHER, "000.25.13.H26-251103-9999"):
        if runtime.dossiers.get(code):
            runtime.follows.follow(code, "webchat", "w-1", "vi")
    messages, _ = await run(
        ActionListFollows(), tracker("hồ sơ đang theo dõi", channel="webchat", sender="w-1")
    )
    assert CODE in messages[0]["text"] and OTHER in messages[0]["text"]
    payloads = [b["payload"] for b in messages[0]["buttons"]]
    assert f'/unfollow_dossier{{"dossier_code":"{CODE}"}}' in payloads
    assert payloads[-1] == "/unfollow_dossier"
    t = tracker(f"hủy theo dõi {CODE}", channel="webchat", sender="w-1", intent="unfollow_dossier")
    messages, _ = await run(ActionUnfollowDossier(), t)
    assert messages[0]["text"] == f"Đã ngừng gửi thông báo về hồ sơ: {CODE}."
    assert [f.dossier_code for f in runtime.follows.following("webchat", "w-1")] == [OTHER]
    t = tracker("stop", channel="webchat", sender="w-1", intent="unfollow_dossier")
    messages, _ = await run(ActionUnfollowDossier(), t)
    assert OTHER in messages[0]["text"]
    assert runtime.follows.following("webchat", "w-1") == []
    messages, _ = await run(ActionUnfollowDossier(), t)
    assert "chưa theo dõi" in messages[0]["text"]
