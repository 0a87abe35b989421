"""Keeping to a messenger's limits: how many messages a second, how often to one chat, and
a pause when the channel asks for one (Telegram: 30 messages in any second, 1 per chat per
second; Zalo documents none and is paced the same way)."""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable

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
        # ... and sends are spread evenly (a token bucket holding at most 1/20 s of sends):
        # a burst of a whole second's worth would reach the API bunched by jitter.
        self.interval = self.window / self.limit
        self.burst = max(1.0, self.limit / 20)
        self._tokens = self.burst
        self._filled_at = monotonic()
        self.per_chat_interval = per_chat_interval
        self._window: deque[float] = deque()
        self._chats: dict[str, float] = {}
        self._paused_until = 0.0
        self._monotonic = monotonic
        self._sleep = sleep

    def pause(self, seconds: float) -> None:
        self._paused_until = max(self._paused_until, self._monotonic() + seconds)

    def _wait(self, chat: str) -> float:
        now = self._monotonic()
        while self._window and self._window[0] <= now - self.window:
            self._window.popleft()
        self._tokens = min(self.burst, self._tokens + (now - self._filled_at) / self.interval)
        self._filled_at = now
        wait = max(0.0, self._paused_until - now, self._chats.get(chat, 0.0) - now)
        if self._tokens < 1.0:
            wait = max(wait, (1.0 - self._tokens) * self.interval)
        if len(self._window) >= self.limit:
            wait = max(wait, self._window[0] + self.window - now)
        return wait

    def try_acquire(self, chat: str) -> bool:
        if self._wait(chat) > 0:
            return False
        now = self._monotonic()
        self._tokens -= 1.0
        self._window.append(now)
        if self.per_chat_interval:
            if len(self._chats) > 20000:
                self._chats = {k: v for k, v in self._chats.items() if v > now}
            self._chats[chat] = now + self.per_chat_interval
        return True

    async def acquire(self, chat: str) -> None:
        while not self.try_acquire(chat):
            await self._sleep(max(self._wait(chat), 0.001))
