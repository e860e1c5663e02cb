r"""The Telegram channel: a Rasa input/output pair on python-telegram-bot's ``Bot``.

Rasa's own Telegram channel (aiogram) re-registers the webhook on every start and
hits Telegram's rate limit (RasaHQ/rasa#4128), and trusts any caller of its URL.
This one:

* checks the ``X-Telegram-Bot-Api-Secret-Token`` header (403 otherwise), answers
  200 at once and handles the update in a background task, drops repeated
  ``update_id``\ s (:mod:`.channel`);
* registers the webhook only when Telegram reports another URL (:func:`ensure_webhook`,
  :mod:`.api`);
* maps ``/start``, ``/help`` and ``/lang vi|en``, answers button taps, tells the
  citizen when a message is not text, too long or empty (:mod:`.updates`), and sends
  the "busy" text when Rasa produces nothing;
* sends plain text (no ``parse_mode``, so ``<``, ``&``, ``*``, ``_`` arrive as
  typed), split under 4,096 characters at line boundaries; button payloads longer
  than Telegram's 64 bytes travel as short keys (:mod:`.output`);
* retries once after a ``RetryAfter`` or a timeout and never lets an API error
  escape (:func:`call_api`).

Without a public URL, :func:`run_polling` long-polls ``getUpdates`` and relays
each message to the REST channel (``motcua telegram poll``, :mod:`.polling`).

Settings (``credentials.yml``, or the environment through :func:`credentials_from_env`)::

    connectors.telegram.TelegramInput:
      token: ${MOTCUA_TELEGRAM_TOKEN}
      webhook_url: https://bot.example.gov.vn/webhooks/telegram/webhook
      secret_token: ${MOTCUA_TELEGRAM_SECRET}
      api_base_url: https://api.telegram.org/bot   # optional

The map from short button keys back to payloads, and the update ids already handled,
live in the process; with ``MOTCUA_REDIS_URL`` (or the lock store's Redis) they live in
Redis (:mod:`connectors.common.memories`), so a tap or a retried update reaching another
replica, or arriving after a restart, is handled as if it had reached the same one.
"""

from connectors.common.memories import MAX_CALLBACK_BYTES, PayloadKeys
from connectors.telegram.api import (
    ALLOWED_UPDATES,
    DEFAULT_API_BASE_URL,
    MAX_RETRY_WAIT_S,
    call_api,
    ensure_webhook,
    make_bot,
)
from connectors.telegram.channel import SECRET_HEADER, TelegramInput
from connectors.telegram.output import MAX_TEXT_CHARS, TelegramOutput, run_turn, split_text
from connectors.telegram.polling import poll_once, relay_to_rest, render, run_polling
from connectors.telegram.settings import credentials_from_env
from connectors.telegram.updates import Turn, parse_update, telegram_text

__all__ = [
    "ALLOWED_UPDATES",
    "DEFAULT_API_BASE_URL",
    "MAX_CALLBACK_BYTES",
    "MAX_RETRY_WAIT_S",
    "MAX_TEXT_CHARS",
    "SECRET_HEADER",
    "PayloadKeys",
    "TelegramInput",
    "TelegramOutput",
    "Turn",
    "call_api",
    "credentials_from_env",
    "ensure_webhook",
    "make_bot",
    "parse_update",
    "poll_once",
    "relay_to_rest",
    "render",
    "run_polling",
    "run_turn",
    "split_text",
    "telegram_text",
]
