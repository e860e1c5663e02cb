"""Personal data out of stored conversations and logs: ID numbers, phones, e-mails, ids.

Citizens type such things into a chat ("số CCCD của tôi là 001203004567", "gọi lại
0912 345 678", "mail em: lan [at] gmail [dot] com"). The channels clean every incoming
message with :func:`clean_text` and mask it with :func:`mask_pii` before Rasa sees it, so
trackers, events, the conversation log and logs never hold them;
:func:`install_log_filter` masks whatever still reaches a log line, and
:func:`pseudonym` turns a channel's user id (which may be a phone number) into a stable
pseudonym before it is stored. Dossier codes (``000.00.20.H26-251103-0042``) are left
intact: the assistant needs them.

Masking works on the text after Unicode compatibility normalisation (NFKC: full-width
digits and ``＠`` become ASCII) and reads numbers whatever separates their digits
(spaces, dots, dashes, brackets), so ``079.185.012.347``, ``0084 912 345 678``,
``(024) 3825 1239`` and ``0 9 1 2 3 4 5 6 7 8`` are all found; amounts of money
(``150.000.000 đồng``), procedure codes and dates are not numbers of a person.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import re
import secrets
import unicodedata
from pathlib import Path

from desk.codes import DOSSIER_CODE_IN_TEXT

EMAIL_MASK = "[email]"
PHONE_MASK = "[phone]"
ID_MASK = "[id]"

# --- cleaning ----------------------------------------------------------------------------

_UNSAFE = re.compile(
    r"[\ud800-\udfff\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff\ufff9-\ufffb]"
)
"""Lone surrogates, control characters (not tab/newline/CR), zero-width and bidi controls."""


def clean_text(text: str | None) -> str:
    """Removes what no message needs and some stores refuse (lone surrogates, NUL, controls).

    A lone UTF-16 surrogate cannot be encoded as UTF-8 (SQLite and PostgreSQL drivers
    refuse it), NUL is refused by PostgreSQL, and bidi or zero-width characters only
    hide text from a reader.

    Args:
        text: Text from outside (a message, a name, metadata).

    Returns:
        The text without those characters (``""`` for ``None``).
    """
    if not text:
        return ""
    return _UNSAFE.sub("", text)


# --- masking -----------------------------------------------------------------------------

_TLDS = "com|net|org|vn|edu|gov|info|io|me|biz|us|uk|jp|kr|cn|fr|de|au|ca|co"
_AT = r"(?:\s*@\s*|\s*[\[\(\{<]\s*(?:at|a còng|@)\s*[\]\)\}>]\s*|\s+(?:at|a còng)\s+)"
_DOT = r"(?:\s*\.\s*|\s*[\[\(\{<]\s*(?:dot|chấm|\.)\s*[\]\)\}>]\s*|\s+(?:dot|chấm)\s+)"
_EMAIL = re.compile(
    rf"(?<![\w.+-])[\w.+-]+{_AT}[\w-]+(?:{_DOT}[\w-]+)*{_DOT}(?:{_TLDS}|[a-z]{{2,10}}(?=\s*$|[\s,;:!?)]))\b",
    re.IGNORECASE,
)
# A run of digits with single separators between them: spaces, dots, dashes, brackets.
_NUMBER = re.compile(r"(?<![\w.,])(?:\+|\(\s?)?\d(?:(?:[ .\-]|\)\s?|\s?\(|\s?\)\s?)?\d)*\)?(?!\w)")
_MOBILE_OR_LANDLINE = re.compile(r"0(?:[1-9]\d{8}|[12]\d{9})")
"""National numbers: 0 + 9 digits (mobiles, and old 10-digit landlines), or 0 + 10 digits
starting with 1 (old 11-digit mobiles) or 2 (landlines, area code 02x + 8 digits)."""


def _digits(run: str) -> str:
    return "".join(ch for ch in run if ch.isdigit())


def _national(digits: str, run: str) -> str | None:
    """The number as dialled at home (``0…``), or ``None`` when it has no phone prefix."""
    if digits.startswith("0084"):
        return "0" + digits[4:].removeprefix("0")
    if digits.startswith("84") and (run.lstrip("( ").startswith("+") or len(digits) in (11, 12)):
        return "0" + digits[2:].removeprefix("0")  # "+84 (0) 912…"
    if digits.startswith("0"):
        return digits
    return None


def _years(run: str) -> bool:
    groups = run.split(" ")
    return len(groups) > 1 and all(len(g) == 4 and 1900 <= int(g) <= 2099 for g in groups)


def _classify(run: str) -> str | None:
    """Says whether a run of digits is a phone number, an ID number, or neither."""
    digits = _digits(run)
    national = _national(digits, run)
    if national and _MOBILE_OR_LANDLINE.fullmatch(national):
        return PHONE_MASK
    dotted = "." in run
    if len(digits) == 12 and _years(run):
        return None  # "2025 2026 2027"
    if len(digits) == 12 and not (dotted and digits.endswith("000")):
        return ID_MASK  # citizen ID (CCCD): never an amount ending in .000
    if len(digits) == 9 and not dotted:
        return ID_MASK  # old ID card (CMND); dotted 9 digits are amounts of money
    return None


def _mask_run(run: str) -> str:
    """Masks a run of digits: whole, or number by number where spaces join several."""
    kind = _classify(run)
    if kind:
        return kind
    groups = run.split(" ")
    if len(groups) == 1:
        return run
    out: list[str] = []
    i = 0
    while i < len(groups):
        for j in range(len(groups), i, -1):  # the longest run of groups that is a number
            kind = _classify(" ".join(groups[i:j])) if j - i < len(groups) else None
            if kind:
                out.append(kind)
                i = j
                break
        else:
            out.append(groups[i])
            i += 1
    return " ".join(out)


def _mask_plain(text: str) -> str:
    text = _EMAIL.sub(EMAIL_MASK, text)
    return _NUMBER.sub(lambda m: _mask_run(m.group(0)), text)


def _mask_outside_codes(text: str) -> str:
    out: list[str] = []
    position = 0
    for match in DOSSIER_CODE_IN_TEXT.finditer(text):
        out.append(_mask_plain(text[position : match.start()]))
        out.append(match.group(0))
        position = match.end()
    out.append(_mask_plain(text[position:]))
    return "".join(out)


def mask_pii(text: str | None) -> str:
    """Replaces ID-card numbers, phone numbers and e-mail addresses in ``text``.

    The text is cleaned (:func:`clean_text`) and NFKC-normalised first.

    Args:
        text: A citizen's message or a log line.

    Returns:
        The text with ``[id]``, ``[phone]`` and ``[email]`` in their place; dossier codes,
        procedure codes, dates and amounts of money are kept.
    """
    if not text:
        return ""
    text = unicodedata.normalize("NFKC", clean_text(text))
    if not any(ch.isdigit() for ch in text) and not _maybe_email(text):
        return text
    return _mask_outside_codes(text)


_EMAIL_HINTS = ("@", " at ", "còng", "[at]", "(at)", "{at}", "<at>")


def _maybe_email(text: str) -> bool:
    lowered = text.lower()
    return any(hint in lowered for hint in _EMAIL_HINTS)


# --- pseudonyms --------------------------------------------------------------------------

PSEUDONYM = re.compile(r"p-[0-9a-f]{16}")
"""What :func:`pseudonym` returns (never changed by a second call)."""
_key_cache: dict[tuple[str | None, str | None, str], bytes] = {}


def pseudonym_key(home: str | Path | None = None) -> bytes:
    """The key of :func:`pseudonym`: ``MOTCUA_PSEUDONYM_KEY``, else one kept in ``$MOTCUA_HOME``.

    Every process of one deployment must use the same key (set the variable when the
    processes do not share ``MOTCUA_HOME``); the generated key file is readable by its
    owner only.
    """
    # Asked for every stored event: the settings are parsed only when what they are read
    # from changed (tests and tools switch the key or the home between calls).
    where = (os.environ.get("MOTCUA_PSEUDONYM_KEY"), os.environ.get("MOTCUA_HOME"), str(home))
    cached = _key_cache.get(where)
    if cached:
        return cached
    from infra.settings import read

    values = read()
    if values["MOTCUA_PSEUDONYM_KEY"]:
        _key_cache[where] = values["MOTCUA_PSEUDONYM_KEY"].encode("utf-8")
        return _key_cache[where]
    folder = Path(home or values["MOTCUA_HOME"])
    path = folder / "pseudonym.key"
    try:
        key = path.read_bytes().strip()
    except FileNotFoundError:
        folder.mkdir(parents=True, exist_ok=True)
        key = secrets.token_hex(32).encode("ascii")
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process made it first
            key = path.read_bytes().strip()
        else:
            with os.fdopen(fd, "wb") as out:
                out.write(key)
    _key_cache[where] = key
    return key


def pseudonym(sender: str | None, key: bytes | None = None) -> str:
    """A stable pseudonym for a channel's user id (``p-`` and 16 hex digits).

    Channel user ids can be phone numbers or e-mail addresses (REST and widget clients
    choose their own), so stores keep this instead. It is a keyed hash: the same id gives
    the same pseudonym in every process of a deployment, and nobody without the key can
    find the id by trying every phone number. A pseudonym given again is returned as is.

    Args:
        sender: The id as the channel gave it.
        key: The key (default :func:`pseudonym_key`).
    """
    sender = sender or ""
    if PSEUDONYM.fullmatch(sender):
        return sender
    digest = hmac.new(key or pseudonym_key(), sender.encode("utf-8", "replace"), hashlib.sha256)
    return "p-" + digest.hexdigest()[:16]


class PiiLogFilter(logging.Filter):
    """A logging filter that masks personal data in every record it lets through.

    For a single handler (``handler.addFilter(PiiLogFilter())``); a process masks all of
    its logging with :func:`install_log_filter`.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        """Masks the formatted message in place; never drops a record."""
        _mask_record(record)
        return True


def _mask_record(record: logging.LogRecord) -> None:
    try:
        message = record.getMessage()
    except Exception:  # a malformed record: leave it to the formatter to report
        return
    masked = mask_pii(message)
    if masked != message:
        record.msg = masked
        record.args = None


def install_log_filter() -> None:
    """Masks personal data in every log record this process creates, whatever the handler.

    It wraps the log-record factory, so handlers that libraries add later (Sanic's,
    rasa-sdk's coloured console) are covered too. Calling it twice changes nothing.
    """
    previous = logging.getLogRecordFactory()
    if getattr(previous, "masks_pii", False):
        return

    def factory(*args, **kwargs) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        _mask_record(record)
        return record

    factory.masks_pii = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(factory)
