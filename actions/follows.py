"""Following dossiers: the offer after a status answer, follow, list, stop (one or all).

The records are :mod:`desk.follows`; the notices go out from :mod:`notify`. A follow keeps
the dossier code, the channel, the channel user id (to deliver), the language and the
consent given, nothing else.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import entity, last_text, reply_language
from actions.runtime import get_runtime
from desk.codes import find_code, normalize_code
from desk.follows import CHANNELS, MAX_FOLLOWS, TooManyFollows

_TEXTS = {
    "vi": {
        "offer": "🔔 Báo tôi khi hồ sơ thay đổi",
        "following": "Anh/chị đang theo dõi hồ sơ này; em sẽ nhắn khi trạng thái thay đổi.",
        "followed": (
            "Đã xong! Em sẽ nhắn anh/chị khi hồ sơ {code} chuyển trạng thái (chỉ mã hồ sơ và "
            "trạng thái; ban đêm em không nhắn, trừ việc gấp). Em chỉ lưu mã hồ "
            'sơ, kênh nhắn tin, ngôn ngữ và sự đồng ý của anh/chị. Nhắn "hồ sơ đang theo dõi" '
            'để xem danh sách, "hủy theo dõi" để ngừng.'
        ),
        "zalo": (
            "Lưu ý: Zalo chỉ cho phép Official Account nhắn trong 7 ngày sau tin nhắn gần nhất "
            "của anh/chị; thỉnh thoảng nhắn cho em để không lỡ thông báo."
        ),
        "no_channel": (
            "Kênh này không nhận được thông báo. Anh/chị theo dõi hồ sơ qua Telegram, Zalo "
            "hoặc khung chat trên cổng thông tin nhé."
        ),
        "no_code": (
            "Anh/chị muốn theo dõi hồ sơ nào? Gửi mã hồ sơ trên giấy biên nhận, ví dụ: "
            '"theo dõi hồ sơ 000.00.20.H26-251103-0042".'
        ),
        "unknown": "Em không tìm thấy hồ sơ mã {code}; anh/chị kiểm tra lại mã giúp em.",
        "too_many": "Anh/chị đang theo dõi {n} hồ sơ, mức tối đa; hãy hủy bớt trước.",
        "none": "Anh/chị chưa theo dõi hồ sơ nào trên kênh này.",
        "list": "Anh/chị đang theo dõi {n} hồ sơ:",
        "stop_one": "Hủy theo dõi {code}",
        "stop_all": "Hủy theo dõi tất cả",
        "stopped": "Đã ngừng gửi thông báo về hồ sơ: {codes}.",
        "not_following": "Anh/chị không theo dõi hồ sơ {code}.",
    },
    "en": {
        "offer": "🔔 Notify me when it changes",
        "following": "You follow this dossier; I will message you when its status changes.",
        "followed": (
            "Done! I will message you when dossier {code} changes status (only the code and "
            "the status; no messages at night unless urgent). I keep only the "
            "dossier code, this chat channel, your language and your consent. Send "
            '"my followed dossiers" to list them, "stop" to stop.'
        ),
        "zalo": (
            "Note: Zalo lets an Official Account message you only within 7 days of your last "
            "message; write to me now and then so you do not miss a notice."
        ),
        "no_channel": (
            "This channel cannot receive notices. Follow the dossier on Telegram, Zalo or the "
            "chat window on the portal."
        ),
        "no_code": (
            "Which dossier? Send the code on your receipt, e.g. "
            '"follow dossier 000.00.20.H26-251103-0042".'
        ),
        "unknown": "I cannot find a dossier with code {code}; please check the code.",
        "too_many": "You already follow {n} dossiers, the most allowed; stop one first.",
        "none": "You do not follow any dossier on this channel.",
        "list": "You follow {n} dossier(s):",
        "stop_one": "Stop {code}",
        "stop_all": "Stop all",
        "stopped": "No more notices about: {codes}.",
        "not_following": "You do not follow dossier {code}.",
    },
}

_ALL_WORDS = ("tất cả", "tat ca", "hết", "het", "all", "everything")


def channel_of(tracker: Tracker) -> str:
    """The channel the citizen writes from (``telegram``, ``zalo``, ``webchat``, ``rest``)."""
    return tracker.get_latest_input_channel() or ""


def _follow_payload(intent: str, code: str) -> str:
    return f'/{intent}{{"dossier_code":"{code}"}}'


def follow_offer(tracker: Tracker, code: str, language: str) -> tuple[str | None, list[dict]]:
    """What the status answer adds: a note when followed already, else the offer button.

    Returns:
        ``(note, buttons)``; nothing on a channel notices cannot reach.
    """
    channel = channel_of(tracker)
    if channel not in CHANNELS:
        return None, []
    texts = _TEXTS[language]
    followed = get_runtime().follows.following(channel, tracker.sender_id)
    if any(f.dossier_code == code for f in followed):
        return texts["following"], []
    return None, [{"title": texts["offer"], "payload": _follow_payload("follow_dossier", code)}]


def _code_asked(tracker: Tracker) -> str | None:
    typed = entity(tracker, "dossier_code")
    return (normalize_code(typed) if typed else None) or find_code(last_text(tracker))


class ActionFollowDossier(Action):
    """Records the citizen's consent to status notices about one dossier."""

    def name(self) -> str:
        """Action name in the domain."""
        return "action_follow_dossier"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        """Follows the dossier named (or the one just looked up)."""
        language = reply_language(tracker)
        texts = _TEXTS[language]
        events: list[EventType] = [SlotSet("language", language)]
        channel = channel_of(tracker)
        if channel not in CHANNELS:
            dispatcher.utter_message(text=texts["no_channel"])
            return events
        code = _code_asked(tracker) or tracker.get_slot("dossier_code")
        if not code:
            dispatcher.utter_message(text=texts["no_code"])
            return events
        runtime = get_runtime()
        if runtime.dossiers.get(code) is None:
            dispatcher.utter_message(text=texts["unknown"].format(code=code))
            return events
        try:
            runtime.follows.follow(code, channel, tracker.sender_id, language)
        except TooManyFollows:
            dispatcher.utter_message(text=texts["too_many"].format(n=MAX_FOLLOWS))
            return events
        lines = [texts["followed"].format(code=code)]
        if channel == "zalo":
            lines.append(texts["zalo"])
        dispatcher.utter_message(text="\n".join(lines))
        return [*events, SlotSet("dossier_code", code)]


