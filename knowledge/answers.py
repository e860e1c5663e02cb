"""Citizen-facing answers composed from a catalogue record, in Vietnamese or English.

Each answer states the procedure's name and code, answers the aspect asked
(documents, fee, time, where, online, eligibility, steps, legal basis, official
forms, or an overview) with
the catalogue's own values, and ends with the official link. Built-in entries
carry their own English (documents, steps, fees, agencies), so English answers read
as English; for a procedure known only from an official import, English answers
translate the labels and units, name the procedure by a glossary translation marked
as unofficial, and say plainly that the official details below are in Vietnamese.
"""

from __future__ import annotations

from collections.abc import Sequence

from knowledge.builtin import english_names
from knowledge.schema import Channel, Document, Fee, Procedure, ProcessingTime
from knowledge.text import fold
from knowledge.vocabulary import english_gloss

ASPECTS = (
    "documents",
    "fee",
    "time",
    "where",
    "online",
    "eligibility",
    "steps",
    "legal",
    "forms",
    "overview",
)
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
        "unofficial": "bản dịch không chính thức",
        "vietnamese_details": "",
        "legal": "Căn cứ pháp lý",
        "no_legal": "Dữ liệu chưa ghi căn cứ pháp lý của thủ tục này; xem trang chính thức.",
        "more_legal": "… và {n} văn bản khác (xem trang chính thức).",
        "forms": "Mẫu đơn, tờ khai",
        "no_forms": (
            "Theo dữ liệu hiện có, thủ tục này không có mẫu đơn, tờ khai riêng; hồ sơ gồm các "
            "giấy tờ trong danh mục."
        ),
        "forms_where": "Tải mẫu tại trang chính thức của thủ tục (mục Thành phần hồ sơ).",
    },
    "en": {
        "procedure": "Procedure",
        "code": "code",
        "documents": "Documents to prepare",
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
        "unofficial": "unofficial translation",
        "legal": "Legal basis",
        "no_legal": (
            "The catalogue does not list this procedure's legal basis; see the official page."
        ),
        "more_legal": "… and {n} more (see the official page).",
        "forms": "Official forms",
        "no_forms": (
            "The catalogue lists no special form for this procedure; the dossier is the "
            "documents in its list."
        ),
        "forms_where": "Download the forms from the procedure's official page (dossier section).",
        "vietnamese_details": (
            "We have no English version of this procedure yet: the official details below "
            "are in Vietnamese."
        ),
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


def _pick(vietnamese: str, english: str, language: str) -> str:
    """Returns the English text for English replies when the catalogue has it."""
    return english if _lang(language) == "en" and english else vietnamese


def format_time(time: ProcessingTime, language: str) -> str:
    """Formats a processing time from its number and unit, or its original text.

    Curated entries (those with an English text) add their explanation to the number.
    """
    lang = _lang(language)
    if time.value is not None and time.unit:
        value = int(time.value) if float(time.value).is_integer() else time.value
        shown = f"{value} {_UNITS[lang][time.unit]}"
        note = _pick(time.text, time.text_en, lang) if time.text_en else ""
        if note and fold(shown) not in fold(note):
            return f"{shown} ({_clip(note, 200)})"
        return _clip(note, 200) if note else shown
    if time.value is not None:
        return f"{int(time.value) if float(time.value).is_integer() else time.value}"
    return _clip(_pick(time.text, time.text_en, lang), 160) or _LABELS[lang]["no_info"]


def format_fee(fee: Fee, language: str) -> str:
    """Formats a fee: its amounts, "free", or the original wording.

    Curated entries (those with an English text) always add their own explanation,
    which names the regulation and any temporary reduction.
    """
    lang = _lang(language)
    labels = _LABELS[lang]
    curated = bool(fee.text_en)
    text = _pick(fee.text, fee.text_en, lang)
    if fee.amounts_vnd or fee.amounts_usd:
        shown = [format_vnd(a, lang) for a in dict.fromkeys(fee.amounts_vnd)]
        shown += [f"{a:g} USD" for a in dict.fromkeys(fee.amounts_usd)]
        amounts = " / ".join(shown)
        several = len(fee.amounts_vnd) + len(fee.amounts_usd) > 1
        note = _clip(text, 260) if text and (curated or several) else ""
        return f"{amounts} ({note})" if note else amounts
    if fee.free is True:
        return f"{labels['free']} ({_clip(text, 260)})" if curated and text else labels["free"]
    if text and text.lower() not in ("không có thông tin",):
        return _clip(text, 260)
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
    name = _pick(document.name, document.name_en, language)
    shown = document.form and fold(document.form) not in fold(document.name)
    form = f" [{document.form}]" if shown else ""
    return f"{_clip(name, 240)}{form}{suffix}"


def title(procedure: Procedure, language: str) -> str:
    """Returns the procedure's name with its code, in the reply language."""
    lang = _lang(language)
    labels = _LABELS[lang]
    code = f"({labels['code']} {procedure.code})"
    if lang == "en" and procedure.name_en:
        return f"{procedure.name_en} — {procedure.name} {code}"
    if lang == "en":
        # Our translation of the official name, else a word-by-word gloss: both unofficial.
        english = english_names().get(procedure.code) or english_gloss(procedure.name)
        if english:
            english = f"{english[:1].upper()}{english[1:]}"
            return f"{english} ({labels['unofficial']}) — {procedure.name} {code}"
    return f"{procedure.name} {code}"


def _has_english(procedure: Procedure) -> bool:
    """Says whether the catalogue has this procedure's content in English (built-in entries)."""
    return bool(procedure.name_en) and all(d.name_en for d in procedure.documents)


def _list(vietnamese: list[str], english: list[str], language: str) -> list[str]:
    """Returns the English list for English replies when it matches the Vietnamese one."""
    if _lang(language) == "en" and english and len(english) == len(vietnamese):
        return english
    return vietnamese


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
    agencies = "; ".join(_list(procedure.agencies, procedure.agencies_en, language)[:4])
    agencies = agencies or labels["agency_unknown"]
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
        agencies = "; ".join(_list(procedure.agencies, procedure.agencies_en, language)[:3])
        agencies = agencies or labels["agency_unknown"]
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
        applicants = _list(procedure.applicants, procedure.applicants_en, language)
        lines.append(f"{labels['applicants']}: {', '.join(applicants)}")
    text = _pick(procedure.conditions, procedure.conditions_en, language)
    conditions = _clip(text, 600) if text else ""
    lines.append(f"{labels['conditions']}: {conditions or labels['no_conditions']}")
    return lines


def _steps(procedure: Procedure, language: str) -> list[str]:
    labels = _LABELS[_lang(language)]
    if not procedure.steps:
        return [labels["no_steps"]]
    lines = [f"{labels['steps']}:"]
    steps = _list(procedure.steps, procedure.steps_en, language)
    lines += [f"{n}. {_clip(step, 300)}" for n, step in enumerate(steps[:MAX_STEPS], 1)]
    if procedure.result:
        result = _pick(procedure.result, procedure.result_en, language)
        lines.append(f"{labels['result']}: {_clip(result, 200)}")
    return lines


MAX_LEGAL = 8
_FORM_WORDS = ("mau", "to khai", "don de nghi", "don xin", "don dang ky", "phieu")


def _legal(procedure: Procedure, language: str) -> list[str]:
    labels = _LABELS[_lang(language)]
    if not procedure.legal_basis:
        return [labels["no_legal"]]
    lines = [f"{labels['legal']}:"]
    lines += [f"- {_clip(item, 220)}" for item in procedure.legal_basis[:MAX_LEGAL]]
    if len(procedure.legal_basis) > MAX_LEGAL:
        lines.append(labels["more_legal"].format(n=len(procedure.legal_basis) - MAX_LEGAL))
    return lines


def _is_form(document: Document) -> bool:
    name = fold(document.name)
    return bool(document.form) or any(name.startswith(w) or f" {w} " in name for w in _FORM_WORDS)


def _forms(procedure: Procedure, language: str) -> list[str]:
    labels = _LABELS[_lang(language)]
    forms = [d for d in procedure.documents if _is_form(d)]
    if not forms:
        return [labels["no_forms"]]
    lines = [f"{labels['forms']}:"]
    lines += [f"- {format_document(d, language)}" for d in forms[:MAX_DOCUMENTS]]
    if procedure.url:
        lines.append(labels["forms_where"])
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
    "legal": _legal,
    "forms": _forms,
    "overview": _overview,
}


