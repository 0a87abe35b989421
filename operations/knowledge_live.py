"""The live knowledge base: entries published in the database, handed to the running
:class:`~knowledge.base.KnowledgeStore`.

Every process (chat channels, console, web) polls one counter (``kb_state``) at most every
``interval`` seconds; when a publish raised it, the process reads the published entries and
swaps its store, off the event loop. The same query on SQLite and PostgreSQL. While the
database holds no entries (fresh install, tests), the store keeps serving the YAML.
"""

from __future__ import annotations

import asyncio
import logging
import time

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db import knowledge as kbdb
from knowledge import drafts
from knowledge.base import KnowledgeStore
from knowledge.entries import Entry

log = logging.getLogger("coopbot.knowledge")


async def live_entries(session: AsyncSession) -> list[Entry]:
    """The published entries (empty when the database holds none)."""
    rows = await kbdb.published(session)
    entries, problems = drafts.parse_all((file, data) for _, file, data in rows)
    if problems:  # cannot happen through the operations, which check before publishing
        log.error("published entries that do not parse: %s", "; ".join(map(str, problems[:5])))
    return entries


class LiveKnowledge:
    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], kb: KnowledgeStore, interval: float = 2.0
    ) -> None:
        self.sessions = sessions
        self.kb = kb
        self.interval = interval
        self.seen: int | None = None
        self._checked = -float("inf")
        self._lock = asyncio.Lock()

    async def refresh(self) -> bool:
        """Swap in the published entries when the counter moved; ``True`` when it did."""
        now = time.monotonic()
        if now - self._checked < self.interval or self._lock.locked():
            return False
        async with self._lock:
            self._checked = now
            try:
                async with self.sessions() as session:
                    value = await kbdb.counter(session)
                    if value == self.seen:
                        return False
                    entries = await live_entries(session)
            except Exception:  # the database is away: keep answering from what we have
                log.exception("knowledge counter not read")
                return False
            self.seen = value
            if not entries:
                return False
            await asyncio.to_thread(self.kb.swap, entries)
            log.info("knowledge base now at change %d: %d entries", value, len(entries))
            return True

    async def __call__(self) -> None:
        await self.refresh()
