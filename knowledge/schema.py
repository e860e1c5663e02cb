"""The procedure catalogue in motcua's own terms.

A :class:`Procedure` is what the assistant knows about one administrative
procedure: who may apply, which documents to bring, and for each way of
submitting (in person, online, by post) how long it takes and what it costs.
Records are plain dataclasses; :meth:`Procedure.from_dict` validates and raises
:class:`InvalidRecord` naming the code and the reason, so a loader can report a
bad record and go on with the rest.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict, dataclass
from dataclasses import field as _field
from typing import Any

from knowledge.text import normalize

CHANNELS = ("in_person", "online", "post")
"""Ways to submit a dossier: at a one-stop-shop desk, on a public-service portal, by post."""

TIME_UNITS = ("working_days", "days", "hours", "months", "years")
"""Units of a processing time; ``value`` counts them."""

LEVELS = ("central", "province", "district", "commune", "other")
"""Administrative levels that carry out a procedure."""

CODE_PATTERN = re.compile(r"^[0-9]+\.[0-9]{6}$|^[A-Z0-9][A-Z0-9._-]{2,31}$")
"""National codes look like ``1.001193``; local catalogues may use other short upper-case codes."""


class InvalidRecord(ValueError):
    """A catalogue record that cannot be used.

    Attributes:
        code: The record's code as given (may be empty).
        reason: What is wrong, in one sentence.
    """

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(f"{code or '<no code>'}: {reason}")
        self.code = code
        self.reason = reason


@dataclass
class ProcessingTime:
    """How long a channel takes.

    Attributes:
        value: The number of ``unit`` (``None`` when the source gives no number).
        unit: One of :data:`TIME_UNITS`, or ``None``.
        text: The original wording, shown to citizens when the number alone would mislead.
        text_en: The same in English, where the catalogue has it.
    """

    value: float | None = None
    unit: str | None = None
    text: str = ""
    text_en: str = ""


@dataclass
class Fee:
    """What a channel costs.

    Attributes:
        amounts_vnd: Every amount named, in đồng, in the order given (several tariffs are common).
        free: ``True`` when the source says free, ``False`` when it names a charge,
            ``None`` when it says nothing.
        text: The original wording.
        text_en: The same in English, where the catalogue has it.
        amounts_usd: Amounts set in US dollars (visas, residence cards), in the order given.
    """

    amounts_vnd: list[int] = _field(default_factory=list)
    free: bool | None = None
    text: str = ""
    text_en: str = ""
    amounts_usd: list[float] = _field(default_factory=list)


@dataclass
class Channel:
    """One way of submitting the dossier, with its time and fee."""

    channel: str
    processing_time: ProcessingTime = _field(default_factory=ProcessingTime)
    fee: Fee = _field(default_factory=Fee)
    description: str = ""
    description_en: str = ""


@dataclass
class Document:
    """One paper of the dossier.

    Attributes:
        name: What the paper is.
        originals: Number of originals asked for (``None`` when not stated).
        copies: Number of copies asked for (``None`` when not stated).
        form: The form's name or file when the paper is a standard form.
        name_en: What the paper is, in English (the Vietnamese name stays the official one).
    """

    name: str
    originals: int | None = None
    copies: int | None = None
    form: str = ""
    name_en: str = ""


@dataclass
class Procedure:
    """One administrative procedure.

    Attributes:
        code: National procedure code (e.g. ``1.001193``).
        name: Official Vietnamese name.
        name_en: English name where known.
        field: Area of administration (e.g. "Hộ tịch").
        levels: Levels that carry it out, from :data:`LEVELS`.
        agencies: Agencies that carry it out or decide.
        applicants: Who may apply.
        channels: Ways to submit with their times and fees.
        documents: Papers to bring.
        steps: How the procedure runs, step by step.
        conditions: Conditions to meet, as text.
        result: What the citizen receives.
        legal_basis: Laws and decrees it rests on.
        url: The official page.
        keywords: Search words and aliases, in any language (citizen vocabulary, English terms).
        source: Where the record came from (``builtin``, ``portal`` ...).
        agencies_en: ``agencies`` in English, same order (built-in entries).
        applicants_en: ``applicants`` in English, same order.
        steps_en: ``steps`` in English, same order.
        conditions_en: ``conditions`` in English.
        result_en: ``result`` in English.
    """

    code: str
    name: str
    name_en: str = ""
    field: str = ""
    levels: list[str] = _field(default_factory=list)
    agencies: list[str] = _field(default_factory=list)
    applicants: list[str] = _field(default_factory=list)
    channels: list[Channel] = _field(default_factory=list)
    documents: list[Document] = _field(default_factory=list)
    steps: list[str] = _field(default_factory=list)
    conditions: str = ""
    result: str = ""
    legal_basis: list[str] = _field(default_factory=list)
    url: str = ""
    keywords: list[str] = _field(default_factory=list)
    source: str = ""
    agencies_en: list[str] = _field(default_factory=list)
    applicants_en: list[str] = _field(default_factory=list)
    steps_en: list[str] = _field(default_factory=list)
    conditions_en: str = ""
    result_en: str = ""

    def to_dict(self) -> dict[str, Any]:
        """Returns the record as plain JSON-able data."""
        return asdict(self)

    def content_hash(self) -> str:
        """Returns a short stable hash of the record's content (for staleness checks)."""
        payload = json.dumps(self.to_dict(), ensure_ascii=False, sort_keys=True)
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:16]

    def channel(self, name: str) -> Channel | None:
        """Returns the channel called ``name`` (one of :data:`CHANNELS`), if any."""
        return next((c for c in self.channels if c.channel == name), None)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Procedure:
        """Builds and validates a procedure from plain data.

        Args:
            data: A mapping shaped like :meth:`to_dict`'s output.

        Returns:
            The validated procedure, with text fields in NFC.

        Raises:
            InvalidRecord: When a required field is missing or a value is out of range.
        """
        if not isinstance(data, dict):
            raise InvalidRecord("", f"expected an object, got {type(data).__name__}")
        code = str(data.get("code") or "").strip()
        try:
            return _build(code, data)
        except InvalidRecord:
            raise
        except (TypeError, ValueError, AttributeError, KeyError) as exc:
            raise InvalidRecord(code, f"malformed field ({exc})") from exc


