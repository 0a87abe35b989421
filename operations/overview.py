"""What the staff console's overview shows: questions this week and how they were answered,
open tickets, the current report period's progress, upcoming events, broadcasts in progress.
Read-only; staff only."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from db import broadcasts as broadcast_data
from db import events as event_data
from db import overview as data
from db.models import Broadcast, Event
from ground.i18n import N_
from ground.settings import Settings
from operations import report_table
from operations.reports import PeriodProblem
from operations.rights import Actor, NotPossible, require_staff


@dataclass(frozen=True)
class Overview:
    questions: data.QuestionStats
    open_tickets: int
    period: report_table.Summary | None
    events: list[Event]
    broadcasts: list[tuple[Broadcast, broadcast_data.Tally]]


async def broadcasts_in_progress(
    session: AsyncSession, actor: Actor, limit: int = 10
) -> list[tuple[Broadcast, broadcast_data.Tally]]:
    await require_staff(session, actor)
    found = await data.active_broadcasts(session, limit)
    return [(b, await broadcast_data.tally(session, b.id)) for b in found]


async def overview(
    session: AsyncSession, actor: Actor, settings: Settings, now: datetime
) -> Overview:
    await require_staff(session, actor)
    try:
        period: report_table.Summary | None = await report_table.summary(
            session, actor, "", settings
        )
    except PeriodProblem:
        period = None  # no period opened yet
    return Overview(
        questions=await data.question_stats(session, now - timedelta(days=7)),
        open_tickets=await data.open_ticket_count(session),
        period=period,
        events=await event_data.upcoming(session, now, settings.tz, limit=5),
        broadcasts=await broadcasts_in_progress(session, actor),
    )


async def recent_broadcasts(
    session: AsyncSession, actor: Actor, offset: int, limit: int
) -> tuple[int, list[tuple[Broadcast, broadcast_data.Tally]]]:
    """Broadcasts newest first, one page, each with its tally."""
    await require_staff(session, actor)
    total, found = await data.recent_broadcasts(session, offset, limit)
    return total, [(b, await broadcast_data.tally(session, b.id)) for b in found]


async def broadcast_status(
    session: AsyncSession, actor: Actor, broadcast_id: int
) -> tuple[Broadcast, broadcast_data.Tally]:
    """One broadcast and its tally so far (sent, open, failed and skipped by reason)."""
    await require_staff(session, actor)
    broadcast = await session.get(Broadcast, broadcast_id)
    if broadcast is None:
        raise NotPossible(N_("Không tìm thấy thông báo này."))
    await session.refresh(broadcast)  # the delivery engine changes it from elsewhere
    return broadcast, await broadcast_data.tally(session, broadcast.id)


async def upcoming_events(
    session: AsyncSession, actor: Actor, now: datetime, settings: Settings, limit: int = 100
) -> list[Event]:
    """Events not over yet, soonest first (what members see with /sukien)."""
    await require_staff(session, actor)
    return await event_data.upcoming(session, now, settings.tz, limit=limit)


async def open_ticket_count(session: AsyncSession, actor: Actor) -> int:
    await require_staff(session, actor)
    return await data.open_ticket_count(session)
