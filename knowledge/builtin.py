"""The built-in catalogue: procedures residents use, written by the project, with sources.

An empty database starts from it; an official import goes under it and staff edits on
top. The entries live in ``knowledge/data/builtin/*.json`` (one file per area), each a
procedure in the project's schema (:mod:`knowledge.schema`) plus two things that never
reach the database:

``sources``
    Where every value comes from, keyed by the value's place in the record: ``name``,
    ``field``, ``levels``, ``agencies``, ``applicants``, ``documents``, ``steps``,
    ``conditions``, ``result``, ``legal_basis``, ``url`` and, per channel,
    ``channels.<channel>.time`` and ``channels.<channel>.fee``. A source is either the
    official record's field (``record 1.001193 cach_thuc_thuc_hien``; steps written in
    our words add ``(rewritten)``) or a regulation by number (``Thông tư 281/2016/TT-BTC``).
``differences``
    Every place where the entry knowingly departs from the official record, with why
    (``{"field": "channels.in_person.fee", "record": "...", "ours": "...", "why": "..."}``).

:func:`check_sources` and :func:`unexplained_differences` are what the tests run; the
same checks run from the command line: ``python -m knowledge.builtin FILE... --export PATH``.
"""

from __future__ import annotations

import argparse
import json
import logging
import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from knowledge.schema import CHANNELS, InvalidRecord, Procedure

logger = logging.getLogger(__name__)

SOURCE = "builtin"
"""The ``source`` of every built-in procedure."""

FACT_FIELDS = (
    "name",
    "field",
    "levels",
    "agencies",
    "applicants",
    "documents",
    "steps",
    "conditions",
    "result",
    "legal_basis",
    "url",
)
"""Top-level values that need a source when they are not empty."""

RECORD_FIELDS = frozenset(
    {
        "ma_thu_tuc",
        "detail_url",
        "ten_thu_tuc",
        "so_quyet_dinh",
        "cap_thuc_hien",
        "loai_thu_tuc",
        "linh_vuc",
        "doi_tuong_thuc_hien",
        "co_quan_co_tham_quyen",
        "dia_chi_tiep_nhan",
        "co_quan_duoc_uy_quyen",
        "co_quan_phoi_hop",
        "thu_tuc_lien_quan",
        "trinh_tu_thuc_hien",
        "cach_thuc_thuc_hien",
        "thanh_phan_ho_so",
        "can_cu_phap_ly",
        "co_quan_thuc_hien",
        "yeu_cau_dieu_kien",
        "ket_qua_xu_ly",
    }
)
"""Fields of a National Public Service Portal record that a source may name."""

_RECORD_SOURCE = re.compile(r"^record (?P<code>[0-9]+\.[0-9]{6}) (?P<field>[a-z_]+)\b")
_REGULATION = re.compile(
    r"\b\d{1,4}/\d{4}/[A-ZĐa-zđ0-9-]+|\bLuật\b.*\b(19|20)\d{2}\b|\bLuật\b.*\bsố\b",
)


@dataclass
class BuiltinEntry:
    """One built-in procedure with the provenance of its values.

    Attributes:
        procedure: The validated procedure (``source="builtin"``).
        sources: Value place → source (see the module docstring).
        differences: Explained departures from the official record.
        file: The data file it came from.
    """

    procedure: Procedure
    sources: dict[str, str] = field(default_factory=dict)
    differences: list[dict[str, str]] = field(default_factory=list)
    file: str = ""


def builtin_files() -> list[Any]:
    """Returns the bundled data files of the built-in catalogue, sorted by name."""
    folder = resources.files("knowledge").joinpath("data").joinpath("builtin")
    return sorted((f for f in folder.iterdir() if f.name.endswith(".json")), key=lambda f: f.name)


