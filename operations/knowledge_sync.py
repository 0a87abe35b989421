"""The knowledge base in the database as a whole: load the shipped YAML (``coopbot db upgrade``,
``coopbot kb sync``), export the live base, import a file with the checks of ``kb check``,
list and filter entries for the console. Staff only, audited.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from db import audit
from db import knowledge as kbdb
from db.models import KbEntry, Question
from ground.i18n import N_
from knowledge import drafts
from knowledge.base import KnowledgeStore, load_dir
from knowledge.entries import Entry, Problem
from knowledge.normalize import fold
from operations.knowledge_live import live_entries
from operations.rights import Actor, NotPossible, require_staff

SHIPPED_BROKEN = N_("Kho tri thức kèm theo có lỗi ({count} lỗi); chạy coopbot kb check.")
STALE_DAYS = 365
MANY_DISLIKES = 3


async def sync(session: AsyncSession, actor: Actor, path: Path, now: datetime) -> kbdb.SyncCounts:
    """Load the shipped YAML under ``path``: new entries added, shipped changes applied to
    entries no person published, a person's entry kept and flagged."""
    await require_staff(session, actor)
    loaded = load_dir(path)
    if loaded.problems:
        raise NotPossible(SHIPPED_BROKEN, count=len(loaded.problems))
    counts = await kbdb.sync_shipped(session, [(e.file, e.export()) for e in loaded.entries], now)
    if counts.added or counts.updated or counts.flagged:
        audit.record(session, actor.name, "kb.sync", now, None, counts.__dict__)
    return counts


async def ensure_synced(session: AsyncSession, kb: KnowledgeStore, now: datetime) -> None:
    """Before the first edit of a fresh database, load the shipped base the store serves:
    from then on the database is the live base."""
    if await kbdb.count(session) == 0:
        loaded = load_dir(kb.path)
        data = [(e.file, e.export()) for e in loaded.entries] or [
            (e.file, e.export()) for e in kb.entries.values()
        ]
        await kbdb.sync_shipped(session, data, now)


async def base_entries(session: AsyncSession, kb: KnowledgeStore) -> list[Entry]:
    """The live base: published entries in the database, else what the store serves."""
    return await live_entries(session) or list(kb.entries.values())


def new_problems(before: list[Entry], after: list[Entry]) -> list[Problem]:
    """Problems the change brings (problems the base already had do not block it)."""
    old = {(p.entry, p.message) for p in drafts.check(before)}
    return [p for p in drafts.check(after) if (p.entry, p.message) not in old]


async def export(session: AsyncSession, actor: Actor, kb: KnowledgeStore) -> list[Entry]:
    await require_staff(session, actor)
    return await base_entries(session, kb)


@dataclass
class Imported:
    problems: list[Problem] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)


async def import_file(
    session: AsyncSession, actor: Actor, kb: KnowledgeStore, path: Path, now: datetime
) -> Imported:
    """Publish the entries of an exported file that differ from the live ones, after the
    checks of ``kb check`` on the base they would make; nothing is written on a problem."""
    await require_staff(session, actor)
    raws, problems = drafts.read(path)
    entries, parse_problems = drafts.parse_all(raws)
    if problems or parse_problems:
        return Imported([*problems, *parse_problems])
    await ensure_synced(session, kb, now)
    before = await base_entries(session, kb)
    by_id = {e.id: e for e in before}
    by_id.update({e.id: e for e in entries})
    found = new_problems(before, list(by_id.values()))
    if found:
        return Imported(found)
    done = Imported()
    for entry in entries:
        row = await kbdb.get(session, entry.id) or await kbdb.create(
            session, entry.id, entry.file, now
        )
        data = entry.export()
        if row.data != data:
            await kbdb.publish(session, row, data, kbdb.IMPORT, actor.name, now)
            done.changed.append(entry.id)
    audit.record(session, actor.name, "kb.import", now, path.name, {"changed": len(done.changed)})
    return done


@dataclass
class Listed:
    entry: Entry | None
    entry_id: str
    title: str
    tags: tuple[str, ...]
    reviewed: str
    version: int
    draft: bool
    flagged: bool
    dislikes: int
    stale: bool


async def dislikes(session: AsyncSession) -> dict[str, int]:
    stmt = (
        select(Question.entry_id, func.count())
        .where(Question.vote == -1, Question.entry_id.is_not(None))
        .group_by(Question.entry_id)
    )
    return {str(r[0]): int(r[1]) for r in (await session.execute(stmt)).all()}


async def listing(
    session: AsyncSession, actor: Actor, kb: KnowledgeStore, now: datetime, words: str = "",
    topic: str = "", stale: bool = False, disliked: bool = False, flagged: bool = False,
) -> list[Listed]:  # fmt: skip
    """Entries matching ``words`` (in the id, title or questions), ``topic`` (a tag), not
    reviewed for 12 months, with many 👎, or flagged after a shipped update."""
    await require_staff(session, actor)
    rows: dict[str, KbEntry] = {r.entry_id: r for r in await kbdb.all_rows(session)}
    live = {e.id: e for e in await base_entries(session, kb)}
    votes = await dislikes(session)
    cutoff = (now - timedelta(days=STALE_DAYS)).date()
    wanted = fold(words).split()
    found = []
    for eid in sorted(set(rows) | set(live)):
        e, row = live.get(eid), rows.get(eid)
        title = e.title if e else str((row.draft or {}).get("title") or eid) if row else eid
        text = fold(" ".join([eid, title, *(e.questions if e else ())]))
        item = Listed(e, eid, title, e.tags if e else (), e.reviewed.isoformat() if e else "",
                      row.version if row else 0, bool(row and row.draft),
                      bool(row and row.flagged), votes.get(eid, 0),
                      bool(e and e.reviewed < cutoff))  # fmt: skip
        if wanted and not all(w in text for w in wanted):
            continue
        if topic and topic not in item.tags:
            continue
        if (stale and not item.stale) or (flagged and not item.flagged):
            continue
        if disliked and item.dislikes < MANY_DISLIKES:
            continue
        found.append(item)
    return found
