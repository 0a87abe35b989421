"""Reading the audit log of staff actions (``coopbot audit``, the console's Nhật ký): staff
only."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from db import audit
from db.models import AuditEntry
from operations.rights import Actor, require_staff


async def entries(
    session: AsyncSession, actor: Actor, who: str, action: str, offset: int, limit: int
) -> tuple[int, list[AuditEntry], list[str]]:
    """One page of entries newest first (filtered), how many match, and every action name."""
    await require_staff(session, actor)
    total, rows = await audit.search(session, who.strip()[:96], action.strip()[:64], offset, limit)
    return total, rows, await audit.actions(session)
