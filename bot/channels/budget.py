"""One sending budget for every worker: messenger limits are global, not per process.

Each worker keeps to the limits by itself (:class:`bot.channels.telegram.TelegramLimiter`,
:class:`bot.channels.pacing.Pacer`), but with several workers their replies add up. On
PostgreSQL every message sent to a chat (Telegram ``send*``, ``edit*``, ``copyMessage``,
``forwardMessage``; Zalo ``sendMessage`` and ``sendPhoto``) first takes a slot from
:class:`SharedBudget`, right before its HTTP request:

- at most ``per_second`` messages of a channel in any window of ``WINDOW`` seconds, counted
  over all workers (the database's clock decides, so the machines' clocks do not matter);
- bulk messages (broadcasts, the outbox: whatever runs inside :func:`bulk_sending`) may use
  only ``per_second - reserve`` of them, so replies to members always find room;
- at least ``per_chat_interval`` seconds between two messages to one chat, whichever worker
  sends them;
- slots are spread: two messages of a channel at least half their average spacing apart, so a
  second's worth never reaches the API in one burst.

A slot is one call of a database function (one round trip, serialised per channel by a
transaction-level advisory lock): at 30 messages a second, a small fraction of a connection. On SQLite there is one
process and the per-process limits are the global ones: no budget (``None``).
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import json
import logging
import random
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine
from telegram.error import (
    BadRequest,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)

from bot.channels.telegram import TelegramLimiter
from bot.leader import asyncpg_dsn
from ground.observe import observe

log = logging.getLogger("coopbot.budget")

WINDOW = 1.05  # seconds: one second and a margin for the jitter between a slot and the API

_BULK: contextvars.ContextVar[bool] = contextvars.ContextVar("coopbot_bulk", default=False)


@contextlib.contextmanager
def bulk_sending() -> Iterator[None]:
    """Messages sent from here, and from tasks created here, are bulk (broadcasts, outbox)."""
    token = _BULK.set(True)
    try:
        yield
    finally:
        _BULK.reset(token)


def is_bulk() -> bool:
    return _BULK.get()


@dataclass(frozen=True)
class Limit:
    per_second: int
    per_chat_interval: float = 1.0
    reserve: int = 3  # slots a second that bulk sending leaves to replies


# Telegram: 30 messages a second, one a second per chat. Zalo documents no rate: it is paced
# as its broadcast sender is (bot/channels/zalo.py, ZaloSender).
LIMITS = {"telegram": Limit(30, 1.0, 3), "zalo": Limit(10, 1.0, 2)}

Sleep = Callable[[float], Awaitable[None]]


class SharedBudget:
    """Slots for messages, shared through PostgreSQL by every worker: table ``send_budget``
    and function ``coopbot_take_slot`` (migration 0008), called on a connection of its own so
    a slot costs one round trip.

    If the database cannot be reached the message goes without a slot (logged): the
    per-process limits still hold, and a worker cut off from its database has little to send.
    """

    def __init__(
        self,
        dsn: str,
        limits: dict[str, Limit] | None = None,
        *,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.dsn = dsn
        self.limits = dict(limits or LIMITS)
        self._sleep = sleep
        self._conn: Any = None
        self._lock = asyncio.Lock()
        self.waited = 0.0

    async def take(self, channel: str, chat: str, *, bulk: bool | None = None) -> None:
        """Wait for a slot to send one message of ``channel`` to ``chat``."""
        limit = self.limits.get(channel)
        if limit is None:
            return
        bulk = is_bulk() if bulk is None else bulk
        cap = max(1, limit.per_second - limit.reserve) if bulk else limit.per_second
        spacing = WINDOW / limit.per_second / 2
        while True:
            try:
                wait = await self._try(channel, chat, bulk, cap, limit.per_chat_interval, spacing)
            except Exception as exc:
                log.warning("send budget not reachable, sending anyway: %s", type(exc).__name__)
                await self.close()
                return
            if wait <= 0:
                return
            self.waited += wait
            # A little jitter, so waiting workers do not all come back at the same instant.
            await self._sleep(wait + random.uniform(0.0, 0.005))

    async def _try(
        self, channel: str, chat: str, bulk: bool, cap: int, per_chat: float, spacing: float
    ) -> float:
        async with self._lock:
            if self._conn is None or self._conn.is_closed():
                import asyncpg

                self._conn = await asyncpg.connect(self.dsn, timeout=5)
            wait = await self._conn.fetchval(
                "SELECT coopbot_take_slot($1, $2, $3, $4, $5, $6, $7)",
                channel, chat, bulk, cap, WINDOW, per_chat, spacing, timeout=5,
            )  # fmt: skip
        return float(wait)

    async def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(conn.close(), timeout=2)


def shared_budget(engine: AsyncEngine) -> SharedBudget | None:
    """The budget every worker shares on PostgreSQL; None on SQLite (one process)."""
    if engine.dialect.name != "postgresql":
        return None
    return SharedBudget(asyncpg_dsn(engine.url.render_as_string(hide_password=False)))


# --- where each channel takes its slots ---------------------------------------------------

_TELEGRAM_COUNTED = ("send", "edit", "copyMessage", "forwardMessage")


def telegram_error_code(exc: BaseException) -> str:
    """A Bot API failure as a metrics label: its HTTP-like code, or what happened."""
    if isinstance(exc, RetryAfter):
        return "429"
    if isinstance(exc, Forbidden):
        return "403"
    if isinstance(exc, InvalidToken):
        return "401"
    if isinstance(exc, BadRequest):
        return "400"
    if isinstance(exc, TimedOut):
        return "timeout"
    if isinstance(exc, NetworkError):
        return "network"
    return "other"


class SharedTelegramLimiter(TelegramLimiter):
    """Telegram's per-process limits, then (with a ``budget``) a slot of the shared budget
    for every message, taken right before the HTTP request (a retry takes another: it is
    another request). Failed calls are reported for the metrics, by code."""

    def __init__(self, budget: SharedBudget | None = None, **options: Any) -> None:
        super().__init__(**options)
        self.budget = budget

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        chat = data.get("chat_id")
        counted = chat is not None and endpoint.startswith(_TELEGRAM_COUNTED)
        budget, bulk = self.budget, is_bulk()

        async def call(*a: Any, **k: Any) -> bool | dict[str, Any] | list[dict[str, Any]]:
            if counted and budget is not None:
                await budget.take("telegram", str(chat), bulk=bulk)
            try:
                result = await callback(*a, **k)
            except TelegramError as exc:
                observe("api_error", channel="telegram", code=telegram_error_code(exc))
                raise
            if counted:
                observe("sent", channel="telegram", kind="bulk" if bulk else "reply")
            return result

        return await super().process_request(call, args, kwargs, endpoint, data, rate_limit_args)


_ZALO_COUNTED = ("/sendMessage", "/sendPhoto")


class SharedTransport(httpx.AsyncBaseTransport):
    """The Zalo client's transport: (with a ``budget``) a slot before each message, and failed
    calls reported for the metrics by code."""

    def __init__(
        self, budget: SharedBudget | None = None, inner: httpx.AsyncBaseTransport | None = None
    ) -> None:
        self.budget = budget
        self.inner = inner or httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        counted = request.method == "POST" and request.url.path.endswith(_ZALO_COUNTED)
        bulk = is_bulk()
        if counted and self.budget is not None:
            chat = ""
            with contextlib.suppress(ValueError, AttributeError):
                chat = str(json.loads(request.content).get("chat_id", ""))
            await self.budget.take("zalo", chat, bulk=bulk)
        try:
            response = await self.inner.handle_async_request(request)
        except httpx.TimeoutException:
            observe("api_error", channel="zalo", code="timeout")
            raise
        except httpx.TransportError:
            observe("api_error", channel="zalo", code="network")
            raise
        if response.status_code != 200:
            observe("api_error", channel="zalo", code=str(response.status_code))
        elif counted:
            observe("sent", channel="zalo", kind="bulk" if bulk else "reply")
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()