def normalize_aspects(aspect: str | Sequence[str]) -> list[str]:
    """Returns the aspects asked, in order and once each.

    Unknown aspects become the overview, which is dropped when a specific one is asked.
    """
    wanted = [aspect] if isinstance(aspect, str) else list(aspect)
    aspects = list(dict.fromkeys(a if a in _SECTIONS else "overview" for a in wanted))
    if len(aspects) > 1 and "overview" in aspects:
        aspects.remove("overview")
    return aspects or ["overview"]


def compose_answer(procedure: Procedure, aspect: str | Sequence[str], language: str) -> str:
    """Answers one or several aspects of a procedure.

    Args:
        procedure: The catalogue record.
        aspect: One of :data:`ASPECTS`, or several (answered together, in order: "what do
            I bring, and is it free?"); unknown aspects get the overview.
        language: ``"vi"`` or ``"en"``.

    Returns:
        Plain text: the procedure's name and code, the answer, and the official link.
    """
    lang = _lang(language)
    labels = _LABELS[lang]
    aspects = normalize_aspects(aspect)
    lines = [f"{labels['procedure']}: {title(procedure, lang)}"]
    if lang == "en" and not _has_english(procedure):
        lines.append(labels["vietnamese_details"])
    for name in aspects:
        lines += _SECTIONS[name](procedure, lang)
    if {"fee", "time", "overview", "online"} & set(aspects):
        lines.append(labels["verify"])
    if procedure.url:
        lines.append(f"{labels['details']}: {procedure.url}")
    return "\n".join(lines)
