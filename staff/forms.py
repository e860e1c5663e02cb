"""The procedure edit form: field values to form inputs and back.

Every editable field is shown as text (lists one item a line; channels as a few inputs
each). On submit, a field whose inputs are exactly as shown keeps its value untouched;
a changed one is read back into the catalogue's shape, keeping what the form does not
show (a document's number of copies, a channel's details) from the value it replaces.
"""

from __future__ import annotations

import re
from typing import Any

from knowledge.importers.portal import money_amounts, parse_amount
from knowledge.schema import CHANNELS, TIME_UNITS

LIST_FIELDS = ("keywords", "agencies", "applicants", "steps")
TEXT_FIELDS = ("name_en", "conditions", "result", "url")
CHANNEL_INPUTS = (
    "on",
    "time_value",
    "time_unit",
    "time_text",
    "fee_amounts",
    "fee_free",
    "fee_text",
    "description",
)
_NUMBER = re.compile(r"[0-9][0-9.,]*[0-9]|[0-9]")


def _lines(text: str) -> list[str]:
    return [line.strip() for line in (text or "").replace("\r", "").split("\n") if line.strip()]


def _number(value: float | None) -> str:
    if value is None:
        return ""
    return str(int(value)) if float(value).is_integer() else str(value)


def format_amounts(amounts: list[int]) -> str:
    """``[200000, 400000]`` → ``"200.000; 400.000"``."""
    return "; ".join(f"{a:,}".replace(",", ".") for a in amounts)


def parse_amounts(text: str) -> list[int]:
    """``"200.000; 400.000"`` (or ``200000``, ``1,5 triệu``) → amounts in đồng."""
    if re.search(r"(?i)tri[eệ]u|ngh[iì]n|ng[aà]n|đồng|dong|đ\b", text):
        amounts = money_amounts(text)
        if amounts:
            return amounts
    out: list[int] = []
    for token in _NUMBER.findall(text or ""):
        value = parse_amount(token)
        if value and value not in out:
            out.append(value)
    return out


def channel_inputs(channel: dict[str, Any] | None) -> dict[str, str]:
    """The inputs of one channel (all empty when it is not offered)."""
    if channel is None:
        return dict.fromkeys(CHANNEL_INPUTS, "")
    time = channel.get("processing_time") or {}
    fee = channel.get("fee") or {}
    free = fee.get("free")
    return {
        "on": "1",
        "time_value": _number(time.get("value")),
        "time_unit": time.get("unit") or "",
        "time_text": time.get("text") or "",
        "fee_amounts": format_amounts(fee.get("amounts_vnd") or []),
        "fee_free": "" if free is None else ("yes" if free else "no"),
        "fee_text": fee.get("text") or "",
        "description": channel.get("description") or "",
    }


def field_inputs(name: str, value: Any) -> Any:
    """The form inputs of one field: a string, or ``{channel: {input: str}}``."""
    if name in LIST_FIELDS:
        return "\n".join(value or [])
    if name == "documents":
        return "\n".join(d["name"] for d in value or [])
    if name == "channels":
        by_name = {c["channel"]: c for c in value or []}
        return {c: channel_inputs(by_name.get(c)) for c in CHANNELS}
    return value or ""


def form_inputs(values: dict[str, Any]) -> dict[str, Any]:
    """The form inputs of every editable field, from ``{field: value}``."""
    from knowledge.overrides import EDITABLE_FIELDS

    return {name: field_inputs(name, values.get(name)) for name in EDITABLE_FIELDS}


def _submitted(name: str, form: Any) -> Any:
    if name == "channels":
        return {
            c: {i: (form.get(f"ch_{c}_{i}") or "").strip() for i in CHANNEL_INPUTS}
            for c in CHANNELS
        }
    raw = form.get(name)
    if raw is None:
        return None
    text = str(raw).replace("\r", "")
    if name in LIST_FIELDS or name == "documents":
        return "\n".join(_lines(text))
    return text.strip()


