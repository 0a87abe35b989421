"""Trade events, whichever door they come through: add one (the /themsukien form), import a
file of them (``coopbot import events``), and remind members the day before.

Adding and importing are staff operations: each checks the actor's rights when it runs.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db import audit, outbox
from db import events as data
from db.models import Event
from ground.i18n import N_, Translations
from ground.messages import Reply
from ground.settings import Settings
from operations.event_texts import reminder_text
from operations.rights import Actor, OperationError, require_staff
from outputs import events as files
from outputs.spreadsheets import Progress

FIELDS = ("title", "starts_at", "ends_at", "register_by", "place", "description", "contact",
          "link", "tags")  # fmt: skip
DATE_FIELDS = ("starts_at", "ends_at", "register_by")


def draft_event(values: dict[str, Any]) -> Event:
    """An unsaved event from the form's answers (dates as ISO text)."""
    found = dict(values)
    for key in DATE_FIELDS:
        if found.get(key):
            found[key] = datetime.fromisoformat(found[key])
    return Event(**{k: found.get(k) for k in FIELDS})


def is_past(event: Event, now: datetime, tz: ZoneInfo) -> bool:
    """True when the event is already over."""
    return data.end_of(event, tz) <= now


async def add_event(
    session: AsyncSession, actor: Actor, values: dict[str, Any], now: datetime
) -> Event:
    """Save an event from the form's answers; the caller commits."""
    await require_staff(session, actor)
    event = draft_event(values)
    if not (event.title or "").strip() or event.starts_at is None:
        raise OperationError(N_("Sự kiện cần có tên và ngày bắt đầu."))
    if data.check_dates(event.starts_at, event.ends_at, event.register_by):
        raise OperationError(N_("Ngày của sự kiện không khớp nhau. Gõ /themsukien để nhập lại."))
    event.created_by = actor.name
    event.created_at = event.updated_at = now
    session.add(event)
    await session.flush()
    audit.record(session, actor.name, "event_added", now, f"event:{event.id}")
    return event


async def update_event(
    session: AsyncSession, actor: Actor, event_id: int, values: dict[str, Any], now: datetime
) -> Event:
    """Change an event with the form's answers (the same checks as adding); the caller
    commits. Reminders not yet sent follow the new date."""
    await require_staff(session, actor)
    event = await session.get(Event, event_id)
    if event is None:
        raise OperationError(N_("Sự kiện này không còn trong danh sách. Gõ /sukien để xem."))
    draft = draft_event(values)
    if not (draft.title or "").strip() or draft.starts_at is None:
        raise OperationError(N_("Sự kiện cần có tên và ngày bắt đầu."))
    if data.check_dates(draft.starts_at, draft.ends_at, draft.register_by):
        raise OperationError(N_("Ngày của sự kiện không khớp nhau. Gõ /themsukien để nhập lại."))
    for key in FIELDS:
        setattr(event, key, getattr(draft, key))
    event.updated_at = now
    audit.record(session, actor.name, "event_updated", now, f"event:{event.id}")
    return event


async def import_events(
    session: AsyncSession,
    actor: Actor,
    path: Path | str,
    now: datetime,
    tz: ZoneInfo,
    progress: Progress | None = None,
) -> data.EventImportReport:
    """Add or update events from a .csv or .xlsx file and commit; the report lists rejected
    rows and warns about events already over."""
    await require_staff(session, actor)
    return await files.import_events(session, path, now, tz, actor.name, progress)


async def send_reminders(
    sessions: async_sessionmaker[AsyncSession],
    translations: Translations,
    settings: Settings,
    now: datetime,
) -> int:
    """Remind members of tomorrow's events they asked about (each reminder once); returns
    how many went to the outbox. Members who turned notices off or blocked the assistant are
    not reminded (the reminder is marked done all the same)."""
    count = 0
    async with sessions() as session:
        for reminder, event, member in await data.due_reminders(session, now, settings.tz):
            if not await data.claim_reminder(session, reminder.id, now):
                continue
            if member.opted_out or member.unreachable:
                continue
            t = translations.get(member.locale)
            outbox.enqueue(session, member, Reply(reminder_text(t, event)), now)
            count += 1
        await session.commit()
    return count