def _text(value: Any) -> str:
    return normalize(str(value)) if value is not None else ""


def _texts(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        value = [value]
    return [t for t in (_text(v) for v in value) if t]


def _opt_int(value: Any) -> int | None:
    return None if value is None else int(value)


def _build(code: str, data: dict[str, Any]) -> Procedure:
    if not code:
        raise InvalidRecord(code, "missing code")
    if not CODE_PATTERN.match(code):
        raise InvalidRecord(code, "code must look like 1.001193")
    name = _text(data.get("name"))
    if not name:
        raise InvalidRecord(code, "missing name")
    levels = _texts(data.get("levels"))
    for level in levels:
        if level not in LEVELS:
            raise InvalidRecord(code, f"unknown level {level!r} (expected one of {LEVELS})")
    channels = []
    for raw in data.get("channels") or []:
        name_ = raw.get("channel")
        if name_ not in CHANNELS:
            raise InvalidRecord(code, f"unknown channel {name_!r} (expected one of {CHANNELS})")
        pt = raw.get("processing_time") or {}
        unit = pt.get("unit")
        if unit is not None and unit not in TIME_UNITS:
            raise InvalidRecord(code, f"unknown time unit {unit!r}")
        value = pt.get("value")
        if value is not None and float(value) < 0:
            raise InvalidRecord(code, "negative processing time")
        fee = raw.get("fee") or {}
        amounts = [int(a) for a in fee.get("amounts_vnd") or []]
        dollars = [float(a) for a in fee.get("amounts_usd") or []]
        if any(a < 0 for a in amounts) or any(a < 0 for a in dollars):
            raise InvalidRecord(code, "negative fee")
        free = fee.get("free")
        if free is not None and not isinstance(free, bool):
            raise InvalidRecord(code, "fee.free must be true, false or null")
        channels.append(
            Channel(
                channel=name_,
                processing_time=ProcessingTime(
                    value=None if value is None else float(value),
                    unit=unit,
                    text=_text(pt.get("text")),
                    text_en=_text(pt.get("text_en")),
                ),
                fee=Fee(
                    amounts_vnd=amounts,
                    free=free,
                    text=_text(fee.get("text")),
                    text_en=_text(fee.get("text_en")),
                    amounts_usd=dollars,
                ),
                description=_text(raw.get("description")),
                description_en=_text(raw.get("description_en")),
            )
        )
    documents = []
    for raw in data.get("documents") or []:
        if isinstance(raw, str):
            raw = {"name": raw}
        doc_name = _text(raw.get("name"))
        if not doc_name:
            raise InvalidRecord(code, "a document has no name")
        documents.append(
            Document(
                name=doc_name,
                originals=_opt_int(raw.get("originals")),
                copies=_opt_int(raw.get("copies")),
                form=_text(raw.get("form")),
                name_en=_text(raw.get("name_en")),
            )
        )
    url = _text(data.get("url"))
    if url and not url.startswith(("https://", "http://")):
        raise InvalidRecord(code, "url must start with http:// or https://")
    return Procedure(
        code=code,
        name=name,
        name_en=_text(data.get("name_en")),
        field=_text(data.get("field")),
        levels=levels,
        agencies=_texts(data.get("agencies")),
        applicants=_texts(data.get("applicants")),
        channels=channels,
        documents=documents,
        steps=_texts(data.get("steps")),
        conditions=_text(data.get("conditions")),
        result=_text(data.get("result")),
        legal_basis=_texts(data.get("legal_basis")),
        url=url,
        keywords=_texts(data.get("keywords")),
        source=_text(data.get("source")),
        agencies_en=_texts(data.get("agencies_en")),
        applicants_en=_texts(data.get("applicants_en")),
        steps_en=_texts(data.get("steps_en")),
        conditions_en=_text(data.get("conditions_en")),
        result_en=_text(data.get("result_en")),
    )
