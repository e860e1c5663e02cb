"""Dossier status lookups: normalised codes, limits, a second factor, no personal data.

The policy (limits, what may be shown, the refusal log) is :mod:`desk.lookups`.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import entity, last_text, reply_language
from actions.follows import follow_offer
from actions.runtime import get_runtime
from desk.codes import (
    CODE_PROBLEMS,
    code_problem,
    factor_in,
    find_code,
    looks_like_factor_only,
    normalize_code,
)
from desk.dossiers import NEEDS_MORE_DOCUMENTS, OVERDUE

VIETNAM = timezone(timedelta(hours=7))
_CODE_LIKE = re.compile(r"[0-9A-Za-z][0-9A-Za-z.\-\s]{5,}[0-9]")

_TEXTS = {
    "vi": {
        "limited": (
            "Anh/chị đã tra cứu quá nhiều lần trong một giờ. Vui lòng thử lại sau khoảng "
            "{minutes} phút, hoặc gọi tổng đài 1022."
        ),
        "busy": (
            "Hệ thống tra cứu hồ sơ đang quá tải. Vui lòng thử lại sau khoảng {minutes} phút, "
            "hoặc gọi tổng đài 1022."
        ),
        "bare": (
            "Để xem thủ tục, cơ quan tiếp nhận và ngày hẹn trả, anh/chị gửi 4 số cuối của số "
            "điện thoại đã khai trong hồ sơ (ví dụ: 4 số cuối 5678)."
        ),
        "wrong": (
            "4 số này không khớp với số điện thoại trong hồ sơ, nên em chỉ báo được trạng thái."
        ),
        "locked": (
            "Đã nhập sai nhiều lần, chi tiết hồ sơ tạm khóa trong một giờ; em chỉ báo được "
            "trạng thái. Anh/chị có thể hỏi bộ phận một cửa nơi nộp hồ sơ."
        ),
        "unknown": (
            "Em không tìm thấy hồ sơ mã {code}. Anh/chị kiểm tra lại mã trên giấy biên nhận "
            "(phiếu hẹn) giúp em; hồ sơ vừa nộp có thể chưa được cập nhật."
        ),
        OVERDUE: (
            "Hồ sơ đã quá hạn hẹn trả. Anh/chị có thể liên hệ bộ phận một cửa nơi nộp hồ sơ, "
            "hoặc gửi phản ánh, kiến nghị trên Cổng Dịch vụ công. Em có thể chuyển trường hợp "
            'này cho cán bộ nếu anh/chị muốn (nhắn "gặp cán bộ").'
        ),
        NEEDS_MORE_DOCUMENTS: (
            "Hồ sơ cần bổ sung giấy tờ: anh/chị xem thông báo của cơ quan tiếp nhận hoặc liên hệ "
            "bộ phận một cửa để biết cần bổ sung gì."
        ),
    },
    "en": {
        "limited": (
            "You have looked up too many dossiers in the last hour. Please try again in about "
            "{minutes} minutes, or call the 1022 hotline."
        ),
        "busy": (
            "Dossier lookups are very busy right now. Please try again in about {minutes} "
            "minutes, or call the 1022 hotline."
        ),
        "bare": (
            "To see the procedure, the receiving agency and the due date, send the last 4 digits "
            "of the phone number given in the dossier (e.g. last 4 digits 5678)."
        ),
        "wrong": (
            "Those digits do not match the phone number on the dossier, so I can only give the "
            "status."
        ),
        "locked": (
            "Too many wrong tries: the dossier's details are locked for an hour and I can only "
            "give the status. The one-stop desk where it was submitted can help."
        ),
        "unknown": (
            "I cannot find a dossier with code {code}. Please check the code on your receipt; "
            "a dossier submitted very recently may not be listed yet."
        ),
        OVERDUE: (
            "The dossier is past its due date. You can contact the one-stop desk where you "
            "submitted it, or send feedback on the public service portal. I can pass your case "
            'to a staff member if you like (say "talk to staff").'
        ),
        NEEDS_MORE_DOCUMENTS: (
            "The office needs more documents: see its notice or ask the one-stop desk what to "
            "add."
        ),
    },
}


def today_in_vietnam() -> date:
    """Returns today's date in Vietnam (UTC+7), which due dates are counted in."""
    return datetime.now(VIETNAM).date()


class ActionDossierStatus(Action):
    """Reports a dossier's status, due date and agency to whoever has its code."""

    def name(self) -> str:
        """Action name in the domain."""
        return "action_dossier_status"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        """Finds the code, checks the lookup limits, and reports what the asker may see."""
        language = reply_language(tracker)
        texts = _TEXTS[language]
        text = last_text(tracker)
        typed = entity(tracker, "dossier_code")
        code = normalize_code(typed) if typed else find_code(text)
        candidate = typed or next(iter(_CODE_LIKE.findall(text)), None)
        follow_up = code is None and (candidate is None or looks_like_factor_only(text))
        if follow_up and tracker.get_slot("dossier_code"):
            code, candidate = tracker.get_slot("dossier_code"), None  # the same dossier
        if code is None:
            problem = code_problem(candidate) or "shape"
            dispatcher.utter_message(text=CODE_PROBLEMS[language][problem])
            return [SlotSet("language", language)]
        runtime = get_runtime()
        verdict = runtime.lookups.admit(tracker.sender_id)
        if not verdict.allowed:
            minutes = max(1, round(verdict.retry_after_s / 60))
            key = "busy" if verdict.scope == "global" else "limited"
            dispatcher.utter_message(text=texts[key].format(minutes=minutes))
            return [SlotSet("language", language)]
        dossier = runtime.dossiers.get(code)
        if dossier is None:
            dispatcher.utter_message(text=texts["unknown"].format(code=code))
            return [SlotSet("language", language)]
        digits = factor_in(text)
        public, how = runtime.lookups.view(dossier, digits, tracker.sender_id, today_in_vietnam())
        lines = [public.text(language)]
        if how != "verified":
            lines.append(texts[how])
        advice = texts.get(public.status) or texts.get(public.recorded_status)
        if advice:
            lines.append(advice)
        note, buttons = follow_offer(tracker, code, language)
        if note:
            lines.append(note)
        if buttons:
            dispatcher.utter_message(text="\n".join(lines), buttons=buttons)
        else:
            dispatcher.utter_message(text="\n".join(lines))
        events: list[EventType] = [SlotSet("language", language), SlotSet("dossier_code", code)]
        if public.verified:
            events.append(
                SlotSet(
                    "procedure_code", public.procedure_code or tracker.get_slot("procedure_code")
                )
            )
        return events
