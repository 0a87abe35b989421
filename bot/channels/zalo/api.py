"""A small client of the Zalo Bot API (``<base_url><token>/<method>``), and its errors.

The token is part of every URL: it is removed from every error raised here (:class:`ZaloError`)
and from httpx's own request log.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from ground.logs import add_secrets, log_event, redact

log = logging.getLogger("coopbot.zalo")

DEFAULT_BASE_URL = "https://bot-api.zaloplatforms.com/bot"
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})

Sleep = Callable[[float], Awaitable[None]]


class ZaloError(Exception):
    """A Bot API call failed. The message never contains the token."""

    def __init__(self, method: str, message: str, status: int | None = None) -> None:
        super().__init__(f"Zalo {method}: {message}")
        self.method = method
        self.status = status


class ZaloUnauthorized(ZaloError):
    """401: the token is wrong or was reset."""


class ZaloForbidden(ZaloError):
    """403: the bot may not write to this chat (e.g. the member blocked it)."""


class ZaloNetworkError(ZaloError):
    """No answer from Zalo (connection refused, time-out, …)."""


class _HideToken(logging.Filter):
    """Removes the token from records of httpx's logger, which logs every request URL."""

    def __init__(self, token: str) -> None:
        super().__init__()
        self.token = token

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if self.token in message:
            record.msg, record.args = message.replace(self.token, "<token>"), None
        return True


# --- the HTTP client -----------------------------------------------------------------------


class ZaloApi:
    """A small client for ``<base_url><token>/<method>``.

    Every call is a JSON POST answered with ``{ok, result}`` or ``{ok: false, error_code,
    description}``. HTTP 429 and 5xx, and network errors, are retried ``max_retries`` times
    with exponential backoff (``sleep`` is injectable so tests do not wait); a network time-out
    of a ``send*`` call is not retried, as the message may have arrived.
    """

    def __init__(
        self,
        token: str,
        base_url: str = DEFAULT_BASE_URL,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Sleep = asyncio.sleep,
        max_retries: int = 4,
        backoff: float = 1.0,
        timeout: float = 20.0,
    ) -> None:
        self._token = token
        add_secrets(token)  # never in a log line, whatever logs it
        self._base = base_url
        self._sleep = sleep
        self.max_retries = max_retries
        self.backoff = backoff
        self.timeout = timeout
        self._client = httpx.AsyncClient(transport=transport, timeout=timeout)
        self._hide = _HideToken(token)
        logging.getLogger("httpx").addFilter(self._hide)

    def _clean(self, text: str) -> str:
        return redact(text.replace(self._token, "<token>"))

    async def aclose(self) -> None:
        await self._client.aclose()
        logging.getLogger("httpx").removeFilter(self._hide)

    async def call(
        self, method: str, params: dict[str, Any] | None = None, *, wait: float | None = None
    ) -> Any:
        """Call ``method``; returns ``result``, or None for a long poll that timed out (408).
        ``wait`` replaces the HTTP time-out (long polls hold the request open)."""
        url = f"{self._base}{self._token}/{method}"
        attempt = 0
        while True:
            try:
                response = await self._client.post(
                    url, json=params or {}, timeout=wait or self.timeout
                )
            except httpx.TransportError as exc:
                no_retry = isinstance(exc, httpx.ReadTimeout) and method.startswith("send")
                error = ZaloNetworkError(method, self._clean(f"{type(exc).__name__}: {exc}"))
                if no_retry or attempt >= self.max_retries:
                    raise error from None
                attempt += 1
                await self._backoff(method, attempt, type(exc).__name__, None)
                continue
            status, data = self._decode(response)
            if status == 408 and method == "getUpdates":
                return None
            if status in RETRY_STATUSES and attempt < self.max_retries:
                attempt += 1
                await self._backoff(method, attempt, f"HTTP {status}", response)
                continue
            if status == 200 and isinstance(data, dict) and data.get("ok", True):
                return data.get("result")
            raise self._error(method, status, data)

    @staticmethod
    def _decode(response: httpx.Response) -> tuple[int, Any]:
        try:
            data = response.json()
        except ValueError:
            data = None
        status = response.status_code
        if status == 200 and isinstance(data, dict) and data.get("ok") is False:
            code = data.get("error_code")
            status = code if isinstance(code, int) and code != 200 else 400
        return status, data

    def _error(self, method: str, status: int, data: Any) -> ZaloError:
        description = data.get("description") if isinstance(data, dict) else None
        message = self._clean(f"HTTP {status}" + (f" {description}" if description else ""))
        cls = {401: ZaloUnauthorized, 403: ZaloForbidden}.get(status, ZaloError)
        return cls(method, message, status)

    async def _backoff(
        self, method: str, attempt: int, error: str, response: httpx.Response | None
    ) -> None:
        wait = min(60.0, self.backoff * 2 ** (attempt - 1))
        retry_after = response.headers.get("Retry-After") if response is not None else None
        if retry_after and retry_after.isascii() and retry_after.isdigit():
            wait = max(wait, float(retry_after))
        log_event(
            log, "zalo call failed, retrying", logging.WARNING, method=method, error=error,
            retry_in=wait,
        )  # fmt: skip
        await self._sleep(wait)

    # the methods the channel uses

    async def get_me(self) -> dict[str, Any]:
        return await self.call("getMe") or {}

    async def get_updates(self, seconds: int = 30) -> dict[str, Any] | None:
        """Wait up to ``seconds`` for one update; None when there was none."""
        result = await self.call("getUpdates", {"timeout": seconds}, wait=seconds + 15)
        return result if isinstance(result, dict) else None

    async def set_webhook(self, url: str, secret_token: str) -> Any:
        return await self.call("setWebhook", {"url": url, "secret_token": secret_token})

    async def delete_webhook(self) -> Any:
        return await self.call("deleteWebhook")

    async def send_message(self, chat_id: str, text: str) -> Any:
        return await self.call("sendMessage", {"chat_id": chat_id, "text": text})

    async def send_photo(self, chat_id: str, photo: str, caption: str | None = None) -> Any:
        params = {"chat_id": chat_id, "photo": photo}
        if caption:
            params["caption"] = caption
        return await self.call("sendPhoto", params)

    async def send_chat_action(self, chat_id: str, action: str = "typing") -> Any:
        return await self.call("sendChatAction", {"chat_id": chat_id, "action": action})