def parse_entries(data: Any, file: str = "") -> tuple[list[BuiltinEntry], list[tuple[str, str]]]:
    """Validates the entries of one built-in data file.

    Args:
        data: ``{"procedures": [...]}`` or a bare list of entries.
        file: The file's name, for messages.

    Returns:
        The valid entries and ``(code, reason)`` for each invalid one.
    """
    records = data.get("procedures", []) if isinstance(data, dict) else data
    entries: list[BuiltinEntry] = []
    errors: list[tuple[str, str]] = []
    for position, raw in enumerate(records or []):
        code = str(raw.get("code", "")) if isinstance(raw, dict) else ""
        try:
            if not isinstance(raw, dict):
                raise InvalidRecord("", "expected an object")
            body = {k: v for k, v in raw.items() if k not in ("sources", "differences")}
            body["source"] = SOURCE
            procedure = Procedure.from_dict(body)
            sources = raw.get("sources") or {}
            differences = raw.get("differences") or []
            if not isinstance(sources, dict) or not isinstance(differences, list):
                raise InvalidRecord(code, "sources must be an object, differences a list")
            entries.append(
                BuiltinEntry(
                    procedure=procedure,
                    sources={str(k): str(v) for k, v in sources.items()},
                    differences=[dict(d) for d in differences],
                    file=file,
                )
            )
        except InvalidRecord as exc:
            errors.append((exc.code or code or f"{file}#{position}", exc.reason))
    return entries, errors


def load_builtin_entries() -> list[BuiltinEntry]:
    """Returns every built-in entry, validated; a bad entry is logged and skipped.

    A code that appears in two files keeps its first occurrence (files in name order).
    """
    entries: list[BuiltinEntry] = []
    seen: set[str] = set()
    for resource in builtin_files():
        parsed, errors = parse_entries(json.loads(resource.read_text("utf-8")), resource.name)
        for code, reason in errors:
            logger.warning("built-in catalogue %s: skipped %s: %s", resource.name, code, reason)
        for entry in parsed:
            if entry.procedure.code in seen:
                logger.warning(
                    "built-in catalogue: %s repeated in %s", entry.procedure.code, resource.name
                )
                continue
            seen.add(entry.procedure.code)
            entries.append(entry)
    return entries


def load_builtin_catalogue() -> list[Procedure]:
    """Returns the built-in procedures (the embedded default catalogue)."""
    return [entry.procedure for entry in load_builtin_entries()]


ENGLISH_NAMES = "names_en.tsv"
_CODE = re.compile(r"^\d+\.\d{6}$")


