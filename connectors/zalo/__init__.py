"""The Zalo Official Account channel: signed webhooks in, OA "consulting" messages out.

Zalo POSTs every event of the OA to ``/webhooks/zalo/webhook``:

* the body is signed: header ``X-ZEvent-Signature: mac=<hex>`` where ``hex`` is the plain
  SHA-256 of ``app_id + raw body + timestamp + OA secret key`` (:mod:`.signature`); a
  forged or missing signature gets a 401/403 and nothing happens;
* Zalo wants an answer within about 2 seconds, otherwise it retries (the same
  ``msg_id`` again) and may disable the webhook, so the channel answers 200 at once and
  handles the event in a background task (:mod:`.channel`); retried ``msg_id`` values
  are dropped;
* ``user_send_text``/``anonymous_send_text`` go to Rasa, ``follow`` greets, media and
  stickers get a polite "text only" reply, the OA's own ``oa_*`` echoes and delivery
  receipts are ignored.

Replies go through ``POST {api}/v3.0/oa/message/cs`` with the OA access token
(:class:`ZaloApi`). Buttons become numbered lines, and a reply of just the number
("2", "số 2") is fed to Rasa as that button's payload (:class:`OptionMemory`). Text
longer than 2,000 characters is split on line boundaries. When Zalo says the access
token expired (error -216) the channel refreshes it with the refresh token, stores the
rotated pair durably (:class:`TokenStore` over SQL, or :class:`JsonTokenStore`) and
retries once; the stored pair wins over the credentials' initial tokens after a restart.

Settings (``credentials.yml``, or the environment through :func:`credentials_from_env`)::

    connectors.zalo.ZaloInput:
      app_id: ${MOTCUA_ZALO_APP_ID}
      app_secret: ${MOTCUA_ZALO_APP_SECRET}          # refreshes the access token
      oa_secret_key: ${MOTCUA_ZALO_OA_SECRET}        # checks webhook signatures
      access_token: ${MOTCUA_ZALO_ACCESS_TOKEN}      # initial pair; rotated ones are stored
      refresh_token: ${MOTCUA_ZALO_REFRESH_TOKEN}
      token_store: sqlite:///var/motcua.db           # or a JSON file path (default: the DB)

Options offered as numbers and the ids of recent events live in the process; with
``MOTCUA_REDIS_URL`` (or the lock store's Redis) they live in Redis
(:mod:`connectors.common.memories`), so a digit or a retried event reaching another
replica is handled as if it had reached the same one.
"""

from connectors.common.memories import OptionMemory
from connectors.zalo.api import (
    DEFAULT_API_BASE_URL,
    DEFAULT_OAUTH_BASE_URL,
    MAX_ZALO_TEXT,
    TOKEN_EXPIRED_ERRORS,
    ZaloApi,
)
from connectors.zalo.channel import MAX_BODY_BYTES, ZaloInput
from connectors.zalo.events import MEDIA_EVENTS, QUIET_EVENTS, TEXT_EVENTS
from connectors.zalo.output import (
    ZaloOutput,
    numbered_text,
    option_number,
    split_text,
    text_only_reply,
)
from connectors.zalo.settings import CREDENTIAL_ENV, REQUIRED_CREDENTIALS, credentials_from_env
from connectors.zalo.signature import SIGNATURE_HEADER, signature, verify
from connectors.zalo.tokens import (
    JsonTokenStore,
    StoredTokens,
    TokenStore,
    ZaloTokens,
    open_token_store,
    zalo_tokens_table,
)

__all__ = [
    "CREDENTIAL_ENV",
    "DEFAULT_API_BASE_URL",
    "DEFAULT_OAUTH_BASE_URL",
    "MAX_BODY_BYTES",
    "MAX_ZALO_TEXT",
    "MEDIA_EVENTS",
    "QUIET_EVENTS",
    "REQUIRED_CREDENTIALS",
    "SIGNATURE_HEADER",
    "TEXT_EVENTS",
    "TOKEN_EXPIRED_ERRORS",
    "JsonTokenStore",
    "OptionMemory",
    "StoredTokens",
    "TokenStore",
    "ZaloApi",
    "ZaloInput",
    "ZaloOutput",
    "ZaloTokens",
    "credentials_from_env",
    "numbered_text",
    "open_token_store",
    "option_number",
    "signature",
    "split_text",
    "text_only_reply",
    "verify",
    "zalo_tokens_table",
]
