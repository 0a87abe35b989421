"""The reports of one period, one row per cooperative, for the staff console."""

from __future__ import annotations

from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Cooperative, Report, ReportPeriod


async def all_periods(session: AsyncSession, limit: int = 36) -> list[ReportPeriod]:
    stmt = select(ReportPeriod).order_by(ReportPeriod.period.desc()).limit(limit)
    return list((await session.execute(stmt)).scalars())


async def period_rows(
    session: AsyncSession, period: str, state: str = "", offset: int = 0, limit: int = 50
) -> tuple[int, list[tuple[Cooperative, Report | None]]]:
    """Active cooperatives (and any other that submitted) with their report of ``period``;
    ``state``: "done" or "missing" to keep only those. Not yet submitted first, by name."""
    joined = and_(Report.cooperative_id == Cooperative.id, Report.period == period)
    stmt = (
        select(Cooperative, Report)
        .outerjoin(Report, joined)
        .where(or_(Cooperative.status == "active", Report.id.is_not(None)))
    )
    if state == "done":
        stmt = stmt.where(Report.id.is_not(None))
    elif state == "missing":
        stmt = stmt.where(Report.id.is_(None))
    total = (await session.execute(select(func.count()).select_from(stmt.subquery()))).scalar_one()
    ordered = stmt.order_by(Report.id.is_not(None), Cooperative.name, Cooperative.id)
    rows = (await session.execute(ordered.offset(offset).limit(limit))).all()
    return int(total), [(c, r) for c, r in rows]


async def counts(session: AsyncSession, period: str) -> tuple[int, int]:
    """(submitted, expected) for ``period`` in one query: every active cooperative is
    expected, and any other that submitted (as :func:`db.reports.progress` counts them)."""
    joined = and_(Report.cooperative_id == Cooperative.id, Report.period == period)
    stmt = (
        select(func.count(Report.id), func.count(Cooperative.id))
        .select_from(Cooperative)
        .outerjoin(Report, joined)
        .where(or_(Cooperative.status == "active", Report.id.is_not(None)))
    )
    submitted, expected = (await session.execute(stmt)).one()
    return int(submitted), int(expected)
