"""What a notice says: the dossier code and its bare status, in the follower's language.

A notice goes to whoever followed the code, and a chat message can be read over a
shoulder or on a locked screen, so it carries no more than the bare status lookup shows
without a second factor (:mod:`desk.lookups`): no procedure, agency, dates or name.
"""

from __future__ import annotations

from desk.dossiers import status_label

_NOTICE = {
    "vi": (
        "🔔 Hồ sơ {code} vừa chuyển sang trạng thái: {status}.\n"
        'Nhắn "tra cứu hồ sơ {code}" để xem chi tiết, hoặc "hủy theo dõi {code}" để '
        "ngừng nhận thông báo."
    ),
    "en": (
        "🔔 Dossier {code} has moved to: {status}.\n"
        'Send "dossier {code}" for details, or "stop following {code}" to stop these notices.'
    ),
}


def notice_text(code: str, status: str, language: str = "vi") -> str:
    """The notice of ``code`` moving to ``status``, in ``vi`` or ``en``."""
    language = "en" if language == "en" else "vi"
    return _NOTICE[language].format(code=code, status=status_label(status, language))
