"""Citizen-facing answers composed from a catalogue record, in Vietnamese or English.

Each answer states the procedure's name and code, answers the aspect asked
(documents, fee, time, where, online, eligibility, steps, or an overview) with
the catalogue's own values, and ends with the official link. The catalogue is
Vietnamese: English answers translate the labels and units, name the procedure
in English where known, and keep document names as the catalogue writes them.
"""

from __future__ import annotations

from knowledge.schema import Channel, Document, Fee, Procedure, ProcessingTime
from knowledge.text import fold

ASPECTS = ("documents", "fee", "time", "where", "online", "eligibility", "steps", "overview")
"""What a citizen can ask about a procedure."""

MAX_DOCUMENTS = 12
MAX_STEPS = 6
MAX_TEXT = 400

_CHANNEL_NAMES = {
    "vi": {"in_person": "Nộp trực tiếp", "online": "Trực tuyến", "post": "Qua bưu chính"},
    "en": {"in_person": "In person", "online": "Online", "post": "By post"},
}
_UNITS = {
    "vi": {
        "working_days": "ngày làm việc",
        "days": "ngày",
        "hours": "giờ",
        "months": "tháng",
        "years": "năm",
    },
    "en": {
        "working_days": "working days",
        "days": "days",
        "hours": "hours",
        "months": "months",
        "years": "years",
    },
}
_LABELS = {
    "vi": {
        "procedure": "Thủ tục",
        "code": "mã",
        "documents": "Hồ sơ cần chuẩn bị",
        "no_documents": (
            "Danh mục hồ sơ chưa có trong dữ liệu; anh/chị vui lòng hỏi bộ phận một cửa."
        ),
        "more_documents": "… và {n} giấy tờ khác (xem trang chính thức).",
        "originals": "bản chính",
        "copies": "bản sao",
        "fee": "Phí, lệ phí",
        "free": "Miễn phí",
        "no_info": "chưa có thông tin",
        "time": "Thời hạn giải quyết",
        "where": "Nơi nộp hồ sơ",
        "ways": "Cách nộp",
        "online_yes": "Có, thủ tục này nộp trực tuyến được",
        "online_portal": (
            "qua Cổng Dịch vụ công quốc gia (dichvucong.gov.vn) hoặc cổng dịch vụ công của "
            "thành phố; một số thủ tục làm được trên ứng dụng VNeID."
        ),
        "online_no": (
            "Theo dữ liệu hiện có, thủ tục này chưa nộp trực tuyến được; anh/chị nộp theo cách sau"
        ),
        "applicants": "Đối tượng thực hiện",
        "conditions": "Điều kiện",
        "no_conditions": "Không có điều kiện riêng ngoài hồ sơ hợp lệ.",
        "steps": "Trình tự thực hiện",
        "no_steps": "Trình tự chưa có trong dữ liệu.",
        "result": "Kết quả",
        "details": "Chi tiết",
        "agency_unknown": "cơ quan có thẩm quyền (xem trang chính thức)",
        "verify": "Mức phí, thời hạn có thể thay đổi; anh/chị nên kiểm tra lại khi nộp.",
    },
    "en": {
        "procedure": "Procedure",
        "code": "code",
        "documents": "Documents to prepare (names as in the official catalogue)",
        "no_documents": "The catalogue has no document list for it; please ask the one-stop desk.",
        "more_documents": "… and {n} more (see the official page).",
        "originals": "original",
        "copies": "copy",
        "fee": "Fees",
        "free": "Free of charge",
        "no_info": "no information",
        "time": "Processing time",
        "where": "Where to submit",
        "ways": "Ways to submit",
        "online_yes": "Yes, you can apply online",
        "online_portal": (
            "on the National Public Service Portal (dichvucong.gov.vn) or the city's portal; "
            "some procedures also work in the VNeID app."
        ),
        "online_no": "The catalogue does not list online submission; you can submit",
        "applicants": "Who may apply",
        "conditions": "Conditions",
        "no_conditions": "No special conditions beyond a complete dossier.",
        "steps": "Steps",
        "no_steps": "The catalogue does not describe the steps.",
        "result": "Result",
        "details": "Details",
        "agency_unknown": "the competent agency (see the official page)",
        "verify": "Fees and times can change; please check when you submit.",
    },
}


