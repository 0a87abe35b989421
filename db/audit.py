"""The audit log of staff and admin actions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import AuditEntry, Member


def actor_of(member: Member | None) -> str:
    return f"{member.channel}:{member.user_id}" if member else "cli"


def record(
    session: AsyncSession,
    actor: str,
    action: str,
    now: datetime,
    target: str | None = None,
    detail: dict[str, Any] | None = None,
) -> AuditEntry:
    """Add an audit entry to ``session`` (written with the action's own commit)."""
    entry = AuditEntry(actor=actor, action=action, target=target, detail=detail, created_at=now)
    session.add(entry)
    return entry


async def recent(session: AsyncSession, limit: int = 100) -> list[AuditEntry]:
    stmt = select(AuditEntry).order_by(AuditEntry.created_at.desc(), AuditEntry.id.desc())
    return list((await session.execute(stmt.limit(limit))).scalars())


async def search(
    session: AsyncSession, actor: str = "", action: str = "", offset: int = 0, limit: int = 50
) -> tuple[int, list[AuditEntry]]:
    """Entries newest first, filtered by who (part of ``channel:user_id``) and action; one
    page, and how many match."""
    stmt = select(AuditEntry)
    if actor:
        stmt = stmt.where(AuditEntry.actor.contains(actor, autoescape=True))
    if action:
        stmt = stmt.where(AuditEntry.action == action)
    total = (await session.execute(select(func.count()).select_from(stmt.subquery()))).scalar_one()
    page = stmt.order_by(AuditEntry.created_at.desc(), AuditEntry.id.desc())
    return int(total), list((await session.execute(page.offset(offset).limit(limit))).scalars())


async def actions(session: AsyncSession) -> list[str]:
    stmt = select(AuditEntry.action).group_by(AuditEntry.action).order_by(AuditEntry.action)
    return list((await session.execute(stmt)).scalars())
