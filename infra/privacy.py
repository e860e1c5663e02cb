"""Personal data out of stored conversations and logs: ID-card numbers, phones, e-mails.

Citizens type such things into a chat ("số CCCD của tôi là 001203004567", "gọi lại
0912 345 678"). The channels mask every incoming message with :func:`mask_pii` before
Rasa sees it, so trackers, events, the conversation log and logs never hold them;
:func:`install_log_filter` masks whatever still reaches a log line. Dossier codes
(``000.00.20.H26-251103-0042``) are left intact: the assistant needs them.
"""

from __future__ import annotations

import logging
import re

from desk.codes import DOSSIER_CODE_IN_TEXT

EMAIL_MASK = "[email]"
PHONE_MASK = "[phone]"
ID_MASK = "[id]"

_SEP = r"[ .\-]?"
_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)
# Vietnamese phones: 0 + 9 digits (mobiles 03/05/07/08/09, landlines 02x), or +84/84 + 9
# digits, with optional single spaces, dots or dashes between digit groups.
_PHONE = re.compile(rf"(?<![\w+])(?:\+84{_SEP}|84{_SEP}|0)[1-9](?:{_SEP}\d){{8}}(?!\w)(?![.\-]\d)")
# Citizen ID (CCCD, 12 digits) and the older ID card (CMND, 9 digits), written together
# or in groups of 3 or 4 separated by spaces.
_ID = re.compile(
    r"(?<![\w.,])(?:\d{12}|\d{9}|\d{3} \d{3} \d{3} \d{3}|\d{4} \d{4} \d{4}|\d{3} \d{3} \d{3})"
    r"(?![\w]|[.,]\d)"
)


def _mask_outside_codes(text: str) -> str:
    out: list[str] = []
    position = 0
    for match in DOSSIER_CODE_IN_TEXT.finditer(text):
        out.append(_mask_plain(text[position : match.start()]))
        out.append(match.group(0))
        position = match.end()
    out.append(_mask_plain(text[position:]))
    return "".join(out)


def _mask_plain(text: str) -> str:
    text = _EMAIL.sub(EMAIL_MASK, text)
    text = _PHONE.sub(PHONE_MASK, text)
    return _ID.sub(ID_MASK, text)


def mask_pii(text: str | None) -> str:
    """Replaces ID-card numbers, phone numbers and e-mail addresses in ``text``.

    Args:
        text: A citizen's message or a log line.

    Returns:
        The text with ``[id]``, ``[phone]`` and ``[email]`` in their place; dossier codes,
        procedure codes, dates and amounts of money are kept.
    """
    if not text:
        return text or ""
    if not any(ch.isdigit() for ch in text) and "@" not in text:
        return text
    return _mask_outside_codes(text)


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
