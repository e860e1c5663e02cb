"""The OA API: consulting messages out, the access token refreshed when Zalo says it expired."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import httpx

from connectors.zalo.tokens import ZaloTokens
from infra.db import StoreUnavailable

logger = logging.getLogger(__name__)

DEFAULT_API_BASE_URL = "https://openapi.zalo.me"
DEFAULT_OAUTH_BASE_URL = "https://oauth.zaloapp.com"
SEND_PATH = "/v3.0/oa/message/cs"
REFRESH_PATH = "/v4/oa/access_token"
MAX_ZALO_TEXT = 2000
"""Zalo's limit on the text of one OA message."""
TOKEN_EXPIRED_ERRORS = frozenset({-216})
"""Zalo API error codes that mean "refresh the access token and try again"."""


class ZaloApi:
    """Sends OA messages and refreshes the access token; errors become logs, never crashes.

    Args:
        app_id: The Zalo app id.
        app_secret: The app secret key (for refreshing the token).
        tokens: The OA tokens.
        api_base_url: Base of the OpenAPI (``https://openapi.zalo.me``).
        oauth_base_url: Base of the OAuth API (``https://oauth.zaloapp.com``).
        timeout: Seconds allowed for one HTTP call.
    """

    def __init__(
        self,
        app_id: str,
        app_secret: str,
        tokens: ZaloTokens,
        api_base_url: str = DEFAULT_API_BASE_URL,
        oauth_base_url: str = DEFAULT_OAUTH_BASE_URL,
        timeout: float = 10.0,
    ) -> None:
        self.app_id = app_id
        self.app_secret = app_secret
        self.tokens = tokens
        self.api_base_url = api_base_url.rstrip("/")
        self.oauth_base_url = oauth_base_url.rstrip("/")
        self.timeout = httpx.Timeout(timeout, connect=min(timeout, 5.0))
        self._client: httpx.AsyncClient | None = None

    @property
    def client(self) -> httpx.AsyncClient:
        """The shared HTTP client (created on first use)."""
        if self._client is None or self._client.is_closed:
            self._client = httpx.AsyncClient(timeout=self.timeout)
        return self._client

    async def aclose(self) -> None:
        """Closes the HTTP client."""
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def _ensure_tokens(self) -> None:
        if not self.tokens.loaded:
            async with self.tokens.lock:
                if not self.tokens.loaded:
                    await asyncio.to_thread(self.tokens.load)

    async def _post_message(self, body: dict[str, Any], access_token: str) -> dict[str, Any]:
        """One send with one retry on timeout; returns Zalo's JSON or a synthetic error."""
        url = f"{self.api_base_url}{SEND_PATH}"
        for attempt in (1, 2):
            try:
                resp = await self.client.post(
                    url, json=body, headers={"access_token": access_token}
                )
            except httpx.TimeoutException:
                logger.warning("zalo: send timed out (attempt %d of 2)", attempt)
                continue
            except httpx.HTTPError as exc:
                return {"error": "http", "message": f"{exc.__class__.__name__}: {exc}"}
            try:
                result = resp.json()
            except ValueError:
                return {"error": "http", "message": f"HTTP {resp.status_code}, not JSON"}
            return result if isinstance(result, dict) else {"error": "http", "message": "odd"}
        return {"error": "timeout", "message": "no answer after 2 attempts"}

    async def refresh(self, stale_access_token: str) -> bool:
        """Refreshes the access token and stores the rotated pair.

        Concurrent callers wait for one refresh; a caller whose token was already replaced
        just uses the new one.

        Args:
            stale_access_token: The token Zalo refused.

        Returns:
            Whether a usable new access token is in place.
        """
        async with self.tokens.lock:
            if self.tokens.access_token != stale_access_token:
                return True
            try:
                resp = await self.client.post(
                    f"{self.oauth_base_url}{REFRESH_PATH}",
                    data={
                        "refresh_token": self.tokens.refresh_token,
                        "app_id": self.app_id,
                        "grant_type": "refresh_token",
                    },
                    headers={"secret_key": self.app_secret},
                )
                result = resp.json()
            except (httpx.HTTPError, ValueError) as exc:
                logger.error("zalo: token refresh failed: %s: %s", exc.__class__.__name__, exc)
                return False
            access = result.get("access_token") if isinstance(result, dict) else None
            if not access:
                logger.error(
                    "zalo: token refresh refused (HTTP %s): %s; issue new tokens for the OA "
                    "and set MOTCUA_ZALO_ACCESS_TOKEN / MOTCUA_ZALO_REFRESH_TOKEN",
                    resp.status_code,
                    str(result)[:300],
                )
                return False
            self.tokens.access_token = str(access)
            self.tokens.refresh_token = str(result.get("refresh_token") or "") or (
                self.tokens.refresh_token
            )
            try:
                await asyncio.to_thread(self.tokens.save)
            except StoreUnavailable as exc:
                logger.error(
                    "zalo: the refreshed tokens could not be stored (a restart will need new "
                    "tokens): %s",
                    exc,
                )
            logger.info("zalo: access token refreshed")
            return True

    async def send(self, recipient: dict[str, str], text: str) -> dict[str, Any]:
        """Sends one text message and returns Zalo's answer (``error`` 0 when accepted).

        Refreshes the token and retries once when Zalo says it expired. Errors are
        values, never exceptions: ``{"error": "http"|"timeout"|<Zalo's code>, "message"}``.

        Args:
            recipient: ``{"user_id": ...}`` (or the anonymous form).
            text: The text (at most :data:`MAX_ZALO_TEXT` characters).
        """
        await self._ensure_tokens()
        body = {"recipient": recipient, "message": {"text": text}}
        token = self.tokens.access_token
        result = await self._post_message(body, token)
        if result.get("error") in TOKEN_EXPIRED_ERRORS:
            logger.info("zalo: access token expired (error %s); refreshing", result.get("error"))
            if not await self.refresh(token):
                return {"error": "token", "message": "no valid access token"}
            result = await self._post_message(body, self.tokens.access_token)
        return result

    async def send_text(self, recipient: dict[str, str], text: str) -> bool:
        """Sends one text message (at most :data:`MAX_ZALO_TEXT` characters); see :meth:`send`.

        Returns:
            Whether Zalo accepted the message (a refusal is logged).
        """
        result = await self.send(recipient, text)
        if result.get("error") == 0:
            return True
        logger.error(
            "zalo: message to %s not sent: error %s: %s",
            recipient,
            result.get("error"),
            str(result.get("message"))[:300],
        )
        return False
