"""Keeping to a messenger's limits: how many messages a second, how often to one chat, and
a pause when the channel asks for one (Telegram: 30 messages in any second, 1 per chat per
second; Zalo documents none and is paced the same way)."""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass

GUARD = 0.03  # seconds added to the pacing window (see Pacer)

Sleep = Callable[[float], Awaitable[None]]


class Pacer:
    """At most ``per_second`` messages in any one-second window, ``per_chat_interval``
    between two messages to one chat, and a pause when the channel asks for one."""

    def __init__(
        self,
        per_second: float,
        per_chat_interval: float,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.limit = max(1, int(per_second))
        # A send leaves the window a little later than one second after it was paced, so that
        # jitter between here and the API (a commit, the network) never makes the API count
        # one message too many in a second (which costs a 429 and a pause).
        self.window = 1.0 + GUARD
        # ... and sends are spread evenly (a token bucket holding 1/3 s of sends, 10 at most):
        # a burst of a whole second's worth would reach the API bunched by jitter, while a
        # smaller bucket loses rate whenever a busy event loop wakes the sender late.
        self.interval = self.window / self.limit
        self.burst = max(1.0, min(self.limit / 3, 10.0))
        self._tokens = self.burst
        self._filled_at = monotonic()
        self.per_chat_interval = per_chat_interval
        self._window: deque[list[float]] = deque()  # [time] cells, restamped on departure
        self._chats: dict[str, float] = {}
        self._paused_until = 0.0
        self._monotonic = monotonic
        self._sleep = sleep

    def pause(self, seconds: float) -> None:
        self._paused_until = max(self._paused_until, self._monotonic() + seconds)

    def _wait(self, chat: str, calls: int = 1) -> float:
        now = self._monotonic()
        while self._window and self._window[0][0] <= now - self.window:
            self._window.popleft()
        self._tokens = min(self.burst, self._tokens + (now - self._filled_at) / self.interval)
        self._filled_at = now
        wait = max(0.0, self._paused_until - now, self._chats.get(chat, 0.0) - now)
        if self._tokens < 1.0:
            wait = max(wait, (1.0 - self._tokens) * self.interval)
        # ``calls`` more must fit in the window (all of it must be free for more than a
        # window's worth, which then waits its turn as a burst of one)
        full = len(self._window) + min(calls, self.limit) - self.limit
        if full > 0:
            wait = max(wait, self._window[full - 1][0] + self.window - now)
        return wait

    def try_take(self, chat: str, calls: int = 1) -> Taken | None:
        """Take ``calls`` API calls for one message to ``chat`` now, if the limits allow."""
        if self._wait(chat, calls) > 0:
            return None
        now = self._monotonic()
        self._tokens -= calls  # in debt for a message of several calls: the next ones wait
        cells = [[now] for _ in range(calls)]
        self._window.extend(cells)
        if self.per_chat_interval:
            if len(self._chats) > 20000:
                self._chats = {k: v for k, v in self._chats.items() if v > now}
            self._chats[chat] = now + self.per_chat_interval
        return Taken(chat, cells)

    def try_acquire(self, chat: str, calls: int = 1) -> bool:
        return self.try_take(chat, calls) is not None

    async def take(self, chat: str, calls: int = 1) -> Taken:
        """Wait until ``calls`` API calls for one message to ``chat`` are allowed, and take
        them. Safe for many tasks at once: each takes its calls when it wakes, or waits again."""
        while (taken := self.try_take(chat, calls)) is None:
            await self._sleep(max(self._wait(chat, calls), 0.001))
        return taken

    async def acquire(self, chat: str, calls: int = 1) -> None:
        await self.take(chat, calls)

    def departed(self, taken: Iterable[Taken]) -> None:
        """The calls ``taken`` leave now (after a commit that took a while): they are counted
        from now, so the API never sees them closer together than they were paced."""
        now = self._monotonic()
        for t in taken:
            for cell in t.cells:
                cell[0] = now
            if self.per_chat_interval:
                self._chats[t.chat] = max(
                    self._chats.get(t.chat, 0.0), now + self.per_chat_interval
                )


@dataclass(frozen=True, slots=True)
class Taken:
    """Calls taken from a :class:`Pacer` for one message to ``chat``."""

    chat: str
    cells: list[list[float]]
