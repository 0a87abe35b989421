"""The audit log of staff and admin actions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
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