def _lang(language: str) -> str:
    return "en" if language == "en" else "vi"


def _clip(text: str, limit: int = MAX_TEXT) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rsplit(" ", 1)[0] + "…"


def format_vnd(amount: int, language: str) -> str:
    """Formats an amount in đồng: ``200.000 đ`` (vi) or ``200,000 VND`` (en)."""
    if _lang(language) == "en":
        return f"{amount:,} VND"
    return f"{amount:,}".replace(",", ".") + " đ"


def format_time(time: ProcessingTime, language: str) -> str:
    """Formats a processing time from its number and unit, or its original text."""
    lang = _lang(language)
    if time.value is not None and time.unit:
        value = int(time.value) if float(time.value).is_integer() else time.value
        return f"{value} {_UNITS[lang][time.unit]}"
    if time.value is not None:
        return f"{int(time.value) if float(time.value).is_integer() else time.value}"
    return _clip(time.text, 160) or _LABELS[lang]["no_info"]


def format_fee(fee: Fee, language: str) -> str:
    """Formats a fee: its amounts, "free", or the original wording."""
    lang = _lang(language)
    labels = _LABELS[lang]
    if fee.amounts_vnd:
        amounts = " / ".join(format_vnd(a, lang) for a in dict.fromkeys(fee.amounts_vnd))
        note = _clip(fee.text, 220) if fee.text and len(fee.amounts_vnd) > 1 else ""
        return f"{amounts} ({note})" if note else amounts
    if fee.free is True:
        return labels["free"]
    if fee.text and fee.text.lower() not in ("không có thông tin",):
        return _clip(fee.text, 220)
    return labels["no_info"]


def format_document(document: Document, language: str) -> str:
    """Formats one document line with its number of originals and copies."""
    labels = _LABELS[_lang(language)]
    counts = []
    if document.originals:
        counts.append(f"{document.originals} {labels['originals']}")
    if document.copies:
        counts.append(f"{document.copies} {labels['copies']}")
    suffix = f" ({', '.join(counts)})" if counts else ""
    shown = document.form and fold(document.form) not in fold(document.name)
    form = f" [{document.form}]" if shown else ""
    return f"{_clip(document.name, 240)}{form}{suffix}"


def title(procedure: Procedure, language: str) -> str:
    """Returns the procedure's name with its code, in the reply language."""
    lang = _lang(language)
    labels = _LABELS[lang]
    if lang == "en" and procedure.name_en:
        return f"{procedure.name_en} — {procedure.name} ({labels['code']} {procedure.code})"
    return f"{procedure.name} ({labels['code']} {procedure.code})"


def _channel_lines(channels: list[Channel], language: str, value) -> list[str]:
    lang = _lang(language)
    rendered = [(c.channel, value(c)) for c in channels]
    if len({v for _, v in rendered}) == 1 and len(rendered) > 1:
        ways = ", ".join(_CHANNEL_NAMES[lang][c].lower() for c, _ in rendered)
        return [f"{rendered[0][1]} ({ways})"]
    return [f"- {_CHANNEL_NAMES[lang][c]}: {v}" for c, v in rendered]


def _documents(procedure: Procedure, language: str) -> list[str]:
    labels = _LABELS[_lang(language)]
    if not procedure.documents:
        return [labels["no_documents"]]
    lines = [f"{labels['documents']}:"]
    for doc in procedure.documents[:MAX_DOCUMENTS]:
        lines.append(f"- {format_document(doc, language)}")
    if len(procedure.documents) > MAX_DOCUMENTS:
        lines.append(labels["more_documents"].format(n=len(procedure.documents) - MAX_DOCUMENTS))
    return lines


def _fee(procedure: Procedure, language: str) -> list[str]:
    labels = _LABELS[_lang(language)]
    if not procedure.channels:
        return [f"{labels['fee']}: {labels['no_info']}"]
    lines = _channel_lines(procedure.channels, language, lambda c: format_fee(c.fee, language))
    head = f"{labels['fee']}:"
    return [f"{head} {lines[0]}"] if len(lines) == 1 else [head, *lines]


