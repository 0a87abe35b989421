"""Reading the monthly reports page by page (the staff console): the periods, and per
cooperative of a period whether it submitted, when, and its answers. Staff only."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from db import report_table as data
from db.models import Cooperative, Report, ReportPeriod
from operations.rights import Actor, require_staff


async def periods(session: AsyncSession, actor: Actor) -> list[ReportPeriod]:
    await require_staff(session, actor)
    return await data.all_periods(session)


async def period_rows(
    session: AsyncSession, actor: Actor, period: str, state: str, offset: int, limit: int
) -> tuple[int, list[tuple[Cooperative, Report | None]]]:
    await require_staff(session, actor)
    state = state if state in ("done", "missing") else ""
    return await data.period_rows(session, period, state, offset, limit)