class ActionListFollows(Action):
    """Lists the dossiers the citizen follows on this channel, each with a stop button."""

    def name(self) -> str:
        """Action name in the domain."""
        return "action_list_follows"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        """Lists the follows (or says there are none)."""
        language = reply_language(tracker)
        texts = _TEXTS[language]
        channel = channel_of(tracker)
        followed = (
            get_runtime().follows.following(channel, tracker.sender_id)
            if channel in CHANNELS
            else []
        )
        if not followed:
            dispatcher.utter_message(text=texts["none"])
            return [SlotSet("language", language)]
        lines = [texts["list"].format(n=len(followed))]
        lines += [f"• {f.dossier_code}" for f in followed]
        buttons = [
            {
                "title": texts["stop_one"].format(code=f.dossier_code),
                "payload": _follow_payload("unfollow_dossier", f.dossier_code),
            }
            for f in followed
        ]
        if len(followed) > 1:
            buttons.append({"title": texts["stop_all"], "payload": "/unfollow_dossier"})
        dispatcher.utter_message(text="\n".join(lines), buttons=buttons)
        return [SlotSet("language", language)]


class ActionUnfollowDossier(Action):
    """Stops notices: about the dossier named, or about every dossier when none is named."""

    def name(self) -> str:
        """Action name in the domain."""
        return "action_unfollow_dossier"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        """Unfollows one dossier ("hủy theo dõi <code>") or all ("stop", "hủy theo dõi")."""
        language = reply_language(tracker)
        texts = _TEXTS[language]
        channel = channel_of(tracker)
        text = last_text(tracker).lower()
        code = None if any(w in text for w in _ALL_WORDS) else _code_asked(tracker)
        stopped = (
            get_runtime().follows.unfollow(channel, tracker.sender_id, code)
            if channel in CHANNELS
            else []
        )
        if stopped:
            dispatcher.utter_message(text=texts["stopped"].format(codes=", ".join(stopped)))
        elif code:
            dispatcher.utter_message(text=texts["not_following"].format(code=code))
        else:
            dispatcher.utter_message(text=texts["none"])
        return [SlotSet("language", language)]
