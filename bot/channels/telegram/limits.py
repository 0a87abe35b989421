"""Telegram's rate limits and retries for every Bot API call that sends to a chat."""

from __future__ import annotations

import asyncio
import logging
import time
import warnings
from collections.abc import Awaitable, Callable, Coroutine
from datetime import timedelta
from typing import Any

from aiolimiter import AsyncLimiter
from telegram.error import (
    BadRequest,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TimedOut,
)
from telegram.ext import (
    BaseRateLimiter,
)
from telegram.warnings import PTBDeprecationWarning

from ground.logs import log_event

log = logging.getLogger("coopbot.telegram")

Sleep = Callable[[float], Awaitable[None]]


_SPACED_PREFIXES = ("send", "copyMessage", "forwardMessage", "edit")


def retry_after_seconds(exc: RetryAfter) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


class TelegramLimiter(BaseRateLimiter[int]):
    """Telegram's limits for every Bot API call that sends to a chat.

    - at most ``overall_per_second`` messages per second overall and ``group_per_minute`` per
      group (aiolimiter leaky buckets, as python-telegram-bot's ``AIORateLimiter``);
    - at least ``private_interval`` seconds between messages to one private chat;
    - RetryAfter pauses every request for the time Telegram asks, then retries (up to
      ``max_retries`` times);
    - network errors are retried ``network_retries`` times with exponential backoff (a time-out
      of a ``send*`` call is not retried: the message may have arrived).

    ``sleep`` and ``clock`` are injectable so tests run without waiting.
    """

    def __init__(
        self,
        *,
        overall_per_second: float = 30,
        group_per_minute: float = 20,
        private_interval: float = 1.0,
        max_retries: int = 5,
        network_retries: int = 4,
        backoff: float = 1.0,
        sleep: Sleep = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._overall = AsyncLimiter(overall_per_second, 1) if overall_per_second else None
        self._group_per_minute = group_per_minute
        self._groups: dict[int | str, AsyncLimiter] = {}
        self.private_interval = private_interval
        self._next_private: dict[int, float] = {}
        self._paused_until = 0.0
        self.max_retries = max_retries
        self.network_retries = network_retries
        self.backoff = backoff
        self._sleep = sleep
        self._clock = clock

    async def initialize(self) -> None:
        """Nothing to allocate."""

    async def shutdown(self) -> None:
        """Nothing to free."""

    def _group_limiter(self, group: int | str) -> AsyncLimiter:
        if len(self._groups) > 512:
            for key, lim in list(self._groups.items()):
                if lim.has_capacity(lim.max_rate):
                    del self._groups[key]
        if group not in self._groups:
            self._groups[group] = AsyncLimiter(self._group_per_minute, 60)
        return self._groups[group]

    async def _space_private(self, chat_id: int) -> None:
        now = self._clock()
        if len(self._next_private) > 4096:
            self._next_private = {k: v for k, v in self._next_private.items() if v > now}
        slot = max(now, self._next_private.get(chat_id, 0.0))
        self._next_private[chat_id] = slot + self.private_interval
        if slot > now:
            await self._sleep(slot - now)

    async def _wait_pause(self) -> None:
        while (left := self._paused_until - self._clock()) > 0:
            await self._sleep(left)

    async def _limited(self, chat_id: int | str | None, call: Callable[[], Awaitable[Any]]) -> Any:
        if chat_id is None:
            return await call()
        group = chat_id if isinstance(chat_id, str) or chat_id < 0 else None
        if group is not None and self._group_per_minute:
            async with self._group_limiter(group):
                return await self._overall_limited(call)
        return await self._overall_limited(call)

    async def _overall_limited(self, call: Callable[[], Awaitable[Any]]) -> Any:
        if self._overall is None:
            return await call()
        async with self._overall:
            return await call()

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        chat_id = _chat_id(data.get("chat_id"))
        if (
            isinstance(chat_id, int)
            and chat_id > 0
            and self.private_interval
            and endpoint.startswith(_SPACED_PREFIXES)
        ):
            await self._space_private(chat_id)
        limited, failures = 0, 0
        while True:
            await self._wait_pause()
            try:
                return await self._limited(chat_id, lambda: callback(*args, **kwargs))
            except RetryAfter as exc:
                limited += 1
                if limited > (rate_limit_args or self.max_retries):
                    raise
                wait = retry_after_seconds(exc) + 0.1
                self._paused_until = max(self._paused_until, self._clock() + wait)
                log_event(log, "telegram rate limit hit", logging.WARNING, retry_after=wait)
            except (BadRequest, Forbidden, InvalidToken):
                raise
            except NetworkError as exc:
                failures += 1
                no_retry = isinstance(exc, TimedOut) and endpoint.startswith("send")
                if no_retry or failures > self.network_retries:
                    raise
                wait = self.backoff * 2 ** (failures - 1)
                log_event(
                    log,
                    "telegram network error, retrying",
                    logging.WARNING,
                    endpoint=endpoint,
                    error=type(exc).__name__,
                    retry_in=wait,
                )
                await self._sleep(wait)


def _chat_id(value: object) -> int | str | None:
    if value is None:
        return None
    try:
        return int(value)  # type: ignore[call-overload, no-any-return]
    except (TypeError, ValueError):
        return str(value)
