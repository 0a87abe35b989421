"""What every messenger channel does with messages that are not replies: deliver the pending
notification rows of the outbox, and run the broadcast delivery engine with its sender."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from db import outbox
from db.broadcasts import DeliveryEngine, Sender
from db.models import Member
from ground.messages import Reply
from handlers.core import Conversation

log = logging.getLogger("coopbot.delivery")

Send = Callable[[Member, Reply], Awaitable[None]]


async def deliver_pending(
    conversation: Conversation,
    channel: str,
    send: Send,
    *,
    blocked: type[Exception],
    errors: type[Exception],
    limit: int = 30,
) -> int:
    """Send ``channel``'s pending outbox rows once; returns how many were sent.

    ``blocked`` (the member blocked the bot) fails the row for good and marks the member
    unreachable; ``errors`` count a failed attempt. Each row is committed on its own, so a
    crash never re-sends what was sent."""
    sent = 0
    async with conversation.sessions() as session:
        for row, member in await outbox.pending(session, channel, limit=limit):
            try:
                await send(member, outbox.as_reply(row))
            except blocked as exc:
                outbox.mark_failed(row, f"{type(exc).__name__}: {exc}", final=True)
                member.unreachable = True
            except errors as exc:
                outbox.mark_failed(row, f"{type(exc).__name__}: {exc}", final=False)
            else:
                outbox.mark_sent(row, conversation.clock())
                sent += 1
            await session.commit()
    return sent


class Background:
    """The outbox loop and the broadcast engine of one channel, started and stopped together."""

    def __init__(self, conversation: Conversation, name: str) -> None:
        self.conversation = conversation
        self.name = name
        self.engine: DeliveryEngine | None = None
        self._tasks: list[asyncio.Task[Any]] = []

    def engine_for(self, sender: Sender, **options: Any) -> DeliveryEngine:
        conv = self.conversation
        return DeliveryEngine(
            conv.sessions, [sender], conv.translations, clock=conv.clock, **options
        )

    def start(
        self, deliver: Callable[[], Awaitable[int]], sender: Sender, interval: float = 2.0
    ) -> None:
        self.engine = self.engine_for(sender)
        self._tasks = [
            asyncio.create_task(self._loop(deliver, interval)),
            asyncio.create_task(self.engine.run()),
        ]

    async def _loop(self, deliver: Callable[[], Awaitable[int]], interval: float) -> None:
        while True:
            try:
                await deliver()
            except Exception:
                log.exception("%s outbox delivery failed", self.name)
            await asyncio.sleep(interval)

    async def stop(self) -> None:
        """Let the broadcast wave in flight finish (no row left "sending"), then stop."""
        if not self._tasks:
            return
        loop_task, engine_task = self._tasks
        loop_task.cancel()
        if self.engine is not None:
            self.engine.stop()
            try:
                await asyncio.wait_for(asyncio.shield(engine_task), timeout=10)
            except (TimeoutError, asyncio.CancelledError):
                pass
        engine_task.cancel()
        for task in self._tasks:
            try:
                await task
            except (asyncio.CancelledError, Exception):
                pass
        self._tasks = []
