"""Updates of different users run concurrently, those of one user in arrival order."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

from telegram import (
    Update,
)
from telegram.ext import (
    BaseUpdateProcessor,
)


class _Slot:
    __slots__ = ("lock", "users")

    def __init__(self) -> None:
        self.lock = asyncio.Lock()
        self.users = 0


def _order_key(update: object) -> int | None:
    if not isinstance(update, Update):
        return None
    who = update.effective_user or update.effective_chat
    return who.id if who else None


class PerUserOrder(BaseUpdateProcessor):
    """Processes updates of different users concurrently and those of one user in order.

    Each user with updates in flight has a FIFO lock. Behind it, at most ``max_running``
    updates run at once (a few: SQLite has one writer, and concurrent writers only wait on
    each other); ``max_concurrent_updates`` bounds the updates waiting, so one member
    sending many messages holds waiting slots, not running ones.
    """

    def __init__(self, max_concurrent_updates: int = 4096, max_running: int = 16) -> None:
        super().__init__(max_concurrent_updates)
        self._running = asyncio.Semaphore(max_running)
        self._slots: dict[int, _Slot] = {}

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        key = _order_key(update)
        if key is None:
            async with self._running:
                await coroutine
            return
        slot = self._slots.get(key)
        if slot is None:
            slot = self._slots[key] = _Slot()
        slot.users += 1
        try:
            async with slot.lock, self._running:
                await coroutine
        finally:
            slot.users -= 1
            if slot.users == 0:
                del self._slots[key]

    async def initialize(self) -> None:
        """Nothing to allocate."""

    async def shutdown(self) -> None:
        """Nothing to free."""
