"""The knowledge base kept in the database: entries, every version, the change counter that
running processes poll, and the questions staff saved. Data in, data out: an entry is the
plain mapping of :meth:`knowledge.entries.Entry.export` (checked by the operations).

Shipped YAML (``knowledge/data``) is the starting content: :func:`sync_shipped` adds new
shipped entries and applies shipped changes to entries no person has published; an entry a
person published keeps its text and is *flagged* when the shipped one changes.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import KbEntry, KbSavedQuestion, KbState, KbVersion

__all__ = ["KbEntry", "KbVersion"]

SHIPPED = "shipped"
STAFF = "staff"
IMPORT = "import"
ROLLBACK = "rollback"
PERSON_SOURCES = (STAFF, IMPORT, ROLLBACK)


def data_hash(data: dict[str, Any]) -> str:
    text = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def changed_fields(old: dict[str, Any] | None, new: dict[str, Any]) -> list[str]:
    """The top-level fields whose value differs (every field of a new entry)."""
    if old is None:
        return sorted(new)
    return sorted(k for k in set(old) | set(new) if old.get(k) != new.get(k))


async def counter(session: AsyncSession) -> int:
    value = (await session.execute(select(KbState.counter).where(KbState.id == 1))).scalar()
    return int(value or 0)


async def bump(session: AsyncSession) -> None:
    """Raise the counter (in the caller's transaction): processes reload on their next poll."""
    done = await session.execute(update(KbState).where(KbState.id == 1)
                                 .values(counter=KbState.counter + 1))  # fmt: skip
    if done.rowcount:  # type: ignore[attr-defined]
        return
    try:  # the first change ever: the row does not exist yet (a backup restores it as it was)
        async with session.begin_nested():
            session.add(KbState(id=1, counter=1))
    except IntegrityError:  # another process inserted it meanwhile
        await session.execute(update(KbState).where(KbState.id == 1)
                              .values(counter=KbState.counter + 1))  # fmt: skip


async def published(session: AsyncSession) -> list[tuple[str, str, dict[str, Any]]]:
    """(entry id, file, data) of every published entry, in id order."""
    stmt = select(KbEntry.entry_id, KbEntry.file, KbEntry.data).where(KbEntry.data.is_not(None))
    rows = (await session.execute(stmt.order_by(KbEntry.entry_id))).all()
    return [(r[0], r[1], dict(r[2])) for r in rows if r[2] is not None]


async def count(session: AsyncSession) -> int:
    return int((await session.execute(select(func.count()).select_from(KbEntry))).scalar_one())


async def get(session: AsyncSession, entry_id: str) -> KbEntry | None:
    stmt = select(KbEntry).where(KbEntry.entry_id == entry_id)
    return (await session.execute(stmt)).scalar_one_or_none()


async def all_rows(session: AsyncSession) -> list[KbEntry]:
    return list((await session.execute(select(KbEntry).order_by(KbEntry.entry_id))).scalars())


async def create(session: AsyncSession, entry_id: str, file: str, now: datetime) -> KbEntry:
    row = KbEntry(entry_id=entry_id, file=file, data=None, version=0, edited=False,
                  flagged=False, updated_at=now)  # fmt: skip
    session.add(row)
    await session.flush()
    return row


async def versions(session: AsyncSession, entry_id: str) -> list[KbVersion]:
    """Every version of an entry, newest first."""
    stmt = select(KbVersion).where(KbVersion.entry_id == entry_id)
    return list((await session.execute(stmt.order_by(KbVersion.number.desc()))).scalars())


async def version(session: AsyncSession, entry_id: str, number: int) -> KbVersion | None:
    stmt = select(KbVersion).where(KbVersion.entry_id == entry_id, KbVersion.number == number)
    return (await session.execute(stmt)).scalar_one_or_none()


async def publish(
    session: AsyncSession, row: KbEntry, data: dict[str, Any], source: str, actor: str,
    now: datetime,
) -> KbVersion:  # fmt: skip
    """Make ``data`` the live text of ``row`` as a new version, and raise the counter."""
    number = row.version + 1
    kept = KbVersion(entry_id=row.entry_id, number=number, data=data, source=source, actor=actor,
                     changed=changed_fields(row.data, data), created_at=now)  # fmt: skip
    session.add(kept)
    row.data, row.version, row.updated_at = data, number, now
    if source in PERSON_SOURCES:
        row.edited, row.flagged = True, False
    await bump(session)
    await session.flush()
    return kept


def set_draft(row: KbEntry, draft: dict[str, Any] | None, actor: str | None, now: datetime) -> None:
    row.draft, row.draft_by, row.updated_at = draft, actor, now


@dataclass
class SyncCounts:
    added: int = 0
    updated: int = 0
    flagged: int = 0
    unchanged: int = 0


async def sync_shipped(
    session: AsyncSession, shipped: Iterable[tuple[str, dict[str, Any]]], now: datetime
) -> SyncCounts:
    """Load (file, data) pairs of the shipped YAML: new entries are added, changes applied to
    entries no person has published; a person's entry keeps its text and is flagged."""
    counts = SyncCounts()
    rows = {r.entry_id: r for r in await all_rows(session)}
    for file, data in shipped:
        digest = data_hash(data)
        row = rows.get(data["id"])
        if row is None:
            row = await create(session, data["id"], file, now)
            row.shipped, row.shipped_hash = data, digest
            await publish(session, row, data, SHIPPED, SHIPPED, now)
            counts.added += 1
        elif row.shipped_hash == digest:
            counts.unchanged += 1
        elif row.edited:
            row.shipped, row.shipped_hash, row.flagged, row.updated_at = data, digest, True, now
            counts.flagged += 1
        else:
            row.shipped, row.shipped_hash, row.file = data, digest, file
            await publish(session, row, data, SHIPPED, SHIPPED, now)
            counts.updated += 1
    await session.flush()
    return counts


async def saved_questions(session: AsyncSession) -> list[KbSavedQuestion]:
    return list((await session.execute(select(KbSavedQuestion).order_by(KbSavedQuestion.id)))
                .scalars())  # fmt: skip


async def save_question(
    session: AsyncSession, text: str, entry_id: str | None, actor: str, now: datetime
) -> KbSavedQuestion:
    saved = KbSavedQuestion(text=text, entry_id=entry_id, actor=actor, created_at=now)
    session.add(saved)
    await session.flush()
    return saved