def _time(procedure: Procedure, language: str) -> list[str]:
    labels = _LABELS[_lang(language)]
    if not procedure.channels:
        return [f"{labels['time']}: {labels['no_info']}"]
    lines = _channel_lines(
        procedure.channels, language, lambda c: format_time(c.processing_time, language)
    )
    head = f"{labels['time']}:"
    return [f"{head} {lines[0]}"] if len(lines) == 1 else [head, *lines]


def _ways(procedure: Procedure, language: str) -> str:
    lang = _lang(language)
    return ", ".join(_CHANNEL_NAMES[lang][c.channel].lower() for c in procedure.channels)


def _where(procedure: Procedure, language: str) -> list[str]:
    labels = _LABELS[_lang(language)]
    agencies = "; ".join(procedure.agencies[:4]) or labels["agency_unknown"]
    lines = [f"{labels['where']}: {_clip(agencies, 300)}"]
    if procedure.channels:
        lines.append(f"{labels['ways']}: {_ways(procedure, language)}")
    if procedure.channel("online"):
        lines.append(f"{labels['online_yes']} {labels['online_portal']}")
    return lines


def _online(procedure: Procedure, language: str) -> list[str]:
    labels = _LABELS[_lang(language)]
    online = procedure.channel("online")
    if online is None:
        ways = _ways(procedure, language)
        agencies = "; ".join(procedure.agencies[:3]) or labels["agency_unknown"]
        return [f"{labels['online_no']}: {ways or '-'} — {_clip(agencies, 240)}."]
    return [
        f"{labels['online_yes']} {labels['online_portal']}",
        f"{labels['time']}: {format_time(online.processing_time, language)}",
        f"{labels['fee']}: {format_fee(online.fee, language)}",
    ]


def _eligibility(procedure: Procedure, language: str) -> list[str]:
    labels = _LABELS[_lang(language)]
    lines = []
    if procedure.applicants:
        lines.append(f"{labels['applicants']}: {', '.join(procedure.applicants)}")
    conditions = _clip(procedure.conditions, 600) if procedure.conditions else ""
    lines.append(f"{labels['conditions']}: {conditions or labels['no_conditions']}")
    return lines


def _steps(procedure: Procedure, language: str) -> list[str]:
    labels = _LABELS[_lang(language)]
    if not procedure.steps:
        return [labels["no_steps"]]
    lines = [f"{labels['steps']}:"]
    lines += [f"{n}. {_clip(step, 300)}" for n, step in enumerate(procedure.steps[:MAX_STEPS], 1)]
    if procedure.result:
        lines.append(f"{labels['result']}: {_clip(procedure.result, 200)}")
    return lines


def _overview(procedure: Procedure, language: str) -> list[str]:
    lines = _where(procedure, language)[:2]
    lines += _time(procedure, language) + _fee(procedure, language)
    docs = _documents(procedure, language)
    if len(docs) > 6:
        docs = [*docs[:6], "…"]
    return lines + docs


_SECTIONS = {
    "documents": _documents,
    "fee": _fee,
    "time": _time,
    "where": _where,
    "online": _online,
    "eligibility": _eligibility,
    "steps": _steps,
    "overview": _overview,
}


def compose_answer(procedure: Procedure, aspect: str, language: str) -> str:
    """Answers one aspect of a procedure.

    Args:
        procedure: The catalogue record.
        aspect: One of :data:`ASPECTS` (unknown aspects get the overview).
        language: ``"vi"`` or ``"en"``.

    Returns:
        Plain text: the procedure's name and code, the answer, and the official link.
    """
    lang = _lang(language)
    labels = _LABELS[lang]
    aspect = aspect if aspect in _SECTIONS else "overview"
    section = _SECTIONS[aspect]
    lines = [f"{labels['procedure']}: {title(procedure, lang)}", *section(procedure, lang)]
    if aspect in ("fee", "time", "overview", "online"):
        lines.append(labels["verify"])
    if procedure.url:
        lines.append(f"{labels['details']}: {procedure.url}")
    return "\n".join(lines)
