"""Counts for the staff console's overview: questions and votes, open tickets, broadcasts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import (
    BROADCAST_SCHEDULED,
    BROADCAST_SENDING,
    TICKET_CLOSED,
    Broadcast,
    Question,
    Ticket,
)


@dataclass(frozen=True)
class QuestionStats:
    asked: int
    answered: int
    up: int
    down: int


async def question_stats(session: AsyncSession, since: datetime) -> QuestionStats:
    stmt = select(
        func.count(),
        func.count().filter(Question.matched.is_(True)),
        func.count().filter(Question.vote == 1),
        func.count().filter(Question.vote == -1),
    ).where(Question.created_at >= since)
    asked, answered, up, down = (await session.execute(stmt)).one()
    return QuestionStats(asked, answered, up, down)


async def open_ticket_count(session: AsyncSession) -> int:
    stmt = select(func.count()).select_from(Ticket).where(Ticket.status != TICKET_CLOSED)
    return int((await session.execute(stmt)).scalar_one())


async def active_broadcasts(session: AsyncSession, limit: int = 10) -> list[Broadcast]:
    stmt = (
        select(Broadcast)
        .where(Broadcast.status.in_((BROADCAST_SENDING, BROADCAST_SCHEDULED)))
        .order_by(Broadcast.id.desc())
        .limit(limit)
    )
    return list((await session.execute(stmt)).scalars())


async def recent_broadcasts(
    session: AsyncSession, offset: int, limit: int
) -> tuple[int, list[Broadcast]]:
    total = (await session.execute(select(func.count()).select_from(Broadcast))).scalar_one()
    stmt = select(Broadcast).order_by(Broadcast.id.desc()).offset(offset).limit(limit)
    return int(total), list((await session.execute(stmt)).scalars())