@lru_cache(maxsize=1)
def english_names() -> dict[str, str]:
    """Returns the project's English names of national procedures, by code (loaded once).

    The official records name procedures in Vietnamese only. ``knowledge/data/names_en.tsv``
    holds the project's own translation of every official name the built-in catalogue does
    not cover (``code<TAB>English name``). An English-only embedding model embeds it, and an
    English answer is titled with it (marked unofficial); it is no lexical search term. A
    record's own English name (built-in entry, staff edit) wins over it.
    """
    resource = resources.files("knowledge").joinpath("data").joinpath(ENGLISH_NAMES)
    if not resource.is_file():
        return {}
    names: dict[str, str] = {}
    for lineno, line in enumerate(resource.read_text("utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        code, _, name = line.partition("\t")
        code, name = code.strip(), " ".join(name.split())
        if not _CODE.match(code) or not name:
            logger.warning("%s:%d: not 'code<TAB>English name', skipped", ENGLISH_NAMES, lineno)
            continue
        names.setdefault(code, name)
    return names


def required_source_keys(procedure: Procedure) -> list[str]:
    """Returns the value places of ``procedure`` that must carry a source."""
    keys = [name for name in FACT_FIELDS if getattr(procedure, name)]
    for channel in procedure.channels:
        keys.append(f"channels.{channel.channel}.time")
        keys.append(f"channels.{channel.channel}.fee")
    return keys


def source_problem(source: str, code: str) -> str | None:
    """Says what is wrong with one source string, or ``None`` when it is acceptable."""
    source = source.strip()
    if not source:
        return "empty source"
    match = _RECORD_SOURCE.match(source)
    if match:
        if match["field"] not in RECORD_FIELDS:
            return f"unknown record field {match['field']!r}"
        return None
    if _REGULATION.search(source):
        return None
    return f"neither an official record field nor a regulation by number: {source!r}"


def check_sources(entry: BuiltinEntry) -> list[str]:
    """Lists every value of ``entry`` without an acceptable source (empty when all have one)."""
    problems = []
    code = entry.procedure.code
    for key in required_source_keys(entry.procedure):
        source = entry.sources.get(key, "")
        problem = source_problem(source, code) if source else "no source"
        if problem:
            problems.append(f"{code} {key}: {problem}")
    for difference in entry.differences:
        if (
            not str(difference.get("field", "")).strip()
            or not str(difference.get("why", "")).strip()
        ):
            problems.append(f"{code}: a difference lacks its field or its why: {difference}")
    return problems


def _amounts(procedure: Procedure, channel: str) -> tuple[tuple[int, ...], bool | None] | None:
    found = procedure.channel(channel)
    if found is None:
        return None
    return tuple(sorted(set(found.fee.amounts_vnd))), found.fee.free


def _time(procedure: Procedure, channel: str) -> tuple[float | None, str | None] | None:
    found = procedure.channel(channel)
    if found is None:
        return None
    return found.processing_time.value, found.processing_time.unit


def compare_with_official(ours: Procedure, official: Procedure) -> list[tuple[str, str, str]]:
    """Lists where a built-in entry's facts differ from the official record's.

    Compared: the name, the channels offered, and per channel the processing time
    (value and unit) and the fee (the amounts named; the free flag when neither names one).

    Returns:
        ``(field, record value, our value)`` for each difference.
    """
    found: list[tuple[str, str, str]] = []
    if ours.name.strip() != official.name.strip():
        found.append(("name", official.name, ours.name))
    theirs_ch = [c.channel for c in official.channels]
    ours_ch = [c.channel for c in ours.channels]
    if sorted(theirs_ch) != sorted(ours_ch):
        found.append(("channels", ", ".join(theirs_ch), ", ".join(ours_ch)))
    for channel in CHANNELS:
        if channel not in theirs_ch or channel not in ours_ch:
            continue
        t_time, o_time = _time(official, channel), _time(ours, channel)
        if t_time != o_time:
            found.append((f"channels.{channel}.time", str(t_time), str(o_time)))
        t_fee, o_fee = _amounts(official, channel), _amounts(ours, channel)
        assert t_fee is not None and o_fee is not None
        same = t_fee[0] == o_fee[0] and (t_fee[0] or t_fee[1] == o_fee[1])
        if not same:
            found.append((f"channels.{channel}.fee", str(t_fee), str(o_fee)))
    return found


def unexplained_differences(entry: BuiltinEntry, official: Procedure) -> list[str]:
    """Lists the differences from ``official`` that ``entry.differences`` does not explain."""
    explained = {
        str(d.get("field", "")).strip() for d in entry.differences if str(d.get("why", "")).strip()
    }
    return [
        f"{entry.procedure.code} {key}: record {theirs!r} vs ours {ours!r}"
        for key, theirs, ours in compare_with_official(entry.procedure, official)
        if key not in explained
    ]


def fee_amount_known(procedure: Procedure) -> bool:
    """Says whether every channel of ``procedure`` states a fee a citizen can act on.

    A channel qualifies when it is free or names at least one amount (in đồng, or in US
    dollars where the regulation sets dollars); a procedure with no channel does not.
    """
    return bool(procedure.channels) and all(
        c.fee.free is True or bool(c.fee.amounts_vnd) or bool(c.fee.amounts_usd)
        for c in procedure.channels
    )


def english_complete(procedure: Procedure) -> list[str]:
    """Lists the English values a built-in procedure still lacks (empty when fully English)."""
    missing = []
    if not procedure.name_en:
        missing.append("name_en")
    if any(not d.name_en for d in procedure.documents):
        missing.append("documents.name_en")
    if procedure.steps and len(procedure.steps_en) != len(procedure.steps):
        missing.append("steps_en")
    if procedure.conditions and not procedure.conditions_en:
        missing.append("conditions_en")
    if procedure.result and not procedure.result_en:
        missing.append("result_en")
    if procedure.agencies and len(procedure.agencies_en) != len(procedure.agencies):
        missing.append("agencies_en")
    if procedure.applicants and len(procedure.applicants_en) != len(procedure.applicants):
        missing.append("applicants_en")
    for channel in procedure.channels:
        if channel.fee.text and not channel.fee.text_en:
            missing.append(f"channels.{channel.channel}.fee.text_en")
        if channel.processing_time.text and not channel.processing_time.text_en:
            missing.append(f"channels.{channel.channel}.processing_time.text_en")
        if channel.description and not channel.description_en:
            missing.append(f"channels.{channel.channel}.description_en")
    return missing


PROVENANCE_FIELDS = (*FACT_FIELDS, "name_en", "channels", "keywords")
"""The values whose origin the staff console shows."""


@lru_cache(maxsize=1)
def _entries_by_code() -> dict[str, BuiltinEntry]:
    return {e.procedure.code: e for e in load_builtin_entries()}


def provenance(code: str, staff_fields: Iterable[str] = ()) -> list[dict[str, str]]:
    """Tells where each value of a stored procedure comes from.

    Args:
        code: The procedure's code.
        staff_fields: The fields staff edited (they sit on top of everything).

    Returns:
        ``{"field", "origin", "source"}`` per value of :data:`PROVENANCE_FIELDS`, with
        ``origin`` one of ``staff``, ``builtin`` (with the built-in entry's source) or
        ``official`` (the imported official record).
    """
    edited = set(staff_fields)
    entry = _entries_by_code().get(code)
    found = []
    for name in PROVENANCE_FIELDS:
        if name in edited:
            found.append({"field": name, "origin": "staff", "source": ""})
            continue
        value = getattr(entry.procedure, name) if entry else None
        if entry is not None and value not in ("", [], None):
            if name == "channels":
                source = "; ".join(
                    f"{k.split('.')[1]} {k.split('.')[2]}: {v}"
                    for k, v in entry.sources.items()
                    if k.startswith("channels.")
                )
            else:
                source = entry.sources.get(name, "")
            found.append({"field": name, "origin": "builtin", "source": source})
        else:
            found.append({"field": name, "origin": "official", "source": ""})
    return found


def _official_records(export: Path, codes: Iterable[str]) -> dict[str, Procedure]:
    from knowledge.importers.portal import load_portal_file

    wanted = set(codes)
    report = load_portal_file(export)
    return {p.code: p for p in report.procedures if p.code in wanted}


def main(argv: list[str] | None = None) -> int:
    """Checks built-in data files: schema, sources, English and (with an export) differences."""
    parser = argparse.ArgumentParser(prog="python -m knowledge.builtin", description=main.__doc__)
    parser.add_argument("files", nargs="+", type=Path)
    parser.add_argument("--export", type=Path, help="the national export to compare with")
    args = parser.parse_args(argv)
    entries: list[BuiltinEntry] = []
    problems: list[str] = []
    for path in args.files:
        parsed, errors = parse_entries(json.loads(path.read_text("utf-8")), path.name)
        problems += [f"{code}: invalid: {reason}" for code, reason in errors]
        entries += parsed
    for entry in entries:
        problems += check_sources(entry)
        problems += [
            f"{entry.procedure.code} English missing: {m}"
            for m in english_complete(entry.procedure)
        ]
    if args.export:
        official = _official_records(args.export, (e.procedure.code for e in entries))
        for entry in entries:
            record = official.get(entry.procedure.code)
            if record is None:
                problems.append(f"{entry.procedure.code}: not in the export")
                continue
            problems += unexplained_differences(entry, record)
    known = sum(fee_amount_known(e.procedure) for e in entries)
    for line in problems:
        print(line)
    print(
        f"{len(entries)} entries, {len(problems)} problems, "
        f"fee amount known {known}/{len(entries)}",
        file=sys.stderr,
    )
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
