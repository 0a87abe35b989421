"""A fake Zalo Bot API (httpx.MockTransport), a recording sleep and the fixtures the Zalo
tests share (``zalo``, ``extra_commands``: made fixtures by tests/conftest.py)."""

from __future__ import annotations

import asyncio
import json
from collections import deque
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from sqlalchemy import select

from bot.app import App
from bot.channels.zalo import (
    CHANNEL,
    ZaloChannel,
)
from db.models import Member
from ground.messages import Reply

TOKEN = "3f9a1c2b7d4e5f60:kJ8sHq2xZ0pLm4NvR7tY1uWc9eBdA3Qz"
SECRET_PART = TOKEN.split(":")[1]
BASE = "https://zalo.test/bot"
LAN, MAI = "a1b2c3d4e5f60718", "b2c3d4e5f6071829"
SAFETY_TIMEOUT = 20.0
NETWORK = -1  # a failure that is a network error rather than an HTTP answer


# --- a fake Zalo Bot API -------------------------------------------------------------------


def message(user: str, event: str, **fields: Any) -> dict[str, Any]:
    message.counter += 1  # type: ignore[attr-defined]
    msg: dict[str, Any] = {
        "from": {"id": user, "display_name": "Lan Nguyễn", "is_bot": False},
        "chat": {"id": user, "chat_type": "PRIVATE"},
        "message_id": f"m{message.counter:06d}",  # type: ignore[attr-defined]
        "date": 1764298800000 + message.counter,  # type: ignore[attr-defined]
    }
    msg.update(fields)
    return {"event_name": event, "message": msg}


message.counter = 0  # type: ignore[attr-defined]


def text_update(user: str, text: str, **fields: Any) -> dict[str, Any]:
    return message(user, "message.text.received", text=text, **fields)


class FakeZalo:
    """Records every call as ``(method, params)``; ``fail`` makes the next calls of a method
    answer an HTTP error (or raise a network error); ``getUpdates`` hands out the queued
    updates and statuses, then answers 408 (or, with ``block=True``, waits for more)."""

    def __init__(self, block: bool = False) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.block = block
        self._failures: dict[str, deque[int]] = {}
        self._polls: asyncio.Queue[int | dict[str, Any]] = asyncio.Queue()
        self._changed = asyncio.Condition()
        self.transport = httpx.MockTransport(self.handle)

    def fail(self, method: str, *statuses: int) -> None:
        self._failures.setdefault(method, deque()).extend(statuses)

    def queue(self, *items: int | dict[str, Any]) -> None:
        for item in items:
            self._polls.put_nowait(item)

    def sent(self, *methods: str) -> list[dict[str, Any]]:
        methods = methods or ("sendMessage",)
        return [p for m, p in self.calls if m in methods]

    def texts(self, chat_id: str | None = None) -> list[str]:
        return [p["text"] for p in self.sent() if chat_id is None or p["chat_id"] == chat_id]

    async def wait_for(self, done: Callable[[], bool]) -> None:
        """Wait until ``done()`` is true; the time-out is a safety net, not an assertion."""
        async with asyncio.timeout(SAFETY_TIMEOUT), self._changed:
            await self._changed.wait_for(done)

    async def handle(self, request: httpx.Request) -> httpx.Response:
        prefix, _, method = request.url.path.rpartition("/")
        if prefix != f"/bot{TOKEN}":
            return httpx.Response(401, json={"ok": False, "error_code": 401})
        params = json.loads(request.content or b"{}")
        if method == "getUpdates":
            item = await self._next_poll()
            if isinstance(item, int):
                return httpx.Response(item, json={"ok": False, "error_code": item})
            return httpx.Response(200, json={"ok": True, "result": item})
        self.calls.append((method, params))
        async with self._changed:
            self._changed.notify_all()
        queue = self._failures.get(method)
        if queue:
            status = queue.popleft()
            if status == NETWORK:
                raise httpx.ConnectError(f"connection refused: {request.url}", request=request)
            body = {"ok": False, "error_code": status, "description": f"failed: {request.url}"}
            return httpx.Response(status, json=body)
        return httpx.Response(200, json={"ok": True, "result": self._result(method)})

    async def _next_poll(self) -> int | dict[str, Any]:
        if self.block:
            return await self._polls.get()
        return self._polls.get_nowait() if not self._polls.empty() else 408

    @staticmethod
    def _result(method: str) -> Any:
        if method == "getMe":
            return {"id": "b0751d", "account_name": "bot.htx", "display_name": "Bot HTX"}
        if method.startswith("send"):
            return {"message_id": "out1", "date": 1764298800000}
        return True


@dataclass
class Sleeps:
    """Every backoff is recorded here instead of waited for."""

    waits: list[float] = field(default_factory=list)

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)
        await asyncio.sleep(0)


@dataclass
class Bot:
    channel: ZaloChannel
    api: FakeZalo
    sleeps: Sleeps

    async def send(self, *updates: dict[str, Any]) -> None:
        """Feed updates as the webhook does, and wait until all are handled."""
        for update in updates:
            self.channel.dispatch(update)
        await self.channel.join()


async def zalo_bot(small_app: App) -> AsyncIterator[Bot]:
    api, sleeps = FakeZalo(), Sleeps()
    channel = ZaloChannel(
        small_app.conversation, TOKEN, BASE, transport=api.transport, sleep=sleeps
    )
    await channel.initialize(retries=0)
    yield Bot(channel, api, sleeps)
    await channel.stop()


async def _member(app: App, user_id: str) -> Member:
    async with app.conversation.sessions() as s:
        stmt = select(Member).where(Member.channel == CHANNEL, Member.user_id == user_id)
        return (await s.execute(stmt)).scalar_one()


def extra_commands_of(small_app: App):  # type: ignore[no-untyped-def]
    router = small_app.conversation.router
    before = len(router.commands)

    def register(name: str, reply: Reply) -> None:
        @router.command(name, description=name, in_menu=False)
        async def handler(ctx, arg):  # type: ignore[no-untyped-def]
            return reply

    yield register
    for cmd in router.commands[before:]:
        for n in cmd.names:
            router._by_name.pop(n, None)
    del router.commands[before:]


# --- pure functions ------------------------------------------------------------------------
