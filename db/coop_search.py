"""Finding cooperatives for the staff console: by name or code, commune, sector, status; one
page at a time."""

from __future__ import annotations

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Cooperative


def _filtered(text: str, commune: int | None, sector: str, status: str):  # type: ignore[no-untyped-def]
    stmt = select(Cooperative)
    if text:
        like = f"%{text.lower()}%"
        stmt = stmt.where(
            or_(func.lower(Cooperative.name).like(like), func.lower(Cooperative.code).like(like))
        )
    if commune is not None:
        stmt = stmt.where(Cooperative.commune_code == commune)
    if sector:
        stmt = stmt.where(Cooperative.sector == sector)
    if status:
        stmt = stmt.where(Cooperative.status == status)
    return stmt


async def search(
    session: AsyncSession,
    text: str = "",
    commune: int | None = None,
    sector: str = "",
    status: str = "",
    offset: int = 0,
    limit: int = 50,
) -> tuple[int, list[Cooperative]]:
    """How many match, and one page of them by name."""
    stmt = _filtered(text, commune, sector, status)
    total = (await session.execute(select(func.count()).select_from(stmt.subquery()))).scalar_one()
    page = stmt.order_by(Cooperative.name, Cooperative.id).offset(offset).limit(limit)
    return int(total), list((await session.execute(page)).scalars())


async def communes(session: AsyncSession) -> list[tuple[int, str]]:
    """Every commune that has a cooperative: (code, name), by name."""
    stmt = (
        select(Cooperative.commune_code, Cooperative.commune)
        .group_by(Cooperative.commune_code, Cooperative.commune)
        .order_by(Cooperative.commune)
    )
    return [(code, name) for code, name in (await session.execute(stmt)).all()]
