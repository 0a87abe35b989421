"""The cooperatives' names, searchable without scoring every name (``/dangky``).

Each process keeps one :class:`knowledge.names.NameIndex` per database, built from the
``cooperatives`` table the first time a name is looked up. It stays fresh two ways: an
import in this process marks it stale at once (:func:`changed`), and every lookup compares
a stamp of the table (the highest id and the latest ``updated_at``: two index
look-ups, no scan) with the one it was built from, at most every
``CHECK_EVERY`` seconds, so an import or an edit made by another worker shows within that
time. A changed stamp rebuilds the index (names read in one query, the index built in a
thread, off the event loop); until then the old one answers. Only ids come out of the
index: the rows are read again from the database, so a cooperative deleted or dissolved
since is never offered.
"""

from __future__ import annotations

import asyncio
import time
import weakref
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Cooperative
from knowledge.names import NameIndex

CHECK_EVERY = 5.0  # seconds between two looks at the table's stamp, per process

Stamp = tuple[Any, ...]


class _Names:
    def __init__(self) -> None:
        self.index: NameIndex[int] | None = None
        self.stamp: Stamp | None = None
        self.checked = float("-inf")
        self.lock = asyncio.Lock()

    async def fresh(self, session: AsyncSession) -> NameIndex[int]:
        now = time.monotonic()
        if self.index is not None and now - self.checked < CHECK_EVERY:
            return self.index
        async with self.lock:  # one rebuild at a time; the others wait for it
            if self.index is not None and time.monotonic() - self.checked < CHECK_EVERY:
                return self.index
            stamp = tuple((await session.execute(_STAMP)).one())
            if self.index is None or stamp != self.stamp:
                rows = (await session.execute(_NAMES)).all()
                self.index = await asyncio.to_thread(NameIndex, [(i, n) for i, n in rows])
                self.stamp = stamp
            self.checked = time.monotonic()
            return self.index


# Two index look-ups (the primary key, ix_cooperatives_updated_at), whatever the table's size.
# Rows are never deleted (a cooperative is dissolved, which changes updated_at); one deleted
# by hand stays in the index, but ids found are read again from the table.
_STAMP = select(func.max(Cooperative.id), func.max(Cooperative.updated_at))
_NAMES = select(Cooperative.id, Cooperative.name).where(Cooperative.status != "dissolved")
_by_engine: weakref.WeakKeyDictionary[Any, _Names] = weakref.WeakKeyDictionary()


def _names(session: AsyncSession) -> _Names:
    engine = session.get_bind()
    names = _by_engine.get(engine)
    if names is None:
        names = _by_engine[engine] = _Names()
    return names


async def search(session: AsyncSession, text: str, limit: int = 5) -> list[int]:
    """Ids of the cooperatives whose name is close to ``text``, best first."""
    index = await _names(session).fresh(session)
    return [key for key, _score in index.search(text, limit=limit)]


def changed(session: AsyncSession) -> None:
    """Cooperatives were written through ``session``: look at the table at the next lookup."""
    _names(session).checked = float("-inf")