def _normal(name: str, inputs: Any) -> Any:
    if name == "channels":
        return {
            c: ({k: v.strip() for k, v in i.items()} if i.get("on") else {"on": ""})
            for c, i in inputs.items()
        }
    if isinstance(inputs, str):
        return "\n".join(_lines(inputs)) if "\n" in inputs else inputs.strip()
    return inputs


def _channel_value(name: str, inputs: dict[str, str], shown: dict[str, Any] | None) -> dict:
    base = dict(shown or {"channel": name})
    raw_value = inputs["time_value"].replace(",", ".")
    try:
        value = float(raw_value) if raw_value else None
    except ValueError as exc:
        raise ValueError(f"{name}: the time must be a number, got {raw_value!r}") from exc
    unit = inputs["time_unit"] or None
    if unit is not None and unit not in TIME_UNITS:
        raise ValueError(f"{name}: unknown time unit {unit!r}")
    fee = dict(base.get("fee") or {})
    old_fee_text = fee.get("text") or ""
    amounts_text = inputs["fee_amounts"]
    amounts_changed = amounts_text != format_amounts(fee.get("amounts_vnd") or [])
    if amounts_changed:
        fee["amounts_vnd"] = parse_amounts(amounts_text)
    elif inputs["fee_text"] != old_fee_text and money_amounts(inputs["fee_text"]):
        fee["amounts_vnd"] = money_amounts(inputs["fee_text"])  # the wording names new sums
    fee["text"] = inputs["fee_text"]
    free = inputs["fee_free"]
    fee["free"] = True if free == "yes" else False if free == "no" else None
    if fee["amounts_vnd"] and fee["free"] is True:
        fee["free"] = False
    # The form edits the Vietnamese texts; an English text (built-in entries) is kept while
    # its Vietnamese text is unchanged, and dropped when staff reword it (no stale English).
    time = dict(base.get("processing_time") or {})
    keep_time_en = inputs["time_text"] == (time.get("text") or "")
    keep_fee_en = fee["text"] == old_fee_text
    keep_description_en = inputs["description"] == (base.get("description") or "")
    return {
        "channel": name,
        "processing_time": {
            "value": value,
            "unit": unit,
            "text": inputs["time_text"],
            "text_en": (time.get("text_en") or "") if keep_time_en else "",
        },
        "fee": {
            "amounts_vnd": fee.get("amounts_vnd") or [],
            "free": fee["free"],
            "text": fee["text"],
            "text_en": (fee.get("text_en") or "") if keep_fee_en else "",
            "amounts_usd": (fee.get("amounts_usd") or []) if not amounts_changed else [],
        },
        "description": inputs["description"],
        "description_en": (base.get("description_en") or "") if keep_description_en else "",
    }


def field_value(name: str, inputs: Any, shown: Any) -> Any:
    """Reads one field back from its submitted inputs.

    Args:
        name: The field.
        inputs: What :func:`_submitted` read for it.
        shown: The value the form showed (kept where the form has no input for it).
    """
    if name in LIST_FIELDS:
        return _lines(inputs)
    if name == "documents":
        previous = {d["name"]: d for d in shown or []}
        return [previous.get(n, {"name": n}) for n in _lines(inputs)]
    if name == "channels":
        by_name = {c["channel"]: c for c in shown or []}
        return [
            _channel_value(c, inputs[c], by_name.get(c)) for c in CHANNELS if inputs[c].get("on")
        ]
    return inputs


def changed_fields(form: Any, shown: dict[str, Any]) -> dict[str, Any]:
    """Returns ``{field: new value}`` for the fields whose inputs differ from ``shown``.

    Args:
        form: The submitted form (a mapping with ``get``).
        shown: ``{field: value}`` the form was filled from.

    Raises:
        ValueError: For an input that cannot be read (a time that is not a number).
    """
    from knowledge.overrides import EDITABLE_FIELDS

    changes: dict[str, Any] = {}
    for name in EDITABLE_FIELDS:
        inputs = _submitted(name, form)
        if inputs is None:
            continue
        before = field_inputs(name, shown.get(name))
        if _normal(name, inputs) == _normal(name, before):
            continue
        changes[name] = field_value(name, inputs, shown.get(name))
    return changes
